"""End to end over HTTP (issue 22, #22, #23, #29): the secretariat's screens say what to do
next and fit a phone. In Kazakh and in Russian.

- /help on an empty Road Map is short and names /template, /import and seed-demo; the full
  list is one tap away.
- /stats on the fresh demo (12 departments, no request sent yet) has a true heading, is under
  1,500 characters and names each department once.
- /people groups the demo's reporters on one line.
"""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

import pytest

from bot.app.config import Settings
from bot.core.clock import FrozenClock
from bot.roadmap.demo import load_demo_data, seed_demo
from bot.sandbox.emulator import BotApiEmulator
from db.engine import SessionMaker
from tests.helpers.chat import ADMIN_ID
from tests.helpers.e2e import live_bot, say, secretariat_starts, tap

TAGS = re.compile(r"<[^>]+>")


def plain(text: str) -> str:
    """What the reader sees: the text without its HTML tags."""
    return TAGS.sub("", text)


@pytest.mark.parametrize(
    ("language", "all_commands", "no_request_yet", "demo_people"),
    [
        (
            "Қазақша",
            "Барлық командалар",
            "сұрауы әлі бірде-бір рет жіберілмеген",
            "Демо деректердің тағы 12 авторы",
        ),
        (
            "Русский",
            "Все команды",
            "запросы статуса ещё ни разу не отправлялись",
            "И ещё 12 авторов демо-данных",
        ),
    ],
    ids=["kk", "ru"],
)
async def test_help_stats_and_people_for_the_secretariat(
    live_settings: Settings,
    clock: FrozenClock,
    emulator: BotApiEmulator,
    session_maker: SessionMaker,
    language: str,
    all_commands: str,
    no_request_yet: str,
    demo_people: str,
) -> None:
    async with live_bot(live_settings, clock, emulator):
        first = await secretariat_starts(emulator, language)
        assert "seed-demo" in first.text and "/adddept" in first.text  # the first step
        assert first.buttons == [[(all_commands, "help")]]

        short = await say(emulator, ADMIN_ID, "/help")
        assert "/template" in short.text and "/import" in short.text
        assert "seed-demo" in short.text
        assert "/holiday" not in short.text and len(plain(short.text)) < 800
        full = await tap(emulator, ADMIN_ID, short, all_commands)
        assert "/holiday" in full.text and "/adddept" in full.text and not full.buttons

        async with session_maker() as session:
            await seed_demo(session, now=clock.now(), tz=ZoneInfo("Asia/Almaty"))

        stats = await say(emulator, ADMIN_ID, "/stats")
        text = plain(stats.text)
        assert no_request_yet in text
        assert len(text) < 1500, len(text)
        codes = [entry["code"] for entry in load_demo_data()["departments"]]
        assert len(codes) == 12
        for code in codes:  # each department once (the old footer repeated them all)
            assert len(re.findall(rf"\b{code}\b", text)) == 1, code

        people = await say(emulator, ADMIN_ID, "/people")
        assert demo_people in people.text
        assert "-900" not in people.text  # no demo reporter line by line

        step = await say(emulator, ADMIN_ID, "/help")
        assert "/invite" in step.text and "12" in step.text  # next: invite the heads

        await emulator.wait_idle()
        assert [request.summary() for request in emulator.errors] == []
