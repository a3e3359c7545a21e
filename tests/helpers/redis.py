"""Redis for the tests: the shared server at 127.0.0.1:6379 (REDIS_URL overrides), each test
under a random key prefix whose keys are deleted afterwards; skipped, and said so, without it."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from redis.asyncio import Redis
from redis.exceptions import RedisError

TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


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
