"""Every migration goes up, down and up again, and the result matches the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncEngine

from db.engine import create_engine
from db.migrate import downgrade, upgrade
from db.models import SQLModel


async def _tables(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as connection:
        return set(await connection.run_sync(lambda sync: inspect(sync).get_table_names()))


async def test_up_down_up(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        await upgrade(engine)
        tables = await _tables(engine)
        assert {"department", "person", "roadmap_item", "status_update", "invite"} <= tables
        assert {"audit_log", "deadline_change", "fsm_record"} <= tables
        await downgrade(engine, "base")
        assert await _tables(engine) <= {"alembic_version"}
        await upgrade(engine)
        assert await _tables(engine) == tables
    finally:
        await engine.dispose()


async def test_schema_matches_models(engine: AsyncEngine) -> None:
    def diff(sync_connection):  # type: ignore[no-untyped-def]
        context = MigrationContext.configure(sync_connection, opts={"compare_type": False})
        return compare_metadata(context, SQLModel.metadata)

    async with engine.connect() as connection:
        differences = await connection.run_sync(diff)
    assert differences == []
