"""Importing Road Maps as Kazakh and Russian offices keep them (issue 12), and bad files.

The workbooks are built in tests/helpers/office_workbooks.py with the truth they were built
from, so every test compares the import with what each row must become.
"""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from aiogram.methods import EditMessageText, SendDocument, SendMessage
from aiogram.utils.i18n import I18n
from openpyxl import load_workbook
from sqlmodel import select

from bot.app.cli_spreadsheets import cli_import
from bot.app.config import Settings
from bot.core.clock import FrozenClock
from bot.core.limits import TELEGRAM_DOWNLOAD_LIMIT
from bot.risk.rules import RiskThresholds
from bot.roadmap.service import item_card
from bot.roadmap.views import item_card_text
from bot.spreadsheets.annotate import annotated_workbook
from bot.spreadsheets.apply import apply_import
from bot.spreadsheets.deadlines import Precision, read_deadline
from bot.spreadsheets.export import build_export
from bot.spreadsheets.headers import Kind, classify_header
from bot.spreadsheets.parse import (
    MAX_ROWS,
    MAX_UNPACKED_SIZE,
    Column,
    FileProblem,
    GuessKind,
    ParsedFile,
    RowProblem,
    SheetChoiceNeeded,
    SpreadsheetFileError,
    parse_spreadsheet,
)
from bot.spreadsheets.plan import DepartmentMatcher, ImportPlan, plan_import
from bot.spreadsheets.texts import (
    file_problem_text,
    guess_lines,
    localized_header_aliases,
    plan_summary_lines,
)
from bot.telegram.i18n import format_day, in_locale
from bot.telegram.texts import department_name
from db.engine import SessionMaker
from db.models import AuditLog, Department, ItemCoExecutor, RoadmapItem
from tests.data.spreadsheets.workbooks import DEPARTMENTS, cfb_file
from tests.helpers.chat import ADMIN_ID, Chatter, register_admin, rows
from tests.helpers.import_dialog import Files, buttons, seed_departments, send_file, texts
from tests.helpers.mocked_bot import MockedBot
from tests.helpers.office_workbooks import (
    KK_LAYOUT,
    RU_LAYOUT,
    corrupt_xlsx,
    office_workbook,
    simple_workbook,
)


@pytest.fixture
async def admin(chatter: Chatter, session_maker: SessionMaker, clock: FrozenClock) -> Chatter:
    await register_admin(chatter, "ru")
    await seed_departments(session_maker, clock)
    return chatter


@pytest.fixture
def files(bot: MockedBot, monkeypatch: pytest.MonkeyPatch) -> Files:
    return Files(bot, monkeypatch)


LAYOUTS = pytest.mark.parametrize("layout", [KK_LAYOUT, RU_LAYOUT], ids=["kk", "ru"])


def _by_kind(parsed: ParsedFile, kind: GuessKind) -> dict[int, dict[str, str]]:
    return {g.row_number: g.args for g in parsed.guesses if g.kind == kind}


# --- Parsing the office workbooks: pure ---


@LAYOUTS
def test_every_item_of_an_office_workbook_is_read(layout: dict[str, object]) -> None:
    built = office_workbook(layout)
    parsed = parse_spreadsheet(built.data, "roadmap.xlsx")
    assert parsed.errors == []
    assert (parsed.sheet, parsed.header_row, parsed.data_rows) == (built.sheet, 4, 93)
    got = {row.row_number: row for row in parsed.rows}
    assert sorted(got) == [item.row for item in built.items]  # zero rows lost
    for item in built.items:
        row = got[item.row]
        assert (
            row.code,
            row.title_kk,
            row.title_ru,
            row.deadline,
            row.deadline_text,
            row.target,
        ) == (
            item.code,
            item.title_kk,
            item.title_ru,
            item.deadline,
            item.deadline_text,
            item.target,
        ), item.row
        assert len(row.co_executors) == len(item.co_executors)


@LAYOUTS
def test_every_guess_of_an_office_workbook_is_stated(layout: dict[str, object]) -> None:
    built = office_workbook(layout)
    parsed = parse_spreadsheet(built.data, "roadmap.xlsx")
    assert _by_kind(parsed, GuessKind.SHEET) == {
        0: {"sheet": built.sheet, "others": layout["cover"]}
    }
    assert _by_kind(parsed, GuessKind.HEADER_ROW) == {0: {"row": "4"}}
    assert list(_by_kind(parsed, GuessKind.NUMBER_ROW)) == [built.number_row]
    sections = _by_kind(parsed, GuessKind.SECTION)
    assert {row: args["text"] for row, args in sections.items()} == built.sections
    first, last = built.merged_department_rows
    merged = _by_kind(parsed, GuessKind.MERGED)
    assert merged == {first: {"first": str(first), "last": str(last)}}
    restored = _by_kind(parsed, GuessKind.CODE_FROM_NUMBER)
    assert {row: (a["read"], a["code"]) for row, a in restored.items()} == built.float_codes
    proposed = _by_kind(parsed, GuessKind.CODE_PROPOSED)
    assert {row: a["code"] for row, a in proposed.items()} == built.proposed_codes
    deadlines = _by_kind(parsed, GuessKind.DEADLINE)
    assert {row: a["text"] for row, a in deadlines.items()} == {
        item.row: item.deadline_text for item in built.items if item.deadline_text
    }
    co = _by_kind(parsed, GuessKind.CO_EXECUTORS)
    assert sorted(co) == [item.row for item in built.items if item.co_executors]
    (year,) = _by_kind(parsed, GuessKind.ROADMAP_YEAR).values()
    assert year == {"year": "2025", "source": layout["title"]}
    columns = {a["column"]: (a["header"], a["how"]) for a in _by_kind_all(parsed, GuessKind.COLUMN)}
    headers = layout["headers"]
    assert columns == {
        "code": (headers[0], "header"),
        "title_kk": (headers[1], "header"),
        "title_ru": (headers[2], "header"),
        "department": (headers[3], "header"),
        "deadline": (headers[4], "header"),
        "target": (headers[5], "header"),
        "completion_form": (headers[6], "header"),  # kept on the item since issue 24
    }


def _by_kind_all(parsed: ParsedFile, kind: GuessKind) -> list[dict[str, str]]:
    return [g.args for g in parsed.guesses if g.kind == kind]


def test_the_dry_run_states_each_guess_on_one_line(i18n: I18n) -> None:
    built = office_workbook(KK_LAYOUT)
    parsed = parse_spreadsheet(built.data, "roadmap.xlsx")
    with in_locale(i18n, "ru"):
        lines = guess_lines(parsed.guesses)
        float_row = next(iter(built.float_codes))
        expected = i18n.gettext("Row {row}, cell {cell}: {text}").format(
            row=float_row,
            cell=f"A{float_row}",
            text=i18n.gettext(
                "Excel stored the code as the number {read}; after the previous code it must be "
                "{code}. Format the code column as text"
            ).format(read="2.1", code="2.10"),
        )
        assert expected in lines
        sheet_line = i18n.gettext("Read the sheet «{sheet}»; not read: {others}").format(
            sheet=built.sheet, others=KK_LAYOUT["cover"]
        )
        assert lines[0] == sheet_line
        quarter = next(item for item in built.items if item.deadline_text == "IV тоқсан")
        reason = i18n.gettext("{reason}, in the Road Map's year").format(
            reason=i18n.gettext("the last day of the quarter")
        )
        deadline = i18n.gettext("deadline «{text}» read as {date} ({reason})").format(
            text="IV тоқсан", date=format_day(date(2025, 12, 31)), reason=reason
        )
        assert any(line.endswith(deadline) and f"{quarter.row}" in line for line in lines)
    assert all("\n" not in line for line in lines)


# --- Single shapes ---


def test_header_words_in_both_languages() -> None:
    cases = {
        "Р/с №": (Kind.CODE, None),
        "№ п/п": (Kind.CODE, None),
        "Іс-шараның атауы (мемлекеттік тілде)": (Kind.TITLE, "kk"),
        "Наименование мероприятия (на русском языке)": (Kind.TITLE, "ru"),
        "Іс-шараның атауы (орыс тілінде)": (Kind.TITLE, "ru"),
        "Жауапты орган": (Kind.DEPARTMENT, None),
        "Ответственный исполнитель": (Kind.DEPARTMENT, None),
        "Код управления": (Kind.DEPARTMENT, None),
        "Орындау мерзімі": (Kind.DEADLINE, None),
        "Срок исполнения": (Kind.DEADLINE, None),
        "Күтілетін нәтиже": (Kind.TARGET, None),
        "Форма завершения": (Kind.COMPLETION_FORM, None),  # kept on the item (issue 24)
        "Шымкент қаласының 2025 жылға арналған Жол картасы": None,
    }
    assert {text: classify_header(text) for text in cases} == cases


def test_one_title_column_serves_both_languages() -> None:
    data = simple_workbook(
        ["№", "Наименование мероприятия", "Исполнитель", "Срок"],
        [["1.1", "Ремонт школы", "edu", "01.09.2025"]],
    )
    parsed = parse_spreadsheet(data, "a.xlsx")
    (row,) = parsed.rows
    assert row.title_kk == row.title_ru == "Ремонт школы"
    (fallback,) = _by_kind_all(parsed, GuessKind.TITLE_FALLBACK)
    assert fallback == {"present": "title_ru", "absent": "title_kk"}
    (title,) = [a for a in _by_kind_all(parsed, GuessKind.COLUMN) if a["column"] == "title_ru"]
    assert title["how"] == "cells"  # no language in the header: judged by the Russian text


def test_two_unmarked_title_columns_are_told_apart_by_their_text() -> None:
    data = simple_workbook(
        ["№", "Наименование", "Атауы", "Жауапты", "Мерзімі"],
        [["1.1", "Ремонт школы №5", "№5 мектепті жөндеу", "edu", "01.09.2025"]],
    )
    (row,) = parse_spreadsheet(data, "a.xlsx").rows
    assert (row.title_kk, row.title_ru) == ("№5 мектепті жөндеу", "Ремонт школы №5")


def test_two_sheets_that_both_look_like_the_road_map_are_asked_about() -> None:
    headers = ["Код", "Атауы (қаз)", "Наименование (рус)", "Басқарма", "Мерзімі"]
    data = simple_workbook(
        headers, [["1.1", "Жөндеу", "Ремонт", "edu", "01.09.2025"]], sheets=("2024", "2025")
    )
    with pytest.raises(SheetChoiceNeeded) as asked:
        parse_spreadsheet(data, "a.xlsx")
    assert asked.value.sheets == ("2024", "2025")
    parsed = parse_spreadsheet(data, "a.xlsx", sheet="2025")
    assert parsed.sheet == "2025" and len(parsed.rows) == 1
    assert _by_kind(parsed, GuessKind.SHEET)[0] == {"sheet": "2025", "others": "2024"}


def test_a_formula_without_a_value_is_named_by_its_cell(i18n: I18n) -> None:
    data = simple_workbook(
        ["Код", "Наименование", "Исполнитель", "Срок"],
        [["1.1", "=C1&D1", "edu", "01.09.2025"], ["1.2", "Ремонт", "edu", "01.09.2025"]],
    )
    parsed = parse_spreadsheet(data, "a.xlsx")
    (error,) = parsed.errors
    assert (error.row_number, error.problem, error.cell) == (
        2,
        RowProblem.FORMULA_WITHOUT_VALUE,
        "B2",
    )
    assert [row.code for row in parsed.rows] == ["1.2"]
    with in_locale(i18n, "ru"):
        summary = "\n".join(plan_summary_lines(_plan_of(parsed)))
    assert "B2" in summary


def _plan_of(parsed: ParsedFile) -> ImportPlan:
    return ImportPlan(
        errors=parsed.errors, data_rows=parsed.data_rows, guesses=parsed.guesses, header_row=1
    )


@pytest.mark.parametrize(
    ("text", "meant", "precision", "assumed"),
    [
        ("01.09.2025", date(2025, 9, 1), Precision.DAY, False),
        ("01.09.2025 г.", date(2025, 9, 1), Precision.DAY, False),
        ("01.09.2025 ж.", date(2025, 9, 1), Precision.DAY, False),
        ("1 сентября 2025 года", date(2025, 9, 1), Precision.DAY, False),
        ("2025 жылғы 1 қыркүйек", date(2025, 9, 1), Precision.DAY, False),
        ("сентябрь 2025", date(2025, 9, 30), Precision.MONTH, False),
        ("2025 жылғы қыркүйек", date(2025, 9, 30), Precision.MONTH, False),
        ("IV квартал 2025", date(2025, 12, 31), Precision.QUARTER, False),
        ("IV тоқсан", date(2024, 12, 31), Precision.QUARTER, True),
        ("4 квартал", date(2024, 12, 31), Precision.QUARTER, True),
        ("II тоқсан 2026", date(2026, 6, 30), Precision.QUARTER, False),
        ("до 1 декабря", date(2024, 12, 1), Precision.DAY, True),
        ("1 желтоқсанға дейін", date(2024, 12, 1), Precision.DAY, True),
        ("2025 жыл", date(2025, 12, 31), Precision.YEAR, False),
        ("2025 год", date(2025, 12, 31), Precision.YEAR, False),
        ("ежегодно", date(2024, 12, 31), Precision.YEARLY, True),
        ("жыл сайын", date(2024, 12, 31), Precision.YEARLY, True),
        ("февраль", date(2024, 2, 29), Precision.MONTH, True),
    ],
)
def test_deadlines_in_words(text: str, meant: date, precision: Precision, assumed: bool) -> None:
    reading = read_deadline(text, 2024)
    assert reading is not None
    assert (reading.day, reading.precision, reading.year_assumed) == (meant, precision, assumed)


@pytest.mark.parametrize("text", ["31.02.2025", "завтра", "2025–2026", "2025-2026", "IV", "1899"])
def test_words_that_are_no_deadline(text: str) -> None:
    assert read_deadline(text, 2025) is None


def test_a_deadline_without_a_year_in_a_file_without_one_is_refused_by_row() -> None:
    data = simple_workbook(
        ["Код", "Наименование", "Исполнитель", "Срок"], [["1.1", "Ремонт", "edu", "IV тоқсан"]]
    )
    (error,) = parse_spreadsheet(data, "roadmap.xlsx").errors
    assert (error.problem, error.cell, error.detail) == (RowProblem.NO_YEAR, "D2", "IV тоқсан")


# --- Bad files: one sentence, nothing raised ---


def _csv_with_bare_cr() -> bytes:
    return "Код;Наименование;Исполнитель;Срок\n1.1;Ремонт\rшколы;edu;01.09.2025\n".encode()


def _over_the_download_limit() -> bytes:
    return b"PK\x03\x04" + b"\x00" * TELEGRAM_DOWNLOAD_LIMIT


def _zip_bomb() -> bytes:
    """A workbook whose sheet unpacks to more than the importer will read: a few KB sent."""
    data = simple_workbook(["Код", "Наименование", "Исполнитель", "Срок"], [])
    source = zipfile.ZipFile(io.BytesIO(data))
    target = io.BytesIO()
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
        for entry in source.namelist():
            out.writestr(entry, source.read(entry))
        with out.open("xl/media/padding.bin", "w") as padding:
            chunk = b"\x00" * (1024 * 1024)
            for _ in range(MAX_UNPACKED_SIZE // len(chunk) + 1):
                padding.write(chunk)
    return target.getvalue()


def _too_many_xlsx_rows() -> bytes:
    rows = [[f"{n}.1", "Ремонт", "edu", "01.09.2025"] for n in range(MAX_ROWS + 1)]
    return simple_workbook(["Код", "Наименование", "Исполнитель", "Срок"], rows)


@pytest.mark.parametrize(
    ("make", "name", "problem"),
    [
        (lambda: corrupt_xlsx(), "empty-content-types.xlsx", FileProblem.CORRUPT),
        (
            lambda: corrupt_xlsx("xl/worksheets/sheet1.xml", b"<worksheet><sheetData><row>"),
            "broken-xml.xlsx",
            FileProblem.CORRUPT,
        ),
        (
            lambda: corrupt_xlsx("xl/workbook.xml", b"<workbook xmlns='x'><sheets><sheet"),
            "broken-workbook.xlsx",
            FileProblem.CORRUPT,
        ),
        (_csv_with_bare_cr, "bare-cr.csv", FileProblem.BAD_CSV),
        (lambda: cfb_file(("Workbook",)), "old.xls", FileProblem.CORRUPT),
        (cfb_file, "secret.xlsx", FileProblem.ENCRYPTED),
        (_too_many_xlsx_rows, "huge.xlsx", FileProblem.TOO_MANY_ROWS),
        (_over_the_download_limit, "big.xlsx", FileProblem.TOO_LARGE),
        (_zip_bomb, "bomb.xlsx", FileProblem.ZIP_BOMB),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_each_bad_file_gets_one_localized_sentence(
    make: object, name: str, problem: FileProblem, i18n: I18n
) -> None:
    with pytest.raises(SpreadsheetFileError) as refused:
        parse_spreadsheet(make(), name)  # type: ignore[operator]
    assert refused.value.problem == problem
    for locale in ("kk", "ru"):
        with in_locale(i18n, locale):
            text = file_problem_text(refused.value)
        assert text and "\n" not in text and "{" not in text
    if problem == FileProblem.BAD_CSV:
        assert refused.value.line == 2


async def test_corrupt_files_in_the_dialog_get_their_answer(
    admin: Chatter, files: Files, session_maker: SessionMaker, i18n: I18n
) -> None:
    """Issue 13, defects 3 and 4: the secretariat is no longer left at «Reading the file…»."""
    await admin.send(ADMIN_ID, "/import")
    with in_locale(i18n, "ru"):
        corrupt = file_problem_text(SpreadsheetFileError(FileProblem.CORRUPT))
        bad_csv = file_problem_text(SpreadsheetFileError(FileProblem.BAD_CSV, line=2))
    answer = await send_file(admin, files, "X", corrupt_xlsx(), "roadmap.xlsx")
    assert texts(answer)[-1] == corrupt and buttons(answer) == []
    answer = await send_file(admin, files, "C", _csv_with_bare_cr(), "roadmap.csv")
    assert texts(answer)[-1] == bad_csv and buttons(answer) == []
    assert await rows(session_maker, RoadmapItem) == []
    assert [e for e in await rows(session_maker, AuditLog) if e.action == "import.apply"] == []


# --- The database: plan, apply, a second import ---


async def _seed(session_maker: SessionMaker) -> dict[str, int]:
    return await seed_departments(session_maker, FrozenClock(datetime(2025, 1, 10, tzinfo=UTC)))


@LAYOUTS
async def test_an_office_workbook_imports_whole_and_a_second_import_changes_nothing(
    layout: dict[str, object], session_maker: SessionMaker
) -> None:
    departments = await _seed(session_maker)
    built = office_workbook(layout)
    now = datetime(2025, 1, 10, 5, tzinfo=UTC)
    async with session_maker() as session:
        plan = await plan_import(session, parse_spreadsheet(built.data, "roadmap.xlsx"))
    assert (len(plan.new), len(plan.updated), len(plan.unchanged), plan.errors) == (93, 0, 0, [])
    by_name = [g for g in plan.guesses if g.kind == GuessKind.DEPARTMENT_BY_NAME]
    assert by_name and all(g.args["name"] not in DEPARTMENTS for g in by_name)
    async with session_maker() as session:
        result = await apply_import(session, plan, actor=None, now=now, source="roadmap.xlsx")
    assert (result.created, result.updated) == (93, 0)

    items = {item.code: item for item in await rows(session_maker, RoadmapItem)}
    links = await rows(session_maker, ItemCoExecutor)
    co: dict[int, set[int]] = {}
    for link in links:
        co.setdefault(link.item_id, set()).add(link.department_id)
    code_of = {department_id: code for code, department_id in departments.items()}
    for expected in built.items:
        item = items[expected.code]
        assert code_of[item.department_id] == expected.department, expected.row
        assert (item.deadline, item.deadline_text, item.target) == (
            expected.deadline,
            expected.deadline_text,
            expected.target,
        )
        assert {code_of[d] for d in co.get(item.id or 0, set())} == set(expected.co_executors)

    async with session_maker() as session:
        again = await plan_import(session, parse_spreadsheet(built.data, "roadmap.xlsx"))
    assert (len(again.new), len(again.updated), len(again.unchanged)) == (0, 0, 93)
    assert not again.has_changes


@pytest.mark.parametrize("locale", ["kk", "ru"])
async def test_an_export_of_an_office_roadmap_imports_back_with_its_co_executors(
    session_maker: SessionMaker, i18n: I18n, locale: str
) -> None:
    """Export, edit, import: the secretariat's round trip must not drop what the export shows.
    The department cell lists the lead, then the co-executors, as the import reads it."""
    await _seed(session_maker)
    built = office_workbook(KK_LAYOUT)
    now = datetime(2025, 1, 10, 5, tzinfo=UTC)
    async with session_maker() as session:
        plan = await plan_import(session, parse_spreadsheet(built.data, "roadmap.xlsx"))
        await apply_import(session, plan, actor=None, now=now, source="roadmap.xlsx")
    before = sorted(
        (link.item_id, link.department_id) for link in await rows(session_maker, ItemCoExecutor)
    )
    assert before  # the office workbook shares some items between departments
    async with session_maker() as session:
        with in_locale(i18n, locale):
            exported = await build_export(
                session, today=now.date(), tz=UTC, thresholds=RiskThresholds()
            )
        again = await plan_import(
            session,
            parse_spreadsheet(
                exported, "export.xlsx", extra_aliases=localized_header_aliases(i18n)
            ),
        )
    assert (len(again.new), len(again.updated), len(again.unchanged)) == (0, 0, 93)
    assert again.errors == []
    async with session_maker() as session:
        await apply_import(session, again, actor=None, now=now, source="export.xlsx")
    after = sorted(
        (link.item_id, link.department_id) for link in await rows(session_maker, ItemCoExecutor)
    )
    assert after == before


async def test_a_changed_co_executor_and_deadline_wording_are_updates(
    session_maker: SessionMaker,
) -> None:
    await _seed(session_maker)
    headers = ["Код", "Наименование", "Исполнитель", "Срок"]
    first = simple_workbook(
        headers, [["1.1", "Ремонт", "edu, Управление культуры", "IV квартал 2025"]]
    )
    second = simple_workbook(headers, [["1.1", "Ремонт", "edu, health", "31.12.2025"]])
    now = datetime(2025, 1, 10, 5, tzinfo=UTC)
    async with session_maker() as session:
        plan = await plan_import(session, parse_spreadsheet(first, "a.xlsx"))
        await apply_import(session, plan, actor=None, now=now)
    async with session_maker() as session:
        plan = await plan_import(session, parse_spreadsheet(second, "a.xlsx"))
    (update,) = plan.updated
    assert [(c.name, c.old, c.new) for c in update.changes] == [
        (Column.DEADLINE_TEXT, "IV квартал 2025", ""),
        (Column.CO_EXECUTORS, "culture", "health"),
    ]
    async with session_maker() as session:
        await apply_import(session, plan, actor=None, now=now)
        (link,) = (await session.exec(select(ItemCoExecutor))).all()
        health = (await session.exec(select(Department).where(Department.code == "health"))).one()
        assert link.department_id == health.id
    audit = {e.action: e.details for e in await rows(session_maker, AuditLog)}
    assert audit["item.co_executors"] == "culture -> health"


def test_departments_are_found_by_their_names_in_both_languages() -> None:
    directory = [
        Department(id=n, code=code, name_kk=kk, name_ru=ru, created_at=datetime.now(UTC))
        for n, (code, (kk, ru)) in enumerate(DEPARTMENTS.items(), start=1)
    ]
    matcher = DepartmentMatcher(directory)
    found = {
        text: (matcher.find(text)[0] or Department(code="-", name_kk="", name_ru="")).code
        for text in (
            "EDU",
            "Шымкент қаласының білім басқармасы",
            "Управление образования города Шымкент",
            "ГУ «Управление культуры города Шымкента»",
            "Мәдениет басқармасы",
            "Управление",  # ambiguous: every department is one
            "Управление космоса",
        )
    }
    assert found == {
        "EDU": "edu",
        "Шымкент қаласының білім басқармасы": "edu",
        "Управление образования города Шымкент": "edu",
        "ГУ «Управление культуры города Шымкента»": "culture",
        "Мәдениет басқармасы": "culture",
        "Управление": "-",
        "Управление космоса": "-",
    }


async def test_the_card_shows_the_deadline_as_the_road_map_words_it(
    session_maker: SessionMaker, i18n: I18n
) -> None:
    await _seed(session_maker)
    data = simple_workbook(
        ["Код", "Наименование", "Исполнитель", "Срок"], [["1.1", "Ремонт", "edu", "IV тоқсан"]]
    )
    now = datetime(2025, 1, 10, 5, tzinfo=UTC)
    async with session_maker() as session:
        plan = await plan_import(session, parse_spreadsheet(data, "roadmap 2025.xlsx"))
        await apply_import(session, plan, actor=None, now=now)
    async with session_maker() as session:
        card = await item_card(session, "1.1")
    with in_locale(i18n, "kk"):
        text = item_card_text(card, date(2025, 1, 10), UTC)
        assert (
            i18n.gettext("As the Road Map words it: «{text}»", locale="kk").format(text="IV тоқсан")
            in text
        )


@pytest.mark.parametrize("locale", ["kk", "ru"])
async def test_the_card_names_the_co_executors(
    session_maker: SessionMaker, i18n: I18n, locale: str
) -> None:
    await _seed(session_maker)
    data = simple_workbook(
        ["Код", "Наименование", "Исполнитель", "Срок"],
        [
            ["1.1", "Ремонт", "edu, health, Управление культуры", "31.12.2025"],
            ["1.2", "Дорога", "edu", "31.12.2025"],
        ],
    )
    now = datetime(2025, 1, 10, 5, tzinfo=UTC)
    async with session_maker() as session:
        plan = await plan_import(session, parse_spreadsheet(data, "roadmap 2025.xlsx"))
        await apply_import(session, plan, actor=None, now=now)
    async with session_maker() as session:
        shared, alone = await item_card(session, "1.1"), await item_card(session, "1.2")
        departments = {d.code: d for d in await rows(session_maker, Department)}
    with in_locale(i18n, locale):
        names = ", ".join(department_name(departments[code]) for code in ("culture", "health"))
        line = i18n.gettext("Co-executors: {names}", locale=locale).format(names=names)
        assert line != "Co-executors: " + names  # translated
        assert line in item_card_text(shared, date(2025, 1, 10), UTC).splitlines()
        assert i18n.gettext("Co-executors: {names}", locale=locale).split("{")[0] not in (
            item_card_text(alone, date(2025, 1, 10), UTC)
        )


# --- The dialog: sheet buttons, the file back with comments ---


async def test_the_dialog_asks_which_sheet_then_checks_it(
    admin: Chatter, files: Files, session_maker: SessionMaker
) -> None:
    headers = ["Код", "Атауы (қаз)", "Наименование (рус)", "Басқарма", "Мерзімі"]
    data = simple_workbook(
        headers, [["1.1", "Жөндеу", "Ремонт", "edu", "01.09.2025"]], sheets=("2024", "2025")
    )
    await admin.send(ADMIN_ID, "/import")
    asked = await send_file(admin, files, "S", data, "roadmap.xlsx")
    choices = buttons(asked)
    assert len(choices) == 2 and all(c.startswith("ims:") for c in choices)
    checked = await admin.press(ADMIN_ID, choices[1])
    ok, _cancel = buttons(checked)
    assert "2025" in "\n".join(texts(checked))
    await admin.press(ADMIN_ID, ok)
    assert [item.code for item in await rows(session_maker, RoadmapItem)] == ["1.1"]
    assert files.downloads == ["S", "S", "S"]  # asked, checked the chosen sheet, applied


async def test_the_dry_run_sends_the_file_back_with_comments(admin: Chatter, files: Files) -> None:
    built = office_workbook(RU_LAYOUT)
    await admin.send(ADMIN_ID, "/import")
    requests = await send_file(admin, files, "O", built.data, "roadmap.xlsx")
    (document,) = [r for r in requests if isinstance(r, SendDocument)]
    workbook = load_workbook(io.BytesIO(document.document.data))
    assert workbook.sheetnames == [RU_LAYOUT["cover"], built.sheet]  # the file as sent
    sheet = workbook[built.sheet]
    comment_column = sheet.max_column
    float_row = next(iter(built.float_codes))
    assert "2.10" in sheet.cell(float_row, comment_column).value
    assert sheet.cell(built.items[0].row, 2).value == built.items[0].title_kk
    summary = [r for r in requests if isinstance(r, SendMessage | EditMessageText)]
    assert all(len(r.text) <= 4096 for r in summary)
    assert "&lt; 10 км &amp;" not in "".join(r.text for r in summary)  # titles are not listed
    assert len(buttons(requests)) == 2


def test_the_annotated_file_of_a_csv_is_a_workbook(i18n: I18n) -> None:
    data = "Код;Наименование;Исполнитель;Срок\n1.1;=Ремонт;edu;завтра\n".encode()
    parsed = parse_spreadsheet(data, "a.csv")
    with in_locale(i18n, "ru"):
        annotated = annotated_workbook(data, _plan_of(parsed))
    sheet = load_workbook(io.BytesIO(annotated)).active
    assert sheet["B2"].data_type != "f"  # a CSV cell never becomes a formula
    assert "=Ремонт" in sheet["B2"].value
    assert "D2" in sheet["E2"].value and "завтра" in sheet["E2"].value


async def test_the_command_line_asks_for_a_sheet_and_writes_the_comments(
    settings: Settings,
    session_maker: SessionMaker,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    await _seed(session_maker)
    headers = ["Код", "Атауы (қаз)", "Наименование (рус)", "Басқарма", "Мерзімі"]
    path = tmp_path / "two.xlsx"
    path.write_bytes(
        simple_workbook(
            headers, [["1.1", "Жөндеу", "Ремонт", "nosuch", "01.09.2025"]], sheets=("2024", "2025")
        )
    )
    assert await cli_import(settings, path, apply=False, locale=settings.default_locale) == 2
    assert "«2024», «2025»" in capsys.readouterr().err
    comments = tmp_path / "comments.xlsx"
    assert (
        await cli_import(
            settings,
            path,
            apply=False,
            locale=settings.default_locale,
            sheet="2025",
            comments=comments,
        )
        == 1
    )
    sheet = load_workbook(comments)["2025"]
    assert "nosuch" in sheet.cell(2, 6).value
