"""Outgoing rate limits in front of every send: global, per private chat, per group.

Telegram allows about 30 messages a second overall, one a second per chat and twenty a minute
per group. The clock and the sleep are injected, so tests move time instead of waiting.

One global budget serves both kinds of sending: the replies a person waits for (through the
request guard, bot/telegram/session.py) and the outbox's notifications. A reply takes its token
at once, or reserves the next one; the outbox takes only a token that is there when it asks,
so a round of a thousand messages fills what the replies leave and never queues ahead of them.
The budget is this process's (`LocalBudget`) or, with webhook replicas, one kept in Redis that
every replica draws on (bot/telegram/shared_budget.py): Telegram counts the bot, not the
process.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Protocol

from bot.core.limits import SENDS_IN_ANY_SECOND

Sleep = Callable[[float], Awaitable[None]]

# How much of the global budget may go out at once. Telegram counts about a second's worth; a
# bucket that also held a second's worth let a round open with all of it at once, which left
# Telegram's count empty and made any send that the network delivered a little early in the
# next seconds a 429. A fifth of a second absorbs the loop's jitter (a bucket of one token
# loses the tokens a busy moment did not take: a round at 29 a second went out at 27.6); the
# count of what leaves in any second (`GlobalBudget.admit`) holds the limit.
GLOBAL_BURST_SECONDS = 0.2

# The chat whose global token the current task's `acquire` took: its next send must not pay
# again when it passes the request guard.
_GRANTED: ContextVar[int | None] = ContextVar("send_budget_granted", default=None)


@dataclass
class _Bucket:
    """A token bucket: `rate` tokens a second, at most `burst` stored."""

    rate: float
    burst: float
    tokens: float
    updated: float

    def refill(self, now: float) -> None:
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now

    def reserve(self, now: float) -> float:
        """Take one token, returning how long the caller must wait before using it."""
        self.refill(now)
        self.tokens -= 1
        return 0.0 if self.tokens >= 0 else -self.tokens / self.rate

    def take_if_there(self, now: float) -> float:
        """Take a token that is there now (0.0), or say how long until one is (nothing taken)."""
        self.refill(now)
        if self.tokens >= 1 - 1e-9:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate

    def give_back(self) -> None:
        self.tokens = min(self.burst, self.tokens + 1)


class _Window:
    """The moments of the last sends: one is let go while fewer than `cap` went out in the
    second before it."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.sent: deque[float] = deque()

    def admit(self, now: float) -> float:
        """0.0 and the send counted, or how long until the oldest leaves the second."""
        while self.sent and now - self.sent[0] >= 1.0:
            self.sent.popleft()
        if len(self.sent) < self.cap:
            self.sent.append(now)
            return 0.0
        # Never 0.0 when refused: in floats, a + 1.0 - b can be 0.0 while b - a < 1.0.
        return max(self.sent[0] + 1.0 - now, 1e-6)


class GlobalBudget(Protocol):
    """The bot's messages a second, shared by everything that sends: a token bucket that
    spaces the sends when it grants them, and a count of the sends of the last second that
    holds any second to SENDS_IN_ANY_SECOND when they leave (the bucket alone let the rate and
    its burst through, 34 in a second at 29 a second)."""

    async def reserve(self) -> float:
        """Take the next token, returning how long to wait before using it (a reply)."""
        ...

    async def take_if_there(self) -> float:
        """Take a token that is there now (0.0), or say how long until one is, taking nothing
        (the outbox: it never queues ahead of the replies)."""
        ...

    async def refund(self) -> None:
        """Give back the token of a send that delivered nothing."""
        ...

    async def admit(self) -> float:
        """At the moment of sending: 0.0 and the send counted, or how long to wait so that no
        second holds more than SENDS_IN_ANY_SECOND. The budget spaces the sends when it grants
        them; a busy loop may still let several granted sends go together, and this counts
        what actually leaves."""
        ...


def burst_of(per_second: float) -> float:
    """How many tokens the global bucket stores (GLOBAL_BURST_SECONDS' worth, at least one)."""
    return max(1.0, per_second * GLOBAL_BURST_SECONDS)


class LocalBudget:
    """The global budget of one process."""

    def __init__(
        self, per_second: float, clock: Callable[[], float], cap: int = SENDS_IN_ANY_SECOND
    ) -> None:
        self.clock = clock
        burst = burst_of(per_second)
        self._bucket = _Bucket(per_second, burst, burst, clock())
        self._window = _Window(cap)

    async def reserve(self) -> float:
        return self._bucket.reserve(self.clock())

    async def take_if_there(self) -> float:
        return self._bucket.take_if_there(self.clock())

    async def refund(self) -> None:
        self._bucket.give_back()

    async def admit(self) -> float:
        return self._window.admit(self.clock())


class RateLimiter:
    def __init__(
        self,
        *,
        global_per_second: float = 25.0,
        chat_per_second: float = 1.0,
        group_per_minute: float = 20.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        shared: GlobalBudget | None = None,
    ) -> None:
        """`shared`: the replicas' common budget (at `global_per_second`); else this
        process's own."""
        self.global_per_second = global_per_second
        self.chat_per_second = chat_per_second
        self.group_per_minute = group_per_minute
        self.clock = clock
        self.sleep = sleep
        self._global: GlobalBudget = shared or LocalBudget(global_per_second, clock)
        self._chats: dict[int, _Bucket] = {}

    def _chat_bucket(self, chat_id: int, now: float) -> _Bucket:
        bucket = self._chats.get(chat_id)
        if bucket is None:
            rate = self.group_per_minute / 60 if chat_id < 0 else self.chat_per_second
            bucket = _Bucket(rate, 1.0, 1.0, now)
            self._chats[chat_id] = bucket
        return bucket

    async def refund(self, chat_id: int) -> None:
        """Give back the tokens of an attempt that delivered nothing, so its retry need not
        wait for a slot it never used."""
        chat = self._chats.get(chat_id)
        if chat is not None:
            chat.give_back()
        await self._global.refund()

    async def acquire(self, chat_id: int) -> None:
        """The outbox's slot. Wait for the chat's slot first, then take a global token at the
        moment of sending (one taken early refills while the chat waits, and the cap is
        overrun), and only one the replies have left: never a reservation ahead of them."""
        now = self.clock()
        chat = self._chat_bucket(chat_id, now)
        delay = chat.reserve(now)
        if delay > 0:
            await self.sleep(delay)
        while (delay := await self._global.take_if_there()) > 0:
            await self.sleep(delay)
        sent = self.clock()
        if sent > chat.updated:
            # The chat's next slot counts from this send, not from the slot planned before
            # the global wait: else a send delayed by the round and the next one to the same
            # chat would go out less than a second apart (Telegram's 429).
            chat.refill(sent)
            chat.tokens = min(chat.tokens, 0.0)
        _GRANTED.set(chat_id)

    async def acquire_reply(self) -> None:
        """A reply's global token: first in line, ahead of every notification waiting."""
        delay = await self._global.reserve()
        if delay > 0:
            await self.sleep(delay)

    async def admit(self) -> None:
        """Right before a budgeted request goes out, whoever granted it (see
        `GlobalBudget.admit`)."""
        while (delay := await self._global.admit()) > 0:
            await self.sleep(delay)

    @staticmethod
    def granted(chat_id: int | None) -> bool:
        """Whether this task's `acquire` already paid for a send to this chat (then it is
        used up): the outbox's own sends pass the request guard without paying twice."""
        if chat_id is None or _GRANTED.get() != chat_id:
            return False
        _GRANTED.set(None)
        return True
