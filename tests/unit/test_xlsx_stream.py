"""The streaming XLSX writer, read back by openpyxl: kinds, styles, escaping, the limits."""

from __future__ import annotations

import io
from datetime import date, datetime

import pytest
from openpyxl import load_workbook

from bot.spreadsheets import xlsx_stream
from bot.spreadsheets.xlsx_stream import XlsxStream, column_letter


def test_values_come_back_as_written() -> None:
    buffer = io.BytesIO()
    long_text = "ұзын мәтін " * 20
    with XlsxStream(buffer) as book:
        sheet = book.sheet("Тармақтар & 'co'", (10, 20, 12, 16, 8, 8, 30), percent_columns=(6,))
        sheet.append(["Код", "Атауы", "Мерзімі", "Уақыты", "Иә", "Үлес", "Мәтін"], header=True)
        sheet.append(
            [
                "1.1",
                "=SUM(A1)",
                date(2025, 9, 1),
                datetime(2025, 2, 20, 15, 30),
                True,
                0.5,
                long_text,
            ]
        )
        sheet.append(["1.2", "<b>&\x07</b>", None, None, False, 1, "  бос орын  "])
        second = book.sheet("Екінші", (5,))
        second.append(["1.1"])  # a shared string used on two sheets
    workbook = load_workbook(buffer)
    assert workbook.sheetnames == ["Тармақтар & 'co'", "Екінші"]
    items = workbook.worksheets[0]
    rows = [list(row) for row in items.iter_rows(values_only=True)]
    assert rows[1] == [
        "1.1",
        "=SUM(A1)",
        datetime(2025, 9, 1),
        datetime(2025, 2, 20, 15, 30),
        True,
        0.5,
        long_text,
    ]
    assert rows[2] == ["1.2", "<b>&</b>", None, None, False, 1, "  бос орын  "]
    assert items["A1"].font.b and not items["A2"].font.b
    assert items["B2"].data_type == "s" and items["B2"].quotePrefix  # text, kept text on edit
    assert items["C2"].number_format == "DD.MM.YYYY"
    assert items["D2"].number_format == "DD.MM.YYYY HH:MM"
    assert items["F2"].number_format == "0%"
    assert items.freeze_panes == "A2" and items.auto_filter.ref == "A1:G3"
    assert items.column_dimensions["B"].width == 20
    assert workbook.worksheets[1]["A1"].value == "1.1"


def test_a_row_of_the_wrong_width_or_kind_is_refused() -> None:
    with XlsxStream(io.BytesIO()) as book:
        sheet = book.sheet("S", (5, 5))
        with pytest.raises(ValueError):
            sheet.append(["only one"])
        with pytest.raises(TypeError):
            sheet.append([object(), 1])


def test_a_sheet_stops_at_excels_row_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(xlsx_stream, "EXCEL_MAX_ROWS", 3)
    with XlsxStream(io.BytesIO()) as book:
        sheet = book.sheet("S", (5,))
        for n in range(3):
            sheet.append([n])
        with pytest.raises(ValueError):
            sheet.append([4])


def test_column_letters() -> None:
    assert [column_letter(n) for n in (1, 26, 27, 52, 703)] == ["A", "Z", "AA", "AZ", "AAA"]
