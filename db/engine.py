"""Async engine and session factory for SQLite (aiosqlite) and PostgreSQL (asyncpg)."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession as AsyncSession

SessionMaker = async_sessionmaker[AsyncSession]


def upsert_insert(session: AsyncSession) -> Callable[[Any], Any]:
    """The INSERT with ON CONFLICT of the session's backend."""
    return backend_insert(session.bind.dialect.name if session.bind is not None else "sqlite")


def backend_insert(backend: str) -> Callable[[Any], Any]:
    """The INSERT with ON CONFLICT of a backend (a dialect name), its dialect imported only
    then: PostgreSQL's alone costs about 2 MiB and 40 ms that a SQLite bot never uses."""
    if backend == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert


def _ensure_sqlite_folder(url: str) -> None:
    """Create the database's folder if it can be; if not, opening says why (db/reach.py)."""
    database = make_url(url).database
    if database and database != ":memory:" and not database.startswith("file:"):
        with contextlib.suppress(OSError):
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """Set on every new connection: foreign keys are off by default in SQLite; WAL lets
    readers run beside the writer, and with it synchronous=NORMAL is still safe against a
    crash of the process (a power cut may lose the last commits, never corrupt); a writer
    waits up to 5 s for another instead of failing with "database is locked"."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def create_engine(url: str, *, pool_size: int = 5, **kwargs: Any) -> AsyncEngine:
    """The engine for `url`; on PostgreSQL `pool_size` connections are kept open and as many
    again may be opened at a peak (DATABASE_POOL_SIZE). A database error never shows the
    statement's parameters (names, comments) in the log: `hide_parameters`.

    On SQLite a connection goes back to the pool without the pool's own ROLLBACK: every use
    goes through SQLAlchemy, which already rolled back or committed it, and with aiosqlite
    each call is a trip to its thread. For the same reason aiosqlite's connections are the
    one-trip kind (db/sqlite_connection.py): a dialog step makes 4 trips instead of 14."""
    kwargs.setdefault("hide_parameters", True)
    if url.startswith("sqlite"):
        _ensure_sqlite_folder(url)
        kwargs.setdefault("pool_reset_on_return", None)
        if make_url(url).get_driver_name() == "aiosqlite":
            from db.sqlite_connection import one_trip_creator  # aiosqlite: SQLite bots only

            kwargs.setdefault("async_creator", one_trip_creator(url))
        engine = create_async_engine(url, **kwargs)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    engine = create_async_engine(
        url, pool_size=pool_size, max_overflow=pool_size, pool_recycle=RECYCLE_AFTER, **kwargs
    )
    if make_url(url).get_driver_name() == "asyncpg":
        from db.pg_connection import read_without_begin  # PostgreSQL bots only

        event.listen(engine.sync_engine.pool, "connect", read_without_begin)
    event.listen(engine.sync_engine.pool, "checkin", _note_checkin)
    event.listen(engine.sync_engine.pool, "checkout", _ping_if_idle)
    return engine


# PostgreSQL liveness. SQLAlchemy's pool_pre_ping costs asyncpg three round trips (BEGIN, a
# ping, ROLLBACK) on every checkout, more than a dialog step's own statements. A connection
# back in the pool within the last minute was working then; one idle longer (a restarted
# server, a dropped NAT entry) is pinged before use, and every connection is replaced after
# half an hour. A connection that dies between uses anyway fails that one statement, and the
# pool throws it away (SQLAlchemy's disconnect handling).
PING_IF_IDLE_FOR = 60.0
RECYCLE_AFTER = 1800


def _note_checkin(_dbapi_connection: Any, record: Any) -> None:
    record.info["checked_in_at"] = time.monotonic()


def _ping_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    checked_in = record.info.get("checked_in_at")
    if checked_in is None or time.monotonic() - checked_in < PING_IF_IDLE_FOR:
        return
    try:
        dbapi_connection.ping()
    except Exception as error:  # the pool retries the checkout with a fresh connection
        raise DisconnectionError from error


def create_session_maker(engine: AsyncEngine) -> SessionMaker:
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)
