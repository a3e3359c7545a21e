"""Scratch databases for tests and benchmarks: a SQLite file, or a PostgreSQL database of its
own on a server, dropped afterwards; empty, or a copy of a template migrated once.

Running the Alembic migrations takes about 0.25 s a database; copying a migrated SQLite file
takes 0.3 ms and `CREATE DATABASE … TEMPLATE …` a few milliseconds. So each test process
(each pytest-xdist worker) migrates one template per backend and every test gets a copy. The
tests of the migrations themselves start from an empty database and run them for real.
"""

from __future__ import annotations

import asyncio
import atexit
import os
import shutil
import tempfile
import threading
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TypeVar

from sqlalchemy import text
from sqlalchemy.engine import make_url

from db.engine import create_engine
from db.migrate import upgrade

T = TypeVar("T")

_sqlite_template: Path | None = None
_sqlite_template_lock = threading.Lock()


def run_apart(work: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine to the end on an event loop of its own, in a thread of its own: usable
    from synchronous code and from inside a running loop alike."""
    results: list[T] = []
    errors: list[BaseException] = []

    def target() -> None:
        try:
            results.append(asyncio.run(work()))  # type: ignore[arg-type]
        except BaseException as error:
            errors.append(error)

    thread = threading.Thread(target=target, name="database-template")
    thread.start()
    thread.join()
    if errors:
        raise errors[0]
    return results[0]


async def migrate(url: str) -> None:
    """Bring the database at `url` to the newest schema, as `python -m bot migrate` does."""
    engine = create_engine(url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


def sqlite_template() -> Path:
    """This process's migrated SQLite file, made on first use and removed at exit. Each
    pytest-xdist worker is a process of its own, so workers never share it."""
    global _sqlite_template
    with _sqlite_template_lock:
        if _sqlite_template is None:
            folder = Path(tempfile.mkdtemp(prefix="roadmap-template-"))
            atexit.register(shutil.rmtree, folder, ignore_errors=True)
            path = folder / "template.db"
            run_apart(lambda: migrate(f"sqlite+aiosqlite:///{path}"))
            # Disposing the engine closed the last connection, which checkpointed the WAL:
            # the file alone holds the whole schema.
            assert not path.with_name(f"{path.name}-wal").exists()
            _sqlite_template = path
        return _sqlite_template


def migrated_sqlite_file(target: Path) -> str:
    """A copy of the migrated template at `target`; its URL."""
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(sqlite_template(), target)
    return f"sqlite+aiosqlite:///{target}"


def _admin_url(server: str) -> str:
    return make_url(server).render_as_string(hide_password=False)


async def create_postgres_database(server: str, database: str, template: str | None = None) -> str:
    """Create `database` on the PostgreSQL `server` (a URL), empty or as a copy of
    `template` (which nobody may be connected to); its URL."""
    admin = create_engine(_admin_url(server), isolation_level="AUTOCOMMIT")
    copy = f' TEMPLATE "{template}"' if template else ""
    try:
        async with admin.connect() as connection:
            await connection.execute(text(f'CREATE DATABASE "{database}"{copy}'))
    finally:
        await admin.dispose()
    return make_url(server).set(database=database).render_as_string(hide_password=False)


async def drop_postgres_database(server: str, database: str) -> None:
    """Drop `database` on the PostgreSQL `server`, its connections and all."""
    admin = create_engine(_admin_url(server), isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as connection:
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
    finally:
        await admin.dispose()


def unique_database_name(prefix: str) -> str:
    """`prefix`, the pytest-xdist worker (when there is one) and a random suffix."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    return "_".join(part for part in (prefix, worker, uuid.uuid4().hex[:12]) if part)


async def migrated_postgres_template(server: str, prefix: str = "roadmap_template") -> str:
    """A new database on `server` at the newest schema, with no connection left open, ready
    to be copied by `CREATE DATABASE … TEMPLATE`; its name (drop it when done)."""
    database = unique_database_name(prefix)
    url = await create_postgres_database(server, database)
    try:
        await migrate(url)
    except BaseException:
        await drop_postgres_database(server, database)
        raise
    return database


@asynccontextmanager
async def throwaway_postgres_database(
    server: str, prefix: str, template: str | None = None
) -> AsyncIterator[str]:
    """A new database on the PostgreSQL `server` (a URL), named `prefix` and a random suffix,
    empty or copied from `template`; its URL is yielded and the database dropped afterwards,
    connections and all."""
    database = unique_database_name(prefix)
    url = await create_postgres_database(server, database, template)
    try:
        yield url
    finally:
        await drop_postgres_database(server, database)


@asynccontextmanager
async def scratch_database(
    backend: str, folder: Path, name: str = "bot", *, postgres_template: str | None = None
) -> AsyncIterator[str]:
    """A fresh, empty database's URL; a PostgreSQL one is dropped afterwards."""
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{folder / f'{name}.db'}"
        return
    async with throwaway_postgres_database(
        os.environ["TEST_DATABASE_URL"], "roadmap_test", postgres_template
    ) as url:
        yield url


@asynccontextmanager
async def migrated_database(
    backend: str, folder: Path, name: str = "bot", postgres_template: str | None = None
) -> AsyncIterator[str]:
    """A database at the newest schema: a copy of this process's SQLite template in `folder`,
    or a PostgreSQL database copied from `postgres_template` and dropped afterwards."""
    if backend == "sqlite":
        yield migrated_sqlite_file(folder / f"{name}.db")
        return
    if postgres_template is None:
        raise ValueError("a migrated PostgreSQL database is copied from a template database")
    async with scratch_database(backend, folder, name, postgres_template=postgres_template) as url:
        yield url
