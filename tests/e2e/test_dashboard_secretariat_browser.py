"""The secretariat's journey in a real browser (Debian's chromium through Playwright), opened as
Telegram opens the Mini App: from the totals to the Road Map table, filtered; an item's
deadline moved with a reason through Telegram's MainButton (the audit row appears, the head
is told through the outbox); the audit log filtered and exported (the workbook reaches the
secretary's chat from the bot); people with a revoke that asks first; aliases; exports.
Every screen is saved in Kazakh and Russian, light and dark, at 360×640 and 430×932 under
test-output/dashboard/, and checked for text under 12 px and for anything wider than the
screen."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import pytest
from aiogram.methods import SendDocument
from aiogram.utils.i18n import I18n
from sqlmodel import col, select

from bot.app.config import Settings
from bot.core.clock import FrozenClock
from bot.delivery.worker import DeliveryWorker
from bot.usecases.ports import UseCaseContext
from db.engine import SessionMaker
from db.models import AuditLog, Notification, Person, RoadmapItem, Role
from tests.e2e.test_dashboard_browser import (
    LOAD,
    RECORD_EVENTS,
    THEMES,
    back_button_visible,
    browser,  # noqa: F401 - the fixture
    check_layout,
    launch_url,
    main_button,
    pytestmark,  # noqa: F401 - chromium and playwright, or skipped
)
from tests.helpers.mocked_bot import MockedBot
from tests.helpers.webapp import (
    HEAD,
    SECRETARY,
    dashboard,
    demo_context,
    signed_for,
)

SECRETARY_RU = 4105
VIEWPORTS = ((360, 640), (430, 932))
WORDS = {
    "kk": {
        "title": "Жол картасы 2025",
        "table": "Жол картасының кестесі",
        "move": "Мерзімді ауыстыру",
        "moved": "1.1.1 тармағының орындау мерзімі өзгертілді",
        "reason": "Мердігер ауысты",
        "export": "Осы тізімді чатқа XLSX етіп жіберу",
        "exported": "жазба",
        "revoke": "Рұқсатты қайтарып алу",
        "audit": "Аудит журналы",
    },
    "ru": {
        "title": "Дорожная карта 2025",
        "table": "Таблица дорожной карты",
        "move": "Перенести срок",
        "moved": "Срок исполнения пункта 1.1.1 изменён",
        "reason": "Сменился подрядчик",
        "export": "Прислать этот список в чат (XLSX)",
        "exported": "запис",
        "revoke": "Отозвать доступ",
        "audit": "Журнал аудита",
    },
}


@pytest.fixture
async def ctx(
    session_maker: SessionMaker, clock: FrozenClock, i18n: I18n, settings: Settings
) -> UseCaseContext:
    ctx = await demo_context(session_maker, clock, i18n, settings.tz, LOAD)
    async with session_maker() as session:
        session.add(
            Person(
                telegram_id=SECRETARY_RU,
                display_name="Секретарь",
                role=Role.SECRETARIAT,
                locale="ru",
                created_at=LOAD,
                updated_at=LOAD,
            )
        )
        await session.commit()
    return ctx


async def press(page: Any, event: str) -> None:
    await page.evaluate(f"Telegram.WebView.receiveEvent('{event}')")


async def follow(page: Any, selector: str, ready: str) -> None:
    await page.click(selector)
    await page.wait_for_selector(f"body[data-ready{ready}]")


async def journey(
    browser: Any,  # noqa: F811 - the fixture
    base: str,
    user: int,
    language: str,
    theme: str,
    viewport: tuple[int, int],
    new_deadline: date,
    department_id: int,
) -> None:
    words = WORDS[language]
    width, height = viewport
    name = f"secretariat-{language}-{theme}-{width}x{height}"
    context = await browser.new_context(
        viewport={"width": width, "height": height}, device_scale_factor=2, locale=language
    )
    try:
        await context.add_init_script(RECORD_EVENTS)
        page = await context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        await page.goto(
            launch_url(base, signed_for(user, LOAD - timedelta(minutes=2)), THEMES[theme])
        )
        await page.wait_for_selector('body[data-ready="/app/"]')
        assert words["title"] in await page.inner_text("h1")
        assert (await main_button(page) or {}).get("is_visible") is not True  # nothing to do
        assert await page.is_visible(".nav")
        await check_layout(page, f"{name}-1-totals")

        # The table, filtered by the department and ordered by deadline.
        await follow(page, f"a.row:has-text('{words['table']}')", '="/app/roadmap"')
        assert await back_button_visible(page) is True
        every = await page.locator("table.roadmap tbody tr").count()
        await check_layout(page, f"{name}-2-roadmap")
        await page.select_option("select[name=department]", str(department_id))
        await page.select_option("select[name=sort]", "deadline")
        await follow(page, "form[data-filter] button", '*="department="')
        filtered = await page.locator("table.roadmap tbody tr").count()
        assert 0 < filtered < every
        await check_layout(page, f"{name}-3-roadmap-filtered")

        # Item 1.1.1, its edit screen: the deadline moved with a reason by the MainButton.
        await follow(page, "table.roadmap a:has-text('1.1.1')", '^="/app/item/"')
        await follow(page, "a[href^='/app/edit/']", '^="/app/edit/"')
        button = await main_button(page)
        assert button is not None and button["is_visible"] and button["text"] == words["move"]
        await page.fill("input[name=deadline]", new_deadline.isoformat())
        await page.fill("textarea[name=reason]", words["reason"])
        await check_layout(page, f"{name}-4-edit")
        await press(page, "main_button_pressed")
        await page.wait_for_function(
            "text => document.querySelector('form[data-main] .status').textContent.includes(text)",
            arg=words["moved"],
        )
        await check_layout(page, f"{name}-5-edit-moved")

        # BackButton: the card, the filtered table, the table, the totals.
        for ready in ('^="/app/item/"', '*="department="', '="/app/roadmap"', '="/app/"'):
            await press(page, "back_button_pressed")
            await page.wait_for_selector(f"body[data-ready{ready}]")
        assert await back_button_visible(page) is False

        # The audit log, filtered to moved deadlines, exported into the chat by the MainButton.
        await follow(page, f"a.row:has-text('{words['audit']}')", '="/app/audit"')
        await check_layout(page, f"{name}-6-audit")
        await page.select_option("select[name=action]", "item.deadline")
        await follow(page, "form[data-filter] button", '*="action=item.deadline"')
        assert words["reason"] in await page.inner_text("ul.history")
        button = await main_button(page)
        assert button is not None and button["is_visible"] and button["text"] == words["export"]
        await check_layout(page, f"{name}-7-audit-filtered")
        await press(page, "main_button_pressed")
        await page.wait_for_function(
            "text => document.querySelector('form[data-main] .status').textContent.includes(text)",
            arg=words["exported"],
        )
        await check_layout(page, f"{name}-8-audit-exported")

        # People: a revoke asks first (and Cancel changes nothing); aliases; exports.
        for ready in ('="/app/audit"', '="/app/"'):
            await press(page, "back_button_pressed")
            await page.wait_for_selector(f"body[data-ready{ready}]")
        await follow(page, "a.row[href='/app/people']", '="/app/people"')
        await check_layout(page, f"{name}-9-people")
        await follow(page, f"a[href='/app/revoke/{HEAD}']", f'="/app/revoke/{HEAD}"')
        button = await main_button(page)
        assert button is not None and button["text"] == words["revoke"]
        await check_layout(page, f"{name}-10-revoke-confirm")
        await follow(page, "a.cancel", '="/app/people"')
        await page.goto(
            launch_url(base, signed_for(user, LOAD - timedelta(minutes=2)), THEMES[theme]).replace(
                "/app/#", "/app/aliases#"
            )
        )
        await page.wait_for_selector('body[data-ready="/app/aliases"]')
        await check_layout(page, f"{name}-11-aliases")
        await page.goto(
            launch_url(base, signed_for(user, LOAD - timedelta(minutes=2)), THEMES[theme]).replace(
                "/app/#", "/app/exports#"
            )
        )
        await page.wait_for_selector('body[data-ready="/app/exports"]')
        await check_layout(page, f"{name}-12-exports")
        assert errors == []
    finally:
        await context.close()


@pytest.mark.slow
async def test_the_secretariat_filters_moves_a_deadline_and_exports_the_audit_log(
    ctx: UseCaseContext,
    session_maker: SessionMaker,
    browser: Any,  # noqa: F811 - the fixture
    outbox: DeliveryWorker,
    bot: MockedBot,
) -> None:
    async with session_maker() as session:
        first = (await session.exec(select(RoadmapItem).where(RoadmapItem.code == "1.1.1"))).one()
    runs = [
        (user, language, theme, viewport)
        for user, language in ((SECRETARY, "kk"), (SECRETARY_RU, "ru"))
        for theme in ("light", "dark")
        for viewport in VIEWPORTS
    ]
    async with dashboard(ctx) as server:
        for index, (user, language, theme, viewport) in enumerate(runs):
            new_deadline = date(2025, 12, 1) + timedelta(days=index)
            await journey(
                browser,
                server.base_url,
                user,
                language,
                theme,
                viewport,
                new_deadline,
                first.department_id,
            )
            async with session_maker() as session:
                moved = (
                    await session.exec(
                        select(AuditLog)
                        .where(AuditLog.action == "item.deadline")
                        .order_by(col(AuditLog.id).desc())
                    )
                ).first()
                told = (
                    await session.exec(
                        select(Notification).where(
                            Notification.chat_id == HEAD, Notification.kind == "deadline"
                        )
                    )
                ).all()
            assert moved is not None and moved.actor_telegram_id == user
            assert moved.details is not None and moved.details.endswith(
                f"-> {new_deadline.isoformat()}: {WORDS[language]['reason']}"
            )
            assert len(told) == index + 1  # the head is told of each move
            assert new_deadline.strftime("%Y") in json.loads(told[-1].payload)["params"]["text"]
            bot.take()
            await outbox.drain_all()
            files = [r for r in bot.take() if isinstance(r, SendDocument)]
            assert [(r.chat_id, r.document.filename) for r in files] == [  # type: ignore[union-attr]
                (user, "audit-log-2025-06-10.xlsx")
            ]
