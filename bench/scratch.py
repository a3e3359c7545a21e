"""The benchmarks' scratch databases: one home for making and dropping them."""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # `tests` is not installed

from tests.helpers.databases import throwaway_postgres_database


@contextlib.asynccontextmanager
async def scratch_database(server: str | None) -> AsyncIterator[str]:
    """A fresh database URL: a temp SQLite file when `server` is None, otherwise a throwaway
    database on that PostgreSQL server, dropped afterwards."""
    if server is None:
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        return
    async with throwaway_postgres_database(server, "roadmap_bench") as url:
        yield url


def server_for(backend: str) -> str | None:
    """The PostgreSQL server (BENCH_DATABASE_URL) for a PostgreSQL backend, None for SQLite."""
    return os.environ["BENCH_DATABASE_URL"] if backend.lower() == "postgresql" else None
