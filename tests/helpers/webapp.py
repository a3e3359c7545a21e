"""initData signed exactly as Telegram signs it for a Mini App, and a dashboard over real HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta, tzinfo

from aiogram.utils.i18n import I18n
from aiohttp import ClientSession
from sqlmodel import select

from bot.core.clock import FrozenClock
from bot.roadmap.demo import seed_demo
from bot.sandbox import launch
from bot.sandbox.launch import init_data_fields
from bot.usecases.ports import NoSignals, UseCaseContext
from bot.web.app import INIT_DATA_HEADER, create_web_app
from bot.web.server import WebServer
from db.engine import SessionMaker
from db.models import Person, RoadmapItem, Role
from tests.helpers.chat import TEST_TOKEN

MAX_AGE = timedelta(hours=24)
CHAIR, SECRETARY, HEAD = 4101, 4102, 4103


async def demo_with_readers(session_maker: SessionMaker, now: datetime, tz: tzinfo) -> None:
    """The demo Road Map (93 items), a chair reading Russian, a secretary reading Kazakh and
    the head of item 1.1.1's department."""
    async with session_maker() as session:
        await seed_demo(session, now=now, tz=tz)
        first = (await session.exec(select(RoadmapItem).where(RoadmapItem.code == "1.1.1"))).one()
        for telegram_id, role, locale, department in (
            (CHAIR, Role.CHAIR, "ru", None),
            (SECRETARY, Role.SECRETARIAT, "kk", None),
            (HEAD, Role.MEMBER, "ru", first.department_id),
        ):
            session.add(
                Person(
                    telegram_id=telegram_id,
                    display_name=f"Person {telegram_id}",
                    role=role,
                    locale=locale,
                    department_id=department,
                    created_at=now,
                    updated_at=now,
                )
            )
        await session.commit()


async def demo_context(
    session_maker: SessionMaker, clock: FrozenClock, i18n: I18n, tz: tzinfo, at: datetime
) -> UseCaseContext:
    """The dashboard's use cases over `demo_with_readers` at `at` (the clock set there), with
    no outbox or scheduler to wake."""
    clock.set(at)
    await demo_with_readers(session_maker, at, tz)
    return UseCaseContext(
        session_maker=session_maker, clock=clock, tz=tz, i18n=i18n, signals=NoSignals()
    )


async def register_member(
    session_maker: SessionMaker, telegram_id: int, department_id: int, now: datetime
) -> None:
    async with session_maker() as session:
        session.add(
            Person(
                telegram_id=telegram_id,
                display_name=f"Head {telegram_id}",
                role=Role.MEMBER,
                locale="kk",
                department_id=department_id,
                created_at=now,
                updated_at=now,
            )
        )
        await session.commit()


def sign(fields: dict[str, str], token: str = TEST_TOKEN) -> str:
    return launch.sign(fields, token)


def signed_for(user_id: int, signed_at: datetime, token: str = TEST_TOKEN) -> str:
    return sign(init_data_fields(user_id, signed_at), token)


@asynccontextmanager
async def dashboard(ctx: UseCaseContext) -> AsyncIterator[WebServer]:
    """The dashboard for `ctx`, on a free local port."""
    server = WebServer(create_web_app(ctx, token=TEST_TOKEN, max_age=MAX_AGE), "127.0.0.1", 0)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


class WebClient:
    """Calls the dashboard's API as its script does: initData in the header, no cookies."""

    def __init__(self, server: WebServer, http: ClientSession) -> None:
        self.server, self.http = server, http

    async def get(self, path: str, init_data: str | None) -> tuple[int, dict[str, object]]:
        headers = {INIT_DATA_HEADER: init_data} if init_data is not None else {}
        async with self.http.get(self.server.base_url + path, headers=headers) as response:
            return response.status, await response.json()

    async def post(self, path: str, init_data: str) -> tuple[int, dict[str, object]]:
        headers = {INIT_DATA_HEADER: init_data}
        async with self.http.post(self.server.base_url + path, headers=headers) as response:
            return response.status, await response.json()
