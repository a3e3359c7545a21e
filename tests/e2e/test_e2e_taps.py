"""End to end over HTTP, issue 22's tap targets from the round's request message, for a kk
head and a ru head: an unchanged item in 1 tap, progress to a value near the current one in 3
taps with no typing, at risk with a cause and a comment in 4 taps and the comment. Every tap
is counted; the stored reports are asserted."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from bot.app.config import Settings
from bot.core.clock import FrozenClock
from bot.sandbox.emulator import BotApiEmulator
from db.engine import SessionMaker
from tests.helpers.e2e import (
    EarlierReport,
    TapCounter,
    coded_updates,
    education_round,
    live_bot,
)

HEAD = 4401
CODES = ("1.1", "1.2", "1.3")


@dataclass(frozen=True)
class Words:
    language: str
    at_risk: str
    contractor: str
    save: str
    quick_hint: str


KK = Words("Қазақша", "Орындалмай қалу қаупі бар", "Мердігер", "Сақтау", "↗ —")
RU = Words("Русский", "Есть риск невыполнения", "Подрядчик", "Сохранить", "↗ —")


@pytest.mark.parametrize("words", [KK, RU], ids=["kk", "ru"])
async def test_taps_from_the_request_message(
    live_settings: Settings,
    clock: FrozenClock,
    emulator: BotApiEmulator,
    session_maker: SessionMaker,
    words: Words,
) -> None:
    async with live_bot(live_settings, clock, emulator):
        items = [f"/additem {code} edu 2027-12-01 Тармақ {code} | Пункт" for code in CODES]
        # Every item reported on track at 60% a week ago: what "near the current" is near.
        earlier = dict.fromkeys(CODES, EarlierReport("on_track", 60))
        head = (HEAD, words.language)
        request = await education_round(
            emulator, clock, session_maker, head, items, earlier=earlier
        )

        # An unchanged item: one tap on its ✓.
        taps = TapCounter(emulator, HEAD)
        listing = await taps.press(request, "✓ 60%", row=1)  # 1.1's, on the row under its title
        assert taps.count == 1

        # Progress near the current value: the item, ↗ 70%, Save; nothing typed.
        taps = TapCounter(emulator, HEAD)
        screen = await taps.press(listing, "1.2")
        assert words.quick_hint in screen.text
        screen = await taps.press(screen, "↗ 70%")
        assert "70%" in screen.text and screen.button(words.save)
        screen = await taps.press(screen, words.save)
        assert (taps.count, taps.typed) == (3, 0)
        assert "1.3" in screen.text  # the next item, already open

        # At risk with a cause and a comment: the item is open; at risk, the cause, the
        # comment typed, Save. Opening it from the request message is the fourth tap.
        taps = TapCounter(emulator, HEAD)
        taps.count = 1  # 1.3 came by itself; from the request message it is one tap away
        screen = await taps.press(screen, words.at_risk)
        screen = await taps.press(screen, words.contractor)
        screen = await taps.type(screen, "Мердігер ауысты, жаңа келісімшарт керек")
        assert "60%" in screen.text  # the reported percent, kept
        await taps.press(screen, words.save)
        assert (taps.count, taps.typed) == (4, 1)
        await emulator.wait_idle()
        assert [request.summary() for request in emulator.errors] == []

    newest = dict(await coded_updates(session_maker))
    assert newest["1.1"].confirmation and newest["1.1"].progress == 60
    assert (newest["1.2"].status, newest["1.2"].progress) == ("on_track", 70)
    assert not newest["1.2"].confirmation
    risk = newest["1.3"]
    assert (risk.status, risk.progress, risk.cause) == ("at_risk", 60, "contractor")
    assert risk.comment == "Мердігер ауысты, жаңа келісімшарт керек"
