"""One update at a time per chat across replicas: aiogram's Redis lock around our storage step.

`StepIsolation` (db/fsm_storage.py) keeps a chat's dialog row read once and written once per
update; in one process its in-memory lock is enough. With several replicas, two updates of
the same chat may land on two processes, so the lock must live in Redis. The dialog's data
stays in the database: Redis holds the lock only, and a lock it cannot give is a
`CoordinationUnavailableError`, which the webhook answers with a 503 (Telegram retries).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager

from aiogram.fsm.storage.base import BaseEventIsolation, DefaultKeyBuilder, StorageKey
from aiogram.fsm.storage.redis import RedisEventIsolation
from redis.asyncio import Redis
from redis.exceptions import LockError, RedisError

from bot.core.faults import CoordinationUnavailableError

logger = logging.getLogger(__name__)

# A chat's update never takes this long; a replica killed holding the lock frees it by then.
LOCK_TIMEOUT = 60  # seconds
LOCK_WAIT = 30  # seconds a second update of the chat waits for the first


class ReplicaIsolation(BaseEventIsolation):
    """aiogram's `RedisEventIsolation` (its key names and lock settings), with Redis' faults
    told apart: one before the handler runs refuses the update, one while releasing the lock
    after it is logged (the lock expires by itself), and the handler's own errors pass."""

    def __init__(self, redis: Redis, *, prefix: str = "roadmap") -> None:
        self.inner = RedisEventIsolation(
            redis,
            key_builder=DefaultKeyBuilder(prefix=prefix, with_destiny=True),
            lock_kwargs={"timeout": LOCK_TIMEOUT, "blocking_timeout": LOCK_WAIT},
        )

    @asynccontextmanager
    async def lock(self, key: StorageKey) -> AsyncGenerator[None, None]:
        name = self.inner.key_builder.build(key, "lock")
        lock = self.inner.redis.lock(name=name, **self.inner.lock_kwargs)
        try:
            acquired = await lock.acquire()
        except (RedisError, OSError) as error:
            raise CoordinationUnavailableError(str(error)) from error
        if not acquired:
            raise CoordinationUnavailableError(f"chat lock {name} still held after {LOCK_WAIT} s")
        try:
            yield
        finally:
            try:
                await lock.release()
            except (RedisError, LockError, OSError) as error:
                logger.warning("Chat lock %s not released (it expires by itself): %s", name, error)

    async def close(self) -> None:
        await self.inner.close()
