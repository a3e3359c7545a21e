"""The outbox delivery worker: claims due notifications, sends them, records the outcome.

Every outcome is written right after its send, one row at a time, so a restart resends at
most the messages that were in flight. A claim is a short lease (`claim_ttl`, 15 s) carrying
the worker's identity (host, pid, a random tag); a running worker renews its leases every few
seconds (`heartbeat`), so a live replica's claims are respected however long its round takes,
while the rows of a process that was killed move on within one lease. A worker gives its
claims back when it stops, so a restart after a clean stop resumes at once. Before each send
the worker confirms that the row is still its own: a worker that stalled past its lease never
sends a row another worker took over. On PostgreSQL rows are claimed with FOR UPDATE SKIP
LOCKED, so several processes can drain one outbox without sending anything twice.

The heartbeat renews only the rows the worker is still working on: when a pass fails (the
database went away in the middle of a send, a bug), that chat's rows are given back at once,
or, if the database cannot take even that, their leases run out within one lease, and the
next pass takes them again. Faults of the machine are logged one line per kind with a backoff
(bot/core/faults.py), and every write retries SQLite's "database is locked" (db/busy.py).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import os
import socket
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
from aiogram.methods import (
    DeleteMyCommands,
    SendDocument,
    SendMessage,
    SendPhoto,
    SendVideoNote,
    SendVoice,
    SetChatMenuButton,
    TelegramMethod,
)
from aiogram.types import BufferedInputFile
from sqlalchemy import Table, Update, bindparam, select, text, update
from sqlmodel import col

from bot.core.clock import Clock
from bot.core.faults import FaultLog
from bot.core.ratelimit import RateLimiter
from bot.core.secrets import scrub
from db.busy import retry_when_busy
from db.engine import SessionMaker
from db.models import Notification, Person

logger = logging.getLogger(__name__)

METHODS: dict[str, type[TelegramMethod[Any]]] = {
    "sendMessage": SendMessage,
    "sendPhoto": SendPhoto,
    "sendDocument": SendDocument,
    "sendVoice": SendVoice,  # a voice message passed on to the secretariat (by file id)
    "sendVideoNote": SendVideoNote,  # a video note passed on to the secretariat (by file id)
    "setChatMenuButton": SetChatMenuButton,
    "deleteMyCommands": DeleteMyCommands,
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


@dataclass(frozen=True)
class Claimed:
    """What the worker needs of a claimed row (plain values: no ORM object per message)."""

    id: int
    idempotency_key: str
    chat_id: int
    person_id: int | None
    payload: str
    attempts: int
    not_before: datetime
    claimed_by: str


_TABLE: Table = Notification.__table__  # type: ignore[attr-defined]
_CLAIMED_COLUMNS = [_TABLE.c[name] for name in Claimed.__annotations__]


# For the claim's transaction only, in one round trip. enable_sort: without statistics
# PostgreSQL may fetch every due row, check each one and sort them all for the first hundred;
# the due index yields them in order. jit: with statistics the claim's estimate (every
# pending row times the per-chat probe) passes jit_above_cost, and compiling the plan took
# 15-25 ms at 30,000 pending rows against well under 1 ms of running it.
_PLANNER_SETTINGS = text(
    "SELECT set_config('enable_sort', 'off', true), set_config('jit', 'off', true)"
)


def claim_statement(batch_size: int) -> Update:
    """Claim due rows, skipping any chat with an earlier message still on its way (claimed,
    or waiting for its retry), so one chat's messages keep their order across batches and
    workers. Built once per worker, with the moment and the owner as parameters.

    Both halves are served by an index (migration 0007): the due rows are walked in order on
    `ix_notification_due` (state, not_before, id), and the "earlier message to this chat"
    check is a range on `ix_notification_chat_order` (chat_id, state, id), so a claim costs
    the same at 1,000 or 30,000 pending rows, with or without fresh statistics.
    """
    table = _TABLE
    earlier = table.alias("earlier")
    now = bindparam("now", type_=table.c.not_before.type)
    # A scalar subquery, not EXISTS: PostgreSQL may turn EXISTS into an anti-join, and on a
    # table without statistics it chose one that rescans every pending row for each due row.
    # A correlated scalar subquery is always probed per due row, with the chat id bound, on
    # the per-chat index.
    earlier_on_its_way = (
        select(earlier.c.id)
        .where(
            earlier.c.chat_id == table.c.chat_id,
            earlier.c.state == "pending",
            earlier.c.id < table.c.id,
            ((earlier.c.attempts > 0) & (earlier.c.not_before > now))
            | (earlier.c.claimed_until >= now),
        )
        .limit(1)
        .scalar_subquery()
    )
    due = (
        select(table.c.id)
        .where(
            table.c.state == "pending",
            table.c.not_before <= now,
            table.c.claimed_until.is_(None) | (table.c.claimed_until < now),
            earlier_on_its_way.is_(None),
        )
        .order_by(table.c.not_before, table.c.id)
        .limit(batch_size)
        .with_for_update(skip_locked=True)
    )
    return (
        update(table)
        .where(table.c.id.in_(due.scalar_subquery()))
        .values(
            claimed_by=bindparam("owner", type_=table.c.claimed_by.type),
            claimed_until=bindparam("until", type_=table.c.claimed_until.type),
        )
        .returning(*_CLAIMED_COLUMNS)
    )


def build_method(payload: str, chat_id: int) -> TelegramMethod[Any]:
    """Turn a stored payload back into an aiogram method for the row's chat; files travel
    as base64."""
    data = json.loads(payload)
    method = METHODS[data["method"]]
    # The row's chat is the method's chat_id; a method without one (deleteMyCommands) names
    # its chat in its own parameters.
    chat = {"chat_id": chat_id} if "chat_id" in method.model_fields else {}
    params = {**data["params"], **chat}
    for name in ("photo", "document"):
        value = params.get(name)
        if isinstance(value, dict) and "base64" in value:
            params[name] = BufferedInputFile(
                base64.b64decode(value["base64"]), filename=value.get("filename", name)
            )
    return method(**params)


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
        claim_ttl: timedelta = timedelta(seconds=15),
        max_attempts: int = 10,
        max_backoff: timedelta = timedelta(minutes=10),
        on_unreachable: Callable[[int, int], Awaitable[None]] | None = None,
    ) -> None:
        self.session_maker = session_maker
        self.bot = bot
        self.clock = clock
        self.limiter = limiter
        self.worker_id = worker_id or default_worker_id()
        self.batch_size = batch_size
        self.concurrency = concurrency
        self.claim_ttl = claim_ttl
        self.max_attempts = max_attempts
        self.max_backoff = max_backoff
        self.on_unreachable = on_unreachable  # (person id, notification id) -> tell someone
        self._wake = asyncio.Event()
        self._claim_statement = claim_statement(batch_size)
        self._held: set[int] = set()  # claimed and not yet settled: what the heartbeat renews
        self.faults = FaultLog(logger, "Outbox delivery")
        self.beat_faults = FaultLog(logger, "Outbox lease renewal")

    def _error_text(self, error: BaseException | str) -> str:
        """An error as stored in last_error: without the token, whatever echoed it."""
        return scrub(str(error), getattr(self.bot, "token", "") or "")[:500]

    async def _write(self, statement: Any) -> int:
        """One statement in a transaction of its own, retried while SQLite is locked; the
        rows it touched."""

        async def transaction() -> int:
            async with self.session_maker() as session:
                result = await session.exec(statement)
                await session.commit()
            return int(result.rowcount or 0)

        return await retry_when_busy(transaction)

    def wake(self) -> None:
        """Tell the running worker that new notifications are waiting."""
        self._wake.set()

    async def heartbeat(self) -> int:
        """Renew the lease on every row this worker is still working on; how many. Rows of a
        pass that failed are not among them: their leases run out and another pass takes them."""
        held = sorted(self._held)
        if not held:
            return 0
        return await self._write(
            update(Notification)
            .where(
                col(Notification.id).in_(held),
                col(Notification.claimed_by) == self.worker_id,
                col(Notification.state) == "pending",
                col(Notification.claimed_until).is_not(None),
            )
            .values(claimed_until=self.clock.now() + self.claim_ttl)
        )

    async def release(self) -> int:
        """Give back every claim this worker holds (on a clean stop): the next process to
        start need not wait for the leases to run out."""
        self._held.clear()
        return await self._write(
            update(Notification)
            .where(
                col(Notification.claimed_by) == self.worker_id,
                col(Notification.state) == "pending",
            )
            .values(claimed_by=None, claimed_until=None)
        )

    async def take_over(self) -> int:
        """Free every claim held by another worker; how many. Called when this replica becomes
        the leader, the only one that drains the outbox: any other claim is a deposed leader's,
        and its rows go out now instead of after their leases run out. A deposed leader that
        is still alive confirms each row before sending it (`_confirm`), so it sends none of
        them again; only a send already in flight when it stalled can go out twice."""
        return await self._write(
            update(Notification)
            .where(
                col(Notification.state) == "pending",
                col(Notification.claimed_by).is_not(None),
                col(Notification.claimed_by) != self.worker_id,
            )
            .values(claimed_by=None, claimed_until=None)
        )

    async def _give_back(self, rows: list[Claimed]) -> None:
        """Release rows of a pass that failed, so the next pass retries them in order. If the
        database refuses even this, they are no longer renewed: their leases run out."""
        ids = [row.id for row in rows]
        self._held.difference_update(ids)
        if not ids:
            return
        with contextlib.suppress(Exception):
            await self._write(
                update(Notification)
                .where(
                    col(Notification.id).in_(ids),
                    col(Notification.claimed_by) == self.worker_id,
                    col(Notification.state) == "pending",
                )
                .values(claimed_by=None, claimed_until=None)
            )

    async def _confirm(self, row: Claimed) -> bool:
        """Renew this row's lease if it is still ours; False when another worker took it over
        (this worker stalled past its lease), so it must not be sent twice."""
        mine = await self._write(
            update(Notification)
            .where(
                col(Notification.id) == row.id,
                col(Notification.claimed_by) == self.worker_id,
                col(Notification.state) == "pending",
            )
            .values(claimed_until=self.clock.now() + self.claim_ttl)
        )
        if not mine:
            self._held.discard(row.id)
        return bool(mine)

    async def claim(self) -> list[Claimed]:
        """Take up to `batch_size` due rows for this worker, in the order they are due."""
        now = self.clock.now()
        values = {"now": now, "owner": self.worker_id, "until": now + self.claim_ttl}
        async with self.session_maker() as session:
            if session.bind and session.bind.dialect.name == "postgresql":
                await session.exec(_PLANNER_SETTINGS)  # type: ignore[call-overload]
            result = await session.exec(self._claim_statement, params=values)
            rows = [Claimed(*row) for row in result.all()]
            await session.commit()
        self._held.update(row.id for row in rows)
        return sorted(rows, key=lambda row: (row.not_before, row.id))

    async def deliver_due(self) -> DeliveryReport:
        """Claim and send everything due now; one chat's messages go out in order."""
        return await self.deliver(await self.claim())

    async def deliver(self, rows: list[Claimed]) -> DeliveryReport:
        """Send rows this worker claimed; one chat's messages go out in order."""
        report = DeliveryReport()
        by_chat: dict[int, list[Claimed]] = defaultdict(list)
        for row in rows:
            by_chat[row.chat_id].append(row)
        gate = asyncio.Semaphore(self.concurrency)

        failures: list[BaseException] = []

        async def drain(chat_rows: list[Claimed]) -> None:
            async with gate:
                for index, row in enumerate(chat_rows):
                    try:
                        hold = await self._deliver(row, report)
                        if hold is not None:  # keep the chat's order: the rest wait behind it
                            await self._hold(chat_rows[index + 1 :], hold)
                            break
                    except Exception as error:  # the database or a bug: this chat stops here
                        failures.append(error)
                        await self._give_back(chat_rows[index:])
                        return

        await asyncio.gather(*(drain(chat_rows) for chat_rows in by_chat.values()))
        if failures:
            raise failures[0]
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

    async def _hold(self, rows: list[Claimed], until: datetime) -> None:
        """Release the chat's remaining claimed rows, due just after the retried one."""
        for offset, row in enumerate(rows, start=1):
            self._held.discard(row.id)
            await self._write(
                update(Notification)
                .where(
                    col(Notification.id) == row.id,
                    col(Notification.claimed_by) == self.worker_id,
                )
                .values(
                    claimed_by=None,
                    claimed_until=None,
                    not_before=until + timedelta(microseconds=offset),
                )
            )

    async def _deliver(self, row: Claimed, report: DeliveryReport) -> datetime | None:
        """Send one row and record the outcome; when the chat must wait, until when."""
        try:
            method = build_method(row.payload, row.chat_id)
        except (ValueError, KeyError, TypeError) as error:
            await self._finish(row, state="failed", error=f"bad payload: {error}")
            report.failed += 1
            return None
        await self.limiter.acquire(row.chat_id)
        if not await self._confirm(row):
            await self.limiter.refund(row.chat_id)
            logger.warning("Notification %s was taken over; not sending", row.idempotency_key)
            return None
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
            await self.limiter.refund(row.chat_id)
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
        self, row: Claimed, report: DeliveryReport, *, delay: timedelta, error: Exception
    ) -> datetime | None:
        """Schedule another attempt; when it is due, or None once the row has failed."""
        attempts = row.attempts + 1
        if attempts >= self.max_attempts:
            logger.error("Notification %s failed after %s attempts", row.idempotency_key, attempts)
            await self._finish(row, state="failed", error=str(error), attempts=attempts)
            report.failed += 1
            return None
        not_before = self.clock.now() + delay
        await self._write(
            update(Notification)
            .where(col(Notification.id) == row.id, col(Notification.claimed_by) == self.worker_id)
            .values(
                attempts=attempts,
                not_before=not_before,
                claimed_by=None,
                claimed_until=None,
                last_error=self._error_text(error),
            )
        )
        self._held.discard(row.id)
        report.retried += 1
        return not_before

    async def _unreachable(self, row: Claimed, report: DeliveryReport, error: Exception) -> None:
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
            await self.on_unreachable(row.person_id, row.id)

    async def _finish(
        self,
        row: Claimed,
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
            values["last_error"] = self._error_text(error)
        if attempts is not None:
            values["attempts"] = attempts
        await self._write(
            update(Notification).where(col(Notification.id) == row.id).values(**values)
        )
        self._held.discard(row.id)

    async def run(self, idle_interval: float = 5.0) -> None:
        """Deliver forever: after every wake-up, and every `idle_interval` seconds, with the
        leases renewed beside it; the claims are given back when the task is cancelled. A
        failed pass is logged once per kind of fault and retried after 1 s, doubling to a
        minute (sooner when new messages are enqueued)."""
        beat = asyncio.create_task(self._beat(), name="outbox-heartbeat")
        try:
            while True:
                wait = idle_interval
                # Cleared before the pass, not after it: a message committed while the pass
                # runs (after its claim read the table) keeps its wake-up for the wait below,
                # instead of waiting out the idle interval.
                self._wake.clear()
                try:
                    report = await self.deliver_due()
                except Exception as error:
                    wait = self.faults.failed(error)
                    report = DeliveryReport()
                else:
                    self.faults.succeeded()
                if report.handled:
                    continue
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=wait)
        finally:
            beat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beat
            with contextlib.suppress(Exception):
                await asyncio.shield(self.release())

    async def _beat(self) -> None:
        """Renew the leases three times per lease, so one missed beat costs nothing. A failure
        never ends the beat (nor the worker): it is logged once, and the next beat tries again."""
        while True:
            await asyncio.sleep(self.claim_ttl.total_seconds() / 3)
            try:
                await self.heartbeat()
            except Exception as error:
                self.beat_faults.failed(error)
            else:
                self.beat_faults.succeeded()


def default_worker_id() -> str:
    """Who holds a claim, readable in the table: host, process id and a random tag (a
    restarted process may get the same pid in a container)."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
