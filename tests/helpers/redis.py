"""Redis for the tests: the server at 127.0.0.1:6379 (or TEST_REDIS_URL), each test under a
random key prefix whose keys are deleted afterwards. Without a server the webhook tests are
skipped, and say so; with TEST_REDIS_URL set (as .ci/run does) they fail instead.

`PrivateRedis` is a server of one test's own, which it may kill and start again."""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

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


REDIS_SERVER = "/usr/bin/redis-server"


def free_port() -> int:
    """A TCP port nobody listens on now (the kernel's pick; a race is unlikely on one host)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class PrivateRedis:
    """A `redis-server` of the test's own, without persistence, that the test may kill and
    start again on the same port (the shared server at 6379 serves the other tests)."""

    folder: Path
    port: int = field(default_factory=free_port)
    process: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    async def start(self, timeout: float = 30.0) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        log = (self.folder / "redis.log").open("ab")
        self.process = await asyncio.create_subprocess_exec(
            REDIS_SERVER,
            "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            "--dir", str(self.folder),
            stdout=log, stderr=log,
        )  # fmt: skip
        log.close()
        await self._wait_answering(timeout)

    async def _wait_answering(self, timeout: float) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        client = Redis.from_url(self.url, socket_timeout=2, socket_connect_timeout=2)
        try:
            while True:
                assert self.process is not None and self.process.returncode is None, (
                    self.folder / "redis.log"
                ).read_text(errors="replace")
                try:
                    if await client.ping():
                        return
                except (RedisError, OSError):
                    if loop.time() > deadline:
                        raise
                await asyncio.sleep(0.05)
        finally:
            await client.aclose()

    async def kill(self) -> None:
        """kill -9: everything it held (claims, locks) is gone."""
        if self.process is not None and self.process.returncode is None:
            self.process.kill()
            await self.process.wait()
        self.process = None

    async def __aenter__(self) -> PrivateRedis:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.kill()
