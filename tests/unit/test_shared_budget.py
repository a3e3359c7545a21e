"""The send budget webhook replicas share, on a real Redis: the replicas' sends together keep
the rate, a reply reserved on one replica goes ahead of the outbox on another, a refunded
slot is free again, and without Redis each replica paces on its own instead of failing.

Nothing sleeps: each call returns how long its send must wait, at 2 sends a second, so the
milliseconds between calls hardly move the figures."""

from __future__ import annotations

import pytest
from redis.asyncio import Redis

from bot.app.config import Settings
from bot.app.factory import create_bot, create_outbox
from bot.core.clock import FrozenClock
from bot.core.limits import SENDS_IN_ANY_SECOND
from bot.core.ratelimit import LocalBudget
from bot.telegram.session import guard_of
from bot.telegram.shared_budget import RETRY_AFTER, SharedBudget
from tests.helpers.chat import START_MOMENT, TEST_TOKEN
from tests.helpers.redis import ScratchRedis
from tests.helpers.tcp_proxy import free_port

RATE = 2.0  # sends a second: one every half second
SLACK = 0.1  # seconds the test's own calls may take between two readings


def replica(redis: Redis, key: str) -> SharedBudget:
    return SharedBudget(redis, per_second=RATE, key=key)


async def test_the_replicas_sends_together_keep_the_rate(redis_scratch: ScratchRedis) -> None:
    key = f"{redis_scratch.prefix}:send-budget"
    first, second = replica(redis_scratch.client, key), replica(redis_scratch.client, key)
    waits = [
        await first.reserve(),
        await second.reserve(),
        await first.reserve(),
        await second.reserve(),
    ]
    for number, wait in enumerate(waits):
        assert number / RATE - SLACK <= wait <= number / RATE + 0.001, waits  # Lua rounds


async def test_a_reply_reserved_on_one_replica_goes_ahead_of_the_outbox_on_another(
    redis_scratch: ScratchRedis,
) -> None:
    key = f"{redis_scratch.prefix}:send-budget"
    answering, leader = replica(redis_scratch.client, key), replica(redis_scratch.client, key)
    assert await answering.reserve() == pytest.approx(0.0, abs=SLACK)
    assert await answering.reserve() == pytest.approx(1 / RATE, abs=SLACK)
    # The outbox takes only a free slot: none until both replies' slots have passed.
    assert await leader.take_if_there() == pytest.approx(2 / RATE, abs=SLACK)
    # It took nothing: the next reply's slot is the third, not the fourth.
    assert await answering.reserve() == pytest.approx(2 / RATE, abs=SLACK)


async def test_a_refunded_slot_is_free_again(redis_scratch: ScratchRedis) -> None:
    key = f"{redis_scratch.prefix}:send-budget"
    outbox, other = replica(redis_scratch.client, key), replica(redis_scratch.client, key)
    assert await outbox.take_if_there() == pytest.approx(0.0, abs=SLACK)
    assert await other.take_if_there() > 0  # the slot is taken ...
    await outbox.refund()  # ... and given back: the send delivered nothing
    assert await other.take_if_there() == pytest.approx(0.0, abs=SLACK)


async def test_without_redis_each_replica_paces_alone_and_tries_redis_again_later() -> None:
    unreachable = Redis(host="127.0.0.1", port=free_port(), retry=None)
    now = [0.0]
    budget = SharedBudget(
        unreachable,
        per_second=RATE,
        key="roadmap:send-budget",
        clock=lambda: now[0],
    )
    attempts = [0]
    script = budget._bucket

    async def counted(**kwargs: object) -> object:
        attempts[0] += 1
        return await script(**kwargs)

    budget._bucket = counted
    try:
        assert await budget.reserve() == 0.0  # the local bucket's first token
        assert await budget.reserve() == pytest.approx(1 / RATE)  # its clock stands still
        assert await budget.take_if_there() > 0
        await budget.refund()
        assert await budget.take_if_there() > 0  # one refund: the second reply's slot
        assert attempts == [1]  # Redis was tried once, then left alone ...
        now[0] += RETRY_AFTER
        assert await budget.take_if_there() == 0.0  # ... until it is tried again
        assert attempts == [2]
    finally:
        await unreachable.aclose()


async def test_the_replicas_let_no_more_than_the_cap_leave_in_any_second(
    redis_scratch: ScratchRedis,
) -> None:
    key = f"{redis_scratch.prefix}:send-budget"
    replicas = [SharedBudget(redis_scratch.client, per_second=RATE, key=key) for _ in range(3)]
    admitted = [await replicas[n % 3].admit() for n in range(SENDS_IN_ANY_SECOND)]
    assert admitted == [0.0] * SENDS_IN_ANY_SECOND  # the sends of all three count together
    wait = await replicas[0].admit()
    assert 1.0 - SLACK <= wait <= 1.0 + 0.001, wait  # until the first is a second old


async def test_a_fifth_of_a_second_may_go_at_once(redis_scratch: ScratchRedis) -> None:
    """As this process's bucket: at 10 a second, two sends at once, then one every 0.1 s."""
    key = f"{redis_scratch.prefix}:send-budget"
    budget = SharedBudget(redis_scratch.client, per_second=10.0, key=key)
    waits = [await budget.reserve() for _ in range(4)]
    assert waits == pytest.approx([0.0, 0.0, 0.1, 0.2], abs=SLACK / 2)


async def test_webhook_replicas_send_on_the_shared_budget(redis_scratch: ScratchRedis) -> None:
    """The wiring: with Redis (webhook mode) the outbox and every reply through the request
    guard draw on the shared budget; polling (no Redis) keeps this process's own."""
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        bot_token=TEST_TOKEN,
        database_url="sqlite+aiosqlite:///:memory:",
        redis_prefix=redis_scratch.prefix,
    )
    for redis, kind in ((redis_scratch.client, SharedBudget), (None, LocalBudget)):
        bot = create_bot(settings)
        try:
            outbox = create_outbox(
                settings=settings, session_maker=None, bot=bot, clock=FrozenClock(START_MOMENT),
                redis=redis,
            )  # fmt: skip
            guard = guard_of(bot)
            assert guard is not None and guard.budget is outbox.limiter
            assert isinstance(outbox.limiter._global, kind)
        finally:
            await bot.session.close()
