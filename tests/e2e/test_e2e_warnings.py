"""End to end over HTTP (issue 22, #3): "on track past the deadline" warns on every path
that saves "on track": Save, "no change" in the dialog, the worklist's one-tap ✓ and
"everything else unchanged", for a Kazakh- and a Russian-speaking head."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest

from bot.app.config import Settings
from bot.core.clock import FrozenClock
from bot.sandbox.emulator import BotApiEmulator
from db.engine import SessionMaker
from db.models import StatusUpdate
from tests.helpers.e2e import (
    EDUCATION,
    At,
    EarlierReport,
    build_world,
    live_bot,
    say,
    seed_reports,
    tap,
    updates_of,
    walk,
)

HEAD = 4301
CODES = ("1.1", "1.2", "1.3", "1.4", "1.5")


@dataclass(frozen=True)
class Words:
    language: str
    on_track: str
    warning: str
    anyway: str
    no_change: str
    rest: str
    yes: str


KK = Words(
    "Қазақша",
    "Жоспар бойынша",
    "Орындау мерзімі өтіп кетті, ал жай-күйі «жоспар бойынша»",
    "Бәрібір сақтау",
    "Өзгеріс жоқ",
    "Қалғаны өзгеріссіз",
    "Иә, өзгеріс жоқ",
)
RU = Words(
    "Русский",
    "По плану",
    "Срок исполнения прошёл, а статус — «по плану»",
    "Всё равно сохранить",
    "Без изменений",
    "Остальное без изменений",
    "Да, без изменений",
)


async def _seed_on_track(session_maker: SessionMaker, clock: FrozenClock) -> None:
    """Every item was reported on track a month ago; all of them are overdue now."""
    reports = dict.fromkeys(CODES, EarlierReport("on_track", 40))
    await seed_reports(session_maker, HEAD, clock.now() - timedelta(days=30), reports)


async def _saved(session_maker: SessionMaker, code: str) -> list[StatusUpdate]:
    return (await updates_of(session_maker, code))[1:]  # after the seeded report


@pytest.mark.parametrize("words", [KK, RU], ids=["kk", "ru"])
async def test_on_track_past_the_deadline_warns_on_all_four_saving_paths(
    live_settings: Settings,
    clock: FrozenClock,
    emulator: BotApiEmulator,
    session_maker: SessionMaker,
    words: Words,
) -> None:
    async with live_bot(live_settings, clock, emulator):
        items = [f"/additem {code} edu 2025-02-01 Мектеп {code} | Школа" for code in CODES]
        await build_world(emulator, [EDUCATION, *items], [(HEAD, "edu", words.language)])
        await _seed_on_track(session_maker, clock)  # the deadlines passed a month ago

        # 1. Save: on track, 50%.
        screen = await say(emulator, HEAD, "/report 1.1")
        screen = await walk(emulator, HEAD, screen, words.on_track, "50%", At(0, 0))
        assert words.warning in screen.text and await _saved(session_maker, "1.1") == []
        await tap(emulator, HEAD, screen, words.anyway)

        # 2. "No change" in the dialog: held back with the warning, saved by "anyway".
        screen = await say(emulator, HEAD, "/report 1.2")
        screen = await tap(emulator, HEAD, screen, words.no_change)
        assert words.warning in screen.text and await _saved(session_maker, "1.2") == []
        await tap(emulator, HEAD, screen, words.anyway)

        # 3. The worklist's one-tap ✓: the item's summary with the warning, then "anyway".
        listing = await say(emulator, HEAD, "/myitems")
        emulator.press_button(HEAD, listing.message_id, _confirm_data(listing))
        screen = await emulator.next_edit(HEAD)
        assert screen.message_id == listing.message_id
        assert words.warning in screen.text and "1.3" in screen.text
        assert await _saved(session_maker, "1.3") == []
        await tap(emulator, HEAD, screen, words.anyway)

        # 4. "Everything else unchanged": the list marks the overdue items before the one tap.
        listing = await say(emulator, HEAD, "/myitems")
        screen = await tap(emulator, HEAD, listing, words.rest)
        marked = [line for line in screen.text.splitlines() if line.startswith("⚠️")]
        assert [line.split()[1] for line in marked[:-1]] == ["1.4", "1.5"]
        assert words.warning.split(",")[0] in marked[-1]
        await tap(emulator, HEAD, screen, words.yes)

        await emulator.wait_idle()
        assert [request.summary() for request in emulator.errors] == []

    (saved,) = await _saved(session_maker, "1.1")
    assert (saved.status, saved.progress, saved.confirmation) == ("on_track", 50, False)
    for code in ("1.2", "1.3", "1.4", "1.5"):
        (repeated,) = await _saved(session_maker, code)
        assert (repeated.status, repeated.progress, repeated.confirmation) == ("on_track", 40, True)


def _confirm_data(listing: object) -> str:
    """The first ✓ of the worklist (the first waiting item, 1.3)."""
    buttons = listing.buttons  # type: ignore[attr-defined]
    return next(data for row in buttons for _text, data in row if data and data.startswith("rn:"))
