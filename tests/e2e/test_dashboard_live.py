"""The production bot with PUBLIC_URL set, polling the Bot API emulator over HTTP: the
dashboard is served beside polling, the chair's chat gets the web-app menu button (the head's
does not), and the chair's [Ask for an update] on the dashboard reaches the head in the chat."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from aiohttp import ClientSession
from sqlmodel import select

from bot.app.config import Settings
from bot.app.factory import create_web_server, start_dashboard
from bot.core.clock import FrozenClock
from bot.roadmap.demo import seed_demo
from bot.sandbox.emulator import BotApiEmulator
from db.engine import SessionMaker
from db.models import Department, RoadmapItem
from tests.helpers.chat import ADMIN_ID
from tests.helpers.e2e import build_world, start_live_bot
from tests.helpers.webapp import signed_for

CHAIR, HEAD = 4201, 4202
LOAD = datetime(2025, 6, 10, 6, 0, tzinfo=UTC)
PUBLIC_URL = "https://dashboard.example.kz"


async def test_without_public_url_there_is_no_web_server(settings: Settings) -> None:
    class Nothing:
        pass

    application = Nothing()
    application.settings = settings  # type: ignore[attr-defined]
    assert create_web_server(application) is None  # type: ignore[arg-type]


async def test_the_chair_asks_on_the_dashboard_and_the_head_gets_it_in_the_chat(
    settings: Settings, clock: FrozenClock, emulator: BotApiEmulator, session_maker: SessionMaker
) -> None:
    clock.set(LOAD)
    async with session_maker() as session:
        await seed_demo(session, now=LOAD, tz=settings.tz)
        item = (await session.exec(select(RoadmapItem).where(RoadmapItem.code == "2.1.1"))).one()
        department = await session.get(Department, item.department_id)
    assert department is not None and item.id is not None
    live = settings.model_copy(
        update={
            "telegram_api_url": emulator.base_url,
            "public_url": PUBLIC_URL,
            "web_host": "127.0.0.1",
            "web_port": 0,
        }
    )
    running = await start_live_bot(live, clock, emulator)
    web = None
    try:
        await running.application.dispatcher["duties"].caught_up()
        heads = [(CHAIR, "chair", "Русский"), (HEAD, department.code, "Қазақша")]
        await build_world(emulator, heads=heads)

        web = await start_dashboard(running.application)
        assert web is not None
        buttons = {
            int(request.params["chat_id"]): request.params["menu_button"]
            for request in emulator.requests
            if request.method == "setChatMenuButton"
        }
        assert set(buttons) == {CHAIR, ADMIN_ID}  # the chair and the secretariat, not the head
        assert buttons[CHAIR] == {
            "type": "web_app",
            "text": "Панель",  # in the chair's language
            "web_app": {"url": f"{PUBLIC_URL}/app/"},
        }

        headers = {"X-Telegram-Init-Data": signed_for(CHAIR, LOAD - timedelta(minutes=1))}
        async with ClientSession() as http:
            async with http.get(f"{web.base_url}/app/", headers=headers) as response:
                assert response.status == 200
            url = f"{web.base_url}/app/api/item/{item.id}/ask"
            async with http.post(url, headers=headers) as response:
                assert response.status == 200
        request = await emulator.next_message(HEAD)
        assert "2.1.1" in request.text
        await emulator.wait_idle()
        assert [failed.summary() for failed in emulator.errors] == []
    finally:
        if web is not None:
            await web.stop()
        await running.stop()
