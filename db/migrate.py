"""Applying Alembic migrations from inside the running event loop, on SQLite and PostgreSQL.

The bot upgrades at every start, and nearly always there is nothing to do: that case is
answered from the `alembic_version` row and the migration files' text, without importing
Alembic (about 12 MiB and a noticeable part of the start-up time).
"""

from __future__ import annotations

import re
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


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    if revision == "head" and await current_revisions(engine) == expected_heads():
        return
    from alembic import command

    config = alembic_config()

    def _run(connection: Connection) -> None:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    async with engine.begin() as connection:
        await connection.run_sync(_run)


async def downgrade(engine: AsyncEngine, revision: str) -> None:
    from alembic import command

    config = alembic_config()

    def _run(connection: Connection) -> None:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)

    async with engine.begin() as connection:
        await connection.run_sync(_run)
