"""The secretariat's dashboard API over real HTTP, beside the chat's commands: every route is
the secretariat's (the chair and a head get 403 on record, unsigned 401), each change writes
the same one audit row as its command, a moved deadline is told to the department through the
outbox, and the files (the filtered audit log, the Road Map) arrive in the chat from the bot."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiogram import Dispatcher
from aiogram.methods import DeleteMyCommands, SendDocument, SetChatMenuButton
from aiohttp import ClientSession
from sqlmodel import col, select

from bot.app.config import Settings
from bot.core.clock import FrozenClock
from bot.delivery.worker import DeliveryWorker
from bot.roadmap.demo import seed_demo
from bot.usecases.ports import UseCaseContext
from db.engine import SessionMaker
from db.models import (
    AuditLog,
    Department,
    ItemCoExecutor,
    Notification,
    Person,
    RoadmapItem,
    Role,
    StatusUpdate,
)
from tests.helpers.chat import ADMIN_ID, Chatter, register_admin
from tests.helpers.mocked_bot import MockedBot
from tests.helpers.webapp import CHAIR, HEAD, WebClient, dashboard, register_member, signed_for

LOAD = datetime(2025, 6, 10, 6, 0, tzinfo=UTC)
MEMBER_OF_111 = 4301

SCREENS = [
    "/app/api/roadmap",
    "/app/api/edit/1",
    "/app/api/aliases",
    "/app/api/people",
    f"/app/api/revoke/{HEAD}",
    "/app/api/audit",
    "/app/api/exports",
]
ACTIONS = [
    "/app/api/deadline",
    "/app/api/assign",
    "/app/api/co-executors",
    "/app/api/short-title",
    "/app/api/aliases",
    "/app/api/aliases/remove",
    "/app/api/invite",
    "/app/api/revoke",
    "/app/api/audit/export",
    "/app/api/export",
]


@pytest.fixture
async def world(
    session_maker: SessionMaker, clock: FrozenClock, settings: Settings, chatter: Chatter
) -> UseCaseContext:
    """The demo Road Map, the configured admin as the secretariat (through the chat), a chair
    and the head of item 1.1.1's department."""
    clock.set(LOAD)
    async with session_maker() as session:
        await seed_demo(session, now=LOAD, tz=settings.tz)
    await register_admin(chatter, "ru")
    first = await item(session_maker, "1.1.1")
    await register_member(session_maker, HEAD, first.department_id, LOAD)
    async with session_maker() as session:
        session.add(
            Person(
                telegram_id=CHAIR,
                display_name="Chair",
                role=Role.CHAIR,
                locale="ru",
                created_at=LOAD,
                updated_at=LOAD,
            )
        )
        await session.commit()
    ctx: UseCaseContext = chatter.dispatcher["usecases"]
    return ctx


@pytest.fixture
async def web(world: UseCaseContext) -> AsyncIterator[WebClient]:
    async with dashboard(world) as server, ClientSession() as http:
        yield WebClient(server, http)


def signed(user_id: int) -> str:
    return signed_for(user_id, LOAD - timedelta(minutes=2))


async def post(web: WebClient, path: str, user: int | None, body: Any) -> tuple[int, Any]:
    headers = {} if user is None else {"X-Telegram-Init-Data": signed(user)}
    async with web.http.post(web.server.base_url + path, headers=headers, json=body) as response:
        return response.status, await response.json()


async def item(session_maker: SessionMaker, code: str) -> RoadmapItem:
    async with session_maker() as session:
        return (await session.exec(select(RoadmapItem).where(RoadmapItem.code == code))).one()


async def audit_rows(session_maker: SessionMaker, action: str) -> list[AuditLog]:
    async with session_maker() as session:
        found = await session.exec(
            select(AuditLog).where(AuditLog.action == action).order_by(col(AuditLog.id))
        )
        return list(found.all())


async def test_every_secretariat_route_refuses_the_chair_a_head_and_the_unsigned(
    web: WebClient, session_maker: SessionMaker
) -> None:
    for path in SCREENS:
        assert (await web.get(path, None))[0] == 401, path
        for user in (CHAIR, HEAD):
            assert (await web.get(path, signed(user)))[0] == 403, (path, user)
    for path in ACTIONS:
        assert (await post(web, path, None, {}))[0] == 401, path
        for user in (CHAIR, HEAD):
            assert (await post(web, path, user, {"code": "1.1.1"}))[0] == 403, (path, user)
    refused = await audit_rows(session_maker, "refused.web")
    assert len(refused) == 3 * (len(SCREENS) + len(ACTIONS))  # every refusal on record
    assert {row.details for row in refused} == {"missing", "role"}
    assert await audit_rows(session_maker, "item.deadline") == []  # nothing changed


async def test_one_audit_row_per_change_from_the_chat_or_the_web(
    web: WebClient,
    chatter: Chatter,
    session_maker: SessionMaker,
    outbox: DeliveryWorker,
    bot: MockedBot,
) -> None:
    first, second = await item(session_maker, "1.1.1"), await item(session_maker, "1.1.2")
    async with session_maker() as session:
        other = (
            await session.exec(select(Department).where(Department.id != first.department_id))
        ).first()
    assert other is not None

    await chatter.send(ADMIN_ID, "/deadline 1.1.1 2025-12-01 Ждём проектную документацию")
    form = {"code": "1.1.2", "deadline": "2025-12-15", "reason": "Подрядчик сменился"}
    status, answer = await post(web, "/app/api/deadline", ADMIN_ID, form)
    assert status == 200 and "1.1.2" in answer["text"]
    moved = await audit_rows(session_maker, "item.deadline")
    assert [(row.target, row.actor_telegram_id) for row in moved] == [
        ("1.1.1", ADMIN_ID),
        ("1.1.2", ADMIN_ID),
    ]
    assert moved[1].details == f"{second.deadline.isoformat()} -> 2025-12-15: Подрядчик сменился"

    await chatter.send(ADMIN_ID, f"/assign 1.1.1 {other.code}")
    status, _ = await post(
        web, "/app/api/assign", ADMIN_ID, {"code": "1.1.2", "department": other.code}
    )
    assert status == 200
    assert [row.target for row in await audit_rows(session_maker, "item.assign")] == [
        "1.1.1",
        "1.1.2",
    ]

    await chatter.send(ADMIN_ID, f"/alias УО {other.code}")
    form = {"alias": "ОТД", "department": other.code}
    assert (await post(web, "/app/api/aliases", ADMIN_ID, form))[0] == 200
    assert [row.target for row in await audit_rows(session_maker, "department.alias")] == [
        "уо",
        "отд",
    ]

    await chatter.send(ADMIN_ID, "/invite chair")
    status, answer = await post(web, "/app/api/invite", ADMIN_ID, {"target": other.code})
    assert status == 200 and "?start=" in answer["link"]
    assert answer["link"] in answer["text"]
    issued = await audit_rows(session_maker, "invite.issue")
    assert [row.actor_telegram_id for row in issued] == [ADMIN_ID, ADMIN_ID]
    assert (await post(web, "/app/api/invite", ADMIN_ID, {"target": "nobody"}))[0] == 409

    await register_member(session_maker, MEMBER_OF_111, first.department_id, LOAD)
    await register_member(session_maker, MEMBER_OF_111 + 1, first.department_id, LOAD)
    await chatter.send(ADMIN_ID, f"/revoke {MEMBER_OF_111}")  # asks first
    await chatter.press(ADMIN_ID, f"rv:{MEMBER_OF_111}:1")
    status, screen = await web.get(f"/app/api/revoke/{MEMBER_OF_111 + 1}", signed(ADMIN_ID))
    assert status == 200 and 'data-post="/app/api/revoke"' in str(screen["html"])  # asks first
    assert len(await audit_rows(session_maker, "person.revoke")) == 1  # nothing yet
    form = {"telegram_id": str(MEMBER_OF_111 + 1)}
    status, answer = await post(web, "/app/api/revoke", ADMIN_ID, form)
    assert status == 200 and answer["next"] == "/app/people"
    assert [row.target for row in await audit_rows(session_maker, "person.revoke")] == [
        str(MEMBER_OF_111),
        str(MEMBER_OF_111 + 1),
    ]
    bot.take()
    await outbox.drain_all()  # the revoked chats lose their commands menu either way
    cleared = [request for request in bot.take() if isinstance(request, DeleteMyCommands)]
    assert sorted(request.scope.chat_id for request in cleared) == [  # type: ignore[union-attr]
        MEMBER_OF_111,
        MEMBER_OF_111 + 1,
    ]


async def test_a_moved_deadline_is_told_to_the_department_through_the_outbox(
    web: WebClient, session_maker: SessionMaker
) -> None:
    form = {"code": "1.1.1", "deadline": "2025-11-30", "reason": "Ждём финансирование"}
    assert (await post(web, "/app/api/deadline", ADMIN_ID, form))[0] == 200
    async with session_maker() as session:
        told = (await session.exec(select(Notification).where(Notification.chat_id == HEAD))).all()
    assert len(told) == 1
    text = json.loads(told[0].payload)["params"]["text"]
    assert "1.1.1" in text and "Ждём финансирование" in text and "30 қараша" in text
    again = await post(web, "/app/api/deadline", ADMIN_ID, form)
    assert again[0] == 409  # the same deadline: nothing to change, nothing told
    assert (await post(web, "/app/api/deadline", ADMIN_ID, {**form, "reason": ""}))[0] == 400
    assert (await post(web, "/app/api/deadline", ADMIN_ID, "garbage"))[0] == 400


async def test_co_executors_are_replaced_as_a_whole(
    web: WebClient, session_maker: SessionMaker
) -> None:
    first = await item(session_maker, "1.1.1")
    async with session_maker() as session:
        others = (
            await session.exec(
                select(Department).where(Department.id != first.department_id).limit(2)
            )
        ).all()
    codes = [department.code for department in others]
    status, _ = await post(
        web, "/app/api/co-executors", ADMIN_ID, {"code": "1.1.1", "departments": codes}
    )
    assert status == 200
    async with session_maker() as session:
        links = (
            await session.exec(select(ItemCoExecutor).where(ItemCoExecutor.item_id == first.id))
        ).all()
    assert {link.department_id for link in links} == {department.id for department in others}
    rows = await audit_rows(session_maker, "item.co_executors")
    assert len(rows) == 1 and rows[0].target == "1.1.1"
    _, screen = await web.get(f"/app/api/edit/{first.id}", signed(ADMIN_ID))
    assert screen["html"].count("checked") == 2


async def test_the_filtered_audit_log_and_its_export_arrive_in_the_chat(
    web: WebClient, session_maker: SessionMaker, outbox: DeliveryWorker, bot: MockedBot
) -> None:
    form = {"code": "1.1.1", "deadline": "2025-11-30", "reason": "Ждём финансирование"}
    await post(web, "/app/api/deadline", ADMIN_ID, form)
    first = await item(session_maker, "1.1.1")
    async with session_maker() as session:
        department = await session.get(Department, first.department_id)
    assert department is not None
    await post(web, "/app/api/aliases", ADMIN_ID, {"alias": "ОТД", "department": department.code})
    status, screen = await web.get("/app/api/audit?action=item.deadline", signed(ADMIN_ID))
    assert status == 200
    html = str(screen["html"])
    assert "Ждём финансирование" in html and ">1 запись<" in html  # the alias is not shown
    _, everything = await web.get("/app/api/audit", signed(ADMIN_ID))
    assert ">1 запись<" not in str(everything["html"])
    status, answer = await post(web, "/app/api/audit/export?action=item.deadline", ADMIN_ID, {})
    assert status == 200 and "(1 запись)" in answer["text"]
    bot.take()
    await outbox.drain_all()
    sent = [request for request in bot.take() if isinstance(request, SendDocument)]
    assert len(sent) == 1 and sent[0].chat_id == ADMIN_ID
    assert sent[0].document.filename == "audit-log-2025-06-10.xlsx"  # type: ignore[union-attr]
    exported = await audit_rows(session_maker, "export.audit_log")
    assert [row.details for row in exported] == ["action=item.deadline"]  # audited itself

    from io import BytesIO

    from openpyxl import load_workbook

    data = sent[0].document.data  # type: ignore[union-attr]
    sheet = load_workbook(BytesIO(data)).active
    assert sheet is not None
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert len(rows) == 1 and rows[0][3] == "item.deadline" and rows[0][4] == "1.1.1"

    status, _ = await post(web, "/app/api/export", ADMIN_ID, {"kind": "roadmap"})
    assert status == 200
    await outbox.drain_all()
    sent = [request for request in bot.take() if isinstance(request, SendDocument)]
    assert [request.document.filename for request in sent] == ["roadmap-2025-06-10.xlsx"]  # type: ignore[union-attr]
    assert (await post(web, "/app/api/export", ADMIN_ID, {"kind": "other"}))[0] == 400


async def test_the_roadmap_table_filters_sorts_and_pages(web: WebClient) -> None:
    status, screen = await web.get("/app/api/roadmap", signed(ADMIN_ID))
    assert status == 200
    assert "93" in str(screen["html"])
    _, risky = await web.get("/app/api/roadmap?status=overdue&sort=deadline", signed(ADMIN_ID))
    _, every = await web.get("/app/api/roadmap?status=bogus&window=7", signed(ADMIN_ID))
    assert str(risky["html"]).count("<tr class=") < 93
    assert str(every["html"]).count("<tr class=") == 93  # what does not parse is left out


async def test_a_secretary_who_joins_later_gets_the_menu_button(
    settings: Settings,
    session_maker: SessionMaker,
    dispatcher: Dispatcher,
    chatter: Chatter,
    outbox: DeliveryWorker,
    bot: MockedBot,
    clock: FrozenClock,
) -> None:
    from dataclasses import replace

    clock.set(LOAD)
    ctx: UseCaseContext = dispatcher["usecases"]
    dispatcher["usecases"] = replace(ctx, dashboard_url="https://dash.example.kz/app/")
    await register_admin(chatter, "kk")
    await outbox.drain_all()
    buttons = [request for request in bot.take() if isinstance(request, SetChatMenuButton)]
    assert [(request.chat_id, request.menu_button.text) for request in buttons] == [  # type: ignore[union-attr]
        (ADMIN_ID, "Басқару панелі")
    ]


async def test_evidence_is_sent_into_the_readers_chat_by_the_bot(
    web: WebClient, session_maker: SessionMaker
) -> None:
    first = await item(session_maker, "1.1.1")
    async with session_maker() as session:
        update = (
            await session.exec(
                select(StatusUpdate)
                .where(StatusUpdate.item_id == first.id)
                .order_by(col(StatusUpdate.id).desc())
            )
        ).first()
        assert update is not None and update.id is not None
        update.evidence_kind, update.evidence_file_id = "photo", "AgACAgIAAx-photo-of-the-site"
        session.add(update)
        await session.commit()
    _, card = await web.get(f"/app/api/item/{first.id}", signed(CHAIR))
    assert f'data-post="/app/api/evidence/{update.id}"' in str(card["html"])
    status, answer = await post(web, f"/app/api/evidence/{update.id}", CHAIR, {})
    assert status == 200 and "чат" in answer["text"]
    async with session_maker() as session:
        sent = (await session.exec(select(Notification).where(Notification.chat_id == CHAIR))).all()
    payload = json.loads(sent[0].payload)
    assert len(sent) == 1 and payload["method"] == "sendPhoto"
    assert payload["params"]["photo"] == "AgACAgIAAx-photo-of-the-site"
    assert (await post(web, f"/app/api/evidence/{update.id}", HEAD, {}))[0] == 403
    assert (await post(web, "/app/api/evidence/999999", CHAIR, {}))[0] == 404


async def test_the_totals_carry_the_weeks_changes_and_the_card_its_forecast(
    web: WebClient, session_maker: SessionMaker
) -> None:
    _, totals = await web.get("/app/api/summary", signed(CHAIR))
    assert '<p class="week"><b>С ' in str(totals["html"])  # the digest's first line
    assert "Таблица дорожной карты" not in str(totals["html"])  # the secretariat's links
    _, own = await web.get("/app/api/summary", signed(ADMIN_ID))
    assert 'href="/app/roadmap"' in str(own["html"])
    cards = [
        str(
            (await web.get(f"/app/api/item/{(await item(session_maker, code)).id}", signed(CHAIR)))[
                1
            ]["html"]
        )
        for code in ("1.1.1", "1.1.2", "2.1.1", "2.1.4")
    ]
    assert any('<section class="forecast"><p>📈 <b>Прогноз:</b>' in card for card in cards)


async def test_a_failure_is_a_localized_error_screen_not_a_blank_page(
    web: WebClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("the database went away")

    monkeypatch.setattr("bot.web.admin.overview.roadmap_table", broken)
    status, screen = await web.get("/app/api/roadmap", signed(ADMIN_ID))
    assert status == 500
    assert "У нас что-то пошло не так" in str(screen["html"])
    assert "database" not in str(screen["html"])


async def test_the_short_title_is_set_as_with_short(
    web: WebClient, chatter: Chatter, session_maker: SessionMaker
) -> None:
    await chatter.send(ADMIN_ID, "/short 1.1.1 Жаңа өндірістер | Новые производства")
    form = {"code": "1.1.2", "kk": "Инженерлік желілер", "ru": ""}
    status, answer = await post(web, "/app/api/short-title", ADMIN_ID, form)
    assert status == 200 and "Инженерлік желілер / Инженерлік желілер" in answer["text"]
    assert (await item(session_maker, "1.1.2")).short_title_ru == "Инженерлік желілер"
    rows = await audit_rows(session_maker, "item.short_title")
    assert [row.target for row in rows] == ["1.1.1", "1.1.2"]  # one row from each front end
    too_long = {"code": "1.1.2", "kk": "ы" * 41, "ru": ""}
    assert (await post(web, "/app/api/short-title", ADMIN_ID, too_long))[0] == 400
    missing = {"code": "9.9.9", "kk": "", "ru": ""}
    assert (await post(web, "/app/api/short-title", ADMIN_ID, missing))[0] == 409
    assert (await post(web, "/app/api/short-title", CHAIR, form))[0] == 403
    _, screen = await web.get(
        f"/app/api/edit/{(await item(session_maker, '1.1.1')).id}", signed(ADMIN_ID)
    )
    assert 'value="Жаңа өндірістер"' in str(screen["html"])
