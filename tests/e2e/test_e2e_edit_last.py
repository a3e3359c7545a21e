"""End to end over HTTP (issue 22): "Edit my last update" on the item's card, for its
author within the window (24 h by default), in both languages. The change of percent and
comment becomes a correction entry: the original kept and marked corrected, the history
showing both, and the round's answer, /stats and the forecast's history counting one answer.
After the window the button is gone and an old one says why."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, timedelta

import pytest
from openpyxl import load_workbook
from sqlmodel import col, select

from bot.app.config import Settings
from bot.core.clock import FrozenClock
from bot.risk.forecast_data import read_histories
from bot.sandbox.emulator import BotApiEmulator
from bot.spreadsheets.stats import department_stats
from bot.telegram.callbacks import EditUpdate
from db.engine import SessionMaker
from db.models import RoundRequest, StatusUpdate
from tests.helpers.chat import ADMIN_ID
from tests.helpers.e2e import (
    education_round,
    live_bot,
    say,
    tap,
    typed,
    walk,
)

HEAD = 4501


@dataclass(frozen=True)
class Words:
    language: str
    on_track: str
    save: str
    edit: str
    change_percent: str
    correction_title: str
    corrected: str
    late: str
    corrected_mark: str
    follow_up: str  # #38: once nothing waits, the worklist's line does not read like a task
    task: str
    corrected_on: str  # the export's History: the original, then the correction
    correction_of: str


KK = Words(
    language="Қазақша",
    on_track="Жоспар бойынша",
    save="Сақтау",
    edit="Соңғы жаңартуымды түзету",
    change_percent="Пайызды өзгерту",
    correction_title="Соңғы жаңартуыңыздың түзетуі",
    corrected="Түзетілді: 1.1 тармағы енді — жоспар бойынша, 75%.",
    late="Бұл жаңартуды түзету мерзімі өтті",
    corrected_mark="(кейін түзетілді)",
    follow_up="Тағы бірдеңені өзгерту керек пе? Тармақты басыңыз.",
    task="Жай-күйін жаңарту үшін тармақты басыңыз.",
    corrected_on="{moment} түзетілді",
    correction_of="{moment} жазбасының түзетуі",
)
RU = Words(
    language="Русский",
    on_track="По плану",
    save="Сохранить",
    edit="Исправить моё последнее обновление",
    change_percent="Изменить %",
    correction_title="Исправление вашего последнего обновления",
    corrected="Исправлено: пункт 1.1 теперь — по плану, 75%.",
    late="Время на исправление этого обновления истекло",
    corrected_mark="(позже исправлено)",
    follow_up="Изменить что-то ещё? Нажмите на пункт.",
    task="Нажмите на пункт, чтобы обновить его статус.",
    corrected_on="исправлено {moment}",
    correction_of="исправление записи от {moment}",
)


async def _updates(session_maker: SessionMaker) -> list[StatusUpdate]:
    async with session_maker() as session:
        statement = select(StatusUpdate).order_by(col(StatusUpdate.id))
        return list((await session.exec(statement)).all())


@pytest.mark.parametrize("words", [KK, RU], ids=["kk", "ru"])
async def test_the_author_corrects_the_last_update_within_the_window(
    live_settings: Settings,
    clock: FrozenClock,
    emulator: BotApiEmulator,
    session_maker: SessionMaker,
    words: Words,
) -> None:
    async with live_bot(live_settings, clock, emulator):
        items = ["/additem 1.1 edu 2027-12-01 Мектеп салу | Школа"]
        request = await education_round(
            emulator,
            clock,
            session_maker,
            (HEAD, words.language),
            items,
            secretariat_language=words.language,  # the export's language too
        )

        # The round's answer: on track, 50%.
        screen = await tap(emulator, HEAD, request, "1.1")
        assert words.edit not in str(screen.buttons)  # nothing of the head's to correct yet
        await walk(emulator, HEAD, screen, words.on_track, "50%", words.save)
        clock.advance(timedelta(hours=2))

        # Reopened from /myitems: the head's own update offers "Edit my last update".
        listing = await say(emulator, HEAD, "/myitems")
        assert words.follow_up in listing.text and words.task not in listing.text
        screen = await tap(emulator, HEAD, listing, "1.1")
        screen = await tap(emulator, HEAD, screen, words.edit)
        assert words.correction_title in screen.text and "50%" in screen.text
        screen = await tap(emulator, HEAD, screen, words.change_percent)
        screen = await tap(emulator, HEAD, screen, "75%")
        assert words.correction_title in screen.text and "75%" in screen.text
        # The summary, in place.
        screen = await typed(emulator, HEAD, screen, "Екі мектеп қосылды, түзетілген мәлімет")
        screen = await tap(emulator, HEAD, screen, words.save)
        assert words.corrected in screen.text, screen.text
        original_id = (await _updates(session_maker))[0].id
        assert original_id is not None

        # The history shows both: the correction marked ✏️, the original "corrected later".
        card = await say(emulator, HEAD, "/item 1.1")
        lines = card.text.splitlines()
        (fixed,) = [line for line in lines if line.startswith("✏️") and "75%" in line]
        assert "Екі мектеп қосылды" in fixed
        (kept,) = [line for line in lines if "50%" in line and words.corrected_mark in line]
        assert not kept.startswith("✏️")
        # The card offers its author the correction too (of the correction, from the answer).
        assert card.buttons[0] == [("✏️ " + words.edit, f"rx:{original_id + 1}")]

        # The secretariat's export: the correction is an entry of its own in History, the
        # original marked corrected, and the item's current columns are the correction's.
        export = await say(emulator, ADMIN_ID, "/export")
        assert export.document is not None
        book = load_workbook(io.BytesIO(emulator.file_bytes(export.document["file_id"])))
        items, history = book.worksheets[0], book.worksheets[1]
        (item_row,) = [row for row in items.iter_rows(min_row=2, values_only=True)]
        assert (item_row[0], item_row[9]) == ("1.1", 75)
        assert item_row[13] == "Екі мектеп қосылды, түзетілген мәлімет"
        kept_row, fixed_row = list(history.iter_rows(min_row=2, values_only=True))
        first, second = await _updates(session_maker)

        def moment(update: StatusUpdate) -> str:
            stored = update.created_at  # SQLite hands back naive UTC
            stored = stored if stored.tzinfo else stored.replace(tzinfo=UTC)
            return f"{stored.astimezone(live_settings.tz):%d.%m.%Y %H:%M}"

        assert (kept_row[5], kept_row[6]) == (50, None)
        assert kept_row[9] == words.corrected_on.format(moment=moment(second))
        assert (fixed_row[5], fixed_row[6]) == (75, "Екі мектеп қосылды, түзетілген мәлімет")
        assert fixed_row[9] == words.correction_of.format(moment=moment(first))

        # After the window (24 h from the answer): no button, and an old one says why.
        clock.advance(timedelta(hours=23))
        listing = await say(emulator, HEAD, "/myitems")
        screen = await tap(emulator, HEAD, listing, "1.1")
        assert words.edit not in str(screen.buttons)
        card = await say(emulator, HEAD, "/item 1.1")
        assert words.edit not in str(card.buttons)
        stale = EditUpdate(update_id=original_id + 1).pack()
        query = emulator.send_callback(HEAD, screen.message_id, stale)
        answer = await emulator.wait_callback_answer(query)
        assert words.late in answer["text"]
        await emulator.wait_idle()
        assert [request.summary() for request in emulator.errors] == []

    original, correction = await _updates(session_maker)
    assert (original.progress, original.corrected, original.comment) == (50, True, None)
    assert correction.corrects_id == original.id and not correction.corrected
    assert (correction.status, correction.progress) == ("on_track", 75)
    assert correction.comment == "Екі мектеп қосылды, түзетілген мәлімет"
    assert correction.author_id == original.author_id
    assert correction.created_at > original.created_at
    async with session_maker() as session:
        (request_row,) = (await session.exec(select(RoundRequest))).all()
        stats = await department_stats(session, today=clock.now().date())
        histories = await read_histories(session, None, live_settings.tz, None)
    # One answer: the round's request answered by the report, not again by its correction.
    assert request_row.answered_at == original.created_at
    (edu,) = stats
    assert (edu.requests, edu.answered) == (1, 1)
    # The forecast reads one report for the item: the correction stands for the original.
    (history,) = histories.values()
    assert [progress for _day, progress in history.history] == [75]
