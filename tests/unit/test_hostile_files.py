"""Files that cannot hurt the bot (issue 24): each hostile file gets its own answer.

Reading runs in a child process (bot.spreadsheets.isolation); these tests check what comes
back and what the person is told, in both languages. bench/bench_hostile_files.py measures
how long each answer takes and how much memory it costs.
"""

from __future__ import annotations

import io
import zipfile

import pytest
from aiogram.utils.i18n import I18n
from openpyxl import Workbook

from bot.spreadsheets.grid import FileProblem, SpreadsheetFileError
from bot.spreadsheets.isolation import parse_in_child
from bot.spreadsheets.parse import GuessKind, parse_spreadsheet, read_spreadsheet
from bot.spreadsheets.texts import file_problem_text, guess_lines
from bot.telegram.i18n import in_locale
from tests.helpers.hostile_files import HOSTILE_FILES, Hostile, real_rows, xlsx_from_parts

GENERIC = (FileProblem.CORRUPT, FileProblem.NOT_SPREADSHEET, FileProblem.EMPTY)


def _answers(i18n: I18n, problem: FileProblem, detail: str = "") -> dict[str, str]:
    answers = {}
    for locale in ("kk", "ru"):
        with in_locale(i18n, locale):
            answers[locale] = file_problem_text(SpreadsheetFileError(problem, detail=detail))
    return answers


@pytest.mark.parametrize("hostile", HOSTILE_FILES, ids=lambda hostile: hostile.name)
def test_each_hostile_file_gets_its_own_answer(hostile: Hostile, i18n: I18n) -> None:
    data = hostile.build()
    if hostile.problem is None:
        parsed = parse_spreadsheet(data, hostile.name)
        assert [row.code for row in parsed.rows] == [f"1.{n}" for n in range(1, hostile.rows + 1)]
        assert parsed.errors == []
        return
    with pytest.raises(SpreadsheetFileError) as refused:
        parse_spreadsheet(data, hostile.name)
    assert refused.value.problem == hostile.problem
    answers = _answers(i18n, refused.value.problem, refused.value.detail)
    generic = [_answers(i18n, problem) for problem in GENERIC]
    assert answers["kk"] != answers["ru"]
    for locale, text in answers.items():
        assert text and "{" not in text and "\n" not in text
        assert all(text != other[locale] for other in generic)


def test_the_answers_name_what_is_wrong(i18n: I18n) -> None:
    with in_locale(i18n, "ru"):
        huge = file_problem_text(SpreadsheetFileError(FileProblem.HUGE_SHEET, detail="XFD1048576"))
        bomb = file_problem_text(SpreadsheetFileError(FileProblem.ZIP_BOMB, detail="1028"))
        pdf = file_problem_text(SpreadsheetFileError(FileProblem.PDF))
    assert "XFD1048576" in huge and "1028" in bomb and ".docx" in pdf and ".xlsx" in pdf


def test_a_child_out_of_memory_is_answered_and_the_bot_goes_on(i18n: I18n) -> None:
    data = xlsx_from_parts(["<worksheet><sheetData>", *real_rows(5), "</sheetData></worksheet>"])
    with pytest.raises(SpreadsheetFileError) as refused:
        parse_in_child(data, "roadmap.xlsx", memory_limit=8 * 1024 * 1024)
    assert refused.value.problem == FileProblem.TOO_MUCH_MEMORY
    assert len(parse_in_child(data, "roadmap.xlsx").rows) == 5  # the next file reads as usual


def test_a_child_that_runs_too_long_is_stopped() -> None:
    data = xlsx_from_parts(["<worksheet><sheetData>", *real_rows(5), "</sheetData></worksheet>"])
    with pytest.raises(SpreadsheetFileError) as refused:
        parse_in_child(data, "roadmap.xlsx", time_limit=0.001)
    assert refused.value.problem == FileProblem.TOO_SLOW


def _hidden_workbook() -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "План"
    sheet.append(["Код", "Наименование", "Примечание", "Исполнитель", "Срок"])
    for number in range(1, 6):
        sheet.append([f"1.{number}", f"Мероприятие {number}", "черновик", "edu", "01.09.2025"])
    sheet.column_dimensions["C"].hidden = True
    sheet.row_dimensions[4].hidden = True
    old = workbook.create_sheet("План 2023")
    for row in sheet.iter_rows(values_only=True):
        old.append(list(row))
    old.sheet_state = "hidden"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_hidden_rows_columns_and_sheets_are_not_read_and_the_dry_run_says_so(
    i18n: I18n,
) -> None:
    parsed = read_spreadsheet(_hidden_workbook(), "plan.xlsx")  # no choice between two sheets
    assert parsed.sheet == "План"
    assert [row.code for row in parsed.rows] == ["1.1", "1.2", "1.4", "1.5"]
    kinds = {guess.kind: guess.args for guess in parsed.guesses}
    assert kinds[GuessKind.HIDDEN_COLUMN] == {"letter": "C"}
    assert kinds[GuessKind.HIDDEN_ROWS] == {"rows": "4"}
    assert kinds[GuessKind.HIDDEN_SHEETS] == {"sheets": "План 2023"}
    with in_locale(i18n, "ru"):
        lines = guess_lines(parsed.guesses)
    assert "Столбец C скрыт: не прочитан" in lines


def test_a_stray_cell_far_below_the_table_is_not_read_and_the_dry_run_says_so() -> None:
    rows = [*real_rows(3), '<row r="900000"><c r="A900000"><v>7</v></c></row>']
    data = xlsx_from_parts(["<worksheet><sheetData>", *rows, "</sheetData></worksheet>"])
    parsed = read_spreadsheet(data, "plan.xlsx")
    assert len(parsed.rows) == 3
    assert {g.kind: g.args for g in parsed.guesses}[GuessKind.CUT_AT_ROW] == {"row": "4"}


def test_a_part_that_expands_too_much_is_refused_before_it_is_opened() -> None:
    target = io.BytesIO()
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/workbook.xml", b"<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"<" + b" " * (8 * 1024 * 1024) + b"/>")
    with pytest.raises(SpreadsheetFileError) as refused:
        read_spreadsheet(target.getvalue(), "bomb.xlsx")
    assert refused.value.problem == FileProblem.ZIP_BOMB
