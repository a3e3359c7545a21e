"""The DOCX report for the central office, opened again with python-docx."""

from __future__ import annotations

import io
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiogram.methods import SendDocument, SendMessage
from aiogram.utils.i18n import I18n
from docx import Document
from sqlmodel import col, select

from bot.core.clock import FrozenClock
from bot.reporting.service import record_correction
from bot.risk.rules import RiskThresholds
from bot.spreadsheets.risk_report import build_risk_report
from bot.telegram.i18n import format_day, in_locale
from bot.telegram.menus import RISK_REPORT
from bot.telegram.texts import usage_line
from db.engine import SessionMaker
from db.models import Person, RoadmapItem, StatusUpdate
from tests.helpers.chat import ADMIN_ID, Chatter, register_admin
from tests.helpers.history import FORMULA_COMMENT, seed_history

TZ = ZoneInfo("Asia/Almaty")
THRESHOLDS = RiskThresholds()
TODAY = date(2025, 3, 3)


@pytest.fixture
def fixed_risks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Reasons come from bot.risk.assess (tested there); here they are fixed, per item code."""

    async def risk_labels(session: Any, **kwargs: Any) -> dict[int, list[str]]:
        assert kwargs["year"] == 2025
        return {1: ["заявлен риск"], 2: ["просрочено", "нет обновлений"], 5: ["не будет выполнено"]}

    monkeypatch.setattr("bot.spreadsheets.risk_report.risk_labels", risk_labels)
    monkeypatch.setattr(
        "bot.spreadsheets.risk_report.cause_label", lambda cause: f"<{cause}>" if cause else ""
    )


def text_of(document: Any) -> str:
    return "\n".join(paragraph.text for paragraph in document.paragraphs)


@pytest.mark.usefixtures("fixed_risks")
async def test_report_table_and_totals(
    session_maker: SessionMaker, clock: FrozenClock, i18n: I18n
) -> None:
    await seed_history(session_maker, clock)
    async with session_maker() as session:
        with in_locale(i18n, "ru"):
            data = await build_risk_report(session, today=TODAY, tz=TZ, thresholds=THRESHOLDS)
            expected_date = format_day(TODAY)
            header = [
                "№",
                i18n.gettext("Item"),
                i18n.gettext("Responsible department"),
                i18n.gettext("Deadline"),
                i18n.gettext("Risk reasons"),
                i18n.gettext("Cause given by the department"),
                i18n.gettext("Department's latest explanation"),
                i18n.gettext("Forecast"),
            ]
            too_few = i18n.gettext(
                "not enough updates yet (it needs at least 3, a week or more apart)"
            )
            # Exclusive counts that add up: 2 done + 0 on track + 3 at risk + 2 no reports = 7.
            totals = [
                i18n.gettext("Items in the Road Map: {count}").format(count=7),
                i18n.gettext("Done: {count}").format(count=2),
                i18n.gettext("On track: {count}").format(count=0),
                i18n.gettext("At risk of not being met: {count}").format(count=3),
                i18n.gettext(
                    "of them overdue: {overdue}; declared by the department: {declared}"
                ).format(overdue=1, declared=2),
                i18n.gettext("No reports yet: {count}").format(count=2),
            ]
            addressee = i18n.gettext("To: ____________________________________")
            bot_line = "Draft prepared by the Road Map bot: check and edit it before sending."
    document = Document(io.BytesIO(data))
    text = text_of(document)
    assert (
        i18n.gettext("Road Map {year}: items at risk of not being met", locale="ru").format(
            year=2025
        )
        in text
    )
    assert expected_date in text
    for line in totals:
        assert line in text
    assert text.startswith(
        i18n.gettext("Road Map {year}: items at risk of not being met", locale="ru").format(
            year=2025
        )
    )
    assert addressee in text and i18n.gettext(bot_line, locale="ru") not in text
    assert text.rstrip().endswith(i18n.gettext("Date: ____________", locale="ru"))
    footer = document.sections[0].footer.paragraphs[0]._p.xml
    assert 'w:instr="PAGE"' in footer  # page numbers

    (table,) = document.tables
    cells = [[cell.text for cell in row.cells] for row in table.rows]
    assert cells[0] == header
    # Ordered by code.
    assert cells[1:] == [
        [
            "1",
            "1.1 Пункт 1.1",
            "Управление образования",
            format_day(date(2025, 9, 1), "ru"),
            "заявлен риск",
            "<contractor>",
            f"{FORMULA_COMMENT} ({format_day(date(2025, 2, 20), 'ru')})",
            too_few,
        ],
        [
            "2",
            "1.2 Пункт 1.2",
            "Управление образования",
            format_day(date(2025, 2, 1), "ru"),
            "просрочено; нет обновлений",
            "",
            "",
            too_few,
        ],
        [
            "3",
            "3.1 Пункт 3.1",
            "Управление строительства",
            format_day(date(2025, 6, 30), "ru"),
            "не будет выполнено",
            "<funding>",
            f"Подрядчик выбран ({format_day(date(2025, 2, 1), 'ru')})",
            too_few,
        ],
    ]


@pytest.mark.usefixtures("fixed_risks")
async def test_report_in_kazakh_uses_kazakh_names(
    session_maker: SessionMaker, clock: FrozenClock, i18n: I18n
) -> None:
    await seed_history(session_maker, clock)
    async with session_maker() as session:
        with in_locale(i18n, "kk"):
            data = await build_risk_report(session, today=TODAY, tz=TZ, thresholds=THRESHOLDS)
    (table,) = Document(io.BytesIO(data)).tables
    assert table.rows[0].cells[1].text == i18n.gettext("Item", locale="kk")
    assert [row.cells[2].text for row in table.rows[1:]] == [
        "Білім басқармасы",
        "Білім басқармасы",
        "Құрылыс басқармасы",
    ]
    assert table.rows[1].cells[1].text == "1.1 Тармақ 1.1"


async def test_report_without_risks_has_no_table(
    session_maker: SessionMaker, clock: FrozenClock, i18n: I18n, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def nothing(session: Any, **kwargs: Any) -> dict[int, list[str]]:
        return {}

    monkeypatch.setattr("bot.spreadsheets.risk_report.risk_labels", nothing)
    await seed_history(session_maker, clock)
    async with session_maker() as session:
        with in_locale(i18n, "ru"):
            document = Document(
                io.BytesIO(
                    await build_risk_report(session, today=TODAY, tz=TZ, thresholds=THRESHOLDS)
                )
            )
    assert document.tables == []
    assert i18n.gettext("No items are at risk.", locale="ru") in text_of(document)


async def test_risk_report_command(
    chatter: Chatter, session_maker: SessionMaker, clock: FrozenClock, i18n: I18n
) -> None:
    await register_admin(chatter, "ru")
    await seed_history(session_maker, clock)
    for argument, locale in (("", "ru"), (" kk", "kk"), (" RU", "ru")):
        requests = await chatter.send(ADMIN_ID, f"/risk_report{argument}")
        (document,) = [r for r in requests if isinstance(r, SendDocument)]
        assert document.document.filename == f"risk-report-2025-03-03-{locale}.docx"
        opened = Document(io.BytesIO(document.document.data))
        assert len(opened.tables) == 1
        heading = i18n.gettext("Items at risk", locale=locale)
        assert heading in text_of(opened)
    with in_locale(i18n, "ru"):
        usage = usage_line(RISK_REPORT)
    replies = [
        r.text
        for r in await chatter.send(ADMIN_ID, "/risk_report en")
        if isinstance(r, SendMessage)
    ]
    assert replies == [usage]


@pytest.mark.usefixtures("fixed_risks")
@pytest.mark.parametrize("locale", ["kk", "ru"])
async def test_a_corrected_report_gives_way_to_its_correction(
    session_maker: SessionMaker, clock: FrozenClock, i18n: I18n, locale: str
) -> None:
    """ "Edit my last update" (issue 22): the report shows the correction's explanation, never
    a corrected report's, in both languages; a correction that clears the comment leaves
    the last explanation nobody took back."""
    await seed_history(session_maker, clock)

    async def explanation_of_1_1() -> tuple[str, str]:
        async with session_maker() as session:
            with in_locale(i18n, locale):
                data = await build_risk_report(session, today=TODAY, tz=TZ, thresholds=THRESHOLDS)
        (table,) = Document(io.BytesIO(data)).tables
        (row,) = [r for r in table.rows if r.cells[1].text.startswith("1.1 ")]
        return row.cells[6].text, "\n".join(cell.text for r in table.rows for cell in r.cells)

    async with session_maker() as session:
        original = (
            await session.exec(
                select(StatusUpdate)
                .join(RoadmapItem, col(RoadmapItem.id) == StatusUpdate.item_id)
                .where(RoadmapItem.code == "1.1", StatusUpdate.comment == FORMULA_COMMENT)
            )
        ).one()
        author = await session.get(Person, original.author_id)
        assert author is not None
        correction = await record_correction(
            session,
            person=author,
            original=original,
            comment="Мердігер ауыстырылды",
            now=clock.now(),
        )
        await session.commit()
    corrected_on = format_day(clock.now().astimezone(TZ).date(), locale)
    explanation, everything = await explanation_of_1_1()
    assert explanation == f"Мердігер ауыстырылды ({corrected_on})"
    assert FORMULA_COMMENT not in everything

    async with session_maker() as session:
        correction = await session.get(StatusUpdate, correction.id)
        assert correction is not None
        await record_correction(
            session, person=author, original=correction, comment="", now=clock.now()
        )
        await session.commit()
    explanation, everything = await explanation_of_1_1()
    assert explanation == f"Начали ({format_day(date(2025, 2, 10), locale)})"
    assert FORMULA_COMMENT not in everything and "Мердігер" not in everything
