"""The dashboard's API over real HTTP on the demo Road Map: who may see what on every request
(genuine, changed, too old, a stranger, a head, another department's item), every refusal on
record, and the chair's drill-down from the totals to one item and its [Ask for an update]."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlencode

import pytest
from aiogram.utils.i18n import I18n
from aiohttp import ClientSession
from sqlmodel import col, select

from bot.app.config import Settings
from bot.app.doctor import check_dashboard
from bot.core.clock import FrozenClock
from bot.usecases.ports import UseCaseContext
from db.engine import SessionMaker
from db.models import AuditLog, Notification, RoadmapItem
from tests.helpers.webapp import (
    CHAIR,
    HEAD,
    SECRETARY,
    WebClient,
    dashboard,
    demo_context,
    register_member,
    signed_for,
)

STRANGER = 4199
# Tuesday 10 June 2025, 11:00 in Almaty.
LOAD = datetime(2025, 6, 10, 6, 0, tzinfo=UTC)


@pytest.fixture
async def ctx(
    session_maker: SessionMaker, clock: FrozenClock, i18n: I18n, settings: Settings
) -> UseCaseContext:
    return await demo_context(session_maker, clock, i18n, settings.tz, LOAD)


@pytest.fixture
async def web(ctx: UseCaseContext) -> AsyncIterator[WebClient]:
    async with dashboard(ctx) as server, ClientSession() as http:
        yield WebClient(server, http)


def genuine(user_id: int) -> str:
    return signed_for(user_id, LOAD - timedelta(minutes=3))


async def refusals(session_maker: SessionMaker) -> list[tuple[int | None, str | None]]:
    async with session_maker() as session:
        rows = await session.exec(
            select(AuditLog).where(AuditLog.action == "refused.web").order_by(col(AuditLog.id))
        )
        return [(row.actor_telegram_id, row.details) for row in rows.all()]


async def item_id(session_maker: SessionMaker, code: str) -> int:
    async with session_maker() as session:
        item = (await session.exec(select(RoadmapItem).where(RoadmapItem.code == code))).one()
    assert item.id is not None
    return item.id


async def test_genuine_init_data_of_the_chair_gets_the_totals(web: WebClient) -> None:
    status, screen = await web.get("/app/api/summary", genuine(CHAIR))
    assert status == 200
    html = str(screen["html"])
    assert "Дорожная карта 2025" in html
    assert "Данные на 10 июня 2025\u202fг., 11:00" in html
    assert '<div class="count">93</div>' in html
    assert screen["back"] is False


async def test_one_field_changed_is_401_and_on_record(
    web: WebClient, session_maker: SessionMaker
) -> None:
    fields = dict(parse_qsl(genuine(HEAD)))
    fields["user"] = fields["user"].replace(str(HEAD), str(CHAIR))  # a head posing as the chair
    status, screen = await web.get("/app/api/summary", urlencode(fields))
    assert status == 401
    assert "html" in screen
    status, _ = await web.get("/app/api/summary", None)
    assert status == 401
    assert await refusals(session_maker) == [(None, "signature"), (None, "missing")]


async def test_too_old_init_data_is_401(web: WebClient, session_maker: SessionMaker) -> None:
    stale = signed_for(CHAIR, LOAD - timedelta(hours=24, minutes=1))
    status, _ = await web.get("/app/api/summary", stale)
    assert status == 401
    assert await refusals(session_maker) == [(CHAIR, "expired")]


async def test_a_valid_user_who_is_not_chair_or_secretariat_is_403(
    web: WebClient, session_maker: SessionMaker
) -> None:
    assert (await web.get("/app/api/summary", genuine(STRANGER)))[0] == 403
    assert (await web.get("/app/api/summary", genuine(HEAD)))[0] == 403
    assert (await web.get("/app/api/department/1", genuine(HEAD)))[0] == 403
    assert await refusals(session_maker) == [
        (STRANGER, "stranger"),
        (HEAD, "role"),
        (HEAD, "role"),
    ]


async def test_another_departments_item_reads_like_a_missing_one(
    web: WebClient, session_maker: SessionMaker
) -> None:
    own, foreign = await item_id(session_maker, "1.1.1"), await item_id(session_maker, "3.1.1")
    status, screen = await web.get(f"/app/api/item/{own}", genuine(HEAD))
    assert status == 200
    assert "1.1.1" in str(screen["html"])
    assert "data-ask" not in str(screen["html"])  # a head does not ask his own department
    hidden = await web.get(f"/app/api/item/{foreign}", genuine(HEAD))
    missing = await web.get("/app/api/item/999999", genuine(HEAD))
    assert hidden == missing
    assert hidden[0] == 404
    assert (await web.post(f"/app/api/item/{own}/ask", genuine(HEAD)))[0] == 404


async def test_the_chair_drills_down_and_asks_for_an_update(
    web: WebClient, session_maker: SessionMaker
) -> None:
    _, totals = await web.get("/app/api/summary", genuine(CHAIR))
    html = str(totals["html"])
    first_department = html.split('href="/app/department/', 1)[1].split('"', 1)[0]
    status, department = await web.get(f"/app/api/department/{first_department}", genuine(CHAIR))
    assert status == 200
    assert department["back"] is True
    first_item = str(department["html"]).split('href="/app/item/', 1)[1].split('"', 1)[0]
    status, card = await web.get(f"/app/api/item/{first_item}", genuine(CHAIR))
    assert status == 200
    assert "Есть риск невыполнения:" in str(card["html"])  # the most at-risk department's first
    assert f'data-ask="{first_item}"' in str(card["html"])

    await register_member(session_maker, 4104, int(first_department), LOAD)  # somebody to ask
    status, asked = await web.post(f"/app/api/item/{first_item}/ask", genuine(CHAIR))
    assert status == 200
    assert str(asked["html"]).startswith("Обновление статуса запрошено: Управление")
    async with session_maker() as session:
        requests = (
            await session.exec(select(Notification).where(Notification.chat_id == 4104))
        ).all()
    assert len(requests) == 1  # the same outbox row the chat's button writes


async def test_pages_in_the_secretariats_language(web: WebClient) -> None:
    _, totals = await web.get("/app/api/summary", genuine(SECRETARY))
    assert "Жол картасы 2025" in str(totals["html"])


async def test_the_shell_and_its_hashed_static_files(web: WebClient) -> None:
    async with web.http.get(web.server.base_url + "/app/item/5") as response:
        assert response.status == 200
        page = await response.text()
    scripts = [part.split('"', 1)[0] for part in page.split('src="')[1:]]
    assert len(scripts) == 2
    async with web.http.get(web.server.base_url + scripts[0]) as response:
        assert response.status == 200
        assert "immutable" in response.headers["Cache-Control"]
        assert "TelegramWebviewProxy" in await response.text()  # Telegram's own script
    async with web.http.get(web.server.base_url + "/app/static/dashboard.js") as response:
        assert response.status == 404  # only the hashed names


def test_the_doctor_says_whether_the_dashboard_is_on(settings: Settings) -> None:
    class English:
        def gettext(self, message: str) -> str:
            return message

        def ngettext(self, singular: str, plural: str, n: int) -> str:
            return singular if n == 1 else plural

    off = check_dashboard(settings, English())
    assert off.ok
    assert "off: PUBLIC_URL is not set" in off.text
    on = settings.model_copy(update={"public_url": "https://roadmap.example.kz"})
    assert "https://roadmap.example.kz/app/" in check_dashboard(on, English()).text


def test_public_url_must_be_https(settings: Settings) -> None:
    with pytest.raises(ValueError, match="HTTPS"):
        Settings.model_validate({**settings.model_dump(), "public_url": "http://roadmap.kz"})
    fine = Settings.model_validate({**settings.model_dump(), "public_url": "https://a.kz/"})
    assert fine.dashboard_url == "https://a.kz/app/"


async def post_json(
    web: WebClient, path: str, init_data: str, body: object
) -> tuple[int, dict[str, object]]:
    headers = {"X-Telegram-Init-Data": init_data}
    async with web.http.post(web.server.base_url + path, headers=headers, json=body) as response:
        return response.status, await response.json()


async def test_the_secretariat_dismisses_a_reason_on_the_card_as_with_dismiss(
    web: WebClient, session_maker: SessionMaker
) -> None:
    item = await item_id(session_maker, "2.1.4")  # declared at risk, and behind plan
    _, card = await web.get(f"/app/api/item/{item}", genuine(SECRETARY))
    assert 'value="behind_plan"' in str(card["html"])
    assert 'value="declared"' not in str(card["html"])  # a fact cannot be dismissed
    _, chair_card = await web.get(f"/app/api/item/{item}", genuine(CHAIR))
    assert "/app/api/dismiss" not in str(chair_card["html"])

    form = {"code": "2.1.4", "reason": "behind_plan", "text": "План пересмотрен с акиматом"}
    assert (await post_json(web, "/app/api/dismiss", genuine(CHAIR), form))[0] == 403
    status, answer = await post_json(web, "/app/api/dismiss", genuine(SECRETARY), form)
    assert status == 200
    assert "2.1.4" in str(answer["html"])
    status, _ = await post_json(web, "/app/api/dismiss", genuine(SECRETARY), {**form, "text": ""})
    assert status == 400
    declared = {**form, "reason": "declared"}
    assert (await post_json(web, "/app/api/dismiss", genuine(SECRETARY), declared))[0] == 409
    assert (await post_json(web, "/app/api/dismiss", genuine(SECRETARY), "garbage"))[0] == 400

    _, card = await web.get(f"/app/api/item/{item}", genuine(SECRETARY))
    assert 'value="behind_plan"' not in str(card["html"])  # dismissed: gone from the card
    async with session_maker() as session:
        rows = (await session.exec(select(AuditLog).where(AuditLog.action == "risk.dismiss"))).all()
    assert [(row.actor_telegram_id, row.target) for row in rows] == [(SECRETARY, "2.1.4")]
    assert await refusals(session_maker) == [(CHAIR, "role")]
