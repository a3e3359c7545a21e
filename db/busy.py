"""SQLite's "database is locked", retried with a bounded wait.

Every connection already waits up to `busy_timeout` (db/engine.py) for another writer; a write
that still finds the database locked (a long import holding the lock, a machine that is
thrashing) is tried again a few times, waiting 0.1 s doubling to 2 s, about 6 s in all, before
the error goes to the caller. Only the statement's own transaction is repeated, so the
operation given must be one whole transaction.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.exc import OperationalError

T = TypeVar("T")
Sleep = Callable[[float], Awaitable[object]]

BUSY_ATTEMPTS = 6
BUSY_FIRST_WAIT = 0.1
BUSY_MAX_WAIT = 2.0


def is_busy(error: BaseException) -> bool:
    """SQLITE_BUSY or SQLITE_LOCKED: another connection holds the lock right now."""
    return isinstance(error, OperationalError) and (
        "database is locked" in str(error) or "database table is locked" in str(error)
    )


async def retry_when_busy(
    transaction: Callable[[], Awaitable[T]],
    *,
    attempts: int = BUSY_ATTEMPTS,
    sleep: Sleep = asyncio.sleep,
) -> T:
    """Run `transaction` (a function opening, running and committing one transaction) until
    it is not refused for a lock, at most `attempts` times."""
    wait = BUSY_FIRST_WAIT
    for _attempt in range(attempts - 1):
        try:
            return await transaction()
        except OperationalError as error:
            if not is_busy(error):
                raise
        await sleep(wait)
        wait = min(wait * 2, BUSY_MAX_WAIT)
    return await transaction()
