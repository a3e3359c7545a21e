"""The outbox delivery worker: claims due notifications, sends them, records the outcome.

Every outcome is written right after its send, one row at a time, so a restart resends at
most the messages that were in flight. Claims expire, so rows held by a crashed process are
picked up by another; on PostgreSQL rows are claimed with FOR UPDATE SKIP LOCKED, so several
processes can drain one outbox without sending anything twice.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from aiogram import Bot
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods import SendDocument, SendMessage, SendPhoto, TelegramMethod
from aiogram.types import BufferedInputFile
from sqlalchemy import exists, update
from sqlalchemy.orm import aliased
from sqlmodel import col, select

from bot.core.clock import Clock
from bot.delivery.ratelimit import RateLimiter
from db.engine import SessionMaker
from db.models import Notification, Person

logger = logging.getLogger(__name__)

METHODS: dict[str, type[TelegramMethod[Any]]] = {
    "sendMessage": SendMessage,
    "sendPhoto": SendPhoto,
    "sendDocument": SendDocument,
}
FIRST_RETRY = timedelta(milliseconds=250)
_UNREACHABLE = ("chat not found", "user is deactivated", "bot was blocked", "PEER_ID_INVALID")


@dataclass
class DeliveryReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    dropped: int = 0
    throttled: int = 0
    unreachable_people: set[int] = field(default_factory=set)

    @property
    def handled(self) -> int:
        return self.sent + self.retried + self.failed + self.dropped


def build_method(payload: str, chat_id: int) -> TelegramMethod[Any]:
    """Turn a stored payload back into an aiogram method for the row's chat; files travel
    as base64."""
    data = json.loads(payload)
    params = {**data["params"], "chat_id": chat_id}
    for name in ("photo", "document"):
        value = params.get(name)
        if isinstance(value, dict) and "base64" in value:
            params[name] = BufferedInputFile(
                base64.b64decode(value["base64"]), filename=value.get("filename", name)
            )
    return METHODS[data["method"]](**params)


class DeliveryWorker:
    def __init__(
        self,
        *,
        session_maker: SessionMaker,
        bot: Bot,
        clock: Clock,
        limiter: RateLimiter,
        worker_id: str | None = None,
        batch_size: int = 100,
        concurrency: int = 16,
        claim_ttl: timedelta = timedelta(minutes=2),
        max_attempts: int = 10,
        max_backoff: timedelta = timedelta(minutes=10),
        on_unreachable: Callable[[int, int], Awaitable[None]] | None = None,
    ) -> None:
        self.session_maker = session_maker
        self.bot = bot
        self.clock = clock
        self.limiter = limiter
        self.worker_id = worker_id or uuid.uuid4().hex[:16]
        self.batch_size = batch_size
        self.concurrency = concurrency
        self.claim_ttl = claim_ttl
        self.max_attempts = max_attempts
        self.max_backoff = max_backoff
        self.on_unreachable = on_unreachable  # (person id, notification id) -> tell someone
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Tell the running worker that new notifications are waiting."""
        self._wake.set()

    async def claim(self) -> list[Notification]:
        now = self.clock.now()
        earlier = aliased(Notification)
        blocked_by_earlier = exists().where(  # keep a chat's order across batches and workers
            earlier.chat_id == Notification.chat_id,
            earlier.state == "pending",
            col(earlier.id) < col(Notification.id),
            ((earlier.attempts > 0) & (earlier.not_before > now))
            | (col(earlier.claimed_until) >= now),
        )
        due = (
            select(Notification.id)
            .where(
                Notification.state == "pending",
                Notification.not_before <= now,
                (col(Notification.claimed_until).is_(None)) | (Notification.claimed_until < now),
                ~blocked_by_earlier,
            )
            .order_by(col(Notification.not_before), col(Notification.id))
            .limit(self.batch_size)
            .with_for_update(skip_locked=True)
        )
        statement = (
            update(Notification)
            .where(col(Notification.id).in_(due.scalar_subquery()))
            .values(claimed_by=self.worker_id, claimed_until=now + self.claim_ttl)
            .returning(Notification)
        )
        async with self.session_maker() as session:
            result = await session.exec(statement)
            rows = [row for (row,) in result.all()]
            await session.commit()
        return sorted(rows, key=lambda row: (row.not_before, row.id or 0))

    async def deliver_due(self) -> DeliveryReport:
        """Claim and send everything due now; one chat's messages go out in order."""
        report = DeliveryReport()
        rows = await self.claim()
        by_chat: dict[int, list[Notification]] = defaultdict(list)
        for row in rows:
            by_chat[row.chat_id].append(row)
        gate = asyncio.Semaphore(self.concurrency)

        async def drain(chat_rows: list[Notification]) -> None:
            async with gate:
                for index, row in enumerate(chat_rows):
                    hold = await self._deliver(row, report)
                    if hold is not None:  # keep the chat's order: the rest wait behind it
                        await self._hold(chat_rows[index + 1 :], hold)
                        break

        await asyncio.gather(*(drain(chat_rows) for chat_rows in by_chat.values()))
        return report

    async def drain_all(self, max_passes: int = 1000) -> DeliveryReport:
        """Deliver until nothing is due now (tests and catch-up at start)."""
        total = DeliveryReport()
        for _pass in range(max_passes):
            report = await self.deliver_due()
            for name in ("sent", "retried", "failed", "dropped", "throttled"):
                setattr(total, name, getattr(total, name) + getattr(report, name))
            total.unreachable_people |= report.unreachable_people
            if report.handled == 0:
                break
        return total

    async def _hold(self, rows: list[Notification], until: datetime) -> None:
        """Release the chat's remaining claimed rows, due just after the retried one."""
        for offset, row in enumerate(rows, start=1):
            async with self.session_maker() as session:
                await session.exec(
                    update(Notification)
                    .where(
                        col(Notification.id) == row.id, Notification.claimed_by == self.worker_id
                    )
                    .values(
                        claimed_by=None,
                        claimed_until=None,
                        not_before=until + timedelta(microseconds=offset),
                    )
                )
                await session.commit()

    async def _deliver(self, row: Notification, report: DeliveryReport) -> datetime | None:
        """Send one row and record the outcome; when the chat must wait, until when."""
        try:
            method = build_method(row.payload, row.chat_id)
        except (ValueError, KeyError, TypeError) as error:
            await self._finish(row, state="failed", error=f"bad payload: {error}")
            report.failed += 1
            return None
        await self.limiter.acquire(row.chat_id)
        try:
            result = await self.bot(method)
        except TelegramRetryAfter as error:
            report.throttled += 1
            delay = timedelta(seconds=error.retry_after)
            return await self._retry(row, report, delay=delay, error=error)
        except (
            TelegramServerError,
            TelegramNetworkError,
            ClientDecodeError,
            TimeoutError,
        ) as error:
            # An error or a lost connection is not a delivered message: give the slot back.
            # If Telegram did count it, the worst case is a 429, which we honour.
            self.limiter.refund(row.chat_id)
            # 0.25 s three times, then doubling up to max_backoff: a blip costs little, an
            # outage is not hammered.
            exponent = max(0, min(row.attempts, 16) - 2)
            backoff = min(self.max_backoff, FIRST_RETRY * 2**exponent)
            return await self._retry(row, report, delay=backoff, error=error)
        except TelegramForbiddenError as error:
            await self._unreachable(row, report, error)
            return None
        except TelegramBadRequest as error:
            if any(marker in error.message for marker in _UNREACHABLE):
                await self._unreachable(row, report, error)
            else:
                logger.error("Notification %s rejected: %s", row.idempotency_key, error.message)
                await self._finish(row, state="failed", error=error.message)
                report.failed += 1
            return None
        message_id = getattr(result, "message_id", None)
        await self._finish(row, state="sent", message_id=message_id)
        report.sent += 1
        return None

    async def _retry(
        self, row: Notification, report: DeliveryReport, *, delay: timedelta, error: Exception
    ) -> datetime | None:
        """Schedule another attempt; when it is due, or None once the row has failed."""
        attempts = row.attempts + 1
        if attempts >= self.max_attempts:
            logger.error("Notification %s failed after %s attempts", row.idempotency_key, attempts)
            await self._finish(row, state="failed", error=str(error), attempts=attempts)
            report.failed += 1
            return None
        not_before = self.clock.now() + delay
        async with self.session_maker() as session:
            await session.exec(
                update(Notification)
                .where(col(Notification.id) == row.id, Notification.claimed_by == self.worker_id)
                .values(
                    attempts=attempts,
                    not_before=not_before,
                    claimed_by=None,
                    claimed_until=None,
                    last_error=str(error)[:500],
                )
            )
            await session.commit()
        report.retried += 1
        return not_before

    async def _unreachable(
        self, row: Notification, report: DeliveryReport, error: Exception
    ) -> None:
        """The person blocked the bot or the chat is gone: stop trying, mark the person."""
        await self._finish(row, state="dropped", error=str(error))
        report.dropped += 1
        if row.person_id is None:
            return
        async with self.session_maker() as session:
            person = await session.get(Person, row.person_id)
            if person is None or person.blocked_bot:
                return  # already known: the secretariat has been told
            person.blocked_bot = True
            person.updated_at = self.clock.now()
            session.add(person)
            await session.commit()
        report.unreachable_people.add(row.person_id)
        if self.on_unreachable is not None:
            await self.on_unreachable(row.person_id, row.id)  # type: ignore[arg-type]

    async def _finish(
        self,
        row: Notification,
        *,
        state: str,
        error: str | None = None,
        message_id: int | None = None,
        attempts: int | None = None,
    ) -> None:
        now = self.clock.now()
        values: dict[str, Any] = {"state": state, "claimed_until": None, "claimed_by": None}
        if state == "sent":
            values |= {"sent_at": now, "telegram_message_id": message_id}
        if error is not None:
            values["last_error"] = error[:500]
        if attempts is not None:
            values["attempts"] = attempts
        async with self.session_maker() as session:
            await session.exec(
                update(Notification).where(col(Notification.id) == row.id).values(**values)
            )
            await session.commit()

    async def run(self, idle_interval: float = 5.0) -> None:
        """Deliver forever: after every wake-up, and every `idle_interval` seconds."""
        while True:
            try:
                report = await self.deliver_due()
            except Exception:
                logger.exception("Outbox delivery pass failed; retrying")
                report = DeliveryReport()
            if report.handled:
                continue
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=idle_interval)
