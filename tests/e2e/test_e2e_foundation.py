"""End to end over HTTP: secretariat invites a department head, who joins in Kazakh."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiogram.utils.i18n import I18n

from bot.app.config import Settings
from bot.core.clock import FrozenClock
from bot.sandbox.emulator import BotApiEmulator
from tests.helpers.chat import ADMIN_ID
from tests.helpers.e2e import LiveBot, live_bot

HEAD = 2001
OUTSIDER = 3001


@pytest.fixture
async def running(
    live_settings: Settings, clock: FrozenClock, emulator: BotApiEmulator
) -> AsyncIterator[LiveBot]:
    async with live_bot(live_settings, clock, emulator) as running:
        yield running


async def test_invite_a_department_head_who_picks_kazakh(
    running: LiveBot, emulator: BotApiEmulator, i18n: I18n
) -> None:
    # The default menus for strangers were set at start, in both languages.
    assert {("default", "kk"), ("default", "ru"), ("default", "")} <= set(emulator.commands)

    emulator.send_text(ADMIN_ID, "/start", language_code="ru")
    prompt = await emulator.next_message(ADMIN_ID)
    emulator.press_button(ADMIN_ID, prompt.message_id, prompt.button("Русский"))
    await emulator.next_edit(ADMIN_ID)

    emulator.send_text(ADMIN_ID, "/adddept edu Білім басқармасы | Управление образования")
    added = await emulator.next_message(ADMIN_ID)
    assert "Управление образования" in added.text

    emulator.send_text(ADMIN_ID, "/invite edu Айгүл Смағұлова, бас маман")
    invitation = await emulator.next_message(ADMIN_ID)
    link = next(word for word in invitation.text.split() if "?start=" in word)
    assert link.startswith("https://t.me/roadmap_test_bot?start=")
    token = link.split("?start=")[1]

    emulator.send_text(HEAD, f"/start {token}", language_code="en", first_name="Айгүл")
    prompt = await emulator.next_message(HEAD)
    assert [text for row in prompt.buttons for text, _data in row] == ["Қазақша", "Русский"]
    emulator.press_button(HEAD, prompt.message_id, prompt.button("Қазақша"))
    welcome = await emulator.next_edit(HEAD)
    assert welcome.text.startswith(
        i18n.gettext("Done! I will write to you in this language.", locale="kk")
    )
    assert welcome.reply_markup is None or not welcome.buttons  # named: not asked again

    menu = emulator.commands[(f"chat:{HEAD}", "")]
    descriptions = {command["command"]: command["description"] for command in menu}
    assert descriptions["item"] == i18n.gettext("Road Map item card", locale="kk")
    assert "adddept" not in descriptions

    emulator.send_text(OUTSIDER, "/adddept hack Х | Х", language_code="ru")
    refusal = await emulator.next_message(OUTSIDER)
    assert refusal.text == i18n.gettext(
        "This command is available to the secretariat only.", locale="ru"
    )
    await emulator.wait_idle()
    assert [request.summary() for request in emulator.errors] == []


async def test_html_in_titles_passes_telegrams_parser(
    running: LiveBot, emulator: BotApiEmulator
) -> None:
    emulator.send_text(ADMIN_ID, "/start")
    prompt = await emulator.next_message(ADMIN_ID)
    emulator.press_button(ADMIN_ID, prompt.message_id, prompt.button("Русский"))
    await emulator.next_edit(ADMIN_ID)
    emulator.send_text(ADMIN_ID, "/adddept edu <b>Білім</b> & Co | <i>Образование</i> & Co")
    await emulator.next_message(ADMIN_ID)
    emulator.send_text(ADMIN_ID, "/additem 1.1 edu 2025-12-01 Мектеп <5> & бақ | Школа <5> & сад")
    await emulator.next_message(ADMIN_ID)
    emulator.send_text(ADMIN_ID, "/item 1.1")
    card = await emulator.next_message(ADMIN_ID)
    assert "Школа <5> & сад" in card.text
    assert "<i>Образование</i> & Co" in card.text
    await emulator.wait_idle()
    assert [request.summary() for request in emulator.errors] == []


async def test_the_start_sets_the_strangers_menus_drops_the_webhook_and_asks_who_it_is(
    running: LiveBot, emulator: BotApiEmulator
) -> None:
    first_poll = emulator.first_poll_at
    assert first_poll is not None
    before_polling = [request for request in emulator.requests if request.at < first_poll]
    assert {"deleteWebhook", "getMe"} <= {request.method for request in before_polling}
    menus = [request.params for request in before_polling if request.method == "setMyCommands"]
    assert sorted(menu.get("language_code", "") for menu in menus) == ["", "kk", "ru"]
    assert all(menu["commands"] for menu in menus)
