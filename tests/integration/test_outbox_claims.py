"""The outbox claim: its plan uses the indexes of migration 0005 (with and without fresh
statistics), bulk enqueueing, and recovery after a crash (leases, heartbeat, take-over).

Time is a FrozenClock moved by hand; a "crash" is a worker that claimed rows and vanished
without giving them back, as a SIGKILL leaves it.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

from aiogram.methods import TelegramMethod
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, func, select

from bot.core.clock import FrozenClock
from bot.core.ratelimit import RateLimiter
from bot.delivery.enqueue import PersonMessage, enqueue_messages
from bot.delivery.worker import DeliveryWorker
from db.engine import SessionMaker
from db.models import Notification, Person
from db.outbox import Outgoing, enqueue, enqueue_many
from tests.helpers.chat import VirtualTimer

FIRST_CHAT = 700_001
LEASE = timedelta(seconds=15)


class CountingBot:
    """Stands in for aiogram's Bot; after `stall_after` sends, every further call hangs, as a
    request does when its process is about to be killed."""

    def __init__(self, stall_after: int | None = None) -> None:
        self.chats: list[int] = []
        self.stall_after = stall_after
        self.stalled = asyncio.Event()
        self.sent = asyncio.Event()  # set by the first message sent
        self._ids = itertools.count(1)

    async def __call__(self, method: TelegramMethod[Any]) -> Any:
        if self.stall_after is not None and len(self.chats) >= self.stall_after:
            self.stalled.set()
            await asyncio.Event().wait()  # never answers
        await asyncio.sleep(0)
        self.chats.append(int(getattr(method, "chat_id", 0)))
        self.sent.set()
        return SimpleNamespace(message_id=next(self._ids))


def worker(
    session_maker: SessionMaker,
    bot: Any,
    clock: FrozenClock,
    timer: VirtualTimer,
    name: str,
    **kwargs: Any,
) -> DeliveryWorker:
    limiter = RateLimiter(global_per_second=1e9, clock=timer.monotonic, sleep=timer.sleep)
    return DeliveryWorker(
        session_maker=session_maker,
        bot=bot,
        clock=clock,
        limiter=limiter,
        worker_id=name,
        claim_ttl=LEASE,
        **kwargs,
    )


async def fill(session_maker: SessionMaker, clock: FrozenClock, chats: int, per_chat: int) -> None:
    messages = [
        Outgoing(
            key=f"t:{turn}:{chat}",
            kind="test",
            chat_id=FIRST_CHAT + chat,
            method="sendMessage",
            params={"text": f"{turn} to {chat}"},
            not_before=clock.now() + timedelta(microseconds=turn * chats + chat),
        )
        for turn in range(per_chat)
        for chat in range(chats)
    ]
    async with session_maker() as session:
        assert await enqueue_many(session, messages, now=clock.now()) == chats * per_chat
        await session.commit()
    clock.advance(timedelta(seconds=1))  # all of them due


async def states(session_maker: SessionMaker) -> dict[str, int]:
    async with session_maker() as session:
        result = await session.exec(
            select(Notification.state, func.count()).group_by(Notification.state)
        )
        return dict(result.all())


async def holders(session_maker: SessionMaker) -> dict[str | None, int]:
    async with session_maker() as session:
        result = await session.exec(
            select(Notification.claimed_by, func.count())
            .where(Notification.state == "pending")
            .group_by(col(Notification.claimed_by))
        )
        return dict(result.all())


# ---- bulk enqueue ----------------------------------------------------------------------------


async def test_enqueue_many_adds_new_keys_only(
    session_maker: SessionMaker, clock: FrozenClock
) -> None:
    async with session_maker() as session:
        await enqueue(
            session,
            key="k:1",
            kind="test",
            chat_id=1,
            method="sendMessage",
            params={"text": "first"},
            now=clock.now(),
        )
        await session.commit()
    messages = [
        Outgoing(f"k:{n}", "test", n, "sendMessage", {"text": f"bulk {n}"}) for n in range(1, 1201)
    ]
    messages.append(Outgoing("k:5", "test", 5, "sendMessage", {"text": "duplicate in batch"}))
    async with session_maker() as session:
        assert await enqueue_many(session, messages, now=clock.now()) == 1199
        await session.commit()
    async with session_maker() as session:
        assert await enqueue_many(session, messages, now=clock.now()) == 0
        rows = (await session.exec(select(Notification))).all()
    assert len(rows) == 1200
    payloads = {row.idempotency_key: row.payload for row in rows}
    assert '"first"' in payloads["k:1"]  # the first row with a key is kept
    assert '"bulk 5"' in payloads["k:5"]


async def test_enqueue_many_is_part_of_the_callers_transaction(
    session_maker: SessionMaker, clock: FrozenClock
) -> None:
    messages = [Outgoing(f"r:{n}", "test", n, "sendMessage", {"text": "x"}) for n in range(10)]
    async with session_maker() as session:
        assert await enqueue_many(session, messages, now=clock.now()) == 10
        await session.rollback()
    assert await states(session_maker) == {}


# ---- the claim's plan ----------------------------------------------------------------------


async def claim_plan(engine: AsyncEngine, claimer: DeliveryWorker) -> list[str]:
    """The database's plan for the exact statement a claim sends, with its parameters."""
    captured: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        captured.append((statement, parameters))

    event.listen(engine.sync_engine, "before_cursor_execute", capture)
    try:
        await claimer.claim()
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", capture)
    claim_at = next(
        n for n, (sql, _) in enumerate(captured) if sql.lstrip().upper().startswith("UPDATE")
    )
    statement, parameters = captured[claim_at]
    async with engine.begin() as connection:  # the claim's own transaction, replayed
        for setup, setup_parameters in captured[:claim_at]:
            await connection.exec_driver_sql(setup, setup_parameters)
        if engine.dialect.name == "sqlite":
            result = await connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
            return [str(row[3]) for row in result]
        result = await connection.exec_driver_sql(f"EXPLAIN {statement}", parameters)
        return [str(row[0]) for row in result]


def assert_indexed(plan: list[str], dialect: str) -> None:
    joined = "\n".join(plan)
    assert "ix_notification_chat_order" in joined, joined  # the per-chat ordering check
    assert "ix_notification_due" in joined, joined  # the walk over the due rows
    if dialect == "sqlite":
        assert not [line for line in plan if line.startswith("SCAN")], joined
    else:
        assert "Seq Scan" not in joined, joined
        # probed per due row with its chat bound, not a join over every pending row
        assert "Index Cond: ((chat_id = " in joined, joined
        assert "Anti Join" not in joined, joined
        assert "Sort" not in joined, joined  # the due rows come in order, up to the limit
        # With statistics the estimate passes jit_above_cost, and compiling the plan took
        # 15-25 ms against well under 1 ms of running it.
        assert "JIT" not in joined, joined


async def test_claim_plan_uses_the_indexes(
    engine: AsyncEngine, session_maker: SessionMaker, clock: FrozenClock, timer: VirtualTimer
) -> None:
    """Before any statistics exist (a fresh PostgreSQL table, autovacuum held off) and after
    ANALYZE, the claim walks the due index and checks each chat on the per-chat index."""
    dialect = engine.dialect.name
    if dialect == "postgresql":
        async with engine.begin() as connection:
            await connection.execute(
                text("ALTER TABLE notification SET (autovacuum_enabled = false)")
            )
    await fill(session_maker, clock, chats=10_000, per_chat=3)
    claimer = worker(session_maker, CountingBot(), clock, timer, "planner")
    if dialect == "postgresql":
        async with engine.connect() as connection:
            never_analysed = await connection.scalar(
                text("SELECT reltuples FROM pg_class WHERE relname = 'notification'")
            )
        assert never_analysed is not None and never_analysed < 0
    assert_indexed(await claim_plan(engine, claimer), dialect)
    async with engine.begin() as connection:
        await connection.execute(text("ANALYZE"))
    assert_indexed(await claim_plan(engine, claimer), dialect)


async def test_claim_keeps_each_chats_order(
    session_maker: SessionMaker, clock: FrozenClock, timer: VirtualTimer
) -> None:
    """A chat's later messages are not claimed while an earlier one is held by another
    worker; the other chats go on."""
    await fill(session_maker, clock, chats=5, per_chat=3)
    first = worker(session_maker, CountingBot(), clock, timer, "first", batch_size=2)
    held = await first.claim()
    assert [row.chat_id for row in held] == [FIRST_CHAT, FIRST_CHAT + 1]
    second = worker(session_maker, CountingBot(), clock, timer, "second")
    taken = await second.claim()
    assert {row.chat_id for row in taken} == {FIRST_CHAT + n for n in (2, 3, 4)}
    assert len(taken) == 9


# ---- after a crash ---------------------------------------------------------------------------


async def test_a_restarted_worker_takes_over_a_killed_ones_claims(
    session_maker: SessionMaker, clock: FrozenClock, timer: VirtualTimer
) -> None:
    """A round of 40 messages; the process is killed after 8 went out. The restarted one
    waits only for the lease, then sends the other 32: nothing lost, nothing twice."""
    await fill(session_maker, clock, chats=40, per_chat=1)
    doomed_bot = CountingBot(stall_after=8)
    doomed = worker(session_maker, doomed_bot, clock, timer, "doomed", concurrency=1)
    round_task = asyncio.create_task(doomed.deliver_due())
    await asyncio.wait_for(doomed_bot.stalled.wait(), timeout=30)  # a guard, not a wait
    round_task.cancel()  # SIGKILL: no release, no finally that reaches the database
    await asyncio.gather(round_task, return_exceptions=True)
    assert await states(session_maker) == {"sent": 8, "pending": 32}
    assert await holders(session_maker) == {"doomed": 32}

    restarted_bot = CountingBot()
    restarted = worker(session_maker, restarted_bot, clock, timer, "restarted")
    assert (await restarted.drain_all()).handled == 0  # the lease still holds
    clock.advance(LEASE + timedelta(seconds=1))
    assert (await restarted.drain_all()).sent == 32
    assert await states(session_maker) == {"sent": 40}
    everything = doomed_bot.chats + restarted_bot.chats
    assert Counter(everything) == Counter(FIRST_CHAT + n for n in range(40))


async def test_a_live_replicas_claims_are_respected(
    session_maker: SessionMaker, clock: FrozenClock, timer: VirtualTimer
) -> None:
    """A replica whose round outlasts many leases keeps its rows while it beats."""
    await fill(session_maker, clock, chats=30, per_chat=1)
    busy = worker(session_maker, CountingBot(), clock, timer, "busy")
    held = await busy.claim()
    assert len(held) == 30
    other_bot = CountingBot()
    other = worker(session_maker, other_bot, clock, timer, "other")
    for _beat in range(12):  # a minute of a slow round, beating every five seconds
        clock.advance(LEASE / 3)
        assert await busy.heartbeat() == 30
        assert (await other.drain_all()).handled == 0
    assert other_bot.chats == []
    assert (await busy.deliver(held)).sent == 30
    assert await states(session_maker) == {"sent": 30}


async def test_a_stalled_worker_never_sends_a_row_taken_over(
    session_maker: SessionMaker, clock: FrozenClock, timer: VirtualTimer
) -> None:
    """A worker that froze past its lease finds its rows sent by another and sends none."""
    await fill(session_maker, clock, chats=10, per_chat=1)
    frozen_bot = CountingBot()
    frozen = worker(session_maker, frozen_bot, clock, timer, "frozen")
    held = await frozen.claim()
    clock.advance(LEASE + timedelta(seconds=1))
    rescuer_bot = CountingBot()
    rescuer = worker(session_maker, rescuer_bot, clock, timer, "rescuer")
    assert (await rescuer.drain_all()).sent == 10
    report = await frozen.deliver(held)
    assert report.sent == 0
    assert frozen_bot.chats == []
    assert Counter(rescuer_bot.chats) == Counter(FIRST_CHAT + n for n in range(10))


async def test_a_clean_stop_gives_the_claims_back(
    session_maker: SessionMaker, clock: FrozenClock, timer: VirtualTimer
) -> None:
    """Stopping the running worker (its task cancelled, as at shutdown) releases its claims,
    so the next process resumes at once, without waiting for a lease."""
    await fill(session_maker, clock, chats=20, per_chat=1)
    stopping_bot = CountingBot(stall_after=5)
    stopping = worker(session_maker, stopping_bot, clock, timer, "stopping", concurrency=1)
    task = asyncio.create_task(stopping.run(idle_interval=3600))
    await asyncio.wait_for(stopping_bot.stalled.wait(), timeout=30)  # a guard, not a wait
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert await holders(session_maker) == {None: 15}
    next_bot = CountingBot()
    assert (await worker(session_maker, next_bot, clock, timer, "next").drain_all()).sent == 15
    assert Counter(stopping_bot.chats + next_bot.chats) == Counter(
        FIRST_CHAT + n for n in range(20)
    )


async def test_a_round_for_a_thousand_people_is_a_few_statements(
    engine: AsyncEngine, session_maker: SessionMaker, clock: FrozenClock
) -> None:
    async with session_maker() as session:
        people = [
            Person(
                telegram_id=FIRST_CHAT + n,
                display_name=f"P{n}",
                role="member",
                created_at=clock.now(),
                updated_at=clock.now(),
            )
            for n in range(1000)
        ]
        session.add_all(people)
        await session.commit()
    messages = [
        PersonMessage(f"round:1:{person.id}", "round", person, f"<b>{person.display_name}</b>")
        for person in people
    ]
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    try:
        async with session_maker() as session:
            assert await enqueue_messages(session, messages, now=clock.now()) == 1000
            await session.commit()
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", count)
    assert len(statements) <= 2  # 500 rows an INSERT
    async with session_maker() as session:
        first = (
            await session.exec(
                select(Notification).where(Notification.idempotency_key == messages[0].key)
            )
        ).one()
    assert first.chat_id == FIRST_CHAT and first.person_id == people[0].id
    assert '"parse_mode": "HTML"' in first.payload and "<b>P0</b>" in first.payload


async def test_a_wake_up_during_a_pass_that_found_nothing_is_not_lost(
    session_maker: SessionMaker, clock: FrozenClock, timer: VirtualTimer
) -> None:
    """A message committed while a pass runs, after its claim read the table, is sent at once:
    the wake-up it brings is kept for the wait after that pass, not cleared with it (it used to
    wait for the idle interval: an answer to the chair arrived five seconds late)."""
    bot = CountingBot()
    outbox = worker(session_maker, bot, clock, timer, "waking")
    passes = 0
    first_pass_read = asyncio.Event()
    message_committed = asyncio.Event()
    claim = outbox.claim

    async def claim_then_meet_the_commit() -> Any:
        nonlocal passes
        passes += 1
        rows = await claim()
        if passes == 1:  # the commit and its wake-up land after this pass read the table
            first_pass_read.set()
            await message_committed.wait()
        return rows

    outbox.claim = claim_then_meet_the_commit  # type: ignore[method-assign]
    task = asyncio.create_task(outbox.run(idle_interval=3600))
    try:
        await asyncio.wait_for(first_pass_read.wait(), timeout=30)  # a guard, not a wait
        await fill(session_maker, clock, chats=1, per_chat=1)
        outbox.wake()
        message_committed.set()
        await asyncio.wait_for(bot.sent.wait(), timeout=30)  # a guard, not a wait
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert bot.chats == [FIRST_CHAT]
