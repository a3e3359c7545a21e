"""The benchmarks' scratch databases: one home for making and dropping them."""

from __future__ import annotations

import contextlib
import os
import tempfile
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

from db.engine import create_engine


@contextlib.asynccontextmanager
async def scratch_database(server: str | None) -> AsyncIterator[str]:
    """A fresh database URL: a temp SQLite file when `server` is None, otherwise a throwaway
    database on that PostgreSQL server, dropped afterwards."""
    if server is None:
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        return
    base = make_url(server)
    name = f"roadmap_bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base.render_as_string(hide_password=False), isolation_level="AUTOCOMMIT")
    async with admin.connect() as connection:
        await connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        async with admin.connect() as connection:
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


def server_for(backend: str) -> str | None:
    """The PostgreSQL server (BENCH_DATABASE_URL) for a PostgreSQL backend, None for SQLite."""
    return os.environ["BENCH_DATABASE_URL"] if backend.lower() == "postgresql" else None
