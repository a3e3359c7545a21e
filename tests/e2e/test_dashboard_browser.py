"""The dashboard in a real browser: Debian's chromium driven by Playwright, opened the way
Telegram opens a Mini App (`/app/#tgWebAppData=…&tgWebAppThemeParams=…`, the vendored
telegram-web-app.js, BackButton recorded through `TelegramWebviewProxy.postEvent`). The chair
(Russian) and the secretariat (Kazakh) drill from the totals to an item and ask for an update,
in light and dark; the secretariat dismisses a computed risk reason with Telegram's MainButton;
each screen is saved at 360×640 under test-output/dashboard/."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from aiogram.utils.i18n import I18n
from sqlmodel import select

from bot.app.config import Settings
from bot.core.clock import FrozenClock
from bot.sandbox.server import THEME
from bot.usecases.ports import UseCaseContext
from db.engine import SessionMaker
from db.models import Notification
from tests.helpers.webapp import (
    CHAIR,
    SECRETARY,
    dashboard,
    demo_context,
    register_member,
    signed_for,
)

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
SCREENSHOTS = Path(os.environ.get("TEST_OUTPUT", "test-output")) / "dashboard"
LOAD = datetime(2025, 6, 10, 6, 0, tzinfo=UTC)
ASKED_HEAD = 4104

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists() or importlib.util.find_spec("playwright") is None,
        reason=f"browser tests need chromium at {CHROMIUM} (apt-get install chromium) and "
        "the playwright package",
    ),
]

THEMES: dict[str, dict[str, str]] = {
    "light": THEME,  # Telegram's light theme, as the sandbox gives its dashboard
    "dark": {
        "bg_color": "#17212b",
        "text_color": "#f5f5f5",
        "hint_color": "#708499",
        "link_color": "#6ab3f3",
        "button_color": "#5288c1",
        "button_text_color": "#ffffff",
        "secondary_bg_color": "#232e3c",
        "destructive_text_color": "#ec3942",
    },
}

# Telegram's clients post events through this object; the test keeps them to check.
RECORD_EVENTS = """
window.__events = [];
window.TelegramWebviewProxy = {
  postEvent: function (type, data) { window.__events.push([type, data ? JSON.parse(data) : null]); }
};
"""

# The smallest font of any element that shows text, and whether anything overflows sideways.
LAYOUT_PROBE = """() => {
  let smallest = 1000;
  for (const element of document.querySelectorAll('body *')) {
    const own = Array.from(element.childNodes).some(n => n.nodeType === 3 && n.textContent.trim());
    const box = element.getBoundingClientRect();
    if (!own || box.width === 0 || box.height === 0) continue;
    let size = parseFloat(getComputedStyle(element).fontSize);
    const svg = element.closest('svg');
    if (svg) { size = size * svg.getBoundingClientRect().width / svg.viewBox.baseVal.width; }
    smallest = Math.min(smallest, size);
  }
  return {smallest, overflow: document.documentElement.scrollWidth - window.innerWidth};
}"""


def launch_url(base: str, init_data: str, theme: dict[str, str]) -> str:
    params = (
        f"tgWebAppData={quote(init_data, safe='')}&tgWebAppVersion=8.0&tgWebAppPlatform=android"
        f"&tgWebAppThemeParams={quote(json.dumps(theme), safe='')}"
    )
    return f"{base}/app/#{params}"


@pytest.fixture
async def ctx(
    session_maker: SessionMaker, clock: FrozenClock, i18n: I18n, settings: Settings
) -> UseCaseContext:
    return await demo_context(session_maker, clock, i18n, settings.tz, LOAD)


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
            ],
        )
        try:
            yield launched
        finally:
            await launched.close()


async def back_button_visible(page: Any) -> bool | None:
    events = await page.evaluate("window.__events")
    shown = [data["is_visible"] for kind, data in events if kind == "web_app_setup_back_button"]
    return shown[-1] if shown else None


async def check_layout(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=False)
    probe = await page.evaluate(LAYOUT_PROBE)
    assert probe["overflow"] <= 0, f"{name}: {probe['overflow']} px wider than the screen"
    assert probe["smallest"] >= 12, f"{name}: text of {probe['smallest']} px"


async def main_button(page: Any) -> dict[str, Any] | None:
    events = await page.evaluate("window.__events")
    setups = [data for kind, data in events if kind == "web_app_setup_main_button"]
    return setups[-1] if setups else None


async def dismiss_with_main_button(page: Any, name: str, words: dict[str, str]) -> None:
    """The secretariat's one primary action on a card: Telegram's MainButton sends the form."""
    button = await main_button(page)
    assert button is not None and button["is_visible"] and button["text"] == words["dismiss"]
    await page.fill("form.dismiss textarea", words["why"])
    await check_layout(page, f"{name}-5-dismiss-form")
    await page.evaluate("Telegram.WebView.receiveEvent('main_button_pressed')")
    await page.wait_for_function(
        "text => document.querySelector('.notice').textContent.includes(text)",
        arg=words["dismissed"],
    )
    assert await page.query_selector("form.dismiss") is None  # nothing left to dismiss
    assert (await main_button(page) or {}).get("is_visible") is False
    await check_layout(page, f"{name}-6-dismissed")


async def journey(
    browser: Any,
    base: str,
    user: int,
    language: str,
    theme: str,
    words: dict[str, str],
    *,
    dismiss: bool = False,
) -> None:
    context = await browser.new_context(
        viewport={"width": 360, "height": 640}, device_scale_factor=2, locale=language
    )
    try:
        await context.add_init_script(RECORD_EVENTS)
        page = await context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        init_data = signed_for(user, LOAD - timedelta(minutes=2))
        await page.goto(launch_url(base, init_data, THEMES[theme]))
        await page.wait_for_selector('body[data-ready="/app/"]')
        assert words["title"] in await page.inner_text("h1")
        background = await page.evaluate("getComputedStyle(document.body).backgroundColor")
        assert background == ("rgb(255, 255, 255)" if theme == "light" else "rgb(23, 33, 43)")
        assert await back_button_visible(page) is False
        await check_layout(page, f"{language}-{theme}-1-totals")

        await page.click("a.row[href^='/app/department/'] >> nth=0")
        await page.wait_for_selector('body[data-ready^="/app/department/"]')
        assert await back_button_visible(page) is True
        await check_layout(page, f"{language}-{theme}-2-department")

        await page.click(f"a.row:has-text('{words['item']}')")
        await page.wait_for_selector('body[data-ready^="/app/item/"]')
        assert words["at_risk"] in await page.inner_text("main")
        await check_layout(page, f"{language}-{theme}-3-item")

        await page.click("button[data-ask]")
        await page.wait_for_function("document.querySelector('.notice').textContent.length > 0")
        assert words["asked"] in await page.inner_text(".notice")
        await check_layout(page, f"{language}-{theme}-4-asked")
        if dismiss:
            await dismiss_with_main_button(page, f"{language}-{theme}", words)

        # Telegram's BackButton: back to the department, then to the totals.
        await page.evaluate("Telegram.WebView.receiveEvent('back_button_pressed')")
        await page.wait_for_selector('body[data-ready^="/app/department/"]')
        await page.evaluate("Telegram.WebView.receiveEvent('back_button_pressed')")
        await page.wait_for_selector('body[data-ready="/app/"]')
        assert await back_button_visible(page) is False
        assert errors == []
    finally:
        await context.close()


async def test_the_chair_and_the_secretariat_drill_down_and_ask_for_an_update(
    ctx: UseCaseContext, session_maker: SessionMaker, browser: Any, clock: FrozenClock
) -> None:
    async with dashboard(ctx) as server:
        # The most at-risk department comes first; somebody there is registered to be asked.
        top = await _top_department(server.base_url)
        await register_member(session_maker, ASKED_HEAD, top, LOAD)
        if SCREENSHOTS.exists():
            shutil.rmtree(SCREENSHOTS)
        russian = {
            "title": "Дорожная карта 2025",
            "at_risk": "Есть риск невыполнения:",
            "asked": "Обновление статуса запрошено",
            "item": "2.1.1",
        }
        kazakh = {
            "title": "Жол картасы 2025",
            "at_risk": "Орындалмай қалу қаупі бар:",
            "asked": "Жай-күйін жаңарту сұралды",
            "item": "2.1.4",
            "dismiss": "Себепті алып тастау",
            "why": "Жоспар әкімдікпен қайта қаралды",
            "dismissed": "2.1.4 тармағы бойынша қауіп себебі алып тасталды",
        }
        for theme in ("light", "dark"):
            await journey(browser, server.base_url, CHAIR, "ru", theme, russian)
            clock.advance(timedelta(minutes=2))
            await journey(
                browser, server.base_url, SECRETARY, "kk", theme, kazakh, dismiss=theme == "light"
            )
            clock.advance(timedelta(minutes=2))
    async with session_maker() as session:
        asked = (
            await session.exec(select(Notification).where(Notification.chat_id == ASKED_HEAD))
        ).all()
    assert len(asked) >= 1  # the head of that department gets the request through the outbox


async def _top_department(base: str) -> int:
    from aiohttp import ClientSession

    from bot.web.app import INIT_DATA_HEADER

    async with (
        ClientSession() as http,
        http.get(
            f"{base}/app/api/summary",
            headers={INIT_DATA_HEADER: signed_for(CHAIR, LOAD - timedelta(minutes=1))},
        ) as response,
    ):
        html = (await response.json())["html"]
    return int(html.split('href="/app/department/', 1)[1].split('"', 1)[0])
