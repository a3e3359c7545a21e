"""The engine's per-connection settings: SQLite pragmas on every connection, PostgreSQL pool
sized by DATABASE_POOL_SIZE."""

from __future__ import annotations

import asyncio

import pytest
from pydantic import ValidationError
from sqlalchemy import text
from sqlalchemy.pool import QueuePool
from sqlmodel import select

from bot.app.config import Settings
from db.engine import SessionMaker, create_engine
from db.models import FsmRecord


async def test_sqlite_pragmas_on_every_connection(database_url: str, backend: str) -> None:
    if backend != "sqlite":
        return
    engine = create_engine(database_url)
    try:
        async with engine.connect() as first, engine.connect() as second:
            for connection in (first, second):  # two connections open at once: both set
                assert (await connection.exec_driver_sql("PRAGMA journal_mode")).scalar() == "wal"
                assert (await connection.exec_driver_sql("PRAGMA synchronous")).scalar() == 1
                assert (await connection.exec_driver_sql("PRAGMA busy_timeout")).scalar() == 5000
                assert (await connection.exec_driver_sql("PRAGMA foreign_keys")).scalar() == 1
    finally:
        await engine.dispose()


async def test_a_session_left_mid_write_leaves_the_pooled_connection_clean(
    session_maker: SessionMaker,
) -> None:
    """SQLite skips the pool's own ROLLBACK on return: the session's close must have done it."""
    async with session_maker() as session:
        session.add(FsmRecord(key="left", state="Dialog:status", data="{}"))
        await session.flush()  # written, never committed
    async with session_maker() as session:  # the same pooled connection, a fresh start
        session.add(FsmRecord(key="kept", state="Dialog:status", data="{}"))
        await session.commit()
    async with session_maker() as session:
        keys = (await session.exec(select(FsmRecord.key))).all()
    assert keys == ["kept"]


async def test_postgresql_pool_is_sized_by_the_setting(
    database_url: str, backend: str, settings: Settings
) -> None:
    if backend != "postgresql":
        return
    configured = settings.model_copy(update={"database_pool_size": 3})
    engine = create_engine(configured.database_url, pool_size=configured.database_pool_size)
    try:
        pool = engine.sync_engine.pool
        assert isinstance(pool, QueuePool)
        assert pool.size() == 3

        async def hold() -> None:
            async with engine.connect() as connection:
                await connection.execute(text("SELECT pg_sleep(0)"))
                await asyncio.sleep(0)

        await asyncio.gather(*(hold() for _ in range(6)))  # size + overflow at a peak
        assert pool.checkedin() <= 3
    finally:
        await engine.dispose()


def test_pool_size_setting_is_validated() -> None:
    token = "1:" + "a" * 35
    assert Settings(_env_file=None, bot_token=token).database_pool_size == 5  # type: ignore[call-arg]
    with pytest.raises(ValidationError):
        Settings(_env_file=None, bot_token=token, database_pool_size=0)  # type: ignore[call-arg]
