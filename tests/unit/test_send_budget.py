"""One global send budget for replies and the outbox: replies first, the round fills the rest,
and together they never exceed the rate (what Telegram would answer with 429s)."""

from __future__ import annotations

import asyncio
import heapq
import itertools

from bot.core.limits import SENDS_IN_ANY_SECOND
from bot.core.ratelimit import LocalBudget, RateLimiter
from tests.helpers.sending import overdraws

RATE = 5.0


class SteppedTimer:
    """Virtual time for several tasks: each sleep waits until the timer reaches its moment,
    and time jumps to the earliest sleeper once every task is waiting."""

    def __init__(self) -> None:
        self.now = 0.0
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.now + seconds, next(self._order), future))
        await future

    async def run(self, *tasks: asyncio.Task[object]) -> None:
        while not all(task.done() for task in tasks):
            for _ in range(20):  # let every runnable task reach its next sleep
                await asyncio.sleep(0)
            if self._sleepers:
                moment, _, future = heapq.heappop(self._sleepers)
                self.now = max(self.now, moment)
                future.set_result(None)


async def test_a_reply_goes_ahead_of_a_waiting_round() -> None:
    timer = SteppedTimer()
    limiter = RateLimiter(global_per_second=RATE, clock=timer.monotonic, sleep=timer.sleep)
    outbox: list[float] = []
    replies: list[float] = []

    async def round_of(chats: int) -> None:
        for chat in range(1, chats + 1):
            await limiter.acquire(chat)
            outbox.append(timer.now)

    async def head_replies(at: float, count: int) -> None:
        await timer.sleep(at)
        for _ in range(count):
            await limiter.acquire_reply()
            replies.append(timer.now)

    tasks = [
        asyncio.create_task(round_of(40)),
        asyncio.create_task(head_replies(2.05, 3)),
    ]
    await timer.run(*tasks)
    # The round was saturating the budget; the three replies still take the next three slots.
    assert replies[0] <= 2.05 + 1 / RATE + 1e-9
    assert replies[-1] <= 2.05 + 3 / RATE + 1e-9
    assert not [moment for moment in outbox if replies[0] < moment < replies[-1]]
    assert overdraws(outbox + replies, rate=RATE, burst=RATE) == 0
    assert len(outbox) == 40  # the round still finishes, with what the replies left


async def test_the_outbox_send_is_paid_once() -> None:
    timer = SteppedTimer()
    limiter = RateLimiter(global_per_second=RATE, clock=timer.monotonic, sleep=timer.sleep)
    await limiter.acquire(7)
    assert limiter.granted(7)  # the guard sees the outbox already paid for chat 7
    assert not limiter.granted(7)  # once
    assert not limiter.granted(8)
    assert not limiter.granted(None)


async def test_a_chat_waits_a_full_slot_after_a_send_the_round_delayed() -> None:
    """The chat's slot is planned before the global wait; its next send counts from when the
    first really went out, so the two are never closer than the chat's interval."""
    timer = SteppedTimer()
    limiter = RateLimiter(
        global_per_second=RATE, chat_per_second=1.0, clock=timer.monotonic, sleep=timer.sleep
    )
    sent: list[tuple[int, float]] = []

    async def round_of() -> None:
        # a full global budget spent on other chats, then two messages to chat 7
        for chat in (*range(100, 100 + int(RATE) * 2), 7, 7):
            await limiter.acquire(chat)
            sent.append((chat, timer.now))

    async def replies() -> None:
        for _ in range(int(RATE) * 2):
            await limiter.acquire_reply()

    tasks = [asyncio.ensure_future(replies()), asyncio.ensure_future(round_of())]
    await timer.run(*tasks)
    first, second = (moment for chat, moment in sent if chat == 7)
    assert second - first >= 1.0 - 1e-9


async def test_no_second_holds_more_than_29_sends_whatever_the_rate_lets_through() -> None:
    """The budget spaces the sends when it grants them; the window counts them as they leave.
    At a rate set too high (or after a busy loop let granted sends go together) the window
    still holds every second to SENDS_IN_ANY_SECOND."""
    timer = SteppedTimer()
    limiter = RateLimiter(global_per_second=100.0, clock=timer.monotonic, sleep=timer.sleep)
    sent: list[float] = []

    async def replies(count: int) -> None:
        for _ in range(count):
            await limiter.acquire_reply()
            await limiter.admit()  # as the request guard does, right before the request
            sent.append(timer.now)

    await timer.run(asyncio.create_task(replies(70)))
    # any second: sends a whole second apart (to within the floats' error) are in two
    busiest = max(sum(1 for other in sent if at <= other < at + 1 - 1e-9) for at in sent)
    assert busiest == SENDS_IN_ANY_SECOND
    assert len(sent) == 70  # nothing is dropped: the rest wait for the next second


async def test_the_window_counts_the_sends_of_the_last_second() -> None:
    now = [0.0]
    budget = LocalBudget(5.0, lambda: now[0], cap=3)
    assert [await budget.admit() for _ in range(3)] == [0.0, 0.0, 0.0]
    assert await budget.admit() == 1.0  # the fourth waits until the first is a second old
    now[0] = 0.75
    assert await budget.admit() == 0.25
    now[0] = 1.0
    assert await budget.admit() == 0.0
