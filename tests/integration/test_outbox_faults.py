"""The outbox meeting faults: a pass that fails in the middle of a chat gives its rows back,
the heartbeat never keeps a failed pass's rows, an outage is a couple of log lines, and every
message goes out, in order, once the database answers again.

The fault is injected in-process: a statement listener that fails every statement while the
database is "down" (as a stopped server or a lost connection does), or a bot whose send
raises something the worker does not expect.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from aiogram.methods import TelegramMethod
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, func, select

from bot.core.clock import FrozenClock
from bot.core.ratelimit import RateLimiter
from bot.delivery.worker import DeliveryWorker
from db.engine import SessionMaker
from db.models import Notification
from db.outbox import Outgoing, enqueue_many
from tests.helpers.chat import TEST_TOKEN, VirtualTimer

FIRST_CHAT = 810_001
LEASE = timedelta(seconds=15)


class Outage:
    """Every statement on the engine fails while `down` (a server that stopped answering)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.down = False
        self.refused = 0
        self.many_refused = asyncio.Event()  # the worker has met the outage many times

    def _check(self, *_: Any) -> None:
        if self.down:
            self.refused += 1
            if self.refused >= 20:
                self.many_refused.set()
            raise ConnectionRefusedError(111, "Connect call failed ('127.0.0.1', 5432)")

    @contextmanager
    def installed(self) -> Iterator[Outage]:
        event.listen(self.engine.sync_engine, "before_cursor_execute", self._check)
        try:
            yield self
        finally:
            event.remove(self.engine.sync_engine, "before_cursor_execute", self._check)


class RecordingBot:
    """Records what it sends; `on_send` may raise (or take the database down) first."""

    token = TEST_TOKEN

    def __init__(self, on_send: Any = None) -> None:
        self.sent: dict[int, list[str]] = defaultdict(list)
        self.on_send = on_send
        self._ids = itertools.count(1)
        self.expected = 0
        self.all_sent = asyncio.Event()

    async def __call__(self, method: TelegramMethod[Any]) -> Any:
        await asyncio.sleep(0)
        chat_id = int(getattr(method, "chat_id", 0))
        if self.on_send is not None:
            self.on_send(chat_id)
        self.sent[chat_id].append(str(getattr(method, "text", "")))
        distinct = sum(len(set(texts)) for texts in self.sent.values())
        if distinct >= self.expected > 0:  # every distinct message at least once
            self.all_sent.set()
        return SimpleNamespace(message_id=next(self._ids))


class SeesRecovery(logging.Filter):
    """Lets every record through; notes the worker's "recovered" line."""

    def __init__(self) -> None:
        super().__init__()
        self.event = asyncio.Event()

    def filter(self, record: logging.LogRecord) -> bool:
        if "recovered" in record.getMessage():
            self.event.set()
        return True


def make_worker(
    session_maker: SessionMaker, bot: Any, clock: FrozenClock, timer: VirtualTimer, name: str
) -> DeliveryWorker:
    limiter = RateLimiter(global_per_second=1e9, clock=timer.monotonic, sleep=timer.sleep)
    return DeliveryWorker(
        session_maker=session_maker,
        bot=bot,
        clock=clock,
        limiter=limiter,
        worker_id=name,
        claim_ttl=LEASE,
    )


async def fill(session_maker: SessionMaker, clock: FrozenClock, chats: int, per_chat: int) -> None:
    messages = [
        Outgoing(
            key=f"f:{turn}:{chat}",
            kind="test",
            chat_id=FIRST_CHAT + chat,
            method="sendMessage",
            params={"text": f"{turn}"},
            not_before=clock.now() + timedelta(microseconds=turn * chats + chat),
        )
        for turn in range(per_chat)
        for chat in range(chats)
    ]
    async with session_maker() as session:
        await enqueue_many(session, messages, now=clock.now())
        await session.commit()
    clock.advance(timedelta(seconds=1))


async def claimed_rows(session_maker: SessionMaker) -> int:
    async with session_maker() as session:
        result = await session.exec(
            select(func.count()).where(
                Notification.state == "pending", col(Notification.claimed_by).is_not(None)
            )
        )
        return int(result.one())


def in_order(bot: RecordingBot, chats: int, per_chat: int) -> bool:
    expected = [str(turn) for turn in range(per_chat)]
    return all(bot.sent[FIRST_CHAT + chat] == expected for chat in range(chats))


async def test_a_send_that_raises_gives_the_chats_rows_back(
    session_maker: SessionMaker, clock: FrozenClock, timer: VirtualTimer
) -> None:
    """Issue 28's stuck rows: one chat's send raises inside the pass; its rows are released
    (not renewed by the heartbeat) and the next pass sends them, in order."""
    await fill(session_maker, clock, chats=4, per_chat=3)
    failing = {FIRST_CHAT + 2}

    def fail_once(chat_id: int) -> None:
        if chat_id in failing:
            failing.discard(chat_id)
            raise RuntimeError("the connection to the proxy was reset")

    bot = RecordingBot(fail_once)
    worker = make_worker(session_maker, bot, clock, timer, "w1")
    with pytest.raises(RuntimeError):
        await worker.deliver_due()
    assert await claimed_rows(session_maker) == 0  # nothing left holding a claim
    assert await worker.heartbeat() == 0
    assert (await worker.drain_all()).sent == 3
    assert in_order(bot, chats=4, per_chat=3)


async def test_rows_of_a_pass_cut_by_an_outage_move_on_within_one_lease(
    engine: AsyncEngine, session_maker: SessionMaker, clock: FrozenClock, timer: VirtualTimer
) -> None:
    """The database goes away in the middle of a pass, so even the release fails: the rows
    are no longer renewed, their leases run out, and they all go out after recovery."""
    await fill(session_maker, clock, chats=6, per_chat=3)
    with Outage(engine).installed() as outage:
        sends = itertools.count()

        def die_midway(_chat_id: int) -> None:
            if next(sends) == 4:
                outage.down = True

        bot = RecordingBot(die_midway)
        worker = make_worker(session_maker, bot, clock, timer, "w1")
        with pytest.raises(Exception):  # noqa: B017 - whatever the driver raises
            await worker.deliver_due()
        outage.down = False
        assert await claimed_rows(session_maker) > 0  # the release could not be written
        for _beat in range(3):
            clock.advance(LEASE / 3)
            assert await worker.heartbeat() == 0  # a failed pass's rows are not kept alive
        clock.advance(timedelta(seconds=1))
        bot.on_send = None
        await worker.drain_all()
    total = sum(len(texts) for texts in bot.sent.values())
    assert total >= 18  # at least once each; the one in flight at the cut may go twice
    for chat in range(6):
        texts = bot.sent[FIRST_CHAT + chat]
        assert sorted(set(texts)) == ["0", "1", "2"]
        assert [text for n, text in enumerate(texts) if text not in texts[:n]] == ["0", "1", "2"]


async def test_an_outage_is_two_log_lines_and_everything_goes_out_after_it(
    engine: AsyncEngine,
    session_maker: SessionMaker,
    clock: FrozenClock,
    timer: VirtualTimer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The running worker during an outage: it keeps trying (with its backoff, shortened here
    so many attempts fail), logs one line when the fault starts and one when it clears, and
    delivers everything once the database answers."""
    await fill(session_maker, clock, chats=5, per_chat=2)
    bot = RecordingBot()
    bot.expected = 10
    worker = make_worker(session_maker, bot, clock, timer, "runner")
    worker.faults.first_delay = worker.faults.max_delay = 0.01
    recovered = SeesRecovery()
    watcher = logging.getLogger("bot.delivery.worker")
    watcher.addFilter(recovered)
    with Outage(engine).installed() as outage, caplog.at_level(logging.INFO):
        outage.down = True
        task = asyncio.create_task(worker.run(idle_interval=0.01))
        await asyncio.wait_for(outage.many_refused.wait(), timeout=30)  # a guard
        outage.down = False
        await asyncio.wait_for(bot.all_sent.wait(), timeout=30)
        await asyncio.wait_for(recovered.event.wait(), timeout=30)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    watcher.removeFilter(recovered)
    assert in_order(bot, chats=5, per_chat=2)
    lines = [r for r in caplog.records if r.name == "bot.delivery.worker"]
    assert len(lines) == 2, [r.getMessage() for r in lines]
    assert "database unreachable" in lines[0].getMessage()
    assert lines[0].exc_info is None  # a fault of the machine, not a bug: no traceback
    assert "recovered" in lines[1].getMessage()


async def test_the_stored_error_never_holds_the_token(
    session_maker: SessionMaker, clock: FrozenClock, timer: VirtualTimer
) -> None:
    """A proxy's 5xx page echoing the request URL: last_error keeps the reason, not the token."""
    from aiogram.exceptions import TelegramServerError
    from aiogram.methods import SendMessage

    await fill(session_maker, clock, chats=1, per_chat=1)

    def echo(_chat_id: int) -> None:
        page = f"<html>502 Bad Gateway for /bot{TEST_TOKEN}/sendMessage</html>"
        raise TelegramServerError(SendMessage(chat_id=1, text="x"), page)

    worker = make_worker(session_maker, RecordingBot(echo), clock, timer, "w1")
    await worker.deliver_due()
    async with session_maker() as session:
        error = (await session.exec(select(Notification.last_error))).one()
    assert error is not None and "502 Bad Gateway" in error
    assert TEST_TOKEN not in error and TEST_TOKEN.split(":")[1] not in error
    assert f"{TEST_TOKEN.split(':')[0]}:***" in error


async def test_a_read_only_sqlite_file_is_one_line_not_a_storm(
    backend: str,
    engine: AsyncEngine,
    session_maker: SessionMaker,
    clock: FrozenClock,
    timer: VirtualTimer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The database file turns read-only while the bot runs (SQLite's `query_only`: every
    write refused, reads fine). Issue 30 saw two tracebacks every 2.5 s; now the running
    worker, retrying many times, logs one line, and one more when the file is writable."""
    if backend != "sqlite":
        pytest.skip("a read-only SQLite file")
    from tests.integration.test_storage_faults import storage_fault

    await fill(session_maker, clock, chats=3, per_chat=1)
    bot = RecordingBot()
    bot.expected = 3
    worker = make_worker(session_maker, bot, clock, timer, "runner")
    worker.faults.first_delay = worker.faults.max_delay = 0.01
    recovered = SeesRecovery()
    watcher = logging.getLogger("bot.delivery.worker")
    watcher.addFilter(recovered)
    refused = asyncio.Event()
    attempts = 0

    def count(*_: Any) -> None:
        nonlocal attempts
        attempts += 1
        if attempts >= 60:
            refused.set()

    try:
        with caplog.at_level(logging.INFO):
            with storage_fault(engine, ["PRAGMA query_only = ON"]):
                await engine.dispose()
                event.listen(engine.sync_engine, "handle_error", count)
                task = asyncio.create_task(worker.run(idle_interval=0.01))
                await asyncio.wait_for(refused.wait(), timeout=30)  # a guard
                event.remove(engine.sync_engine, "handle_error", count)
            await engine.dispose()  # writable again: new connections without the pragma
            await asyncio.wait_for(bot.all_sent.wait(), timeout=30)
            await asyncio.wait_for(recovered.event.wait(), timeout=30)
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
    finally:
        watcher.removeFilter(recovered)
    lines = [r.getMessage() for r in caplog.records if r.name == "bot.delivery.worker"]
    assert len(lines) == 2, lines
    assert "read-only storage" in lines[0] and "recovered" in lines[1]
    assert in_order(bot, chats=3, per_chat=1)
