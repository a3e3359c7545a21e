"""Importing the Road Map from a spreadsheet: parsing, the dry run, Apply and Cancel, the CLI."""

from __future__ import annotations

import io
import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from aiogram.methods import AnswerCallbackQuery, EditMessageText, SendDocument
from aiogram.utils.i18n import I18n
from openpyxl import load_workbook

from bot.app.cli_spreadsheets import cli_import
from bot.app.config import Settings
from bot.core.clock import FrozenClock
from bot.core.limits import TELEGRAM_DOWNLOAD_LIMIT
from bot.spreadsheets.apply import apply_import
from bot.spreadsheets.parse import (
    MAX_ROWS,
    TEMPLATE_COLUMNS,
    Column,
    FileProblem,
    GuessKind,
    RowProblem,
    SpreadsheetFileError,
    parse_spreadsheet,
)
from bot.spreadsheets.plan import plan_import
from bot.spreadsheets.texts import build_template, localized_header_aliases
from bot.telegram.i18n import in_locale
from db.engine import SessionMaker
from db.models import (
    AuditLog,
    DeadlineChange,
    Department,
    Notification,
    Person,
    RoadmapItem,
    Role,
)
from tests.data.spreadsheets.workbooks import (
    EN_HEADERS,
    KK_HEADERS,
    RU_HEADERS,
    RU_ORDER,
    cfb_file,
    csv_bytes,
    roadmap_rows,
    xlsx,
)
from tests.helpers.chat import ADMIN_ID, Chatter, register_admin, rows
from tests.helpers.import_dialog import Files, buttons, seed_departments, send_file, texts
from tests.helpers.mocked_bot import MockedBot
from tests.helpers.webapp import register_member

OUTSIDER = 555


async def load(session_maker: SessionMaker, data: bytes, clock: FrozenClock, name: str = "r.xlsx"):  # type: ignore[no-untyped-def]
    async with session_maker() as session:
        plan = await plan_import(session, parse_spreadsheet(data, name))
        result = await apply_import(session, plan, actor=None, now=clock.now(), source=name)
    return plan, result


# --- Parsing: pure, no database ---


def test_realistic_workbook_is_read_with_a_title_row_and_free_column_order() -> None:
    parsed = parse_spreadsheet(xlsx(roadmap_rows()), "Жол картасы 2025.xlsx")
    assert parsed.errors == []
    assert parsed.data_rows == 93 and len(parsed.rows) == 93
    first, fourth = parsed.rows[0], parsed.rows[3]
    assert first.row_number == 4  # title, blank line, header
    assert (first.code, first.department, first.deadline) == ("1.1.1", "edu", date(2025, 1, 28))
    assert first.title_ru == "Пункт 1.1.1: строительство и ремонт объекта №1"
    assert fourth.deadline == date(2025, 4, 28)  # typed as text «28.04.2025»
    assert parsed.rows[1].target == "11 объектов"


@pytest.mark.parametrize("headers", [KK_HEADERS, EN_HEADERS])
def test_kazakh_and_english_headers(headers: dict[str, str]) -> None:
    order = ("deadline", "title_kk", "code", "target", "title_ru", "department")
    parsed = parse_spreadsheet(xlsx(roadmap_rows(5), headers, order, title_row=None), "a.xlsx")
    assert [row.code for row in parsed.rows] == ["1.1.1", "1.1.2", "1.1.3", "1.1.4", "1.1.5"]
    assert parsed.rows[2].department == "build"


def test_csv_in_utf8_and_windows_1251() -> None:
    data = [
        {
            "code": "3.1",
            "title_kk": "Мектеп салу",
            "title_ru": "Строительство школы",
            "department": "edu",
            "deadline": date(2025, 9, 1),
            "target": "600 мест",
        }
    ]
    for encoding, delimiter in (("utf-8-sig", ";"), ("utf-8", ","), ("cp1251", ";")):
        parsed = parse_spreadsheet(csv_bytes(data, encoding=encoding, delimiter=delimiter), "a.csv")
        (row,) = parsed.rows
        assert (row.title_ru, row.target, row.deadline) == (
            "Строительство школы",
            "600 мест",
            date(2025, 9, 1),
        )


def test_every_row_error_class_with_its_row_number() -> None:
    good = roadmap_rows(2)
    broken = [
        {**good[0]},  # row 4: fine
        {**good[1], "title_ru": ""},  # 5: missing title
        {**good[1], "code": "2.1", "deadline": "31.02.2025"},  # 6: impossible date
        {**good[1], "code": "2.2", "title_kk": "ұ" * 1001},  # 7: over-long text
        {**good[1], "code": "2.3", "department": ""},  # 8: no department
        {**good[1], "code": "", "title_kk": "кодсыз"},  # 9: no code: one is proposed
        {**good[1], "code": "2.4", "deadline": None},  # 10: no deadline
        {**good[1], "code": "5.5"},  # 11: duplicate of 13
        {**good[1], "code": "bad code!"},  # 12: characters not allowed
        {**good[1], "code": "5.5"},  # 13: duplicate of 11
        {**good[1], "code": "2.5", "target": "x" * 2001},  # 14: over-long target
        {**good[1], "code": "2.6", "deadline": "завтра"},  # 15: unreadable date
    ]
    parsed = parse_spreadsheet(xlsx(broken), "broken.xlsx")
    found = [(e.row_number, e.problem, e.detail) for e in parsed.errors]
    assert found == [
        (5, RowProblem.MISSING_TITLE, Column.TITLE_RU),
        (6, RowProblem.BAD_DATE, "31.02.2025"),
        (7, RowProblem.TOO_LONG, Column.TITLE_KK),
        (8, RowProblem.MISSING_DEPARTMENT, ""),
        (10, RowProblem.MISSING_DEADLINE, ""),
        (11, RowProblem.DUPLICATE_CODE, "13"),
        (12, RowProblem.BAD_CODE, ""),
        (13, RowProblem.DUPLICATE_CODE, "11"),
        (14, RowProblem.TOO_LONG, Column.TARGET),
        (15, RowProblem.BAD_DATE, "завтра"),
    ]
    assert [row.code for row in parsed.rows] == ["1.1.1", "6"]  # the 6th row, no sections
    (proposed,) = [g for g in parsed.guesses if g.kind == GuessKind.CODE_PROPOSED]
    assert (proposed.row_number, proposed.cell, proposed.args) == (9, "A9", {"code": "6"})
    assert parsed.data_rows == 12


def _too_many_rows() -> bytes:
    lines = ["code;title_kk;title_ru;department;deadline"]
    lines += [f"{n}.1;А;Б;edu;01.09.2025" for n in range(MAX_ROWS + 1)]
    return "\n".join(lines).encode()


@pytest.mark.parametrize(
    ("data", "name", "problem"),
    [
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "photo.png", FileProblem.NOT_SPREADSHEET),
        (b"PK\x03\x04 this is not really a zip", "book.xlsx", FileProblem.NOT_SPREADSHEET),
        (b"some text", "notes.pdf", FileProblem.NOT_SPREADSHEET),
        (b"", "empty.csv", FileProblem.EMPTY),
        (b"code;title_kk;title_ru;department;deadline\r\n;;;;\r\n", "h.csv", FileProblem.EMPTY),
        (cfb_file(), "protected.xlsx", FileProblem.ENCRYPTED),
        (cfb_file(("Workbook",)), "old.xls", FileProblem.CORRUPT),
        (_too_many_rows(), "huge.csv", FileProblem.TOO_MANY_ROWS),
        (b"a" * (TELEGRAM_DOWNLOAD_LIMIT + 1), "big.csv", FileProblem.TOO_LARGE),
        (b"code;title\r\n1.1;A\r\n", "few.csv", FileProblem.MISSING_COLUMNS),
    ],
)
def test_bad_files_are_refused_with_a_reason(data: bytes, name: str, problem: FileProblem) -> None:
    with pytest.raises(SpreadsheetFileError) as refused:
        parse_spreadsheet(data, name)
    assert refused.value.problem == problem


def test_missing_columns_are_named() -> None:
    with pytest.raises(SpreadsheetFileError) as refused:
        parse_spreadsheet(b"code;title_ru;deadline\r\n1.1;A;01.09.2025\r\n", "a.csv")
    # One title column is enough (the other language falls back to it): the department is not.
    assert refused.value.missing == (Column.DEPARTMENT,)


@pytest.mark.parametrize("locale", ["kk", "ru"])
def test_the_template_reads_back(i18n: I18n, locale: str) -> None:
    with in_locale(i18n, locale):
        data = build_template("transport", date(2026, 12, 31))
    sheet = load_workbook(io.BytesIO(data)).active
    assert sheet["A1"].value == i18n.gettext("Item code", locale=locale)
    assert sheet["E2"].is_date and sheet.freeze_panes == "A2"
    assert sheet["D2"].value == "transport" and sheet["E2"].value.year == 2026
    assert sheet["A2"].comment is not None and sheet["A2"].fill.fgColor.rgb.endswith("D9D9D9")
    parsed = parse_spreadsheet(data, "t.xlsx", extra_aliases=localized_header_aliases(i18n))
    assert parsed.rows == []  # the example row is never imported
    (example,) = parsed.errors
    assert (example.row_number, example.code, example.problem) == (
        2,
        "2.3.1",
        RowProblem.EXAMPLE_ROW,
    )
    # The template's headers read back as the template's columns.
    columns = {g.args["column"] for g in parsed.guesses if g.kind == GuessKind.COLUMN}
    assert columns == {column.value for column in TEMPLATE_COLUMNS}


def test_a_template_filled_over_its_example_row_imports_every_row(i18n: I18n) -> None:
    """Issue 22: the example is known by its content, not its place. 20 rows typed from row 2
    (over the example, whose grey fill and note stay) are 20 items; the example kept further
    down is still skipped."""
    with in_locale(i18n, "ru"):
        data = build_template("transport", date(2026, 12, 31))
    workbook = load_workbook(io.BytesIO(data))
    sheet = workbook.active
    for number in range(20):
        row = number + 2
        sheet.cell(row, 1, f"7.{number + 1}")
        sheet.cell(row, 2, f"Аялдама салу {number + 1}")
        sheet.cell(row, 3, f"Строительство остановки {number + 1}")
        sheet.cell(row, 4, "transport")
        sheet.cell(row, 5, date(2026, 6, 30))
    sheet.append(["2.3.1", "№5 мектепті күрделі жөндеу", "Капитальный ремонт школы №5", "edu"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    parsed = parse_spreadsheet(
        buffer.getvalue(), "t.xlsx", extra_aliases=localized_header_aliases(i18n)
    )
    assert [row.code for row in parsed.rows] == [f"7.{n}" for n in range(1, 21)]
    assert [(error.row_number, error.problem) for error in parsed.errors] == [
        (22, RowProblem.EXAMPLE_ROW)
    ]


# --- Plan and apply: the database ---


async def test_first_load_of_93_items_then_nothing_to_change(
    session_maker: SessionMaker, clock: FrozenClock
) -> None:
    departments = await seed_departments(session_maker, clock)
    data = xlsx(roadmap_rows())
    plan, result = await load(session_maker, data, clock)
    assert (len(plan.new), len(plan.updated), len(plan.unchanged), plan.errors) == (93, 0, 0, [])
    assert (result.created, result.updated) == (93, 0)
    items = {item.code: item for item in await rows(session_maker, RoadmapItem)}
    assert len(items) == 93
    item = items["2.5.6"]  # index 59: department 59 % 8 = 3 (roads), month 12
    assert item.department_id == departments["roads"]
    assert (item.deadline, item.year, item.target) == (date(2025, 12, 28), 2025, "69 объектов")
    audit = await rows(session_maker, AuditLog)
    assert sum(entry.action == "item.add" for entry in audit) == 93
    (summary,) = [entry for entry in audit if entry.action == "import.apply"]
    assert summary.target == "r.xlsx" and summary.details.startswith("new=93 updated=0")

    async with session_maker() as session:
        again = await plan_import(session, parse_spreadsheet(data, "r.xlsx"))
    assert (len(again.new), len(again.updated), len(again.unchanged)) == (0, 0, 93)


async def test_reimport_updates_titles_departments_and_deadlines(
    session_maker: SessionMaker, clock: FrozenClock
) -> None:
    departments = await seed_departments(session_maker, clock)
    original = roadmap_rows(10)
    await load(session_maker, xlsx(original), clock)
    changed = [dict(row) for row in original]
    changed[0]["title_ru"] = "Новое название"
    changed[1]["deadline"] = date(2026, 3, 1)
    changed[2]["department"] = "Управление культуры"  # by name, as a file may spell it
    changed[3]["target"] = "-5% к плану"
    changed.append({**original[0], "code": "9.9.9", "department": "nosuch"})
    clock.set(datetime(2025, 4, 1, 5, 0, tzinfo=UTC))

    async with session_maker() as session:
        plan = await plan_import(session, parse_spreadsheet(xlsx(changed), "v2.xlsx"))
    assert [(u.row.code, [c.name for c in u.changes]) for u in plan.updated] == [
        ("1.1.1", [Column.TITLE_RU]),
        ("1.1.2", [Column.DEADLINE]),
        ("1.1.3", [Column.DEPARTMENT]),
        ("1.1.4", [Column.TARGET]),
    ]
    assert len(plan.unchanged) == 6 and plan.new == []
    (error,) = plan.errors
    assert (error.code, error.problem, error.detail) == (
        "9.9.9",
        RowProblem.UNKNOWN_DEPARTMENT,
        "nosuch",
    )
    # Nothing is written by planning.
    assert await rows(session_maker, DeadlineChange) == []

    async with session_maker() as session:
        result = await apply_import(session, plan, actor=None, now=clock.now(), source="v2.xlsx")
    assert (result.created, result.updated) == (0, 4)
    items = {item.code: item for item in await rows(session_maker, RoadmapItem)}
    assert items["1.1.1"].title_ru == "Новое название"
    assert items["1.1.2"].deadline == date(2026, 3, 1)
    assert items["1.1.3"].department_id == departments["culture"]
    assert items["1.1.4"].target == "-5% к плану"
    assert "9.9.9" not in items
    (change,) = await rows(session_maker, DeadlineChange)
    assert (change.old_deadline, change.new_deadline) == (date(2025, 2, 28), date(2026, 3, 1))
    assert change.item_id == items["1.1.2"].id and change.changed_at == clock.now()
    audit = {(e.action, e.target): e.details for e in await rows(session_maker, AuditLog)}
    assert audit[("item.deadline", "1.1.2")] == "2025-02-28 -> 2026-03-01"
    assert audit[("item.assign", "1.1.3")] == "build -> culture"
    assert "title_ru" in audit[("item.edit", "1.1.1")]


async def test_a_failing_apply_writes_nothing(
    session_maker: SessionMaker, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    await seed_departments(session_maker, clock)
    async with session_maker() as session:
        plan = await plan_import(session, parse_spreadsheet(xlsx(roadmap_rows(20)), "r.xlsx"))

    async def failing_marks(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("disk full")  # the last statement: items and audit are written

    monkeypatch.setattr("bot.spreadsheets.apply.queries.mark_risk_dirty", failing_marks)
    async with session_maker() as session:
        with pytest.raises(RuntimeError):
            await apply_import(session, plan, actor=None, now=clock.now())
    assert await rows(session_maker, RoadmapItem) == []
    assert await rows(session_maker, AuditLog) == []


# --- The dialog in Telegram ---


@pytest.fixture
async def admin(chatter: Chatter, session_maker: SessionMaker, clock: FrozenClock) -> Chatter:
    await register_admin(chatter, "ru")
    await seed_departments(session_maker, clock)
    return chatter


@pytest.fixture
def files(bot: MockedBot, monkeypatch: pytest.MonkeyPatch) -> Files:
    return Files(bot, monkeypatch)


async def test_dry_run_then_cancel_then_apply(
    admin: Chatter, files: Files, session_maker: SessionMaker, i18n: I18n
) -> None:
    prompt = texts(await admin.send(ADMIN_ID, "/import"))
    assert prompt and "/template" in prompt[0]
    data = xlsx(
        [*roadmap_rows()[:92], {**roadmap_rows(1)[0], "code": "7.7", "department": "nosuch"}]
    )
    requests = await send_file(admin, files, "F1", data, "roadmap.xlsx")
    summary = "\n".join(texts(requests))
    assert "93" in summary and "92" in summary and "nosuch" in summary and "7.7" in summary
    ok, cancel = buttons(requests)
    assert ok.startswith("imp:ok:") and cancel.startswith("imp:no:")
    assert all(len(data.encode()) <= 64 for data in (ok, cancel))
    assert await rows(session_maker, RoadmapItem) == []  # a dry run writes nothing

    cancelled = await admin.press(ADMIN_ID, cancel)
    with in_locale(i18n, "ru"):
        assert texts(cancelled) == [i18n.gettext("Import cancelled. Nothing was changed.")]
    assert await rows(session_maker, RoadmapItem) == []
    stale = await admin.press(ADMIN_ID, ok)  # the old buttons no longer apply anything
    assert any(isinstance(r, AnswerCallbackQuery) and r.show_alert for r in stale)
    assert await rows(session_maker, RoadmapItem) == []

    await admin.send(ADMIN_ID, "/import")
    ok, _cancel = buttons(await send_file(admin, files, "F2", data, "roadmap.xlsx"))
    applied = await admin.press(ADMIN_ID, ok)
    assert any("92" in text for text in texts(applied))
    assert len(await rows(session_maker, RoadmapItem)) == 92
    assert files.downloads == ["F1", "F2", "F2"]  # re-read on Apply
    assert texts(await admin.press(ADMIN_ID, ok)) == []  # a second press applies nothing more
    assert len([e for e in await rows(session_maker, AuditLog) if e.action == "import.apply"]) == 1


async def test_apply_shows_a_new_check_when_the_road_map_changed(
    admin: Chatter, files: Files, session_maker: SessionMaker
) -> None:
    await admin.send(ADMIN_ID, "/import")
    ok, _cancel = buttons(await send_file(admin, files, "F1", xlsx(roadmap_rows(5)), "r.xlsx"))
    await admin.send(ADMIN_ID, "/additem 1.1.1 edu 2025-01-28 Басқа | Другое")
    requests = await admin.press(ADMIN_ID, ok)
    new_ok, _new_cancel = buttons(requests)
    assert new_ok != ok
    assert [item.code for item in await rows(session_maker, RoadmapItem)] == ["1.1.1"]
    await admin.press(ADMIN_ID, new_ok)
    assert len(await rows(session_maker, RoadmapItem)) == 5


async def test_bad_files_in_the_dialog(admin: Chatter, files: Files, i18n: I18n) -> None:
    await admin.send(ADMIN_ID, "/import")
    too_big = await send_file(
        admin, files, "BIG", b"", "big.xlsx", size=TELEGRAM_DOWNLOAD_LIMIT + 1
    )
    assert files.downloads == []  # refused before downloading
    assert len(texts(too_big)) == 1 and buttons(too_big) == []
    protected = await send_file(admin, files, "P", cfb_file(), "secret.xlsx")
    with in_locale(i18n, "ru"):
        expected = i18n.gettext(
            "The workbook is password-protected. Remove the password in Excel and send it again."
        )
    assert texts(protected)[-1] == expected and buttons(protected) == []
    reminder = texts(await admin.send(ADMIN_ID, "вот файл"))
    assert reminder == [
        i18n.gettext("Send the spreadsheet as a file (.xlsx or .csv), or /cancel.", locale="ru")
    ]
    # The caption form works too: the file sent with /import under it.
    caption = await send_file(admin, files, "C", xlsx(roadmap_rows(3)), "r.xlsx", caption="/import")
    assert len(buttons(caption)) == 2


async def test_progress_is_shown_on_large_files(
    admin: Chatter, files: Files, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("handlers.spreadsheets.PROGRESS_MIN_INTERVAL", 0.0)
    lines = ["code;title_kk;title_ru;department;deadline"]
    lines += [f"{n}.1;Атауы {n};Название {n};edu;01.09.2025" for n in range(1, 2001)]
    await admin.send(ADMIN_ID, "/import")
    requests = await send_file(admin, files, "L", "\n".join(lines).encode(), "large.csv")
    edits = [r.text for r in requests if isinstance(r, EditMessageText)]
    assert [text for text in edits if "2000" in text and "500" in text]
    assert len(buttons(requests)) == 2


async def test_only_the_secretariat_may_import(
    chatter: Chatter, session_maker: SessionMaker
) -> None:
    await register_admin(chatter, "ru")
    for command in ("/import", "/template", "/export", "/stats", "/risk_report"):
        requests = await chatter.send(OUTSIDER, command)
        assert not any(isinstance(r, SendDocument) for r in requests)
    refusals = [
        e for e in await rows(session_maker, AuditLog) if e.action == "refused.secretariat_command"
    ]
    assert len(refusals) == 5


async def test_template_command_sends_a_workbook(
    admin: Chatter, session_maker: SessionMaker, clock: FrozenClock
) -> None:
    (document,) = [
        r for r in await admin.send(ADMIN_ID, "/template") if isinstance(r, SendDocument)
    ]
    assert document.document.filename == "roadmap-template.xlsx"
    sheet = load_workbook(io.BytesIO(document.document.data)).active
    assert sheet.max_row == 2 and sheet["A2"].value == "2.3.1"
    # Issue 22 (#41): the example names a department of this Road Map, a deadline ahead.
    codes = {row.code for row in await rows(session_maker, Department)}
    assert sheet["D2"].value in codes
    assert sheet["E2"].value.date() > clock.now().date()


# --- The command line ---


async def test_cli_dry_run_then_apply(
    settings: Settings,
    session_maker: SessionMaker,
    clock: FrozenClock,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    await seed_departments(session_maker, clock)
    path = tmp_path / "roadmap.xlsx"
    path.write_bytes(xlsx(roadmap_rows()))
    assert await cli_import(settings, path, apply=False, locale="kk") == 0
    assert "93" in capsys.readouterr().out
    assert await rows(session_maker, RoadmapItem) == []
    assert await cli_import(settings, path, apply=True, locale="kk") == 0
    assert len(await rows(session_maker, RoadmapItem)) == 93

    broken = tmp_path / "broken.csv"
    broken.write_bytes(
        b"code;title_kk;title_ru;department;deadline\r\n1.1;A;B;nosuch;01.09.2025\r\n"
    )
    assert await cli_import(settings, broken, apply=True, locale="kk") == 1
    assert "nosuch" in capsys.readouterr().out
    protected = tmp_path / "secret.xlsx"
    protected.write_bytes(cfb_file())
    assert await cli_import(settings, protected, apply=False, locale="kk") == 2
    assert await cli_import(settings, tmp_path / "missing.xlsx", apply=False, locale="kk") == 2


async def test_many_errors_come_as_a_file(admin: Chatter, files: Files) -> None:
    lines = ["code;title_kk;title_ru;department;deadline"]
    lines += [f"{n}.1;Атауы {n};Название {n};nosuch;01.09.2025" for n in range(1, 121)]
    lines.append("999.1;Атауы;Название;edu;01.09.2025")
    await admin.send(ADMIN_ID, "/import")
    requests = await send_file(admin, files, "E", "\n".join(lines).encode(), "errors.csv")
    (attached,) = [r for r in requests if isinstance(r, SendDocument)]
    assert attached.document.filename == "import-check.xlsx"
    sheet = load_workbook(io.BytesIO(attached.document.data)).active
    # The file as sent, with a comment column: every one of the 120 rows is listed.
    assert [cell.value for cell in sheet[1]][:5] == lines[0].split(";")
    comments = {row: sheet.cell(row, 6).value for row in range(2, sheet.max_row + 1)}
    listed = {row: text for row, text in comments.items() if text}
    assert sorted(listed) == list(range(2, 122))
    assert "1.1" in listed[2] and "nosuch" in listed[2] and "D2" in listed[2]
    assert comments[122] is None
    summary = "\n".join(texts(requests))
    assert summary.count("nosuch") == 50 and "70" in summary
    assert len(buttons(requests)) == 2  # the one good row can still be applied


async def test_a_reason_column_goes_with_the_deadlines_it_moves(
    session_maker: SessionMaker, clock: FrozenClock
) -> None:
    """«Причина переноса срока» (issue 23): kept with the move, shown on the card and alerts."""
    await seed_departments(session_maker, clock)
    original = roadmap_rows(3)
    await load(session_maker, xlsx(original), clock)
    changed = [dict(row) for row in original]
    changed[0]["deadline"] = date(2026, 3, 1)
    changed[0]["reason"] = "  Решение   совета №12 "
    changed[1]["reason"] = "ignored: the deadline did not move"
    headers = {**RU_HEADERS, "reason": "Причина переноса срока"}
    order = [*RU_ORDER, "reason"]
    parsed = parse_spreadsheet(xlsx(changed, headers, order), "v2.xlsx")
    async with session_maker() as session:
        plan = await plan_import(session, parsed)
        assert [(u.row.code, [c.name for c in u.changes]) for u in plan.updated] == [
            ("1.1.1", [Column.DEADLINE])
        ]
        await apply_import(session, plan, actor=None, now=clock.now(), source="v2.xlsx")
    (change,) = await rows(session_maker, DeadlineChange)
    assert (change.new_deadline, change.via) == (date(2026, 3, 1), "import")
    assert change.reason == "Решение совета №12"


async def test_an_imports_moves_are_told_to_the_departments_with_the_reason(
    admin: Chatter, files: Files, session_maker: SessionMaker, clock: FrozenClock
) -> None:
    """Issue 23: the head learns his item's deadline moved, by whom and why, in his language."""
    original = roadmap_rows(3)
    await admin.send(ADMIN_ID, "/import")
    ok, _cancel = buttons(await send_file(admin, files, "F1", xlsx(original), "v1.xlsx"))
    await admin.press(ADMIN_ID, ok)
    items = {item.code: item for item in await rows(session_maker, RoadmapItem)}
    department = items["1.1.1"].department_id
    async with session_maker() as session:
        session.add(
            Person(
                telegram_id=777,
                display_name="Бақытжан",
                role=Role.MEMBER,
                department_id=department,
                locale="kk",
                created_at=clock.now(),
                updated_at=clock.now(),
            )
        )
        await session.commit()
    changed = [dict(row) for row in original]
    changed[0]["deadline"] = date(2026, 3, 1)
    changed[0]["reason"] = "Кеңес шешімі №12"
    data = xlsx(changed, {**RU_HEADERS, "reason": "Причина переноса срока"}, [*RU_ORDER, "reason"])
    await admin.send(ADMIN_ID, "/import")
    ok, _cancel = buttons(await send_file(admin, files, "F2", data, "v2.xlsx"))
    await admin.press(ADMIN_ID, ok)
    notices = [n for n in await rows(session_maker, Notification) if n.kind == "deadline"]
    assert len(notices) == 1
    text = json.loads(notices[0].payload)["params"]["text"]
    assert "1.1.1" in text and "Себебі: Кеңес шешімі №12" in text and "импорт" in text


async def test_one_import_tells_of_its_deadline_moves_and_of_its_reassignments(
    admin: Chatter, files: Files, session_maker: SessionMaker, clock: FrozenClock
) -> None:
    """Both notices of one import: the moved deadline with its reason (chair) and the item
    given to another department, to the heads who lost and gained it (secr)."""
    original = roadmap_rows(3)
    await admin.send(ADMIN_ID, "/import")
    ok, _cancel = buttons(await send_file(admin, files, "F1", xlsx(original), "v1.xlsx"))
    await admin.press(ADMIN_ID, ok)
    items = {item.code: item for item in await rows(session_maker, RoadmapItem)}
    gaining, losing = items["1.1.1"].department_id, items["1.1.2"].department_id
    assert gaining != losing
    async with session_maker() as session:
        for telegram_id, department, locale in ((777, gaining, "kk"), (778, losing, "ru")):
            session.add(
                Person(
                    telegram_id=telegram_id,
                    display_name=f"Head {telegram_id}",
                    role=Role.MEMBER,
                    department_id=department,
                    locale=locale,
                    created_at=clock.now(),
                    updated_at=clock.now(),
                )
            )
        await session.commit()
    changed = [dict(row) for row in original]
    changed[0]["deadline"] = date(2026, 3, 1)
    changed[0]["reason"] = "Кеңес шешімі №12"
    changed[1]["department"] = original[0]["department"]  # 1.1.2 goes to 1.1.1's department
    data = xlsx(changed, {**RU_HEADERS, "reason": "Причина переноса срока"}, [*RU_ORDER, "reason"])
    await admin.send(ADMIN_ID, "/import")
    ok, _cancel = buttons(await send_file(admin, files, "F2", data, "v2.xlsx"))
    await admin.press(ADMIN_ID, ok)

    people = {p.id: p.telegram_id for p in await rows(session_maker, Person)}
    sent = [
        (n.kind, people[n.person_id], json.loads(n.payload)["params"]["text"])
        for n in await rows(session_maker, Notification)
        if n.kind in ("deadline", "item_assign")
    ]
    assert sorted((kind, whom) for kind, whom, _text in sent) == [
        ("deadline", 777),
        ("item_assign", 777),
        ("item_assign", 778),
    ]
    texts_of = {(kind, whom): text for kind, whom, text in sent}
    moved = texts_of["deadline", 777]
    assert "1.1.1" in moved and "Себебі: Кеңес шешімі №12" in moved
    gained, lost = texts_of["item_assign", 777], texts_of["item_assign", 778]
    assert gained.startswith("📌") and "1.1.2" in gained and "1.1.1" not in gained
    assert "1.1.2" in lost and "передан другому управлению" in lost


async def test_an_import_and_its_notices_are_committed_together_or_not_at_all(
    admin: Chatter,
    files: Files,
    session_maker: SessionMaker,
    clock: FrozenClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Nothing half-written: when queuing the notices fails after the deadline move's notice
    was queued, neither the import's changes nor any of its notices remain, and the secretary
    is answered (not left without a word)."""
    from bot.usecases import imports

    original = roadmap_rows(3)
    await admin.send(ADMIN_ID, "/import")
    ok, _cancel = buttons(await send_file(admin, files, "F1", xlsx(original), "v1.xlsx"))
    await admin.press(ADMIN_ID, ok)
    items = {item.code: item for item in await rows(session_maker, RoadmapItem)}
    await register_member(session_maker, 777, items["1.1.1"].department_id, clock.now())

    async def broken(*_args: Any, **_kwargs: Any) -> int:
        raise RuntimeError("the notices failed")

    monkeypatch.setattr(imports, "tell_of_reassignments", broken)
    changed = [dict(row) for row in original]
    changed[0]["deadline"] = date(2026, 3, 1)
    changed[1]["department"] = original[0]["department"]
    await admin.send(ADMIN_ID, "/import")
    ok, _cancel = buttons(await send_file(admin, files, "F2", xlsx(changed), "v2.xlsx"))
    answers = await admin.press(ADMIN_ID, ok)

    assert texts(answers), "the secretary is told something went wrong"
    assert await rows(session_maker, DeadlineChange) == []
    after = {item.code: item for item in await rows(session_maker, RoadmapItem)}
    assert after["1.1.1"].deadline == items["1.1.1"].deadline
    assert after["1.1.2"].department_id == items["1.1.2"].department_id
    kinds = {n.kind for n in await rows(session_maker, Notification)}
    assert not kinds & {"deadline", "item_assign", "item_new"}
