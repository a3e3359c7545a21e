"""Correctness of the outbox and its delivery worker: idempotent enqueue, fault handling over
real HTTP (emulator), bounded retries, per-chat order, claim expiry after a crash, disjoint
claims by concurrent workers on PostgreSQL, and the rate limiter's arithmetic.

Nothing here sleeps for real: `now` is a FrozenClock moved by hand (a retry becomes due when
the test advances it past `not_before`), and limiters run on a VirtualTimer whose sleep only
moves virtual time.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any, cast

import pytest
import pytest_asyncio
from aiogram import Bot
from aiogram.client.telegram import TelegramAPIServer
from aiogram.methods import TelegramMethod
from sqlmodel import col, func, select

from bot.core.clock import FrozenClock
from bot.core.ratelimit import RateLimiter
from bot.delivery.worker import DeliveryWorker
from bot.sandbox.emulator import BotApiEmulator
from db.engine import SessionMaker
from db.models import Notification, Person
from db.outbox import enqueue
from tests.helpers.chat import TEST_TOKEN, VirtualTimer
from tests.helpers.e2e import FastSession
from tests.helpers.sending import overdraws

FIRST_CHAT = 500_001


# ---- fixtures and helpers -------------------------------------------------------------------


@pytest_asyncio.fixture
async def live_bot(emulator: BotApiEmulator) -> AsyncIterator[Bot]:
    """A real aiogram Bot talking HTTP to the emulator."""
    session = FastSession(api=TelegramAPIServer.from_base(emulator.base_url))
    bot = Bot(TEST_TOKEN, session=session)
    try:
        yield bot
    finally:
        await session.close()


def make_worker(
    session_maker: SessionMaker,
    bot: Any,
    clock: FrozenClock,
    timer: VirtualTimer,
    **kwargs: Any,
) -> DeliveryWorker:
    """A worker whose limiter runs on virtual time, so throttling never waits for real."""
    limiter = kwargs.pop("limiter", None) or RateLimiter(clock=timer.monotonic, sleep=timer.sleep)
    return DeliveryWorker(
        session_maker=session_maker, bot=bot, clock=clock, limiter=limiter, **kwargs
    )


async def add_people(
    session_maker: SessionMaker, clock: FrozenClock, chat_ids: list[int]
) -> dict[int, int]:
    """One Person per chat (a private chat's id is the user's id); chat id -> person id."""
    async with session_maker() as session:
        people = [
            Person(
                telegram_id=chat_id,
                display_name=f"Person {chat_id}",
                role="member",
                created_at=clock.now(),
                updated_at=clock.now(),
            )
            for chat_id in chat_ids
        ]
        session.add_all(people)
        await session.commit()
        return {person.telegram_id: cast(int, person.id) for person in people}


async def enqueue_texts(
    session_maker: SessionMaker,
    clock: FrozenClock,
    items: list[tuple[int, str]],
    people: dict[int, int] | None = None,
) -> None:
    """Enqueue one sendMessage per (chat id, text), keyed by both, in one transaction."""
    async with session_maker() as session:
        for chat_id, text in items:
            await enqueue(
                session,
                key=f"test:{chat_id}:{text}",
                kind="test",
                chat_id=chat_id,
                method="sendMessage",
                params={"chat_id": chat_id, "text": text},
                now=clock.now(),
                person_id=(people or {}).get(chat_id),
            )
        await session.commit()


async def all_rows(session_maker: SessionMaker) -> list[Notification]:
    async with session_maker() as session:
        result = await session.exec(select(Notification).order_by(col(Notification.id)))
        return list(result.all())


def aware(moment: datetime) -> datetime:
    """SQLite hands timestamps back naive (they are stored as UTC); PostgreSQL aware."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def texts(emulator: BotApiEmulator, chat_id: int) -> list[str]:
    return [message.text or "" for message in emulator.messages(chat_id)]


async def drain_until_settled(
    worker: DeliveryWorker,
    session_maker: SessionMaker,
    clock: FrozenClock,
    *,
    step: timedelta = timedelta(seconds=1),
    max_steps: int = 600,
) -> int:
    """Deliver, moving the clock by `step` until no row is pending; returns steps taken."""
    for steps in range(max_steps):
        await worker.drain_all()
        if all(row.state != "pending" for row in await all_rows(session_maker)):
            return steps
        clock.advance(step)
    raise AssertionError("outbox did not settle")


# ---- enqueue ----------------------------------------------------------------------------------


async def test_enqueue_is_idempotent(session_maker: SessionMaker, clock: FrozenClock) -> None:
    async with session_maker() as session:
        first = await enqueue(
            session,
            key="round:1:person:7",
            kind="round",
            chat_id=7,
            method="sendMessage",
            params={"chat_id": 7, "text": "first"},
            now=clock.now(),
        )
        second = await enqueue(
            session,
            key="round:1:person:7",
            kind="round",
            chat_id=7,
            method="sendMessage",
            params={"chat_id": 7, "text": "second"},
            now=clock.now() + timedelta(hours=1),
        )
        await session.commit()
    async with session_maker() as session:  # and across transactions
        third = await enqueue(
            session,
            key="round:1:person:7",
            kind="round",
            chat_id=7,
            method="sendMessage",
            params={"chat_id": 7, "text": "third"},
            now=clock.now(),
        )
        await session.commit()
    assert (first, second, third) == (True, False, False)
    rows = await all_rows(session_maker)
    assert len(rows) == 1
    assert '"first"' in rows[0].payload
    assert aware(rows[0].not_before) == clock.now()


# ---- faults over real HTTP -------------------------------------------------------------------


async def test_fan_out_survives_faults_and_a_blocked_person(
    session_maker: SessionMaker,
    clock: FrozenClock,
    timer: VirtualTimer,
    emulator: BotApiEmulator,
    live_bot: Bot,
) -> None:
    chats = [FIRST_CHAT + n for n in range(40)]
    blocked = chats[17]
    for chat_id in chats:
        emulator.add_chat(chat_id)
    emulator.block_bot(blocked)
    people = await add_people(session_maker, clock, chats)
    await enqueue_texts(session_maker, clock, [(c, f"hello {c}") for c in chats], people)
    unreachable: list[tuple[int, int]] = []

    async def on_unreachable(person_id: int, notification_id: int) -> None:
        unreachable.append((person_id, notification_id))

    worker = make_worker(
        session_maker, live_bot, clock, timer, on_unreachable=on_unreachable, concurrency=8
    )
    emulator.faults.fail_next(6, "429", method="sendMessage", retry_after=1)
    emulator.faults.fail_next(3, "500", method="sendMessage")
    emulator.faults.fail_next(3, "502", method="sendMessage")
    emulator.faults.fail_next(3, "drop", method="sendMessage")
    start = clock.now()

    first = await worker.drain_all()
    assert emulator.faults.pending == 0
    assert first.throttled == 6
    assert first.retried == 15
    throttled_chats = {r.params["chat_id"] for r in emulator.requests if r.status == 429}
    assert len(throttled_chats) == 6
    rows = {row.chat_id: row for row in await all_rows(session_maker)}
    for chat_id in throttled_chats:  # a 429 moves the row by at least retry_after
        assert aware(rows[chat_id].not_before) - start >= timedelta(seconds=1)
        assert rows[chat_id].attempts == 1
    # Just before retry_after has passed, only the 5xx and dropped rows (quick retries) go;
    # the throttled ones still wait.
    clock.advance(timedelta(milliseconds=999))
    early = await worker.drain_all()
    # (Which chats draw the scripted faults depends on the interleaving of the concurrent
    # sends; the blocked chat may be among them, and is then dropped here.)
    assert (early.sent + early.dropped, early.retried, early.throttled) == (9, 0, 0)
    assert all(texts(emulator, chat_id) == [] for chat_id in throttled_chats)

    await drain_until_settled(worker, session_maker, clock)
    for chat_id in chats:
        expected = [] if chat_id == blocked else [f"hello {chat_id}"]
        assert texts(emulator, chat_id) == expected, chat_id
    assert max(emulator.stats.sent_per_chat.values()) == 1
    assert sum(emulator.stats.sent_per_chat.values()) == 39
    refusals = {(r.status, r.injected) for r in emulator.errors}  # only the scripted ones
    assert refusals == {(429, True), (500, True), (502, True), (0, True), (403, False)}
    rows = {row.chat_id: row for row in await all_rows(session_maker)}
    assert rows[blocked].state == "dropped"
    assert {row.state for c, row in rows.items() if c != blocked} == {"sent"}
    assert all(row.claimed_by is None for row in rows.values())
    assert unreachable == [(people[blocked], rows[blocked].id)]
    async with session_maker() as session:
        flagged = await session.exec(select(Person.telegram_id).where(Person.blocked_bot))
        assert list(flagged.all()) == [blocked]
    # Nothing is left to send, and running again sends nothing twice.
    clock.advance(timedelta(hours=1))
    assert (await worker.drain_all()).handled == 0
    assert sum(emulator.stats.sent_per_chat.values()) == 39


async def test_unknown_chat_is_dropped(
    session_maker: SessionMaker,
    clock: FrozenClock,
    timer: VirtualTimer,
    emulator: BotApiEmulator,
    live_bot: Bot,
) -> None:
    """'chat not found' (400) is unreachable like 403: every row for the chat is dropped."""
    people = await add_people(session_maker, clock, [FIRST_CHAT])
    await enqueue_texts(session_maker, clock, [(FIRST_CHAT, "a"), (FIRST_CHAT, "b")], people)
    worker = make_worker(session_maker, live_bot, clock, timer)
    report = await worker.drain_all()
    assert (report.dropped, report.unreachable_people) == (2, {people[FIRST_CHAT]})
    assert [row.state for row in await all_rows(session_maker)] == ["dropped", "dropped"]
    async with session_maker() as session:
        person = await session.get(Person, people[FIRST_CHAT])
        assert person is not None and person.blocked_bot


async def test_unreachable_person_is_reported_once(
    session_maker: SessionMaker,
    clock: FrozenClock,
    timer: VirtualTimer,
    emulator: BotApiEmulator,
    live_bot: Bot,
) -> None:
    """Two rows dropped in one pass and one in a later pass: the secretariat hears once."""
    people = await add_people(session_maker, clock, [FIRST_CHAT])
    await enqueue_texts(session_maker, clock, [(FIRST_CHAT, "a"), (FIRST_CHAT, "b")], people)
    calls: list[int] = []

    async def on_unreachable(person_id: int, notification_id: int) -> None:
        calls.append(person_id)

    worker = make_worker(session_maker, live_bot, clock, timer, on_unreachable=on_unreachable)
    await worker.drain_all()
    assert calls == [people[FIRST_CHAT]]
    await enqueue_texts(session_maker, clock, [(FIRST_CHAT, "c")], people)  # a later pass
    assert (await worker.drain_all()).dropped == 1
    assert calls == [people[FIRST_CHAT]]


async def test_retries_are_bounded(
    session_maker: SessionMaker,
    clock: FrozenClock,
    timer: VirtualTimer,
    emulator: BotApiEmulator,
    live_bot: Bot,
) -> None:
    emulator.add_chat(FIRST_CHAT)
    await enqueue_texts(session_maker, clock, [(FIRST_CHAT, "never")])
    emulator.faults.fail_next(1000, "500", method="sendMessage")
    worker = make_worker(session_maker, live_bot, clock, timer, max_attempts=4)
    delays: list[timedelta] = []
    for _attempt in range(10):
        await worker.drain_all()
        (row,) = await all_rows(session_maker)
        if row.state != "pending":
            break
        delays.append(aware(row.not_before) - clock.now())
        clock.set(aware(row.not_before))
    assert row.state == "failed"
    assert row.attempts == 4
    assert "Internal Server Error" in (row.last_error or "")
    assert delays == [timedelta(milliseconds=250)] * 3  # quick retries, then doubling
    assert emulator.stats.requests_per_method["sendMessage"] == 4
    assert emulator.messages(FIRST_CHAT) == []


# ---- per-chat order ----------------------------------------------------------------------------


async def test_per_chat_order_holds_behind_a_429(
    session_maker: SessionMaker,
    clock: FrozenClock,
    timer: VirtualTimer,
    emulator: BotApiEmulator,
    live_bot: Bot,
) -> None:
    emulator.add_chat(FIRST_CHAT)
    await enqueue_texts(session_maker, clock, [(FIRST_CHAT, t) for t in ("1st", "2nd", "3rd")])
    emulator.faults.fail_next(1, "429", method="sendMessage", retry_after=1)
    worker = make_worker(session_maker, live_bot, clock, timer)

    report = await worker.deliver_due()
    assert (report.throttled, report.sent) == (1, 0)
    assert emulator.stats.requests_per_method["sendMessage"] == 1  # the other two were held
    assert (await worker.drain_all()).handled == 0  # and stay held at the same moment
    assert texts(emulator, FIRST_CHAT) == []

    await drain_until_settled(worker, session_maker, clock)
    assert texts(emulator, FIRST_CHAT) == ["1st", "2nd", "3rd"]
    assert emulator.stats.requests_per_method["sendMessage"] == 4


async def test_held_rows_go_once_the_retry_is_due(
    session_maker: SessionMaker,
    clock: FrozenClock,
    timer: VirtualTimer,
    emulator: BotApiEmulator,
    live_bot: Bot,
) -> None:
    emulator.add_chat(FIRST_CHAT)
    await enqueue_texts(session_maker, clock, [(FIRST_CHAT, t) for t in ("1st", "2nd", "3rd")])
    emulator.faults.fail_next(1, "429", method="sendMessage", retry_after=1)
    worker = make_worker(session_maker, live_bot, clock, timer)
    await worker.drain_all()
    clock.advance(timedelta(seconds=2))  # well past retry_after, far short of claim_ttl
    await worker.drain_all()
    assert texts(emulator, FIRST_CHAT) == ["1st", "2nd", "3rd"]


async def test_order_survives_a_retry_longer_than_the_claim(
    session_maker: SessionMaker,
    clock: FrozenClock,
    timer: VirtualTimer,
    emulator: BotApiEmulator,
    live_bot: Bot,
) -> None:
    emulator.add_chat(FIRST_CHAT)
    await enqueue_texts(session_maker, clock, [(FIRST_CHAT, t) for t in ("1st", "2nd", "3rd")])
    emulator.faults.fail_next(1, "429", method="sendMessage", retry_after=300)
    worker = make_worker(session_maker, live_bot, clock, timer)
    await drain_until_settled(worker, session_maker, clock, step=timedelta(seconds=30))
    assert texts(emulator, FIRST_CHAT) == ["1st", "2nd", "3rd"]


# ---- restart safety --------------------------------------------------------------------------


async def test_claims_of_a_crashed_worker_expire(
    session_maker: SessionMaker,
    clock: FrozenClock,
    timer: VirtualTimer,
    emulator: BotApiEmulator,
    live_bot: Bot,
) -> None:
    chats = [FIRST_CHAT + n for n in range(3)]
    for chat_id in chats:
        emulator.add_chat(chat_id)
    await enqueue_texts(session_maker, clock, [(c, f"to {c}") for c in chats])
    ttl = timedelta(minutes=2)
    crashed = make_worker(session_maker, live_bot, clock, timer, worker_id="crashed", claim_ttl=ttl)
    assert len(await crashed.claim()) == 3  # ... and the process dies before sending
    survivor = make_worker(
        session_maker, live_bot, clock, timer, worker_id="survivor", claim_ttl=ttl
    )

    assert (await survivor.drain_all()).handled == 0
    clock.advance(ttl - timedelta(seconds=1))
    assert (await survivor.drain_all()).handled == 0
    assert emulator.stats.requests_per_method["sendMessage"] == 0
    clock.advance(timedelta(seconds=2))
    assert (await survivor.drain_all()).sent == 3
    assert (await survivor.drain_all()).handled == 0
    for chat_id in chats:
        assert texts(emulator, chat_id) == [f"to {chat_id}"]
    rows = await all_rows(session_maker)
    assert {row.state for row in rows} == {"sent"}
    assert all(row.claimed_by is None and row.claimed_until is None for row in rows)


# ---- concurrent workers (PostgreSQL) --------------------------------------------------------


class RecordingBot:
    """Stands in for aiogram's Bot: yields to the loop like a request would, records chats."""

    def __init__(self) -> None:
        self.chats: list[int] = []
        self._ids = itertools.count(1)

    async def __call__(self, method: TelegramMethod[Any]) -> Any:
        await asyncio.sleep(0)
        self.chats.append(int(getattr(method, "chat_id", 0)))
        return SimpleNamespace(message_id=next(self._ids))


def fast_limiter(timer: VirtualTimer) -> RateLimiter:
    return RateLimiter(global_per_second=1e9, clock=timer.monotonic, sleep=timer.sleep)


async def test_two_workers_send_everything_exactly_once(
    backend: str, session_maker: SessionMaker, clock: FrozenClock, timer: VirtualTimer
) -> None:
    if backend != "postgresql":
        pytest.skip("SKIP LOCKED claims need PostgreSQL")
    chats = [FIRST_CHAT + n for n in range(300)]
    await enqueue_texts(session_maker, clock, [(c, "x") for c in chats])
    bot = RecordingBot()
    workers = [
        make_worker(
            session_maker,
            bot,
            clock,
            timer,
            worker_id=name,
            batch_size=7,
            concurrency=4,
            limiter=fast_limiter(timer),
        )
        for name in ("w1", "w2")
    ]
    reports = await asyncio.gather(*(worker.drain_all() for worker in workers))
    assert sum(report.sent for report in reports) == 300
    assert all(report.sent > 0 for report in reports)  # both took part
    assert Counter(bot.chats) == Counter(chats)
    async with session_maker() as session:
        states = await session.exec(
            select(Notification.state, func.count()).group_by(Notification.state)
        )
        assert dict(states.all()) == {"sent": 300}


async def test_parallel_claims_are_disjoint(
    backend: str, session_maker: SessionMaker, clock: FrozenClock, timer: VirtualTimer
) -> None:
    if backend != "postgresql":
        pytest.skip("SKIP LOCKED claims need PostgreSQL")
    await enqueue_texts(session_maker, clock, [(FIRST_CHAT + n, "x") for n in range(300)])
    workers = [
        make_worker(session_maker, RecordingBot(), clock, timer, worker_id=name, batch_size=40)
        for name in ("w1", "w2")
    ]
    claimed: list[set[int]] = [set(), set()]
    for _round in range(10):
        batches = await asyncio.gather(*(worker.claim() for worker in workers))
        ids = [{cast(int, row.id) for row in batch} for batch in batches]
        assert not ids[0] & ids[1]
        assert not (ids[0] | ids[1]) & (claimed[0] | claimed[1])
        assert all(row.claimed_by == "w1" for row in batches[0])
        assert all(row.claimed_by == "w2" for row in batches[1])
        claimed[0] |= ids[0]
        claimed[1] |= ids[1]
    assert len(claimed[0] | claimed[1]) == 300
    async with session_maker() as session:
        owners = await session.exec(
            select(Notification.claimed_by, func.count()).group_by(Notification.claimed_by)
        )
        assert dict(owners.all()) == {"w1": len(claimed[0]), "w2": len(claimed[1])}


# ---- rate limiter ------------------------------------------------------------------------------


async def send_times(limiter: RateLimiter, timer: VirtualTimer, chats: list[int]) -> list[float]:
    """Acquire for each chat in turn; the virtual moment each send would go out."""
    moments = []
    for chat_id in chats:
        await limiter.acquire(chat_id)
        moments.append(timer.now)
    return moments


def limiter_on(timer: VirtualTimer, **kwargs: Any) -> RateLimiter:
    return RateLimiter(clock=timer.monotonic, sleep=timer.sleep, **kwargs)


async def test_limiter_one_message_a_second_per_chat(timer: VirtualTimer) -> None:
    limiter = limiter_on(timer, global_per_second=30)
    assert await send_times(limiter, timer, [1, 1, 1]) == pytest.approx([0.0, 1.0, 2.0])
    assert await send_times(limiter, timer, [2]) == pytest.approx([2.0])  # others not held
    timer.now += 10  # an idle chat saves no burst: one message, then one a second
    assert await send_times(limiter, timer, [1, 1]) == pytest.approx([12.0, 13.0])


async def test_limiter_global_cap(timer: VirtualTimer) -> None:
    limiter = limiter_on(timer, global_per_second=25)  # a burst of 5 (a fifth of a second)
    moments = await send_times(limiter, timer, list(range(1, 21)))
    assert moments[:5] == [0.0] * 5  # the burst
    assert moments[5:] == pytest.approx([0.04 * k for k in range(1, 16)])
    assert overdraws(moments, rate=25, burst=5) == 0


async def test_limiter_groups_twenty_a_minute(timer: VirtualTimer) -> None:
    limiter = limiter_on(timer, global_per_second=30)
    moments = await send_times(limiter, timer, [-100] * 21)
    assert moments == pytest.approx([3.0 * k for k in range(21)])
    assert sum(1 for moment in moments if moment < 60) == 20
    assert await send_times(limiter, timer, [7]) == pytest.approx([60.0])  # private chat free


async def test_limiter_global_cap_holds_when_a_chat_waits(timer: VirtualTimer) -> None:
    """Chat 1's second message waits a second for its chat slot; the global token it took
    at t=0 refills by t=1, so three sends go out at t=1 under a cap of two a second."""
    limiter = limiter_on(timer, global_per_second=2)
    moments = await send_times(limiter, timer, [1, 1, 2, 3])
    assert overdraws(moments, rate=2, burst=2) == 0
