"""What a use case may ask of the rest of the running bot, without importing it.

The composition root (`bot/app/factory.py`) wires real implementations; tests pass recorders.
A use case never reaches into the scheduler or the delivery worker directly: it signals.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from aiogram.fsm.storage.base import StateType
from aiogram.utils.i18n import I18n

from bot.core.clock import Clock, local_today
from bot.risk.rules import RiskThresholds
from db.engine import SessionMaker
from db.models import Person as Person  # who acts: the row the chat and the web both load


class Signals(Protocol):
    """Things that happen after a use case commits, in the background."""

    def alert_soon(self) -> None:
        """A risk may have changed: scan for chair alerts soon (never blocks the caller)."""
        ...

    def wake_outbox(self) -> None:
        """New notifications were committed: deliver them now rather than at the next poll."""
        ...


class DialogStore(Protocol):
    """Where a person's dialog keeps its step and draft (aiogram's FSMContext in the chat).

    In the chat the store joins the update's session: what a use case sets here before it
    commits is stored in the same transaction as its rows.
    """

    async def get_state(self) -> str | None: ...

    async def set_state(self, state: StateType = None) -> None: ...

    async def get_data(self) -> dict[str, Any]: ...

    async def set_data(self, data: Mapping[str, Any]) -> None: ...

    async def update_data(
        self, data: Mapping[str, Any] | None = None, **kwargs: Any
    ) -> dict[str, Any]: ...

    async def clear(self) -> None: ...


class NoSignals:
    """For callers with no running bot (the command line): nothing to wake."""

    def alert_soon(self) -> None:
        return None

    def wake_outbox(self) -> None:
        return None


@dataclass(frozen=True)
class UseCaseContext:
    """The dependencies every use case shares, built once by the composition root."""

    session_maker: SessionMaker
    clock: Clock
    tz: ZoneInfo
    i18n: I18n
    signals: Signals
    thresholds: RiskThresholds = field(default_factory=RiskThresholds)
    # The dashboard's address (PUBLIC_URL + /app/), None when the dashboard is off.
    dashboard_url: str | None = None
    # How long after a report its author may still correct it ("Edit my last update").
    correction_window: timedelta = timedelta(hours=24)

    def today(self) -> date:
        """The council's date now (Asia/Almaty by default), whatever the server's zone."""
        return local_today(self.clock, self.tz)
