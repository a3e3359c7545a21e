"""Road Maps in the other formats offices send: .xls and .ods (calamine), Word annexes (.docx).

Each comes out as grids, like a workbook: the roadmap reader does not know where a table came
from. These readers load a whole sheet or document at once, so they run only inside the
guarded child process (bot.spreadsheets.isolation) with its memory and time limits.
"""

from __future__ import annotations

import io
from datetime import date, datetime, time, timedelta
from typing import Any

from bot.spreadsheets.grid import (
    MAX_COLUMNS,
    FileProblem,
    Grid,
    RowCollector,
    SpreadsheetFileError,
    checked_zip,
    fill_merged_down,
)


def _plain(value: object) -> object:
    """calamine's values as openpyxl gives them: empty cells None, times as text."""
    if value == "" or value is None:
        return None
    if isinstance(value, time | timedelta):
        return str(value)
    if isinstance(value, date) and not isinstance(value, datetime):
        return datetime(value.year, value.month, value.day)  # noqa: DTZ001 - a day, no zone
    return value


def calamine_grids(data: bytes) -> list[Grid]:
    """Every worksheet of an .xls or .ods file; hidden sheets marked, not dropped."""
    from python_calamine import CalamineError, CalamineWorkbook, SheetVisibleEnum

    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
    except CalamineError as error:
        raise SpreadsheetFileError(FileProblem.CORRUPT) from error
    except Exception as error:  # the binding raises plain errors for damaged streams too
        raise SpreadsheetFileError(FileProblem.CORRUPT) from error
    grids: list[Grid] = []
    if not workbook.sheets_metadata:
        raise SpreadsheetFileError(FileProblem.CORRUPT)
    with workbook:
        for metadata in workbook.sheets_metadata:
            try:
                sheet = workbook.get_sheet_by_name(metadata.name)
                values = sheet.to_python(skip_empty_area=False)
                merged = sheet.merged_cell_ranges or []
            except Exception as error:  # a damaged sheet stream
                raise SpreadsheetFileError(FileProblem.CORRUPT) from error
            collector = RowCollector()
            cut_columns = False
            for number, row in enumerate(values, start=1):
                cut_columns = cut_columns or any(v not in ("", None) for v in row[MAX_COLUMNS:])
                if not collector.add(number, [_plain(v) for v in row[:MAX_COLUMNS]]):
                    break
            grid = Grid(
                name=metadata.name,
                rows=collector.rows,
                merged=[
                    (start[0] + 1, end[0] + 1, start[1] + 1, end[1] + 1) for start, end in merged
                ],
                hidden=metadata.visible != SheetVisibleEnum.Visible,
                cut_at_row=collector.cut_at_row,
                cut_columns=cut_columns,
            )
            fill_merged_down(grid)
            grids.append(grid)
    return grids


def _table_rows(table: Any) -> tuple[list[list[object]], list[tuple[int, int, int, int]]]:
    """A Word table's rows and its cells merged down (1-based, as in a workbook).

    A cell merged down repeats in each row (as a merged department does in a workbook once
    read); a cell merged across stands in its first column only.
    """
    rows: list[list[object]] = []
    origins: list[list[object]] = []  # the cell element behind each value
    for row in table.rows:
        values: list[object] = []
        elements: list[object] = []
        previous = None
        for cell in row.cells[:MAX_COLUMNS]:
            elements.append(cell._tc)
            if cell._tc is previous:  # merged across: the value stands once, as in Excel
                values.append(None)
                continue
            previous = cell._tc
            text = "\n".join(paragraph.text for paragraph in cell.paragraphs).strip()
            values.append(text or None)
        rows.append(values)
        origins.append(elements)
    merged: list[tuple[int, int, int, int]] = []
    width = max((len(elements) for elements in origins), default=0)
    for column in range(width):
        start = 0
        for index in range(1, len(origins) + 1):
            same = (
                index < len(origins)
                and column < len(origins[index])
                and column < len(origins[start])
                and origins[index][column] is origins[start][column]
            )
            if not same:
                if index - 1 > start:
                    merged.append((start + 1, index, column + 1, column + 1))
                start = index
    return rows, merged


def docx_grids(data: bytes) -> list[Grid]:
    """Each table of the document as a grid; the paragraphs after a table are its notes."""
    checked_zip(data).close()
    from docx import Document
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    try:
        document = Document(io.BytesIO(data))
    except Exception as error:  # python-docx raises package, key and XML errors alike
        raise SpreadsheetFileError(FileProblem.CORRUPT) from error
    grids: list[Grid] = []
    above: list[str] = []
    for block in document.iter_inner_content():
        if isinstance(block, Table):
            rows, merged = _table_rows(block)
            collector = RowCollector()
            for number, row in enumerate(rows, start=1):
                if not collector.add(number, row):
                    break
            grids.append(Grid(name="", rows=collector.rows, merged=merged, caption=above))
            above = []
        elif isinstance(block, Paragraph) and block.text.strip():
            text = " ".join(block.text.split())
            above.append(text)
            if grids:
                grids[-1].notes.append(text)
    if not grids:
        raise SpreadsheetFileError(FileProblem.NO_TABLE)
    return grids
