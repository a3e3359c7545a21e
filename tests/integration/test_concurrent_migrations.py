"""Three processes started at once on an empty database: they take turns migrating (an
advisory lock on PostgreSQL, a file lock on SQLite); every one of them succeeds and finds the
schema current. Here three engines migrate concurrently in one process, each with its own
connections, as three processes would; and three real `python -m bot migrate` on SQLite."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

from db.engine import create_engine
from db.migrate import current_revisions, expected_heads, upgrade
from tests.helpers.chat import TEST_TOKEN

ROOT = Path(__file__).resolve().parents[2]


async def test_three_starts_at_once_all_succeed(database_url: str) -> None:
    engines = [create_engine(database_url) for _ in range(3)]
    try:
        results = await asyncio.gather(
            *(upgrade(engine) for engine in engines), return_exceptions=True
        )
        assert [r for r in results if isinstance(r, BaseException)] == []
        for engine in engines:
            assert await current_revisions(engine) == expected_heads()
    finally:
        for engine in engines:
            await engine.dispose()


@pytest.mark.slow
async def test_three_migrate_processes_at_once_on_sqlite(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "BOT_TOKEN": TEST_TOKEN,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
        "PYTHONPATH": str(ROOT),
    }
    processes = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "migrate",
            cwd=tmp_path,
            env=env,
            stderr=asyncio.subprocess.PIPE,
        )
        for _ in range(3)
    ]
    outputs = await asyncio.wait_for(
        asyncio.gather(*(process.communicate() for process in processes)), timeout=180
    )
    assert [process.returncode for process in processes] == [0, 0, 0], outputs
    engine = create_engine(env["DATABASE_URL"])
    try:
        assert await current_revisions(engine) == expected_heads()
    finally:
        await engine.dispose()
