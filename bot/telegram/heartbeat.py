"""Bot session middlewares that watch getUpdates: the heartbeat `doctor --quick` reads, and
the signal that polling has begun.

The heartbeat is a convenience for the health check: a file that cannot be written (a full
disk, a read-only file system) is logged once per kind of fault, and polling goes on."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiogram.client.session.middlewares.base import BaseRequestMiddleware
from aiogram.methods import GetUpdates

from bot.core.clock import Clock
from bot.core.faults import FaultLog
from bot.core.heartbeat import record_poll

if TYPE_CHECKING:
    from aiogram import Bot
    from aiogram.client.session.middlewares.base import NextRequestMiddlewareType
    from aiogram.methods import Response, TelegramMethod

logger = logging.getLogger(__name__)

MIN_INTERVAL = timedelta(seconds=5)  # a busy bot polls many times a second


class PollHeartbeat(BaseRequestMiddleware):
    def __init__(self, path: Path, clock: Clock) -> None:
        self.path = path
        self.clock = clock
        self._written_at: datetime | None = None
        self.faults = FaultLog(logger, f"Heartbeat file {path}")

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[Any],
        bot: Bot,
        method: TelegramMethod[Any],
    ) -> Response[Any]:
        response = await make_request(bot, method)
        if isinstance(method, GetUpdates):
            now = self.clock.now()
            if self._written_at is None or now - self._written_at >= MIN_INTERVAL:
                self._written_at = now  # a failed write waits its turn too: no retry storm
                try:
                    await asyncio.to_thread(record_poll, self.path, now)
                except OSError as error:
                    self.faults.failed(error)
                else:
                    self.faults.succeeded()
        return response


class PollingStarted(BaseRequestMiddleware):
    """Set once the first getUpdates goes out. Start-up work that can wait (the catch-up)
    waits for it, so a restarted bot is listening before it catches up, and catches up while
    the long poll is open."""

    def __init__(self) -> None:
        self.event = asyncio.Event()

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[Any],
        bot: Bot,
        method: TelegramMethod[Any],
    ) -> Response[Any]:
        if isinstance(method, GetUpdates):
            self.event.set()
        return await make_request(bot, method)
