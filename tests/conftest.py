"""Shared fixtures: a migrated database per test (SQLite, and PostgreSQL when configured),
copied from a template migrated once per test process; a frozen clock, and a Dispatcher built
by the production factory around a recording bot."""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiogram import Dispatcher
from aiogram.utils.i18n import I18n
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.app.config import Settings
from bot.app.factory import create_dispatcher, protect
from bot.app.logs import CurrentStderrHandler
from bot.core.clock import FrozenClock
from bot.core.ratelimit import RateLimiter
from bot.delivery.worker import DeliveryWorker
from bot.sandbox.emulator import BotApiEmulator
from bot.scheduling.jobs import Jobs
from bot.telegram.i18n import build_i18n, compile_catalogs
from db.engine import SessionMaker, create_engine, create_session_maker
from db.migrate import upgrade
from tests.helpers.chat import ADMIN_ID, START_MOMENT, TEST_TOKEN, Chatter, VirtualTimer
from tests.helpers.databases import (
    drop_postgres_database,
    migrated_database,
    migrated_postgres_template,
    run_apart,
    scratch_database,
)
from tests.helpers.mocked_bot import MockedBot

# The reporting roadmap's `world` fixture, shared by the reporting, evidence, away, quick
# reporting and never-silent tests.
pytest_plugins = ["tests.helpers.reporting_world"]

# Monday 3 March 2025, 09:00 in Almaty.


def pytest_sessionstart(session: pytest.Session) -> None:
    compile_catalogs()


def _backends() -> list[Any]:
    backends: list[Any] = ["sqlite"]
    postgres = pytest.param(
        "postgresql",
        marks=pytest.mark.skipif(
            not os.environ.get("TEST_DATABASE_URL"), reason="TEST_DATABASE_URL is not set"
        ),
    )
    backends.append(postgres)
    return backends


@pytest.fixture(autouse=True)
def _cli_logging_left_behind() -> Iterator[None]:
    """A test that runs the command line in-process sets up the root logger for it; take that
    away afterwards, so a later test's standard error holds only what that test printed."""
    yield
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, CurrentStderrHandler)]:
        root.removeHandler(handler)
    root.setLevel(logging.WARNING)


@pytest.fixture(params=_backends())
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[str]:
    """This process's (this xdist worker's) migrated PostgreSQL database, the template of each
    test's copy; made on first use, dropped at the end of the session."""
    server = os.environ["TEST_DATABASE_URL"]
    template = run_apart(lambda: migrated_postgres_template(server))
    yield template
    run_apart(lambda: drop_postgres_database(server, template))


@pytest.fixture
def database_template(backend: str, request: pytest.FixtureRequest) -> str | None:
    """The PostgreSQL template's name; None on SQLite, whose template is made per process by
    tests.helpers.databases.sqlite_template."""
    if backend == "postgresql":
        return str(request.getfixturevalue("postgres_template"))
    return None


@pytest.fixture
async def database_url(
    backend: str, tmp_path: Path, database_template: str | None, request: pytest.FixtureRequest
) -> AsyncIterator[str]:
    """A database of the test's own: a SQLite file, or a PostgreSQL database. Empty, as the
    tests of the migrations and of `doctor` need it; a copy of the migrated template when the
    test uses the `engine` fixture, which would otherwise run every migration again."""
    if "engine" in request.fixturenames:
        async with migrated_database(backend, tmp_path, postgres_template=database_template) as url:
            yield url
        return
    async with scratch_database(backend, tmp_path) as url:
        yield url


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    await upgrade(engine)  # the copy is at the newest schema: this only checks its revision
    yield engine
    await engine.dispose()


@pytest.fixture
def session_maker(engine: AsyncEngine) -> SessionMaker:
    return create_session_maker(engine)


@pytest.fixture
async def session(session_maker: SessionMaker) -> AsyncIterator[AsyncSession]:
    async with session_maker() as session:
        yield session


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(START_MOMENT)


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        bot_token=TEST_TOKEN,
        database_url=database_url,
        admin_ids=str(ADMIN_ID),
    )


@pytest.fixture(scope="session")
def i18n() -> I18n:
    return build_i18n("kk")


@pytest.fixture
def timer() -> VirtualTimer:
    return VirtualTimer()


@pytest.fixture
def bot(settings: Settings, timer: VirtualTimer) -> MockedBot:
    """Behind the same request guard as the production bot, on virtual time."""
    bot = MockedBot()
    protect(bot, settings, clock=timer.monotonic, sleep=timer.sleep)
    return bot


@pytest.fixture
def outbox(
    session_maker: SessionMaker, bot: MockedBot, clock: FrozenClock, timer: VirtualTimer
) -> DeliveryWorker:
    limiter = RateLimiter(clock=timer.monotonic, sleep=timer.sleep)
    return DeliveryWorker(session_maker=session_maker, bot=bot, clock=clock, limiter=limiter)


@pytest.fixture
def jobs(
    session_maker: SessionMaker,
    i18n: I18n,
    settings: Settings,
    clock: FrozenClock,
    outbox: DeliveryWorker,
) -> Jobs:
    return Jobs(
        session_maker=session_maker, i18n=i18n, settings=settings, clock=clock, outbox=outbox
    )


@pytest.fixture
def dispatcher(
    settings: Settings,
    session_maker: SessionMaker,
    i18n: I18n,
    clock: FrozenClock,
    outbox: DeliveryWorker,
    jobs: Jobs,
) -> Dispatcher:
    dispatcher = create_dispatcher(
        settings=settings, session_maker=session_maker, i18n=i18n, clock=clock, outbox=outbox
    )
    dispatcher["i18n"] = i18n
    dispatcher["jobs"] = jobs
    return dispatcher


@pytest.fixture
async def emulator() -> AsyncIterator[BotApiEmulator]:
    """A Telegram Bot API emulator on a free local port, for tests over real HTTP."""
    async with BotApiEmulator(TEST_TOKEN) as emulator:
        yield emulator


@pytest.fixture
def chatter(dispatcher: Dispatcher, bot: MockedBot) -> Chatter:
    return Chatter(dispatcher, bot)
