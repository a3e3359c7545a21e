"""Update de-duplication on a real Redis: the first claim wins, a handled update is a
duplicate for a day, a failed one is released for Telegram's retry, a replica killed
mid-update does not swallow the retry, and an unreachable Redis is an error the webhook
turns into a 503."""

from __future__ import annotations

import asyncio

import pytest
from redis.asyncio import Redis

from bot.core.faults import CoordinationUnavailableError
from bot.telegram.update_claims import DONE_TTL, Claim, UpdateClaims
from tests.helpers.redis import ScratchRedis
from tests.helpers.tcp_proxy import free_port


def claims_on(scratch: ScratchRedis, **kw: int) -> UpdateClaims:
    return UpdateClaims(scratch.client, prefix=f"{scratch.prefix}:update:", **kw)


async def test_the_first_claim_wins_and_a_handled_update_is_a_duplicate(
    redis_scratch: ScratchRedis,
) -> None:
    claims = claims_on(redis_scratch)
    assert await claims.claim(101) is Claim.NEW
    assert await claims.claim(101) is Claim.HANDLING  # another replica, meanwhile
    await claims.done(101)
    assert await claims.claim(101) is Claim.DONE
    assert await claims.claim(102) is Claim.NEW  # other updates are not affected
    ttl = await redis_scratch.client.ttl(f"{redis_scratch.prefix}:update:101")
    assert DONE_TTL - 5 <= ttl <= DONE_TTL


async def test_concurrent_claims_have_exactly_one_winner(redis_scratch: ScratchRedis) -> None:
    replicas = [claims_on(redis_scratch) for _ in range(3)]
    results = await asyncio.gather(*(r.claim(7) for r in replicas for _ in range(5)))
    assert results.count(Claim.NEW) == 1
    assert results.count(Claim.HANDLING) == 14


async def test_a_released_claim_lets_the_retry_run(redis_scratch: ScratchRedis) -> None:
    claims = claims_on(redis_scratch)
    assert await claims.claim(5) is Claim.NEW
    await claims.release(5)  # the handler failed
    assert await claims.claim(5) is Claim.NEW


async def test_a_claim_of_a_killed_replica_expires(redis_scratch: ScratchRedis) -> None:
    claims = claims_on(redis_scratch, handling_ttl=1)
    assert await claims.claim(9) is Claim.NEW  # ...and the replica dies: never done, never released
    assert await claims.claim(9) is Claim.HANDLING
    key = f"{redis_scratch.prefix}:update:9"
    assert 0 < await redis_scratch.client.pttl(key) <= 1000
    await redis_scratch.client.pexpireat(key, 1)  # its second is over (a moment in the past)
    assert await claims.claim(9) is Claim.NEW


async def test_a_claim_is_kept_while_its_update_is_handled(redis_scratch: ScratchRedis) -> None:
    """A long handler keeps its update: the short lease is renewed until the handler ends."""
    claims = claims_on(redis_scratch, handling_ttl=1)
    key = f"{redis_scratch.prefix}:update:11"
    assert await claims.claim(11) is Claim.NEW
    async with claims.kept(11):
        await redis_scratch.client.pexpire(key, 600)  # partly run out...
        renewed = False
        for _ in range(100):  # ...until the renewal (a third of the lease) puts it back
            await asyncio.sleep(0.02)
            if await redis_scratch.client.pttl(key) > 700:
                renewed = True
                break
        assert renewed
        assert await claims.claim(11) is Claim.HANDLING
    await redis_scratch.client.pexpire(key, 200)
    await asyncio.sleep(0.4)  # handled and not marked done (a killed replica): no renewal
    assert await claims.claim(11) is Claim.NEW


async def test_unreachable_redis_is_an_error_not_a_verdict() -> None:
    client = Redis(host="127.0.0.1", port=free_port(), socket_connect_timeout=1)
    claims = UpdateClaims(client)
    try:
        with pytest.raises(CoordinationUnavailableError):
            await claims.claim(1)
        await claims.release(1)  # logged, never raised: the claim expires by itself
        await claims.done(1)
    finally:
        await client.aclose()
