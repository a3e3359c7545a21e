"""aiosqlite with one trip to its thread per statement instead of three or four.

aiosqlite runs every call on the connection's own thread, and SQLAlchemy's adapter makes one
call each to create a cursor, execute, fetch the rows and close the cursor, then one more for
every ROLLBACK of a session that only read. Each trip is a queue put, a thread wake-up and a
loop wake-up: a tenth of a millisecond on a quiet machine, much more when the CPUs are busy,
and a dialog step made fourteen of them. Here a cursor is created, executed, fetched (the
first `PREFETCH` rows) and, once exhausted, closed in one trip; COMMIT and ROLLBACK go to the
thread only when the connection is in a transaction (sqlite3 does nothing otherwise anyway).

A result longer than `PREFETCH` rows (a streamed scan) is fetched on demand as before, so a
stream still never holds more than a chunk at once.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from functools import partial
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import dialect as aiosqlite_dialect
from sqlalchemy.engine import make_url

PREFETCH = 1000  # rows fetched in the trip that executes: any result the bot reads at once
THREAD_STOP_TIMEOUT = 5.0  # seconds to wait for the thread of a connection that failed to open


def _in_transaction(connection: sqlite3.Connection | None) -> bool:
    if connection is None:
        return False
    try:
        return connection.in_transaction
    except sqlite3.ProgrammingError:  # closed
        return False


class OneTripConnection(aiosqlite.Connection):
    """Knows after every trip whether a transaction is open, so COMMIT and ROLLBACK of a
    connection that only read cost nothing."""

    def __init__(self, connector: Callable[[], sqlite3.Connection]) -> None:
        super().__init__(connector, iter_chunk_size=64)
        self._thread.daemon = True  # as SQLAlchemy sets it: a forgotten engine never hangs exit
        self._transaction_open = True  # unknown until the first trip: assume open

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        def tracked() -> Any:
            try:
                return fn(*args, **kwargs)
            finally:
                self._transaction_open = _in_transaction(self._connection)

        # aiosqlite's private _execute carries no annotations: this names its type.
        execute: Callable[[Callable[[], Any]], Awaitable[Any]] = super()._execute
        return await execute(tracked)

    def cursor(self) -> OneTripCursor:  # type: ignore[override]
        return OneTripCursor(self)

    async def commit(self) -> None:
        if self._transaction_open:
            await super().commit()

    async def rollback(self) -> None:
        if self._transaction_open:
            await super().rollback()


class OneTripCursor:
    """The part of aiosqlite's cursor SQLAlchemy uses; the sqlite3 cursor lives on the
    connection's thread only while a result is being read."""

    arraysize = 1

    def __init__(self, connection: OneTripConnection) -> None:
        self._connection = connection
        self._cursor: sqlite3.Cursor | None = None  # open: more rows may be waiting
        self._rows: deque[Any] = deque()
        self.description: Any = None
        self.rowcount = -1
        self.lastrowid: int | None = None

    async def __aenter__(self) -> OneTripCursor:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    def _read(self, cursor: sqlite3.Cursor, limit: int | None) -> list[Any]:
        """On the thread: up to `limit` rows (all when None); closes the cursor when done."""
        rows = cursor.fetchall() if limit is None else cursor.fetchmany(limit)
        done = limit is None or len(rows) < limit
        self.rowcount, self.lastrowid = cursor.rowcount, cursor.lastrowid
        if done:
            cursor.close()
        self._cursor = None if done else cursor
        return rows

    def _run(self, method: str, sql: str, parameters: Any) -> None:
        """On the thread: execute, then read the first rows in the same trip."""
        connection = self._connection._conn
        cursor = connection.cursor()
        try:
            execute_when_free(connection, getattr(cursor, method), sql, parameters)
        except BaseException:
            cursor.close()
            raise
        self.description = cursor.description
        if cursor.description is None:  # no rows to read
            self.rowcount, self.lastrowid = cursor.rowcount, cursor.lastrowid
            cursor.close()
        else:
            self._rows.extend(self._read(cursor, PREFETCH))

    async def execute(self, sql: str, parameters: Iterable[Any] | None = None) -> OneTripCursor:
        await self._connection._execute(partial(self._run, "execute", sql, parameters or ()))
        return self

    async def executemany(self, sql: str, parameters: Iterable[Iterable[Any]]) -> OneTripCursor:
        await self._connection._execute(partial(self._run, "executemany", sql, parameters))
        return self

    async def _more(self, limit: int | None) -> None:
        cursor = self._cursor
        if cursor is not None and (limit is None or limit > 0):
            self._rows.extend(await self._connection._execute(self._read, cursor, limit))

    async def __aiter__(self) -> AsyncIterator[Any]:
        while (row := await self.fetchone()) is not None:
            yield row

    async def fetchone(self) -> Any:
        if not self._rows:
            await self._more(PREFETCH)
        return self._rows.popleft() if self._rows else None

    async def fetchmany(self, size: int | None = None) -> Sequence[Any]:
        size = self.arraysize if size is None else size
        await self._more(size - len(self._rows))
        return [self._rows.popleft() for _ in range(min(size, len(self._rows)))]

    async def fetchall(self) -> Sequence[Any]:
        await self._more(None)
        rows = list(self._rows)
        self._rows.clear()
        return rows

    async def close(self) -> None:
        self._rows.clear()
        cursor, self._cursor = self._cursor, None
        if cursor is not None:
            await self._connection._execute(cursor.close)


# The first statement of a transaction refused for a lock is tried again this many times,
# after the connection's own busy_timeout wait each time, pausing 0.1 s doubling to 1 s.
BUSY_RETRIES = 3
BUSY_FIRST_PAUSE = 0.1
BUSY_MAX_PAUSE = 1.0


def _locked(error: sqlite3.OperationalError) -> bool:
    text = str(error)
    return "database is locked" in text or "database table is locked" in text


def execute_when_free(
    connection: sqlite3.Connection,
    execute: Callable[[str, Any], object],
    sql: str,
    parameters: Any,
    *,
    sleep: Callable[[float], object] = time.sleep,
) -> None:
    """Run a statement; when it opens a transaction and SQLite refuses it with "database is
    locked" (busy_timeout ran out behind a long writer, or WAL refused a stale snapshot the
    right to write, which busy_timeout never waits for), roll that empty transaction back
    and run it again, a bounded number of times. This covers every write of the bot: sqlite3
    begins a transaction at its first write, the only statement that waits for the lock
    (later ones in it hold the lock already). A statement inside a transaction that was open
    before it is never repeated here: the whole transaction would have to be (db/busy.py).
    Runs on the connection's own thread, so the pause holds up this connection only."""
    was_open = connection.in_transaction
    pause = BUSY_FIRST_PAUSE
    for attempt in range(BUSY_RETRIES + 1):
        try:
            execute(sql, parameters)
            return
        except sqlite3.OperationalError as error:
            if was_open or attempt == BUSY_RETRIES or not _locked(error):
                raise
        if connection.in_transaction:
            connection.rollback()  # only the implicit BEGIN and the refused statement
        sleep(pause)
        pause = min(pause * 2, BUSY_MAX_PAUSE)


def one_trip_creator(url: str) -> Callable[[], Any]:
    """SQLAlchemy's `async_creator` for a sqlite+aiosqlite URL: the same sqlite3.connect
    arguments the dialect would pass (path, uri, check_same_thread), the one-trip connection."""
    args, kwargs = aiosqlite_dialect().create_connect_args(make_url(url))

    async def connect() -> OneTripConnection:
        connection = OneTripConnection(partial(sqlite3.connect, *args, **kwargs))
        try:
            await connection  # starts its thread and opens the database there
        except BaseException:
            # aiosqlite stops the thread of a connection that failed to open without waiting
            # for it; the thread then reports to this loop, which may have closed by then (an
            # unopenable file at start-up). Waiting for it keeps the report on an open loop.
            await asyncio.to_thread(connection._thread.join, THREAD_STOP_TIMEOUT)
            raise
        return connection

    return connect
