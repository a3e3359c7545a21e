"""Each Telegram update handled once, whichever replica receives it and however often.

Telegram re-sends an update it has no 2xx for (a timeout, a restart, a load balancer's
retry), and several replicas receive updates. Before the dispatcher sees an update, the
replica claims its `update_id` in Redis with `SET key NX EX`: only the first claim wins.

A claim is first marked *handling*, for a short while (longer than Telegram waits for an
answer): a replica killed mid-update leaves a claim that expires, so Telegram's retry is
handled then instead of being dropped as a duplicate. When the update is handled, the claim
is marked *done* for a day (Telegram keeps an update for at most 24 hours). A failed update's
claim is released, so the retry runs it again.

Redis holds claims and locks only: losing it loses no data (the dialogs are in the database).
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
from collections.abc import AsyncIterator

from redis.asyncio import Redis
from redis.exceptions import RedisError

from bot.core.faults import CoordinationUnavailableError

logger = logging.getLogger(__name__)

DONE_TTL = 24 * 3600  # seconds: Telegram keeps an undelivered update at most a day
# seconds: the claim of an update being handled, renewed every third of it while the handler
# runs (`kept`); a replica killed mid-update lets Telegram's retry through within this lease.
HANDLING_TTL = 15
_HANDLING = b"handling"
_DONE = b"done"


class Claim(enum.Enum):
    NEW = "new"  # ours to handle
    DONE = "done"  # handled already: answer 200 and drop it
    HANDLING = "handling"  # another replica handles it now: ask Telegram to come back


class UpdateClaims:
    def __init__(
        self,
        redis: Redis,
        *,
        prefix: str = "roadmap:update:",
        handling_ttl: int = HANDLING_TTL,
        done_ttl: int = DONE_TTL,
    ) -> None:
        self.redis = redis
        self.prefix = prefix
        self.handling_ttl = handling_ttl
        self.done_ttl = done_ttl

    def _key(self, update_id: int) -> str:
        return f"{self.prefix}{update_id}"

    async def claim(self, update_id: int) -> Claim:
        """NEW when this call won the update; raises CoordinationUnavailableError without Redis."""
        key = self._key(update_id)
        try:
            if await self.redis.set(key, _HANDLING, nx=True, ex=self.handling_ttl):
                return Claim.NEW
            held = await self.redis.get(key)
        except (RedisError, OSError) as error:
            raise CoordinationUnavailableError(str(error)) from error
        if held is None:  # it expired between the two calls: try once more
            return await self.claim(update_id)
        return Claim.DONE if held == _DONE else Claim.HANDLING

    @contextlib.asynccontextmanager
    async def kept(self, update_id: int) -> AsyncIterator[None]:
        """The claim renewed while the update is handled, however long that takes; a renewal
        that fails is logged (the lease then runs out on its own and a retry may come)."""

        async def renew() -> None:
            while True:
                await asyncio.sleep(self.handling_ttl / 3)
                try:
                    await self.redis.expire(self._key(update_id), self.handling_ttl, xx=True)
                except (RedisError, OSError) as error:
                    logger.warning("Update %s: its claim was not renewed: %s", update_id, error)

        renewing = asyncio.create_task(renew(), name=f"claim-{update_id}")
        try:
            yield
        finally:
            renewing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewing

    async def done(self, update_id: int) -> None:
        """Keep the claim for a day. A failure here is logged, not raised: the update was
        handled, and at worst a retry within the handling window is refused once more."""
        try:
            await self.redis.set(self._key(update_id), _DONE, ex=self.done_ttl)
        except (RedisError, OSError) as error:
            logger.warning("Update %s handled, but its claim was not kept: %s", update_id, error)

    async def release(self, update_id: int) -> None:
        """Give the update back (its handling failed): Telegram's retry will run it again."""
        try:
            await self.redis.delete(self._key(update_id))
        except (RedisError, OSError) as error:
            # The claim expires after HANDLING_TTL by itself; the retry runs then.
            logger.warning("Update %s failed and its claim was not released: %s", update_id, error)
