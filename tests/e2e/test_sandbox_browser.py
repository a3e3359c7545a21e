"""The sandbox in a real browser (Debian's chromium, Playwright): the README's first steps
played on the page. The secretariat's /start and the demo, /request_now, a Kazakh-speaking
head's two-tap confirmation and one at-risk report (a file from disk as evidence, the comment
then edited in place), the chair's alert and /summary with its chart, a jump to Friday 17:00
and the digest, the dashboard in the phone frame (Telegram's BackButton, and the
secretariat's MainButton dismissing a risk reason), and a newcomer through a real invitation
link. Screens in both of the page's languages go to test-output/sandbox/."""

from __future__ import annotations

import importlib.util
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.sandbox.world import CHAIR, KK_HEAD, SECRETARIAT
from tests.helpers.sandbox import sandbox_page

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
SCREENSHOTS = Path(os.environ.get("TEST_OUTPUT", "test-output")) / "sandbox"
WAIT_MS = 20_000

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM.exists() or importlib.util.find_spec("playwright") is None,
        reason=f"browser tests need chromium at {CHROMIUM} (apt-get install chromium) and "
        "the playwright package",
    ),
]


@pytest.fixture
async def sandbox_url(tmp_path: Path) -> AsyncIterator[str]:
    async with sandbox_page(tmp_path / "sandbox") as url:
        yield url


@pytest.fixture
async def page(sandbox_url: str) -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-component-update"],
        )
        try:
            context = await browser.new_context(viewport={"width": 1400, "height": 900})
            opened = await context.new_page()
            errors: list[str] = []
            opened.on("pageerror", lambda error: errors.append(str(error)))
            await opened.goto(sandbox_url + "?lang=kk")
            yield opened
            assert errors == []
        finally:
            await browser.close()


async def shoot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


async def person(page: Any, telegram_id: int) -> None:
    await page.click(f'#people button[data-chat="{telegram_id}"]')
    await page.wait_for_selector(f'#people button.active[data-chat="{telegram_id}"]')


async def say(page: Any, text: str) -> None:
    await page.fill("#text", text)
    await page.click("#send")


async def bot_says(page: Any, text: str) -> Any:
    """The latest bot message in the chat on show that contains the text."""
    selector = f'#messages .msg.bot:has-text("{text}")'
    await page.wait_for_selector(selector, timeout=WAIT_MS)
    return page.locator(selector).last


async def tap(page: Any, message: Any, label: str) -> None:
    await message.locator(".inline button", has_text=label).first.click()


async def test_the_readme_first_steps_in_the_page(page: Any, tmp_path: Path) -> None:
    assert await page.inner_text("h1") == "Жол картасы боты: сынақ алаңы"

    # The secretariat: /start, the language, then the demo's departments.
    await person(page, SECRETARIAT.telegram_id)
    await say(page, "/start")
    await tap(page, await bot_says(page, "Тілді таңдаңыз"), "Қазақша")
    await bot_says(page, "хатшылық")
    await say(page, "/stats")
    await bot_says(page, "education")
    await say(page, "/request_now education")
    await bot_says(page, "1 басқармадан сұралды")
    await page.wait_for_selector(  # the head's unread request, seen from the secretariat
        f'#people button[data-chat="{KK_HEAD.telegram_id}"] .badge', timeout=WAIT_MS
    )
    await shoot(page, "kk-1-secretariat")

    # The Kazakh-speaking head: everything else unchanged in two taps.
    await person(page, KK_HEAD.telegram_id)
    request = await bot_says(page, "жай-күйін жаңарту қажет")
    await tap(page, request, "Қалғаны өзгеріссіз")
    await tap(page, await bot_says(page, "өзгермегенін растайсыз ба"), "Иә, өзгеріс жоқ")
    await bot_says(page, "өзгеріссіз")
    await shoot(page, "kk-2-head-confirmed")

    # ...then one item at risk: status, progress, cause, comment, a file from disk, Save.
    await say(page, "/myitems")
    listing = await bot_says(page, "Рахмет")
    await tap(page, listing, "5.2.2")
    await tap(page, await bot_says(page, "жай-күйі қандай"), "Орындалмай қалу қаупі бар")
    await tap(page, await bot_says(page, "Орындалу барысы"), "50%")
    await tap(page, await bot_says(page, "Себебі неде"), "Мердігер")
    await bot_says(page, "Түсініктеме жазыңыз")
    await say(page, "Мердігер жұмысты тоқтатты, жаңа конкурс керек")
    act = tmp_path / "akt.pdf"
    act.write_bytes(b"%PDF-1.4 act of inspection")
    confirm = await _save_screen(page, act)
    await shoot(page, "kk-3-head-at-risk")
    await tap(page, confirm, "Сақтау")
    await bot_says(page, "Сақталды")

    # Telegram's Edit on the saved comment: the bot offers to correct the saved update.
    page.once("dialog", lambda dialog: dialog.accept("Мердігер ауыстырылды, жаңа конкурс керек"))
    comment = page.locator('#messages .msg.user:has-text("Мердігер жұмысты тоқтатты")')
    await comment.locator("button.edit").click()
    await tap(page, await bot_says(page, "сақталып қойған түсініктемені түзеттіңіз"), "Түзету")
    await bot_says(page, "Түзетілді")
    edited = page.locator('#messages .msg.user:has-text("Мердігер ауыстырылды")')
    assert "өзгертілді" in await edited.locator(".meta").inner_text()

    # The chair: the alert for the item, then /summary with its chart.
    await person(page, CHAIR.telegram_id)
    await bot_says(page, "5.2.2")
    await say(page, "/summary")
    await page.wait_for_selector("#messages .msg.bot img", timeout=WAIT_MS)
    await shoot(page, "kk-4-chair-summary")

    # Friday 17:00: the weekly digest arrives.
    before = await page.locator("#messages .msg.bot").count()
    await page.click("#jump-digest")
    await page.wait_for_function(
        "text => document.querySelector('#time-result').textContent.includes(text)",
        arg="апталық жиынтық",
        timeout=WAIT_MS,
    )
    await page.wait_for_function(
        "n => document.querySelectorAll('#messages .msg.bot').length > n",
        arg=before,
        timeout=WAIT_MS,
    )
    assert "жұма" in (await page.inner_text("#clock")).lower()
    await shoot(page, "kk-5-chair-digest")
    assert await page.locator("#log li").count() > 10
    assert "sendPhoto" in await page.inner_text("#log")

    # The dashboard, as Telegram opens it, in the phone frame.
    await page.click("#open-dashboard")
    frame = page.frame_locator("#phone-view")
    await frame.locator('body[data-ready="/app/"]').wait_for(timeout=WAIT_MS)
    await shoot(page, "kk-6-dashboard")
    assert await page.locator("#phone-back").is_hidden()
    await frame.locator("a.row").first.click()  # a department: Telegram's BackButton shows
    await frame.locator('body[data-ready^="/app/department/"]').wait_for(timeout=WAIT_MS)
    await page.locator("#phone-back").wait_for(state="visible", timeout=WAIT_MS)
    await page.click("#phone-back")
    await frame.locator('body[data-ready="/app/"]').wait_for(timeout=WAIT_MS)
    await page.locator("#phone-back").wait_for(state="hidden", timeout=WAIT_MS)
    await page.click("#phone-close")

    # The secretariat dismisses a computed risk reason with Telegram's MainButton on the frame.
    await person(page, SECRETARIAT.telegram_id)
    await page.click("#open-dashboard")
    await frame.locator('body[data-ready="/app/"]').wait_for(timeout=WAIT_MS)
    await frame.locator("a.row", has_text="Құрылыс").first.click()
    await frame.locator("a.row", has_text="2.1.4").first.click()
    await frame.locator("form.dismiss textarea").fill("Жоспар әкімдікпен қайта қаралды")
    main = page.locator("#phone-main")
    await main.wait_for(state="visible", timeout=WAIT_MS)
    assert await main.inner_text() == "Себепті алып тастау"
    await shoot(page, "kk-7-dashboard-dismiss")
    await main.click()
    await frame.locator(
        ".notice", has_text="2.1.4 тармағы бойынша қауіп себебі алып тасталды"
    ).wait_for(timeout=WAIT_MS)
    await main.wait_for(state="hidden", timeout=WAIT_MS)
    await page.click("#phone-close")

    # A newcomer through a real invitation link, then the page in Russian.
    answers = iter(["culture", "Асель"])
    page.on("dialog", lambda dialog: dialog.accept(next(answers)))
    await page.click("#add-person")
    await page.wait_for_selector('#people button:has-text("Асель")', timeout=WAIT_MS)
    await tap(page, await bot_says(page, "Тілді таңдаңыз"), "Қазақша")
    await bot_says(page, "басқарма")
    await shoot(page, "kk-8-newcomer")

    await page.click('.langs a[data-lang="ru"]')
    await page.wait_for_selector("h1:has-text('Песочница бота Дорожной карты')")
    await person(page, CHAIR.telegram_id)
    await bot_says(page, "5.2.2")
    await shoot(page, "ru-1-chair")
    await person(page, KK_HEAD.telegram_id)
    await bot_says(page, "Сақталды")
    await shoot(page, "ru-2-head")


async def _save_screen(page: Any, evidence: Path) -> Any:
    """After the comment: the evidence step if the dialog asks for it, then Save."""
    step = await bot_says(page, "Түсініктеме")
    if await step.locator(".inline button", has_text="Сақтау").count() == 0:
        await page.set_input_files("#file", str(evidence))
        await page.click("#send")
    return await bot_says(page, "Мыналар сақталады")
