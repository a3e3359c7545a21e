"""Starting while the database is not there: PostgreSQL down at start is waited for with one
line per attempt (in-process and through `python -m bot migrate`), a SQLite path that cannot be
opened is one line naming the path and the cause, and the engines hide SQL parameters."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError

from bot.app.cli import main
from db.engine import create_engine
from db.migrate import current_revisions, expected_heads, upgrade
from db.reach import DatabaseUnopenableError, sqlite_problem, wait_for_database
from tests.helpers.chat import TEST_TOKEN
from tests.helpers.databases import throwaway_postgres_database
from tests.helpers.tcp_proxy import TcpProxy

ROOT = Path(__file__).resolve().parents[2]
needs_postgres = pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL"), reason="TEST_DATABASE_URL is not set"
)


@pytest.fixture
async def postgres_url() -> Any:
    async with throwaway_postgres_database(os.environ["TEST_DATABASE_URL"], "faults") as url:
        yield url


def through(url: str, proxy: TcpProxy) -> str:
    return make_url(url).set(host="127.0.0.1", port=proxy.port).render_as_string(False)


@needs_postgres
async def test_start_waits_for_postgresql_with_one_line_per_attempt(
    postgres_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    target = make_url(postgres_url)
    proxy = TcpProxy(target.host or "127.0.0.1", target.port or 5432)
    engine = create_engine(through(postgres_url, proxy))
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) == 4:
            await proxy.start()  # the server answers at last

    try:
        with caplog.at_level(logging.INFO, logger="db.reach"):
            await wait_for_database(engine, sleep=sleep)
            await upgrade(engine)
        assert await current_revisions(engine) == expected_heads()
    finally:
        await engine.dispose()
        await proxy.stop()
    assert waits == [2, 4, 8, 16]
    lines = [record for record in caplog.records if record.name == "db.reach"]
    assert len(lines) == 4
    for record in lines:
        assert record.exc_info is None and "\n" not in record.getMessage()
        assert f"(127.0.0.1:{proxy.port}/{target.database}) is not reachable" in record.getMessage()
        assert target.password is None or target.password not in record.getMessage()


@needs_postgres
async def test_python_m_bot_migrate_waits_for_postgresql(postgres_url: str, tmp_path: Path) -> None:
    """The real command: it prints one line per attempt and finishes once the server is up."""
    target = make_url(postgres_url)
    proxy = TcpProxy(target.host or "127.0.0.1", target.port or 5432)
    env = {
        **os.environ,
        "BOT_TOKEN": TEST_TOKEN,
        "DATABASE_URL": through(postgres_url, proxy),
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "migrate",
        cwd=tmp_path, env={**env, "PYTHONPATH": str(ROOT)},
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert process.stderr is not None
    try:
        first = await asyncio.wait_for(process.stderr.readline(), timeout=60)
        await proxy.start()
        rest = await asyncio.wait_for(process.stderr.read(), timeout=60)
        assert await asyncio.wait_for(process.wait(), timeout=60) == 0
    finally:
        if process.returncode is None:
            process.kill()
        await proxy.stop()
    assert b"is not reachable" in first and b"trying again in 2 s" in first
    assert b"Traceback" not in first + rest
    waits = [line for line in (first + rest).decode().splitlines() if "not reachable" in line]
    assert len(waits) <= 2  # started within one more wait


def test_an_unopenable_sqlite_path_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A folder that cannot be created (a file stands in its way): one line, exit 1."""
    blocker = tmp_path / "data"
    blocker.write_text("not a folder")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BOT_TOKEN", TEST_TOKEN)
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{blocker / 'bot.db'}")
    assert main(["migrate"]) == 1
    assert capsys.readouterr().err.strip().splitlines() == [
        f"Cannot open the SQLite database {blocker / 'bot.db'}: the folder {blocker} does not "
        "exist and cannot be created. Fix DATABASE_URL or the folder."
    ]


# aiosqlite stops a failed connection's thread without waiting for it: the thread used to
# report to the test's loop after it had closed (a traceback in the thread, 2 runs in 8).
@pytest.mark.filterwarnings("error::pytest.PytestUnhandledThreadExceptionWarning")
async def test_an_unopenable_sqlite_file_raises_at_once(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'data' / 'sub'}")
    (tmp_path / "data" / "sub").mkdir(parents=True)  # a folder where the file should be
    try:
        with pytest.raises(DatabaseUnopenableError, match="unable to open database file"):
            await wait_for_database(engine)
    finally:
        await engine.dispose()


class _ReadOnly:
    f_flag = os.ST_RDONLY


def test_the_cause_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The read-only file system and the permissions (simulated: the tests run as root)."""
    database = tmp_path / "bot.db"
    database.write_bytes(b"")
    error = OSError("unable to open database file")
    monkeypatch.setattr(os, "statvfs", lambda _path: _ReadOnly())
    assert f"the file system holding {tmp_path} is read-only" in sqlite_problem(
        str(database), error
    )
    monkeypatch.undo()
    monkeypatch.setattr(os, "access", lambda path, _mode: Path(path) != database)
    assert f"no permission to read and write {database}" in sqlite_problem(str(database), error)
    monkeypatch.setattr(os, "access", lambda path, _mode: Path(path) != tmp_path)
    assert f"no permission to write in {tmp_path}" in sqlite_problem(str(database), error)


async def test_sql_parameters_never_reach_the_log(database_url: str) -> None:
    """Names and comments in a failing statement's parameters stay out of the error text."""
    engine = create_engine(database_url)
    try:
        async with engine.begin() as connection:
            await connection.execute(text("CREATE TABLE secret_test (name TEXT PRIMARY KEY)"))
        with pytest.raises(IntegrityError) as raised:
            async with engine.begin() as connection:
                for _ in range(2):
                    await connection.execute(
                        text("INSERT INTO secret_test VALUES (:name)"), {"name": "Айгерим Сек"}
                    )
    finally:
        await engine.dispose()
    assert "Айгерим" not in str(raised.value)
    assert "hidden due to hide_parameters" in str(raised.value)
