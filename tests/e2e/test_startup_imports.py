"""The bot's start pays only for what polling needs: the heavy libraries of the rarely run
features (charts, spreadsheets, DOCX reports, migrations, the holiday tables) load on first
use. Checked in a fresh interpreter, since this test process has imported them all."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.helpers.chat import TEST_TOKEN

ROOT = Path(__file__).resolve().parents[2]

# What bench/bench_startup.py found behind the memory above bare aiogram, or was made lazy.
# APScheduler starts after the first poll (bot.scheduling.jobs.LateScheduler).
HEAVY = (
    "matplotlib", "openpyxl", "docx", "numpy", "PIL", "lxml", "alembic", "holidays", "apscheduler",
    "redis",  # webhook mode's alone: polling needs no Redis
)  # fmt: skip

BUILD_THE_APPLICATION = f"""
import asyncio, json, sys
from bot.app.config import Settings
from bot.app.factory import create_application

async def main():
    application = await create_application(Settings())
    await application.close()

asyncio.run(main())
loaded = sorted({{name.split(".")[0] for name in sys.modules}})
print(json.dumps({{
    "heavy": [name for name in loaded if name in {HEAVY!r}],
    "postgresql dialect": "sqlalchemy.dialects.postgresql" in sys.modules,
    "import and export": [name for name in sys.modules if name.startswith("bot.spreadsheets.")],
    "dashboard": [name for name in sys.modules if name.startswith(("bot.web", "aiohttp.web"))],
    "loaded": loaded,
}}))
"""


def run_python(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in {"BOT_TOKEN", "DATABASE_URL"}}
    env = {
        **clean,
        "PYTHONPATH": str(ROOT),
        "BOT_TOKEN": TEST_TOKEN,
        "DATABASE_URL": "sqlite+aiosqlite:///data/bot.db",
    }
    return subprocess.run(
        [sys.executable, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_production_factory_imports_no_heavy_library(tmp_path: Path) -> None:
    migrated = run_python(["-m", "bot", "migrate"], tmp_path)
    assert migrated.returncode == 0, migrated.stderr
    built = run_python(["-c", BUILD_THE_APPLICATION], tmp_path)
    assert built.returncode == 0, built.stderr
    modules = json.loads(built.stdout.splitlines()[-1])
    assert {"aiogram", "sqlalchemy", "handlers"} <= set(modules["loaded"])
    assert modules["heavy"] == []
    # The import's parser and plan, the export and the statistics load with their commands.
    assert modules["import and export"] == []
    # Without PUBLIC_URL there is no dashboard: neither it nor aiohttp's server (4 MiB) loads.
    assert modules["dashboard"] == []
    # On SQLite the PostgreSQL dialect (about 2 MiB) is never needed.
    assert modules["postgresql dialect"] is False


START_POLLING = """
import asyncio, json, sys
from bot.app import commands
from bot.app.config import Settings

asyncio.run = lambda coroutine: coroutine.close()  # the start as far as the event loop
assert commands.run_bot(Settings()) == 0
print(json.dumps(sorted(name for name in sys.modules if name.startswith(WATCHED))))
""".replace("WATCHED", repr(("bot.app.webhook_mode", "bot.web", "aiohttp.web")))


def test_a_polling_start_imports_no_webhook_server(tmp_path: Path) -> None:
    """`run_bot` picks polling or webhook: only the webhook needs aiohttp's server (1.6 MiB).
    That the working calendar needs no `holidays` package: test_kazakhstan_holidays.py."""
    started = run_python(["-c", START_POLLING], tmp_path)
    assert started.returncode == 0, started.stderr
    assert json.loads(started.stdout.splitlines()[-1]) == []
