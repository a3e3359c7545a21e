"""Applying Alembic migrations from inside the running event loop, on SQLite and PostgreSQL.

The bot upgrades at every start, and nearly always there is nothing to do: that case is
answered from the `alembic_version` row and the migration files' text, without importing
Alembic (about 12 MiB and a noticeable part of the start-up time).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy.engine import Connection

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
_REVISION = re.compile(r"^revision\s*(?::[^=]*)?=\s*['\"]([^'\"]+)['\"]", re.MULTILINE)
_DOWN_REVISION = re.compile(r"^down_revision\s*(?::[^=]*)?=\s*(.+)$", re.MULTILINE)
_QUOTED = re.compile(r"['\"]([^'\"]+)['\"]")


def alembic_config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def script_heads(versions: Path = MIGRATIONS_DIR / "versions") -> frozenset[str] | None:
    """The head revisions, read from the files' `revision` and `down_revision` lines.

    None when a file does not follow that plain form: then Alembic itself decides.
    """
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in versions.glob("*.py"):
        source = path.read_text(encoding="utf-8")
        revision = _REVISION.search(source)
        down = _DOWN_REVISION.search(source)
        if revision is None or down is None:
            return None
        revisions.add(revision.group(1))
        parents.update(_QUOTED.findall(down.group(1)))
    heads = frozenset(revisions - parents)
    return heads or None


def expected_heads() -> frozenset[str]:
    """The revisions a database at the latest schema carries."""
    heads = script_heads()
    if heads is None:
        from alembic.script import ScriptDirectory

        heads = frozenset(ScriptDirectory.from_config(alembic_config()).get_heads())
    return heads


def _current_revisions(connection: Connection) -> frozenset[str]:
    if not inspect(connection).has_table("alembic_version"):
        return frozenset()
    rows = connection.execute(text("SELECT version_num FROM alembic_version"))
    return frozenset(str(row[0]) for row in rows)


async def current_revisions(engine: AsyncEngine) -> frozenset[str]:
    async with engine.connect() as connection:
        return await connection.run_sync(_current_revisions)


# pg_advisory_xact_lock's key: "roadmap migrations" as one bigint, the same for every process.
MIGRATION_LOCK_KEY = 0x726D5F6D69677261


@contextlib.asynccontextmanager
async def _sqlite_file_lock(engine: AsyncEngine) -> AsyncIterator[None]:
    """An exclusive lock on `<database>.migrate-lock` beside the database file (flock: the
    kernel frees it when a process dies); nothing to lock for an in-memory database."""
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        yield
        return
    handle = await asyncio.to_thread(open, f"{database}.migrate-lock", "a+b")
    try:
        await asyncio.to_thread(fcntl.flock, handle.fileno(), fcntl.LOCK_EX)
        yield
    finally:
        handle.close()  # releases the lock


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Migrate to `revision`. Processes started at once on one database take turns: on
    PostgreSQL under a transaction-scoped advisory lock, on SQLite under a file lock; the
    ones that waited find the schema current and do nothing."""
    if revision == "head" and await current_revisions(engine) == expected_heads():
        return
    from alembic import command

    config = alembic_config()

    def _run(connection: Connection) -> None:
        if revision == "head" and _current_revisions(connection) == expected_heads():
            return  # another process migrated while this one waited for the lock
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    postgresql = engine.dialect.name == "postgresql"
    async with contextlib.AsyncExitStack() as stack:
        if not postgresql and engine.dialect.name == "sqlite":
            await stack.enter_async_context(_sqlite_file_lock(engine))
        connection = await stack.enter_async_context(engine.begin())
        if postgresql:
            await connection.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY}
            )
        await connection.run_sync(_run)


async def downgrade(engine: AsyncEngine, revision: str) -> None:
    from alembic import command

    config = alembic_config()

    def _run(connection: Connection) -> None:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)

    async with engine.begin() as connection:
        await connection.run_sync(_run)
