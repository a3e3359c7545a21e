"""End to end over HTTP (issue 22, language-34019b8.md), for a kk and a ru head: the round's
buttons fit a phone and say what they do.

- B8: every item of the request has a full-width row; its ✓ is on the row under it.
- B10: "no change" names the status with its short word («есть риск», «қаупі бар»).
- B9: the button that restarts the answers says so («Заполнить заново», «Қайта толтыру»).
- K14/R10/K15: the confirm step says «фото или файл», with no word said twice.
- R8/K12: "everything else unchanged" names the items with no report without a pronoun.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from bot.app.config import Settings
from bot.core.clock import FrozenClock
from bot.sandbox.emulator import BotApiEmulator
from db.engine import SessionMaker
from tests.helpers.e2e import (
    EarlierReport,
    education_round,
    live_bot,
    say,
    tap,
)

HEAD = 4701
CODES = ("1.1", "1.2", "1.3")
LONG_RU = "Строительство инженерных сетей индустриальной зоны «Оңтүстік»"
LONG_KK = "«Оңтүстік» индустриалдық аймағының инженерлік желілерін салу"


@dataclass(frozen=True)
class Words:
    language: str
    no_change_risk: str
    on_track: str
    keep: str
    fill_again: str
    also: str
    rest: str
    without_report: str


KK = Words(
    "Қазақша",
    "Өзгеріс жоқ — қаупі бар, 40%",
    "Жоспар бойынша",
    "40% қалдыру",
    "Қайта толтыру",
    "фото не файл жіберуге де болады",
    "Қалғаны өзгеріссіз",
    "Тағы 1 тармақ бойынша жай-күйі әлі берілмеген: әр тармақты жеке ашып, толтырыңыз.",
)
RU = Words(
    "Русский",
    "Без изменений — есть риск, 40%",
    "По плану",
    "Оставить 40%",
    "Заполнить заново",
    "новое значение хода исполнения (%) либо отправить фото или файл",
    "Остальное без изменений",
    "Ещё по 1 пункту статус не сообщался: откройте пункт из списка и заполните.",
)


# A week ago: 1.1 on track at 60%, 1.2 at risk at 40%; 1.3 has no report.
EARLIER = {"1.1": EarlierReport("on_track", 60), "1.2": EarlierReport("at_risk", 40, "financing")}


@pytest.mark.parametrize("words", [KK, RU], ids=["kk", "ru"])
async def test_the_rounds_buttons_fit_a_phone_and_say_what_they_do(
    live_settings: Settings,
    clock: FrozenClock,
    emulator: BotApiEmulator,
    session_maker: SessionMaker,
    words: Words,
) -> None:
    async with live_bot(live_settings, clock, emulator):
        items = [f"/additem {code} edu 2025-12-01 {LONG_KK} | {LONG_RU}" for code in CODES]
        head = (HEAD, words.language)
        request = await education_round(
            emulator, clock, session_maker, head, items, earlier=EARLIER
        )

        # B8: one button per row; an item's ✓ right under it; titles cut at 40 with «…».
        rows = [[text for text, _data in row] for row in request.buttons]
        assert all(len(row) == 1 for row in rows), rows
        labels = [row[0] for row in rows]
        for code in ("1.1", "1.2"):
            at = next(i for i, label in enumerate(labels) if label.startswith(code))
            assert labels[at + 1].startswith("✓ ")
            assert labels[at].endswith("…") and len(labels[at]) <= len(code) + 3 + 40

        # B10: the short status word on "no change".
        screen = await tap(emulator, HEAD, request, "1.2 ·")
        assert screen.buttons[0][0][0] == words.no_change_risk

        # B9 and K14/R10: the confirm step.
        screen = await tap(emulator, HEAD, screen, words.on_track)
        screen = await tap(emulator, HEAD, screen, words.keep)
        assert any(text == words.fill_again for row in screen.buttons for text, _ in row)
        assert words.also in screen.text

        # R8/K12: "everything else unchanged" names the item with no report, no pronoun.
        listing = await say(emulator, HEAD, "/myitems")
        rest = await tap(emulator, HEAD, listing, words.rest)
        assert words.without_report in rest.text

        await emulator.wait_idle()
        assert [request.summary() for request in emulator.errors] == []
