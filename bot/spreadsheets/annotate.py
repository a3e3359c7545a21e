"""The file sent back after a dry run: the secretariat's own rows with a comment column.

The secretariat fixes the skipped rows in Excel, where it works, and imports the file again;
the comment column is one more column the import ignores.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from aiogram.utils.i18n import gettext as _

from bot.spreadsheets.parse import csv_grid
from bot.spreadsheets.plan import ImportPlan
from bot.spreadsheets.texts import row_notes

if TYPE_CHECKING:
    from openpyxl import Workbook
    from openpyxl.worksheet.worksheet import Worksheet


_PROBLEM_COLOUR = "F8CBAD"
_GUESS_COLOUR = "FFF2CC"
_FORMULA_PREFIXES = ("=", "+", "-", "@")


def _sheet_of(data: bytes, plan: ImportPlan) -> tuple[Workbook, Worksheet]:
    from openpyxl import Workbook, load_workbook  # openpyxl loads on first use, not at start

    if plan.sheet:
        workbook = load_workbook(io.BytesIO(data))
        sheet = workbook[plan.sheet]
        return workbook, sheet
    workbook = Workbook()
    sheet = workbook.active
    for row in csv_grid(data).rows:
        sheet.append(
            ["'" + v if isinstance(v, str) and v.startswith(_FORMULA_PREFIXES) else v for v in row]
        )
    return workbook, sheet


def annotated_workbook(data: bytes, plan: ImportPlan) -> bytes:
    """The file as sent, with every problem and guess next to its row (red: skipped)."""
    from openpyxl.styles import Alignment, Font, PatternFill

    workbook, sheet = _sheet_of(data, plan)
    column = sheet.max_column + 1
    header_row = max(plan.header_row, 1)
    title = sheet.cell(header_row, column, _("Import comment"))
    title.font = Font(bold=True)
    skipped = {error.row_number for error in plan.errors}
    for number, notes in sorted(row_notes(plan).items()):
        cell = sheet.cell(number, column, "\n".join(notes))
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        colour = _PROBLEM_COLOUR if number in skipped else _GUESS_COLOUR
        cell.fill = PatternFill("solid", fgColor=colour)
    sheet.column_dimensions[title.column_letter].width = 70
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
