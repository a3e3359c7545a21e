"""End to end over HTTP (issue 22, #21 and #27): a newly joined head's first message names
his department, its item count and the real request schedule; the secretariat is told who
joined. In Kazakh and in Russian."""

from __future__ import annotations

import pytest

from bot.app.config import Settings
from bot.core.clock import FrozenClock
from bot.sandbox.emulator import BotApiEmulator
from tests.helpers.chat import ADMIN_ID
from tests.helpers.e2e import EDUCATION, build_world, live_bot, say, tap

HEAD = 4501


@pytest.mark.parametrize(
    ("language", "locale", "department", "items"),
    [
        ("Қазақша", "kk", "Білім басқармасы", "Жол картасының 2 ашық тармағы бар"),
        ("Русский", "ru", "Управление образования", "2 открытых пункта Дорожной карты"),
    ],
    ids=["kk", "ru"],
)
async def test_a_joined_head_is_told_where_he_stands_and_the_secretariat_who_joined(
    live_settings: Settings,
    clock: FrozenClock,
    emulator: BotApiEmulator,
    language: str,
    locale: str,
    department: str,
    items: str,
) -> None:
    async with live_bot(live_settings, clock, emulator):
        commands = [
            "/schedule tue,thu 09:30",
            EDUCATION,
            "/additem 1.1 edu 2025-12-01 Мектеп салу | Строительство школы",
            "/additem 1.2 edu 2025-12-01 Балабақша | Детский сад",
        ]
        await build_world(emulator, commands)
        invitation = await say(emulator, ADMIN_ID, "/invite edu")
        token = next(w for w in invitation.text.split() if "?start=" in w).split("?start=")[1]
        emulator.send_text(HEAD, f"/start {token}", first_name="Айгүл")
        prompt = await emulator.next_message(HEAD)
        welcome = await tap(emulator, HEAD, prompt, language)

        assert department in welcome.text and items in welcome.text
        assert "09:30" in welcome.text and "/myitems" in welcome.text
        days = {"kk": ("сейсенбі", "бейсенбі"), "ru": ("вторник", "четверг")}[locale]
        assert all(day in welcome.text for day in days)

        # His own link again, the next day: where he stands, not "ask for a new link" (#10).
        again = await say(emulator, HEAD, f"/start {token}")
        assert department in again.text
        assert ("тіркеліп қойғансыз" if locale == "kk" else "уже зарегистрированы") in again.text

        notice = await emulator.next_message(ADMIN_ID)
        expected = (
            "👤 Новый пользователь бота: Айгүл, сотрудник управления, Управление образования."
        )
        assert notice.text == expected
        await emulator.wait_idle()
        assert [request.summary() for request in emulator.errors] == []
