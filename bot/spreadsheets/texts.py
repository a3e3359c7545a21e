"""The import in the reader's language: column names, file and row problems, the dry run."""

from __future__ import annotations

import csv
import io
from datetime import date

from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font

from bot.app.config import SUPPORTED_LOCALES
from bot.spreadsheets.parse import (
    MAX_ROWS,
    Column,
    FileProblem,
    RowError,
    RowProblem,
    SpreadsheetFileError,
    normalize_header,
)
from bot.spreadsheets.plan import ImportPlan
from bot.telegram.i18n import N_, ngettext

# The template's headers; also the names used for the columns in messages and in the export.
COLUMN_HEADERS: dict[Column, str] = {
    Column.CODE: N_("Item code"),
    Column.TITLE_KK: N_("Title in Kazakh"),
    Column.TITLE_RU: N_("Title in Russian"),
    Column.DEPARTMENT: N_("Department code"),
    Column.DEADLINE: N_("Deadline"),
    Column.TARGET: N_("Target"),
}


def localized_header_aliases(i18n: I18n) -> dict[str, Column]:
    """The template's headers as translated in every locale, so a template always reads back."""
    return {
        normalize_header(i18n.gettext(header, locale=locale)): column
        for column, header in COLUMN_HEADERS.items()
        for locale in SUPPORTED_LOCALES
    }


def column_label(column: Column | str) -> str:
    return _(COLUMN_HEADERS[Column(column)])


def file_problem_text(error: SpreadsheetFileError) -> str:
    """Why a file was refused, in the reader's language."""
    texts = {
        FileProblem.NOT_SPREADSHEET: _(
            "This is not a spreadsheet I can read. Send an .xlsx workbook or a .csv file."
        ),
        FileProblem.LEGACY_XLS: _(
            "This is an old Excel file (.xls). "
            "Open it in Excel, save it as .xlsx and send it again."
        ),
        FileProblem.ENCRYPTED: _(
            "The workbook is password-protected. Remove the password in Excel and send it again."
        ),
        FileProblem.EMPTY: _("The file is empty: there are no rows to import."),
        FileProblem.TOO_MANY_ROWS: _(
            "The file has more than {count} rows. Split it into smaller files."
        ).format(count=MAX_ROWS),
        FileProblem.TOO_LARGE: _(
            "The file is larger than 20 MB, the most a bot can download from Telegram. "
            "Remove pictures and extra sheets, or split the file."
        ),
    }
    if error.problem == FileProblem.MISSING_COLUMNS:
        names = ", ".join(column_label(column) for column in error.missing)
        return _(
            "I could not find these columns in the header row: {columns}. "
            "Use /template to see the expected headers."
        ).format(columns=names)
    return texts[error.problem]


def row_problem_text(error: RowError) -> str:
    """One problem of one row, without HTML (callers escape)."""
    if error.problem == RowProblem.DUPLICATE_CODE:
        return _("the code also appears in row(s) {rows}").format(rows=error.detail)
    if error.problem == RowProblem.MISSING_TITLE:
        return _("no title in column «{column}»").format(column=column_label(error.detail))
    if error.problem == RowProblem.TOO_LONG:
        return _("text too long in column «{column}»").format(column=column_label(error.detail))
    if error.problem == RowProblem.UNKNOWN_DEPARTMENT:
        return _("unknown department «{department}»").format(department=error.detail)
    if error.problem == RowProblem.BAD_DATE:
        return _("impossible or unreadable date «{value}»").format(value=error.detail)
    texts = {
        RowProblem.MISSING_CODE: _("no item code"),
        RowProblem.BAD_CODE: _("the item code has characters that are not allowed"),
        RowProblem.MISSING_DEPARTMENT: _("no department"),
        RowProblem.MISSING_DEADLINE: _("no deadline"),
    }
    return texts[error.problem]


def error_line(error: RowError) -> str:
    code = f" ({error.code})" if error.code else ""
    return _("Row {row}{code}: {reason}").format(
        row=error.row_number, code=code, reason=row_problem_text(error)
    )


def plan_summary_lines(plan: ImportPlan, max_errors: int | None = None) -> list[str]:
    """The dry run as plain-text lines: counts first, then the rows with errors.

    With `max_errors`, a chat message lists that many and says how many more there are.
    """
    lines = [
        ngettext("{count} row read", "{count} rows read", plan.data_rows).format(
            count=plan.data_rows
        ),
        _("New items: {count}").format(count=len(plan.new)),
        _("Updated items: {count}").format(count=len(plan.updated)),
        _("Unchanged items: {count}").format(count=len(plan.unchanged)),
        _("Rows with errors: {count}").format(count=len(plan.errors)),
    ]
    shown = plan.errors if max_errors is None else plan.errors[:max_errors]
    lines += [error_line(error) for error in shown]
    hidden = len(plan.errors) - len(shown)
    if hidden:
        lines.append(
            ngettext(
                "…and {count} more row with errors: see the attached list.",
                "…and {count} more rows with errors: see the attached list.",
                hidden,
            ).format(count=hidden)
        )
    return lines


def errors_csv(plan: ImportPlan) -> bytes:
    """Every row with an error, for Excel (UTF-8 with BOM, semicolons), in the reader's language."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")
    writer.writerow([_("Row"), _(COLUMN_HEADERS[Column.CODE]), _("Error")])
    for error in plan.errors:
        code = error.code
        if code.startswith(("=", "+", "-", "@")):
            code = "'" + code
        writer.writerow([error.row_number, code, row_problem_text(error)])
    return buffer.getvalue().encode("utf-8-sig")


def build_template() -> bytes:
    """An empty workbook with the expected headers in the reader's language and one example."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _("Road Map")
    sheet.append([_(COLUMN_HEADERS[column]) for column in Column])
    sheet.append(
        [
            "2.3.1",
            "№5 мектепті күрделі жөндеу",
            "Капитальный ремонт школы №5",
            "edu",
            date(2025, 12, 31),
            _("Example: 1 school, 600 pupils"),
        ]
    )
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet["E2"].number_format = "DD.MM.YYYY"
    sheet.freeze_panes = "A2"
    for letter, width in zip("ABCDEF", (12, 45, 45, 18, 14, 40), strict=True):
        sheet.column_dimensions[letter].width = width
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
