"""Random cell values never make the import raise: a file is read, or refused with a reason."""

from __future__ import annotations

import contextlib
import io
from datetime import date, datetime

from aiogram.utils.i18n import I18n
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from bot.spreadsheets.deadlines import read_deadline
from bot.spreadsheets.parse import (
    Grid,
    ParsedFile,
    SheetChoiceNeeded,
    SpreadsheetFileError,
    read_grid,
    read_spreadsheet,
)
from bot.spreadsheets.plan import ImportPlan
from bot.spreadsheets.texts import plan_summary_lines
from bot.telegram.i18n import in_locale

HEADERS = ["№ п/п", "Атауы (қаз)", "Наименование (рус)", "Жауапты орган", "Срок", "Нәтиже"]
WORDS = st.sampled_from(
    [
        "1.1",
        "1.2.",
        "2-бағыт. Әлеуметтік сала",
        "IV тоқсан",
        "до 1 декабря",
        "ежегодно",
        "31.02.2025",
        "edu",
        "Білім басқармасы, Управление культуры",
        "=SUM(A1)",
        "Наименование",
        "Срок исполнения",
        "",
        " ",
        "\r",
        "№",
        "2025",
    ]
)
CELLS = st.one_of(
    st.none(),
    WORDS,
    st.text(max_size=40),
    st.integers(min_value=-(2**63), max_value=2**63),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.dates(min_value=date(1900, 1, 1)),
    st.datetimes(min_value=datetime(1900, 1, 1)),
)
ROWS = st.lists(st.lists(CELLS, max_size=9), max_size=25)


def _summary(parsed: ParsedFile, i18n: I18n) -> list[str]:
    plan = ImportPlan(
        errors=parsed.errors,
        data_rows=parsed.data_rows,
        guesses=parsed.guesses,
        header_row=parsed.header_row,
    )
    with in_locale(i18n, "kk"):
        return plan_summary_lines(plan, max_errors=50)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(header=st.lists(st.one_of(st.sampled_from(HEADERS), CELLS), max_size=8), rows=ROWS)
def test_random_cells_under_a_random_header_never_raise(
    header: list[object], rows: list[list[object]], i18n: I18n
) -> None:
    for grid_rows in ([header, *rows], [HEADERS, *rows], [["title"], [], HEADERS, *rows]):
        try:
            parsed = read_grid(Grid(name="Sheet", rows=[list(r) for r in grid_rows]), "f.xlsx", {})
        except SpreadsheetFileError:
            continue
        assert parsed.data_rows >= len(parsed.rows)
        assert all(line and "\n" not in line for line in _summary(parsed, i18n))


def _xlsx(rows: list[list[object]]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append([ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v for v in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


XLSX_CELLS = st.one_of(
    st.none(),
    WORDS,
    st.text(max_size=20),
    st.integers(min_value=-(10**12), max_value=10**12),
    st.floats(allow_nan=False, allow_infinity=False),
    st.dates(min_value=date(1900, 3, 1)),
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(st.lists(XLSX_CELLS, max_size=7), max_size=12))
def test_random_workbooks_never_raise(rows: list[list[object]]) -> None:
    with contextlib.suppress(SpreadsheetFileError, SheetChoiceNeeded):
        read_spreadsheet(_xlsx([HEADERS, *rows]), "random.xlsx")


@settings(max_examples=150, deadline=None)
@given(text=st.text(max_size=300), delimiter=st.sampled_from([";", ",", "\t"]))
def test_random_csv_text_never_raises(text: str, delimiter: str) -> None:
    header = delimiter.join(HEADERS)
    with contextlib.suppress(SpreadsheetFileError):
        read_spreadsheet(f"{header}\n{text}".encode(), "random.csv")


@settings(max_examples=300, deadline=None)
@given(text=st.one_of(st.text(max_size=60), WORDS), year=st.none() | st.integers(1, 9999))
def test_random_deadline_words_never_raise(text: str, year: int | None) -> None:
    reading = read_deadline(text, year)
    assert reading is None or 2000 <= reading.day.year <= 2099
