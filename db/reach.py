"""Reaching the database at start: PostgreSQL is waited for, a SQLite file that cannot be
opened is named with its cause.

A server that boots before its database (a container started beside PostgreSQL, a host after
a power cut) waits with one log line per attempt, 2 s doubling to a minute, as the bot already
waits for Telegram, instead of exiting with a traceback. A SQLite file is on this machine: no
wait fixes a read-only file system or a missing folder, so the start stops with one line that
says which path and why.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable
from pathlib import Path

from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine

logger = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[object]]
FIRST_WAIT = 2.0
MAX_WAIT = 60.0


class DatabaseUnopenableError(Exception):
    """The SQLite file cannot be opened; the message names the path and the cause."""


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def describe_url(url: URL) -> str:
    """Where the database is, without the password."""
    if url.get_backend_name() == "sqlite":
        return str(url.database)
    return f"{url.host or 'localhost'}:{url.port or 5432}/{url.database}"


def sqlite_problem(database: str, error: BaseException) -> str:
    """Why SQLite cannot open `database`, as one line an administrator can act on."""
    path = Path(database).expanduser().absolute()
    folder = path.parent
    if not folder.is_dir():
        cause = f"the folder {folder} does not exist and cannot be created"
    elif os.statvfs(folder).f_flag & os.ST_RDONLY:
        cause = f"the file system holding {folder} is read-only"
    elif path.exists() and not os.access(path, os.R_OK | os.W_OK):
        cause = f"no permission to read and write {path}"
    elif not os.access(folder, os.W_OK | os.X_OK):
        cause = (
            f"no permission to write in {folder} "
            "(SQLite keeps its -wal and -shm files beside the database)"
        )
    else:
        cause = _first_line(error)
    return f"Cannot open the SQLite database {path}: {cause}. Fix DATABASE_URL or the folder."


async def wait_for_database(
    engine: AsyncEngine,
    *,
    sleep: Sleep = asyncio.sleep,
    first_wait: float = FIRST_WAIT,
    max_wait: float = MAX_WAIT,
) -> None:
    """Return once a connection opens. PostgreSQL: retried with one line per attempt; SQLite:
    `DatabaseUnopenableError` at once. The connection stays in the pool for what follows."""
    wait = first_wait
    while True:
        try:
            async with engine.connect():
                return
        except Exception as error:  # whatever the driver raises, the answer is "not yet"
            if engine.url.get_backend_name() == "sqlite":
                raise DatabaseUnopenableError(
                    sqlite_problem(str(engine.url.database), error)
                ) from error
            logger.warning(
                "The database (%s) is not reachable: %s; trying again in %.0f s",
                describe_url(engine.url),
                _first_line(error),
                wait,
            )
        await sleep(wait)
        wait = min(wait * 2, max_wait)
