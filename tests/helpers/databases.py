"""Scratch databases for tests and benchmarks: a SQLite file, or a PostgreSQL database of its
own on a server, dropped afterwards."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

from db.engine import create_engine


@asynccontextmanager
async def throwaway_postgres_database(server: str, prefix: str) -> AsyncIterator[str]:
    """A new, empty database on the PostgreSQL `server` (a URL), named `prefix` and a random
    suffix; its URL is yielded and the database dropped afterwards, connections and all."""
    base_url = make_url(server)
    database = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(
        base_url.render_as_string(hide_password=False), isolation_level="AUTOCOMMIT"
    )
    async with admin.connect() as connection:
        await connection.execute(text(f'CREATE DATABASE "{database}"'))
    try:
        yield base_url.set(database=database).render_as_string(hide_password=False)
    finally:
        async with admin.connect() as connection:
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        await admin.dispose()


@asynccontextmanager
async def scratch_database(backend: str, folder: Path, name: str = "bot") -> AsyncIterator[str]:
    """A fresh, empty database's URL; a PostgreSQL one is dropped afterwards."""
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{folder / f'{name}.db'}"
        return
    async with throwaway_postgres_database(os.environ["TEST_DATABASE_URL"], "roadmap_test") as url:
        yield url
