"""The import in the reader's language: column names, file and row problems, the dry run."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date

from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.core.catalogs import SUPPORTED_LOCALES
from bot.spreadsheets.deadlines import Precision
from bot.spreadsheets.grid import BLANK_RUN, MAX_COLUMNS
from bot.spreadsheets.headers import normalize_header
from bot.spreadsheets.parse import (
    EXAMPLE_AUTHOR,
    EXAMPLE_TITLES,
    MAX_ROWS,
    TEMPLATE_COLUMNS,
    Column,
    FileProblem,
    Guess,
    GuessKind,
    RowError,
    RowProblem,
    SpreadsheetFileError,
)
from bot.spreadsheets.plan import ImportPlan, PlannedUpdate
from bot.telegram.i18n import N_, format_day, ngettext

# The template's headers; also the names used for the columns in messages and in the export.
COLUMN_HEADERS: dict[Column, str] = {
    Column.CODE: N_("Item code"),
    Column.TITLE_KK: N_("Title in Kazakh"),
    Column.TITLE_RU: N_("Title in Russian"),
    Column.DEPARTMENT: N_("Department code"),
    Column.DEADLINE: N_("Deadline"),
    Column.TARGET: N_("Target"),
    Column.DEADLINE_TEXT: N_("Deadline as written"),
    Column.CO_EXECUTORS: N_("Co-executors"),
    Column.COMPLETION_FORM: N_("Completion form"),
    Column.COSTS: N_("Estimated costs"),
    Column.FUNDING: N_("Funding source"),
    Column.DEADLINE_REASON: N_("Reason for moving the deadline"),
}


# Columns the export writes beside the template's, read back when an export is imported.
_EXPORT_ONLY = (Column.DEADLINE_TEXT, Column.COMPLETION_FORM, Column.COSTS, Column.FUNDING)


def localized_header_aliases(i18n: I18n) -> dict[str, Column]:
    """The template's headers as translated in every locale, so a template always reads back;
    and the export's wording of a deadline, so an export does too."""
    return {
        normalize_header(i18n.gettext(header, locale=locale)): column
        for column, header in COLUMN_HEADERS.items()
        if column in TEMPLATE_COLUMNS or column in _EXPORT_ONLY
        for locale in SUPPORTED_LOCALES
    }


def column_label(column: Column | str) -> str:
    return _(COLUMN_HEADERS[Column(column)])


def file_problem_text(error: SpreadsheetFileError) -> str:
    """Why a file was refused, in the reader's language."""
    texts = {
        FileProblem.NOT_SPREADSHEET: _(
            "This is not a spreadsheet I can read. "
            "Send an Excel workbook (.xlsx or .xls), an .ods, a Word file (.docx) or a .csv file."
        ),
        FileProblem.LEGACY_XLS: _(
            "This is an old Excel file (.xls). "
            "Open it in Excel, save it as .xlsx and send it again."
        ),
        FileProblem.LEGACY_DOC: _(
            "This is an old Word file (.doc). Open it in Word, save it as .docx and send it again."
        ),
        FileProblem.PDF: _(
            "This is a PDF: I cannot read a table from it. Send the Excel workbook (.xlsx or .xls) "
            "or the Word file (.docx) the Road Map was made in."
        ),
        FileProblem.ZIP_BOMB: _(
            "The file is packed {ratio} times tighter than an office file can be: unpacked, "
            "it would fill the server's memory. Open the Road Map in Excel, "
            "save it as a new .xlsx and send it again."
        ).format(ratio=error.detail or "1000"),
        FileProblem.HUGE_SHEET: _(
            "The sheet claims to reach cell {cell}, and in its first {rows} rows and {columns} "
            "columns there is no Road Map table. Copy the table to a new workbook "
            "and send that."
        ).format(cell=error.detail or "XFD1048576", rows=MAX_ROWS, columns=MAX_COLUMNS),
        FileProblem.MACROS: _(
            "The workbook holds macros (.xlsm), and I do not open files with macros. "
            "In Excel choose «Save as», pick «Excel Workbook (.xlsx)» and send that file."
        ),
        FileProblem.EXTERNAL_LINKS: _(
            "The workbook takes values from other files (external links), which I cannot see. "
            "Copy the table, paste it as values into a new workbook and send that."
        ),
        FileProblem.NO_TABLE: _(
            "The Word file has no table. Send the annex with the Road Map table, "
            "or the Excel workbook."
        ),
        FileProblem.TOO_MUCH_MEMORY: _(
            "Reading this file needs more memory than the bot allows for one file. "
            "Copy the Road Map table alone into a new workbook and send that."
        ),
        FileProblem.TOO_SLOW: _(
            "Reading this file took too long, and I stopped. "
            "Copy the Road Map table alone into a new workbook and send that."
        ),
        FileProblem.ENCRYPTED: _(
            "The workbook is password-protected. Remove the password in Excel and send it again."
        ),
        FileProblem.CORRUPT: _(
            "The workbook is damaged and cannot be read. "
            "Open it in Excel, save it again as .xlsx and send it again."
        ),
        FileProblem.BAD_CSV: _(
            "Line {line} of the CSV file breaks inside a cell without quotes. "
            "Save the file from Excel again, or send it as .xlsx."
        ).format(line=error.line),
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
    if error.problem == RowProblem.AMBIGUOUS_DEPARTMENT:
        name, _bar, codes = error.detail.partition("|")
        return _(
            "«{department}» matches more than one department ({codes}): write the code of the "
            "one meant, or give the name an alias with /alias"
        ).format(department=_short(name), codes=codes)
    if error.problem == RowProblem.UNKNOWN_DEPARTMENT:
        return _("unknown department «{department}»").format(department=_short(error.detail))
    if error.problem == RowProblem.BAD_DATE:
        return _("impossible or unreadable date «{value}»").format(value=error.detail)
    if error.problem == RowProblem.NO_YEAR:
        return _(
            "the deadline «{value}» names no year, and the file does not say which year "
            "the Road Map is for: add the year"
        ).format(value=error.detail)
    if error.problem == RowProblem.FORMULA_WITHOUT_VALUE:
        return _(
            "cell {cell} holds a formula without a value: open and save the file in Excel"
        ).format(cell=error.cell)
    texts = {
        RowProblem.BAD_CODE: _("the item code has characters that are not allowed"),
        RowProblem.MISSING_DEPARTMENT: _("no department"),
        RowProblem.MISSING_DEADLINE: _("no deadline"),
        RowProblem.EXAMPLE_ROW: _("the template's example row: never imported"),
    }
    return texts[error.problem]


def _short(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def error_line(error: RowError) -> str:
    code = f" ({error.code})" if error.code else ""
    if error.cell and error.problem != RowProblem.FORMULA_WITHOUT_VALUE:
        return _("Row {row}{code}, cell {cell}: {reason}").format(
            row=error.row_number, code=code, cell=error.cell, reason=row_problem_text(error)
        )
    return _("Row {row}{code}: {reason}").format(
        row=error.row_number, code=code, reason=row_problem_text(error)
    )


def _deadline_reason(guess: Guess) -> str:
    reasons = {
        Precision.DAY.value: _("the day as written"),
        Precision.MONTH.value: _("the last day of the month"),
        Precision.QUARTER.value: _("the last day of the quarter"),
        Precision.YEAR.value: _("the end of the year"),
        Precision.YEARLY.value: _("every year: the end of the Road Map's year"),
        Precision.HALF.value: _("the last day of the half-year"),
        Precision.PERIODIC.value: _("recurring: the end of the Road Map's year"),
    }
    reason = reasons[guess.args["precision"]]
    if guess.args.get("assumed") and guess.args["precision"] not in (
        Precision.YEARLY.value,
        Precision.PERIODIC.value,
    ):
        reason = _("{reason}, in the Road Map's year").format(reason=reason)
    return reason


def guess_text(guess: Guess) -> str:  # noqa: C901 - one branch per office habit or format case
    """What the importer inferred, without the row it is about (callers escape)."""
    args = guess.args
    kind = guess.kind
    if kind == GuessKind.SHEET:
        if args.get("others"):
            return _("Read the sheet «{sheet}»; not read: {others}").format(
                sheet=_short(args["sheet"]), others=_short(args["others"])
            )
        return _("Read the sheet «{sheet}»").format(sheet=_short(args["sheet"]))
    if kind == GuessKind.HEADER_ROW:
        return _("The header is in row {row}").format(row=args["row"])
    if kind == GuessKind.COLUMN:
        column = column_label(args["column"])
        header = _short(args["header"], 60)
        letter = args["letter"]
        if args["how"] == "cells":
            return _(
                "Column {letter} «{header}»: {column} (the language judged by its text)"
            ).format(letter=letter, header=header, column=column)
        return _("Column {letter} «{header}»: {column}").format(
            letter=letter, header=header, column=column
        )
    if kind == GuessKind.TITLE_FALLBACK:
        return _("There is only one title column: «{absent}» is taken from «{present}»").format(
            absent=column_label(args["absent"]), present=column_label(args["present"])
        )
    if kind == GuessKind.NUMBER_ROW:
        return _("the row of column numbers is skipped")
    if kind == GuessKind.SECTION:
        return _("section heading «{text}»").format(text=_short(args["text"]))
    if kind == GuessKind.MERGED:
        return _("merged over rows {first}–{last}: its value applies to each of them").format(
            first=args["first"], last=args["last"]
        )
    if kind == GuessKind.ROADMAP_YEAR:
        if args.get("source"):
            return _("Deadlines without a year are taken in {year} (from «{source}»)").format(
                year=args["year"], source=_short(args["source"])
            )
        return _("Deadlines without a year are taken in {year}, the year of most dates").format(
            year=args["year"]
        )
    if kind == GuessKind.DEADLINE:
        day = format_day(date.fromisoformat(args["date"]))
        return _("deadline «{text}» read as {date} ({reason})").format(
            text=_short(args["text"], 60), date=day, reason=_deadline_reason(guess)
        )
    if kind == GuessKind.CODE_PROPOSED:
        return _("no item code: {code} is proposed, from the row's place in its section").format(
            code=args["code"]
        )
    if kind == GuessKind.CODE_FROM_NUMBER:
        return _(
            "Excel stored the code as the number {read}; after the previous code it must be "
            "{code}. Format the code column as text"
        ).format(read=args["read"], code=args["code"])
    if kind == GuessKind.DEPARTMENT_BY_NAME:
        return _("department «{name}» recognised as {code}").format(
            name=_short(args["name"]), code=args["code"]
        )
    if kind == GuessKind.CO_EXECUTORS:
        return _("lead department «{lead}»; co-executors: {others}").format(
            lead=_short(args["lead"]), others=_short(args["others"], 200)
        )
    if kind == GuessKind.SUBHEADER_ROW:
        return _("the second row of the header is skipped")
    if kind == GuessKind.ITEM_BY_DISTRICT:
        return _(
            "rows {first}–{last} are one item broken down by district: "
            "the districts are its co-executors"
        ).format(first=args["first"], last=args["last"])
    if kind == GuessKind.LEGEND:
        return _("Abbreviations spelled out from the legend in the file: {pairs}").format(
            pairs=_short(args["pairs"], 600)
        )
    if kind == GuessKind.CODES_FROM_SECTIONS:
        return _(
            "Items are numbered anew in each section: each code is the section's number and "
            "the item's number (for example {example})"
        ).format(example=args["example"])
    if kind == GuessKind.COLLECTIVE_EXPANDED:
        return _("«{name}» read as every district akimat: {codes}").format(
            name=_short(args["name"]), codes=_short(args["codes"], 200)
        )
    if kind == GuessKind.COLLECTIVE:
        return _(
            "«{name}» names several bodies at once, not one department: "
            "not recorded as a co-executor"
        ).format(name=_short(args["name"]))
    if kind == GuessKind.HIDDEN_COLUMN:
        return _("Column {letter} is hidden: not read").format(letter=args["letter"])
    if kind == GuessKind.HIDDEN_ROWS:
        return _("Hidden rows {rows}: not read").format(rows=_short(args["rows"], 120))
    if kind == GuessKind.HIDDEN_SHEETS:
        return _("Hidden sheets not read: {sheets}").format(sheets=_short(args["sheets"]))
    if kind == GuessKind.CUT_AT_ROW:
        return _(
            "After row {row} come {count} empty rows: the table ends there, nothing below is read"
        ).format(row=args["row"], count=BLANK_RUN)
    return _("co-executor «{name}» not found: not recorded").format(name=_short(args["name"]))


MAX_ROWS_IN_LINE = 10


def guess_lines(guesses: Sequence[Guess]) -> list[str]:
    """One line per guess; the same guess on many rows is one line naming the rows."""
    grouped: dict[str, list[Guess]] = {}
    for guess in guesses:
        grouped.setdefault(guess_text(guess), []).append(guess)
    lines = []
    for text, group in grouped.items():
        rows = sorted({guess.row_number for guess in group if guess.row_number})
        if not rows:
            lines.append(text)
        elif len(group) == 1 and group[0].cell:
            lines.append(
                _("Row {row}, cell {cell}: {text}").format(
                    row=rows[0], cell=group[0].cell, text=text
                )
            )
        elif len(rows) == 1:
            lines.append(_("Row {row}: {text}").format(row=rows[0], text=text))
        else:
            listed = ", ".join(str(row) for row in rows[:MAX_ROWS_IN_LINE])
            if len(rows) > MAX_ROWS_IN_LINE:
                listed += "…"
            lines.append(_("Rows {rows}: {text}").format(rows=listed, text=text))
    return lines


def _change_line(update: PlannedUpdate) -> str:
    fields = ", ".join(column_label(change.name) for change in update.changes)
    return _("{code}: changed {fields}").format(code=update.row.code, fields=fields)


def plan_summary_lines(plan: ImportPlan, max_errors: int | None = None) -> list[str]:
    """The dry run as plain-text lines: counts, skipped rows, then every guess.

    With `max_errors`, a chat message lists that many of each and says how many more there are.
    """
    lines = [
        ngettext("{count} row read", "{count} rows read", plan.data_rows).format(
            count=plan.data_rows
        ),
        _("New items: {count}").format(count=len(plan.new)),
        _("Updated items: {count}").format(count=len(plan.updated)),
    ]
    updates = plan.updated if max_errors is None else plan.updated[:max_errors]
    lines += ["  " + _change_line(update) for update in updates]
    if len(updates) < len(plan.updated):
        lines.append("  …")
    lines += [
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
    guesses = guess_lines(plan.guesses)
    if guesses:
        lines.append(_("What I inferred:"))
        shown_guesses = guesses if max_errors is None else guesses[:max_errors]
        lines += shown_guesses
        if len(shown_guesses) < len(guesses):
            lines.append(
                _("…and {count} more: see the attached file.").format(
                    count=len(guesses) - len(shown_guesses)
                )
            )
    return lines


def row_notes(plan: ImportPlan) -> dict[int, list[str]]:
    """Per row of the file, its problems and guesses: the comment column of the file sent back."""
    notes: dict[int, list[str]] = {}
    for error in plan.errors:
        notes.setdefault(error.row_number, []).append(error_line(error))
    for guess in plan.guesses:
        if guess.row_number > plan.header_row:
            notes.setdefault(guess.row_number, []).append(guess_lines([guess])[0])
    return notes


def build_template(department_code: str, deadline: date) -> bytes:
    """An empty workbook with the expected headers in the reader's language and one example
    row, with a department code of this Road Map and a deadline still ahead.

    The example row is grey and carries a note; the import knows it by its titles
    (`EXAMPLE_TITLES`), so a row typed over it is imported like any other.
    """
    from openpyxl import Workbook  # openpyxl loads on first use, not at start
    from openpyxl.comments import Comment
    from openpyxl.styles import Font, PatternFill

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _("Road Map")
    sheet.append([_(COLUMN_HEADERS[column]) for column in TEMPLATE_COLUMNS])
    sheet.append(
        [
            "2.3.1",
            EXAMPLE_TITLES["title_kk"],
            EXAMPLE_TITLES["title_ru"],
            department_code,
            deadline,
            _("Example: 1 school, 600 pupils"),
        ]
    )
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    grey = PatternFill("solid", fgColor="D9D9D9")
    for cell in sheet[2]:
        cell.fill = grey
        cell.font = Font(italic=True, color="595959")
    sheet["A2"].comment = Comment(
        _("An example: this row is never imported. Add your items below it."), EXAMPLE_AUTHOR
    )
    sheet["E2"].number_format = "DD.MM.YYYY"
    sheet.freeze_panes = "A2"
    for letter, width in zip("ABCDEF", (12, 45, 45, 18, 14, 40), strict=True):
        sheet.column_dimensions[letter].width = width
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
