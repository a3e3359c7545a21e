"""Redis for the tests: the server at 127.0.0.1:6379 (or TEST_REDIS_URL), each test under a
random key prefix whose keys are deleted afterwards. Without a server the webhook tests are
skipped, and say so; with TEST_REDIS_URL set (as .ci/run does) they fail instead."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from redis.asyncio import Redis
from redis.exceptions import RedisError

REQUIRED = bool(os.environ.get("TEST_REDIS_URL"))
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL") or "redis://127.0.0.1:6379/0"


@dataclass
class ScratchRedis:
    client: Redis
    prefix: str
    url: str


async def scratch_redis() -> AsyncIterator[ScratchRedis]:
    client = Redis.from_url(TEST_REDIS_URL, socket_timeout=5, socket_connect_timeout=2)
    try:
        await client.ping()
    except (RedisError, OSError) as error:
        await client.aclose()
        if REQUIRED:
            pytest.fail(f"TEST_REDIS_URL is set but Redis does not answer: {error}")
        pytest.skip(f"no Redis at {TEST_REDIS_URL}: {error}")
    prefix = f"test-{uuid.uuid4().hex[:12]}"
    try:
        yield ScratchRedis(client, prefix, TEST_REDIS_URL)
    finally:
        keys = [key async for key in client.scan_iter(match=f"{prefix}*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()


@pytest.fixture
async def redis_scratch() -> AsyncIterator[ScratchRedis]:
    async for scratch in scratch_redis():
        yield scratch
