"""The exported workbook, opened again with openpyxl and checked cell by cell."""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiogram.methods import SendDocument
from aiogram.utils.i18n import I18n
from openpyxl import load_workbook
from openpyxl.workbook.workbook import Workbook

from bot.app.cli_spreadsheets import cli_export
from bot.app.config import Settings
from bot.core.clock import FrozenClock
from bot.risk.rules import RiskThresholds
from bot.spreadsheets.export import build_export
from bot.spreadsheets.parse import parse_spreadsheet
from bot.spreadsheets.plan import plan_import
from bot.spreadsheets.texts import localized_header_aliases
from bot.telegram.i18n import in_locale
from db.engine import SessionMaker
from tests.helpers.chat import ADMIN_ID, Chatter, register_admin
from tests.helpers.history import FORMULA_COMMENT, seed_history

TZ = ZoneInfo("Asia/Almaty")
THRESHOLDS = RiskThresholds()
TODAY = date(2025, 3, 3)


@pytest.fixture
def fixed_risks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Risk reasons belong to bot.risk.assess and are tested there; here they are given."""

    async def risk_labels(session: Any, **kwargs: Any) -> dict[int, list[str]]:
        return {1: ["первая причина", "вторая причина"], 6: ["+7 дней"]}

    monkeypatch.setattr("bot.spreadsheets.export.risk_labels", risk_labels)
    monkeypatch.setattr("bot.spreadsheets.export.cause_label", lambda cause: cause or "")


def values(sheet: Any) -> list[list[Any]]:
    return [list(row) for row in sheet.iter_rows(values_only=True)]


async def export(session_maker: SessionMaker, i18n: I18n, locale: str) -> Workbook:
    async with session_maker() as session:
        with in_locale(i18n, locale):
            data = await build_export(session, today=TODAY, tz=TZ, thresholds=THRESHOLDS)
    return load_workbook(io.BytesIO(data))


@pytest.mark.usefixtures("fixed_risks")
async def test_items_sheet_cell_by_cell(
    session_maker: SessionMaker, clock: FrozenClock, i18n: I18n
) -> None:
    await seed_history(session_maker, clock)
    workbook = await export(session_maker, i18n, "ru")

    def ru(msgid: str) -> str:
        return i18n.gettext(msgid, locale="ru")

    assert workbook.sheetnames == [ru("Items"), ru("History"), ru("Departments")]
    items = workbook[ru("Items")]
    rows = values(items)
    assert rows[0] == [
        ru("Item code"),
        ru("Title in Kazakh"),
        ru("Title in Russian"),
        ru("Department code"),
        ru("Department"),
        ru("Deadline"),
        ru("Deadline as written"),
        ru("Target"),
        ru("Status"),
        ru("Progress, %"),
        ru("Risk reasons"),
        ru("Last update"),
        ru("Author"),
        ru("Comment"),
        ru("Archived"),
        ru("Completion form"),
        ru("Estimated costs"),
        ru("Funding source"),
        ru("Likely date (P50)"),
        ru("Date with 85 percent certainty (P85)"),
        ru("Chance to meet the deadline, %"),
    ]
    assert len(rows) == 9  # header and eight items, ordered by code
    assert [row[0] for row in rows[1:]] == ["1.1", "1.2", "2.1", "2.2", "3.1", "3.2", "4.1", "5.1"]
    assert rows[1] == [
        "1.1",
        "Тармақ 1.1",
        "Пункт 1.1",
        "edu",
        "Управление образования",
        datetime(2025, 9, 1),
        None,
        "100%",
        ru("at risk of not being met"),
        30,
        "первая причина; вторая причина",
        datetime(2025, 2, 20, 15, 0),  # 10:00 UTC is 15:00 in Almaty
        "Айгүл Сейітова",
        FORMULA_COMMENT,
        None,
        None,  # no completion form, costs or funding
        None,
        None,
        None,  # two reports: not enough for a forecast
        None,
        None,
    ]
    assert rows[6][8:13] == [ru("no reports yet"), None, "+7 дней", None, None]
    assert rows[8][14] == ru("yes")  # 5.1 is archived

    comment = items["N2"]
    assert comment.data_type == "s" and comment.value == FORMULA_COMMENT
    assert items["K7"].data_type == "s" and items["K7"].value == "+7 дней"
    assert items["F2"].is_date and items["F2"].number_format == "DD.MM.YYYY"
    assert items["L2"].is_date and items["L2"].number_format == "DD.MM.YYYY HH:MM"
    assert items.freeze_panes == "A2"
    assert items.auto_filter.ref == "A1:U9"


@pytest.mark.usefixtures("fixed_risks")
async def test_no_formula_reaches_the_file(
    session_maker: SessionMaker, clock: FrozenClock, i18n: I18n
) -> None:
    """Checked in the XML itself: no cell is stored as a formula anywhere."""
    await seed_history(session_maker, clock)
    async with session_maker() as session:
        with in_locale(i18n, "kk"):
            data = await build_export(session, today=TODAY, tz=TZ, thresholds=THRESHOLDS)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        sheets = [name for name in archive.namelist() if name.startswith("xl/worksheets/")]
        assert len(sheets) == 3
        for name in sheets:
            assert b"<f>" not in archive.read(name) and b"<f " not in archive.read(name)
        everything = b"".join(archive.read(name) for name in archive.namelist())
    assert b"HYPERLINK" in everything  # the text is there, as text


@pytest.mark.usefixtures("fixed_risks")
async def test_history_and_departments_sheets(
    session_maker: SessionMaker, clock: FrozenClock, i18n: I18n
) -> None:
    await seed_history(session_maker, clock)
    workbook = await export(session_maker, i18n, "kk")

    def kk(msgid: str) -> str:
        return i18n.gettext(msgid, locale="kk")

    history = values(workbook[kk("History")])
    assert len(history) == 8  # header and every one of the seven updates, oldest first
    assert history[0][:3] == [kk("Item code"), kk("Date and time"), kk("Department")]
    assert [row[0] for row in history[1:]] == ["1.2", "2.2", "3.1", "1.1", "1.1", "2.1", "3.1"]
    assert history[5] == [
        "1.1",
        datetime(2025, 2, 20, 15, 0),
        "Білім басқармасы",
        "Айгүл Сейітова",
        kk("at risk of not being met"),
        30,
        FORMULA_COMMENT,
        "contractor",
        None,
        None,  # no correction
    ]
    sheet = workbook[kk("History")]
    assert sheet["G6"].data_type == "s"
    assert sheet["D8"].value == "=cmd|' /C calc'!A0" and sheet["D8"].data_type == "s"
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == "A1:J8"

    departments = values(workbook[kk("Departments")])
    assert [row[0] for row in departments[1:]] == ["water", "build", "health", "edu", "culture"]
    water, build, health, edu, culture = departments[1:]
    assert water[2:] == [8, 0, 0, None, None, 0]
    assert build[2:] == [2, 1, 0.5, 3.0, datetime(2025, 3, 1, 15, 0), 1]
    assert health[2:] == [8, 4, 0.5, 2.0, datetime(2025, 2, 25, 15, 0), 0]
    assert edu[2:] == [8, 8, 1, 0.3, datetime(2025, 2, 20, 15, 0), 1]
    assert culture[2:] == [0, 0, None, None, None, 0]
    assert workbook[kk("Departments")]["E3"].number_format == "0%"


async def test_export_command_and_cli(
    chatter: Chatter,
    session_maker: SessionMaker,
    clock: FrozenClock,
    settings: Settings,
    tmp_path: Path,
) -> None:
    await register_admin(chatter, "ru")
    await seed_history(session_maker, clock)
    (document,) = [
        r for r in await chatter.send(ADMIN_ID, "/export") if isinstance(r, SendDocument)
    ]
    assert document.document.filename == "roadmap-2025-03-03.xlsx"
    workbook = load_workbook(io.BytesIO(document.document.data))
    assert workbook.worksheets[0].max_row == 9

    path = tmp_path / "out.xlsx"
    assert await cli_export(settings, path, locale="kk") == 0
    assert load_workbook(path).worksheets[0]["A2"].value == "1.1"


@pytest.mark.parametrize("locale", ["kk", "ru"])
async def test_an_export_reads_back_as_an_import(
    session_maker: SessionMaker, clock: FrozenClock, i18n: I18n, locale: str
) -> None:
    """The Items sheet uses the template's headers, so an edited export can be imported."""
    await seed_history(session_maker, clock)
    async with session_maker() as session:
        with in_locale(i18n, locale):
            data = await build_export(session, today=TODAY, tz=TZ, thresholds=THRESHOLDS)
        parsed = parse_spreadsheet(
            data, "export.xlsx", extra_aliases=localized_header_aliases(i18n)
        )
        plan = await plan_import(session, parsed)
    assert parsed.errors == [] and len(parsed.rows) == 8
    assert (len(plan.unchanged), plan.new, plan.updated) == (8, [], [])
