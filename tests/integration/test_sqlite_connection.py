"""The one-trip aiosqlite connection: the same results as aiosqlite's, in fewer trips to its
thread (a statement is one trip; COMMIT and ROLLBACK only when a transaction is open)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
from sqlalchemy import insert, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from db.engine import create_engine, create_session_maker
from db.models import FsmRecord
from db.sqlite_connection import PREFETCH, OneTripConnection

TABLE = FsmRecord.__table__  # type: ignore[attr-defined]


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'one-trip.db'}")
    async with engine.begin() as connection:
        await connection.run_sync(TABLE.create)
    yield engine
    await engine.dispose()


@pytest.fixture
def trips(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The name of every function sent to a connection's thread."""
    sent: list[str] = []
    original = aiosqlite.Connection._execute

    async def counted(self: aiosqlite.Connection, fn: Callable[..., Any], *args: Any) -> Any:
        sent.append(getattr(fn, "__name__", repr(fn)))
        return await original(self, fn, *args)

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
    return sent


async def test_the_engine_uses_one_trip_connections(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        raw = await connection.get_raw_connection()
        assert isinstance(raw.driver_connection, OneTripConnection)


async def test_a_read_is_one_trip_and_a_write_two(engine: AsyncEngine, trips: list[str]) -> None:
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))  # warm: the pool's first connect
    trips.clear()
    session_maker = create_session_maker(engine)
    async with session_maker() as session:  # read, then the session's ROLLBACK on close
        assert (await session.exec(select(TABLE.c.key))).all() == []
    assert len(trips) == 1
    trips.clear()
    async with session_maker() as session:
        await session.exec(insert(TABLE).values(key="k", state="s", data="{}"))
        await session.commit()
    assert len(trips) == 2  # the INSERT, the COMMIT
    trips.clear()
    async with session_maker() as session:  # written, not committed: ROLLBACK does go
        await session.exec(insert(TABLE).values(key="gone", state=None, data="{}"))
    assert len(trips) == 2
    async with engine.connect() as connection:
        keys = (await connection.execute(select(TABLE.c.key))).scalars().all()
    assert keys == ["k"]


async def test_results_longer_than_the_prefetch_are_read_whole_and_streamed(
    engine: AsyncEngine,
) -> None:
    count = PREFETCH * 2 + 7
    rows = [{"key": f"{n:05}", "state": None, "data": str(n)} for n in range(count)]
    async with engine.begin() as connection:
        result = await connection.execute(insert(TABLE), rows)  # executemany
        assert result.rowcount == count
    statement = select(TABLE.c.key).order_by(TABLE.c.key)
    async with engine.connect() as connection:
        assert (await connection.execute(statement)).scalars().all() == [r["key"] for r in rows]
        streamed = await connection.stream(statement)
        seen = [key async for key in streamed.scalars()]
        assert seen == [r["key"] for r in rows]
        partly = await connection.stream(statement)  # left after one row: closed, not stuck
        assert (await partly.fetchone()) is not None
        await partly.close()
        await connection.execute(insert(TABLE).values(key="after", state=None, data="{}"))
        await connection.commit()
        total = (await connection.execute(text("SELECT count(*) FROM fsm_record"))).scalar()
    assert total == count + 1


async def test_errors_surface_and_the_connection_goes_on(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        await connection.execute(insert(TABLE).values(key="k", state=None, data="{}"))
        await connection.commit()
        with pytest.raises(IntegrityError):
            await connection.execute(insert(TABLE).values(key="k", state=None, data="{}"))
        await connection.rollback()
        updated = await connection.execute(
            TABLE.update().where(TABLE.c.key == "k").values(state="s")
        )
        assert updated.rowcount == 1
        await connection.commit()
    async with engine.connect() as connection:
        state = (await connection.execute(select(TABLE.c.state))).scalar_one()
    assert state == "s"


async def test_a_savepoint_counts_as_an_open_transaction(engine: AsyncEngine) -> None:
    """The ROLLBACK is skipped only when sqlite3 itself says no transaction is open."""
    async with engine.connect() as connection:
        await connection.exec_driver_sql("SAVEPOINT outer_one")  # opens a transaction
        await connection.execute(insert(TABLE).values(key="k", state=None, data="{}"))
        await connection.rollback()
        assert (await connection.execute(select(TABLE.c.key))).all() == []


async def test_the_driver_cursor_reads_in_chunks_when_iterated(engine: AsyncEngine) -> None:
    count = PREFETCH + 3
    async with engine.begin() as connection:
        await connection.execute(
            insert(TABLE), [{"key": f"{n:05}", "state": None, "data": "{}"} for n in range(count)]
        )
    async with engine.connect() as connection:
        raw = await connection.get_raw_connection()
        driver = raw.driver_connection
        assert isinstance(driver, OneTripConnection)
        cursor = driver.cursor()
        await cursor.execute("SELECT key FROM fsm_record ORDER BY key")
        keys = [row[0] async for row in cursor]
        await cursor.close()
    assert keys == [f"{n:05}" for n in range(count)]
