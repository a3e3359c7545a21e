"""End to end over HTTP (issue 22, "the dialog on a phone"), for a kk and a ru head: ✓
buttons that show a risk, progress buttons around the current value, a typed answer that
edits the card in place, Cancel mid-round that says what stays saved with [Back to the list],
and the round's closing line after the last ✓. The whole round sends no new message."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from bot.app.config import Settings
from bot.core.clock import FrozenClock
from bot.sandbox.emulator import BotApiEmulator
from db.engine import SessionMaker
from tests.helpers.e2e import (
    EarlierReport,
    coded_updates,
    education_round,
    live_bot,
    press,
    tap,
)

HEAD = 4401
CODES = ("1.1", "1.2", "1.3")


@dataclass(frozen=True)
class Words:
    language: str
    on_track: str
    risky_check: str
    keep: str
    cancel: str
    cancelled: str
    stays: str
    back: str
    closing: str


KK = Words(
    "Қазақша",
    "Жоспар бойынша",
    "✓ қауіп, 20%",
    "60% қалдыру",
    "Бас тарту",
    "Бас тартылды: 1.2 тармағы өзгеріссіз қалды.",
    "сақталған жауаптар қалады: 1 тармақ.",
    "Тізімге оралу",
    "3 тармақ:",
)
RU = Words(
    "Русский",
    "По плану",
    "✓ риск, 20%",
    "Оставить 60%",
    "Отмена",
    "Отменено: пункт 1.2 остался без изменений.",
    "Сохранённые ответы по этому запросу остаются: 1 пункт.",
    "К списку",
    "3 пункта:",
)


# A week ago: 1.1 on track at 60%, 1.2 at risk at 20%, 1.3 on track at 40%.
EARLIER = {
    "1.1": EarlierReport("on_track", 60),
    "1.2": EarlierReport("at_risk", 20, "financing", "Қаржы бөлінбеді"),
    "1.3": EarlierReport("on_track", 40),
}


@pytest.mark.parametrize("words", [KK, RU], ids=["kk", "ru"])
async def test_a_round_on_a_phone_stays_in_one_message(
    live_settings: Settings,
    clock: FrozenClock,
    emulator: BotApiEmulator,
    session_maker: SessionMaker,
    words: Words,
) -> None:
    async with live_bot(live_settings, clock, emulator):
        items = [f"/additem {code} edu 2025-12-01 Мектеп {code} | Школа" for code in CODES]
        head = (HEAD, words.language)
        request = await education_round(
            emulator, clock, session_maker, head, items, earlier=EARLIER
        )
        sent_before = len([m for m in emulator.messages(HEAD) if m.from_bot])

        # The ✓ of the risky item says so; the others show their percent.
        labels = [text for row in request.buttons for text, _data in row]
        assert words.risky_check in labels and "✓ 60%" in labels and "✓ 40%" in labels

        # 1.1: progress around the current 60%, a typed comment: the card changes in place.
        screen = await tap(emulator, HEAD, request, "1.1")
        screen = await tap(emulator, HEAD, screen, words.on_track)
        progress = [text for row in screen.buttons for text, _data in row][:5]
        assert progress == [words.keep, "65%", "70%", "85%", "100%"]
        screen = await tap(emulator, HEAD, screen, "70%")
        emulator.send_text(HEAD, "Жұмыс жүріп жатыр, 40 сынып дайын")
        screen = await emulator.next_edit(HEAD)
        assert screen.message_id == request.message_id and "40 сынып дайын" in screen.text
        screen = await press(emulator, HEAD, screen, screen.buttons[0][0][1] or "")  # Save
        assert "1.2" in screen.text  # the next item, in the same message

        # Cancel at 1.2: what stays saved, and the way back to the list.
        screen = await tap(emulator, HEAD, screen, words.cancel)
        assert words.cancelled in screen.text and words.stays in screen.text
        listing = await tap(emulator, HEAD, screen, words.back)

        # ✓ on the last two items: the round's closing line after the last one.
        listing = await tap(emulator, HEAD, listing, words.risky_check)
        listing = await tap(emulator, HEAD, listing, "✓ 40%")
        assert words.closing in listing.text

        assert len([m for m in emulator.messages(HEAD) if m.from_bot]) == sent_before
        await emulator.wait_idle()
        assert [request.summary() for request in emulator.errors] == []

    saved = (await coded_updates(session_maker))[3:]  # after the seeded reports
    assert [(code, u.status, u.progress, u.confirmation) for code, u in saved] == [
        ("1.1", "on_track", 70, False),
        ("1.2", "at_risk", 20, True),
        ("1.3", "on_track", 40, True),
    ]
    assert saved[0][1].comment == "Жұмыс жүріп жатыр, 40 сынып дайын"
