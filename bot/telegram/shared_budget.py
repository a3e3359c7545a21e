"""The bot's send budget shared by its webhook replicas, kept in Redis.

Telegram counts about 30 messages a second for the bot, whichever process sends them. Each
replica answers its own updates, so with a budget per process three replicas together sent
54 messages in a second. Here every send of every replica draws on one budget in Redis: the
generic cell rate algorithm, one key holding the moment the next send is due (its theoretical
arrival time), moved by a script that Redis runs atomically, on Redis's own clock, so the
replicas' clocks need not agree. And every send is counted as it leaves, in a sorted set of
the last second's send times: at most SENDS_IN_ANY_SECOND in any second, whichever replica
sends and however their loops bunch what the bucket spaced.

As in this process's budget (bot/core/ratelimit.py), a reply reserves the next slot and waits
for it; the outbox takes only a slot that is free now, so the replies of every replica go
ahead of a round. If Redis cannot be reached, the send is paced by this process's own budget
instead of failing, and Redis is tried again only after `RETRY_AFTER`: a reply is never lost
to the coordination, nor kept waiting for a Redis that is down (the client's own retries take
seconds).
"""

from __future__ import annotations

import itertools
import logging
import time
import uuid
from collections.abc import Callable
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from bot.core.limits import SENDS_IN_ANY_SECOND
from bot.core.ratelimit import LocalBudget, burst_of

logger = logging.getLogger(__name__)

RETRY_AFTER = 5.0  # seconds each replica paces alone after Redis failed it

# KEYS[1]: the budget. ARGV[1]: seconds between sends; ARGV[2]: how far ahead of its due
# moment a send may go (the burst); ARGV[3]: "reserve", "if_free" or "refund". Returns the
# seconds to wait, as a string (a Lua number would lose its fraction).
_GCRA = """
local now = redis.call('TIME')
now = tonumber(now[1]) + tonumber(now[2]) / 1000000
local interval = tonumber(ARGV[1])
local ahead = tonumber(ARGV[2])
local due = tonumber(redis.call('GET', KEYS[1]) or '0')
if due < now then due = now end
local wait = math.max(0, due - ahead - now)
if ARGV[3] == 'refund' then
  due = math.max(now, due - interval)
elseif ARGV[3] == 'if_free' and wait > 0 then
  return tostring(wait)
else
  due = due + interval
end
redis.call('SET', KEYS[1], tostring(due), 'PX', math.ceil((due - now) * 1000) + 1000)
if ARGV[3] == 'refund' then return '0' end
return tostring(wait)
"""


# KEYS[1]: the moments of the sends of the last second (a sorted set). ARGV[1]: how many a
# second may hold; ARGV[2]: this send's name. Returns the seconds to wait, as a string.
_WINDOW = """
local now = redis.call('TIME')
now = tonumber(now[1]) + tonumber(now[2]) / 1000000
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - 1)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[1], now, ARGV[2])
  redis.call('PEXPIRE', KEYS[1], 2000)
  return '0'
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return tostring(math.max(tonumber(oldest[2]) + 1 - now, 0.000001))
"""


class SharedBudget:
    """The replicas' global budget: `per_second` sends in all, a fifth of a second's worth at
    once, and at most `cap` leaving in any second (counted when they leave)."""

    def __init__(
        self,
        redis: Redis,
        *,
        per_second: float,
        key: str,
        clock: Callable[[], float] = time.monotonic,
        cap: int = SENDS_IN_ANY_SECOND,
    ):
        self.redis = redis
        self.interval = 1.0 / per_second
        self.ahead = (burst_of(per_second) - 1) * self.interval
        self.key = key
        # What paces this replica's sends while Redis is down: the same budget, its own.
        self.fallback = LocalBudget(per_second, clock, cap)
        self.clock = clock
        self.cap = cap
        self._bucket: Any = redis.register_script(_GCRA)
        self._window: Any = redis.register_script(_WINDOW)
        self._names = itertools.count()
        self._replica = uuid.uuid4().hex[:12]
        self._alone_until: float | None = None  # set while Redis is taken for down

    async def _run(self, mode: str) -> float | None:
        """The wait Redis gives, or None when this send is paced alone."""
        if self._alone_until is not None and self.clock() < self._alone_until:
            return None
        try:
            if mode == "admit":
                name = f"{self._replica}:{next(self._names)}"
                waited = await self._window(keys=[f"{self.key}:sent"], args=[self.cap, name])
            else:
                args = [repr(self.interval), repr(self.ahead), mode]
                waited = await self._bucket(keys=[self.key], args=args)
        except (RedisError, OSError) as error:
            if self._alone_until is None:
                logger.warning("Redis unreachable for the send budget; pacing alone: %s", error)
            self._alone_until = self.clock() + RETRY_AFTER
            return None
        if self._alone_until is not None:
            logger.info("Redis reachable again: the replicas share the send budget")
            self._alone_until = None
        return float(waited)

    async def reserve(self) -> float:
        waited = await self._run("reserve")
        return await self.fallback.reserve() if waited is None else waited

    async def take_if_there(self) -> float:
        waited = await self._run("if_free")
        return await self.fallback.take_if_there() if waited is None else waited

    async def refund(self) -> None:
        if await self._run("refund") is None:
            await self.fallback.refund()

    async def admit(self) -> float:
        waited = await self._run("admit")
        return await self.fallback.admit() if waited is None else waited
