"""Loading the Road Map from the secretariat's own spreadsheet: parse, check, plan, apply.

Parsing and row checks are pure (bytes in, rows and per-row problems out), so the bot, the
command line and the tests share them. Planning compares the rows with the database without
writing; applying writes the plan in one transaction, every change in the audit log.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import zipfile
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.app.config import SUPPORTED_LOCALES
from bot.core.errors import DomainError, UnknownItemError
from bot.core.parsing import MAX_TITLE_LENGTH, is_item_code, parse_date
from bot.roadmap.service import record_deadline_change, record_new_item
from bot.telegram.i18n import N_, ngettext
from db import queries
from db.models import Department, Person, RoadmapItem

MAX_ROWS = 10_000
TELEGRAM_DOWNLOAD_LIMIT = 20 * 1024 * 1024
MAX_CODE_LENGTH = 32
MAX_TARGET_LENGTH = 2000
HEADER_SEARCH_ROWS = 10
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGIC = b"PK\x03\x04"
_ENCRYPTION_MARKERS = ("EncryptionInfo".encode("utf-16-le"), "EncryptedPackage".encode("utf-16-le"))
_EXTRA_DATE_FORMATS = ("%d/%m/%Y", "%Y-%m-%d %H:%M:%S", "%d.%m.%y")

Progress = Callable[[int, int], Awaitable[None]]


class Column(StrEnum):
    CODE = "code"
    TITLE_KK = "title_kk"
    TITLE_RU = "title_ru"
    DEPARTMENT = "department"
    DEADLINE = "deadline"
    TARGET = "target"


REQUIRED_COLUMNS = (
    Column.CODE,
    Column.TITLE_KK,
    Column.TITLE_RU,
    Column.DEPARTMENT,
    Column.DEADLINE,
)

# The template's headers; also the names used for the columns in messages and in the export.
COLUMN_HEADERS: dict[Column, str] = {
    Column.CODE: N_("Item code"),
    Column.TITLE_KK: N_("Title in Kazakh"),
    Column.TITLE_RU: N_("Title in Russian"),
    Column.DEPARTMENT: N_("Department code"),
    Column.DEADLINE: N_("Deadline"),
    Column.TARGET: N_("Target"),
}

# Headings seen in real spreadsheets, in the normalized form of `normalize_header`.
_ALIASES: dict[Column, tuple[str, ...]] = {
    Column.CODE: (
        "code",
        "item code",
        "item",
        "no",
        "number",
        "№",
        "№ пункта",
        "код",
        "код пункта",
        "пункт",
        "номер",
        "номер пункта",
        "тармақ",
        "тармақ коды",
        "тармақ нөмірі",
        "коды",
        "нөмірі",
    ),
    Column.TITLE_KK: (
        "title kk",
        "title kazakh",
        "title in kazakh",
        "kazakh title",
        "name kk",
        "наименование каз",
        "наименование на казахском",
        "наименование на казахском языке",
        "название каз",
        "название на казахском",
        "атауы",
        "атауы қаз",
        "атауы қазақша",
        "қазақша атауы",
        "атауы мемлекеттік тілде",
    ),
    Column.TITLE_RU: (
        "title ru",
        "title russian",
        "title in russian",
        "russian title",
        "name ru",
        "наименование",
        "наименование рус",
        "наименование на русском",
        "наименование на русском языке",
        "название",
        "название рус",
        "название на русском",
        "атауы орыс",
        "атауы орысша",
        "орысша атауы",
    ),
    Column.DEPARTMENT: (
        "department",
        "department code",
        "dept",
        "responsible department",
        "управление",
        "код управления",
        "ответственное управление",
        "ответственный",
        "исполнитель",
        "басқарма",
        "басқарма коды",
        "жауапты басқарма",
        "жауапты",
    ),
    Column.DEADLINE: (
        "deadline",
        "due date",
        "due",
        "срок",
        "срок исполнения",
        "дата исполнения",
        "орындау мерзімі",
        "мерзімі",
        "мерзім",
    ),
    Column.TARGET: (
        "target",
        "target value",
        "indicator",
        "целевой показатель",
        "показатель",
        "цель",
        "ожидаемый результат",
        "нысаналы көрсеткіш",
        "көрсеткіш",
        "күтілетін нәтиже",
        "мақсат",
    ),
}


def normalize_header(text: object) -> str:
    """Lower case, no punctuation, single spaces: «Наименование (каз.)» → «наименование каз»."""
    value = str(text or "").lower().replace("ё", "е").replace("_", " ")
    value = re.sub(r"[^\w\s№]", " ", value)
    return " ".join(value.split())


def _alias_map(extra: Mapping[str, Column] | None) -> dict[str, Column]:
    aliases = {alias: column for column, names in _ALIASES.items() for alias in names}
    for column, header in COLUMN_HEADERS.items():
        aliases.setdefault(normalize_header(header), column)
    for alias, column in (extra or {}).items():
        aliases.setdefault(normalize_header(alias), column)
    return aliases


def localized_header_aliases(i18n: I18n) -> dict[str, Column]:
    """The template's headers as translated in every locale, so a template always reads back."""
    return {
        normalize_header(i18n.gettext(header, locale=locale)): column
        for column, header in COLUMN_HEADERS.items()
        for locale in SUPPORTED_LOCALES
    }


class FileProblem(StrEnum):
    NOT_SPREADSHEET = "not_spreadsheet"
    LEGACY_XLS = "legacy_xls"
    ENCRYPTED = "encrypted"
    EMPTY = "empty"
    TOO_MANY_ROWS = "too_many_rows"
    TOO_LARGE = "too_large"
    MISSING_COLUMNS = "missing_columns"


class SpreadsheetFileError(DomainError):
    """The file as a whole cannot be read; nothing was checked."""

    def __init__(self, problem: FileProblem, missing: Sequence[Column] = ()) -> None:
        super().__init__(problem)
        self.problem = problem
        self.missing = tuple(missing)


class RowProblem(StrEnum):
    MISSING_CODE = "missing_code"
    BAD_CODE = "bad_code"
    DUPLICATE_CODE = "duplicate_code"
    MISSING_TITLE = "missing_title"
    MISSING_DEPARTMENT = "missing_department"
    UNKNOWN_DEPARTMENT = "unknown_department"
    MISSING_DEADLINE = "missing_deadline"
    BAD_DATE = "bad_date"
    TOO_LONG = "too_long"


@dataclass(frozen=True)
class RowError:
    row_number: int  # as Excel numbers it, header included
    code: str
    problem: RowProblem
    detail: str = ""


@dataclass(frozen=True)
class ImportRow:
    row_number: int
    code: str
    title_kk: str
    title_ru: str
    department: str
    deadline: date
    target: str


@dataclass(frozen=True)
class ParsedFile:
    rows: list[ImportRow]
    errors: list[RowError]
    data_rows: int


def _cell_text(value: object) -> str:
    """A cell as text; Excel turns «2.3» into a number and «1» into 1.0, so undo that."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.isoformat()
    return " ".join(str(value).split())


def _cell_date(value: object) -> date | None:
    """A real Excel date, an Excel serial number, or text in a format people type."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        if 36526 <= value <= 73051:  # 2000-01-01 .. 2099-12-31 as Excel serials
            from openpyxl.utils.datetime import from_excel  # openpyxl loads on first use

            converted = from_excel(value)
            return converted.date() if isinstance(converted, datetime) else None
        return None
    text = _cell_text(value)
    found = parse_date(text)
    if found is None:
        for fmt in _EXTRA_DATE_FORMATS:
            try:
                found = datetime.strptime(text, fmt).date()
                break
            except ValueError:
                continue
    if found is None or not 2000 <= found.year <= 2099:
        return None
    return found


def _sniff_kind(data: bytes, filename: str) -> str:
    suffix = filename.lower().rsplit(".", 1)[-1] if "." in filename else ""
    if data.startswith(_OLE_MAGIC):
        if any(marker in data for marker in _ENCRYPTION_MARKERS):
            raise SpreadsheetFileError(FileProblem.ENCRYPTED)
        raise SpreadsheetFileError(FileProblem.LEGACY_XLS)
    if data.startswith(_ZIP_MAGIC):
        return "xlsx"
    if suffix in ("csv", "txt") and b"\x00" not in data[:4096]:
        return "csv"
    raise SpreadsheetFileError(FileProblem.NOT_SPREADSHEET)


def _xlsx_rows(data: bytes) -> Iterator[tuple[object, ...]]:
    from openpyxl import load_workbook  # openpyxl loads on first use
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, OSError) as error:
        raise SpreadsheetFileError(FileProblem.NOT_SPREADSHEET) from error
    try:
        sheet = workbook.worksheets[0] if workbook.worksheets else None
        if sheet is None:
            raise SpreadsheetFileError(FileProblem.EMPTY)
        yield from sheet.iter_rows(values_only=True)
    finally:
        workbook.close()


def _decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM) first; Excel on a Russian Windows saves CSV in Windows-1251."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1251", errors="replace")


def _csv_rows(data: bytes) -> Iterator[tuple[object, ...]]:
    text = _decode_text(data)
    sample = text[:8192]
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    for row in csv.reader(io.StringIO(text), dialect):
        yield tuple(row)


def _is_blank(row: Sequence[object]) -> bool:
    return all(_cell_text(value) == "" for value in row)


def _find_header(
    rows: Iterator[tuple[object, ...]], aliases: Mapping[str, Column]
) -> tuple[int, dict[Column, int]]:
    """The row that names the most known columns among the first few; titles may sit above."""
    best: tuple[int, dict[Column, int]] | None = None
    seen = 0
    for number, row in enumerate(rows, start=1):
        if _is_blank(row):
            if number > HEADER_SEARCH_ROWS * 3:
                break
            continue
        seen += 1
        mapping: dict[Column, int] = {}
        for index, value in enumerate(row):
            column = aliases.get(normalize_header(value))
            if column is not None and column not in mapping:
                mapping[column] = index
        complete = all(column in mapping for column in REQUIRED_COLUMNS)
        if best is None or complete or len(mapping) > len(best[1]):
            best = (number, mapping)
        if complete or seen >= HEADER_SEARCH_ROWS:
            break
    if best is None:
        raise SpreadsheetFileError(FileProblem.EMPTY)
    missing = [column for column in REQUIRED_COLUMNS if column not in best[1]]
    if missing:
        raise SpreadsheetFileError(FileProblem.MISSING_COLUMNS, missing)
    return best


def _check_row(number: int, cells: Mapping[Column, object]) -> ImportRow | RowError:
    code = _cell_text(cells.get(Column.CODE))
    if not code:
        return RowError(number, "", RowProblem.MISSING_CODE)
    if len(code) > MAX_CODE_LENGTH:
        return RowError(number, code[:MAX_CODE_LENGTH], RowProblem.TOO_LONG, Column.CODE)
    if not is_item_code(code):
        return RowError(number, code, RowProblem.BAD_CODE)
    texts = {
        column: _cell_text(cells.get(column))
        for column in (Column.TITLE_KK, Column.TITLE_RU, Column.DEPARTMENT, Column.TARGET)
    }
    for column in (Column.TITLE_KK, Column.TITLE_RU):
        if not texts[column]:
            return RowError(number, code, RowProblem.MISSING_TITLE, column)
        if len(texts[column]) > MAX_TITLE_LENGTH:
            return RowError(number, code, RowProblem.TOO_LONG, column)
    if len(texts[Column.TARGET]) > MAX_TARGET_LENGTH:
        return RowError(number, code, RowProblem.TOO_LONG, Column.TARGET)
    if not texts[Column.DEPARTMENT]:
        return RowError(number, code, RowProblem.MISSING_DEPARTMENT)
    raw_deadline = cells.get(Column.DEADLINE)
    if _cell_text(raw_deadline) == "":
        return RowError(number, code, RowProblem.MISSING_DEADLINE)
    deadline = _cell_date(raw_deadline)
    if deadline is None:
        return RowError(number, code, RowProblem.BAD_DATE, _cell_text(raw_deadline)[:40])
    return ImportRow(
        row_number=number,
        code=code,
        title_kk=texts[Column.TITLE_KK],
        title_ru=texts[Column.TITLE_RU],
        department=texts[Column.DEPARTMENT],
        deadline=deadline,
        target=texts[Column.TARGET],
    )


def parse_spreadsheet(
    data: bytes, filename: str, *, extra_aliases: Mapping[str, Column] | None = None
) -> ParsedFile:
    """Rows that can be imported and the rows that cannot, each with its reason.

    Raises `SpreadsheetFileError` when the file as a whole is unusable.
    """
    if len(data) > TELEGRAM_DOWNLOAD_LIMIT:
        raise SpreadsheetFileError(FileProblem.TOO_LARGE)
    if not data.strip():
        raise SpreadsheetFileError(FileProblem.EMPTY)
    kind = _sniff_kind(data, filename)
    source = _xlsx_rows(data) if kind == "xlsx" else _csv_rows(data)
    numbered = iter(source)
    header_number, mapping = _find_header(numbered, _alias_map(extra_aliases))

    rows: list[ImportRow] = []
    errors: list[RowError] = []
    data_rows = 0
    for number, row in enumerate(numbered, start=header_number + 1):
        if _is_blank(row):
            continue
        data_rows += 1
        if data_rows > MAX_ROWS:
            raise SpreadsheetFileError(FileProblem.TOO_MANY_ROWS)
        cells = {
            column: row[index] if index < len(row) else None for column, index in mapping.items()
        }
        checked = _check_row(number, cells)
        (errors if isinstance(checked, RowError) else rows).append(checked)  # type: ignore[arg-type]
    if data_rows == 0:
        raise SpreadsheetFileError(FileProblem.EMPTY)
    return _drop_duplicates(rows, errors, data_rows)


def _drop_duplicates(rows: list[ImportRow], errors: list[RowError], data_rows: int) -> ParsedFile:
    """A code twice in one file is ambiguous: none of its rows is imported."""
    by_code: dict[str, list[int]] = {}
    for row in rows:
        by_code.setdefault(row.code.lower(), []).append(row.row_number)
    kept: list[ImportRow] = []
    for row in rows:
        numbers = by_code[row.code.lower()]
        if len(numbers) > 1:
            others = ", ".join(str(n) for n in numbers if n != row.row_number)
            errors.append(RowError(row.row_number, row.code, RowProblem.DUPLICATE_CODE, others))
        else:
            kept.append(row)
    errors.sort(key=lambda error: error.row_number)
    return ParsedFile(rows=kept, errors=errors, data_rows=data_rows)


@dataclass(frozen=True)
class FieldChange:
    name: Column
    old: str
    new: str


@dataclass(frozen=True)
class PlannedUpdate:
    row: ImportRow
    item_id: int
    department_id: int
    changes: tuple[FieldChange, ...]


@dataclass(frozen=True)
class PlannedNew:
    row: ImportRow
    department_id: int


@dataclass
class ImportPlan:
    new: list[PlannedNew] = field(default_factory=list)
    updated: list[PlannedUpdate] = field(default_factory=list)
    unchanged: list[ImportRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    data_rows: int = 0

    @property
    def has_changes(self) -> bool:
        return bool(self.new or self.updated)

    def digest(self) -> str:
        """A fingerprint of what Apply would write, to notice a Road Map changed meanwhile."""
        parts = [f"n:{p.row.code}:{p.department_id}:{p.row.deadline}" for p in self.new]
        for update in self.updated:
            changes = ",".join(f"{c.name}={c.new}" for c in update.changes)
            parts.append(f"u:{update.item_id}:{changes}")
        parts += [f"e:{e.row_number}:{e.problem}" for e in self.errors]
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def _department_index(departments: Iterable[Department]) -> dict[str, Department]:
    """Departments by code, and by their full name as a spreadsheet may spell it."""
    index: dict[str, Department] = {}
    for department in departments:
        for name in (department.name_kk, department.name_ru):
            index.setdefault(normalize_header(name), department)
    for department in departments:
        index[department.code.lower()] = department
    return index


def _compare(
    item: RoadmapItem,
    row: ImportRow,
    department: Department,
    departments: Mapping[int | None, Department],
) -> list[FieldChange]:
    pairs = [
        (Column.TITLE_KK, item.title_kk, row.title_kk),
        (Column.TITLE_RU, item.title_ru, row.title_ru),
        (Column.TARGET, item.target or "", row.target),
    ]
    changes = [FieldChange(name, old, new) for name, old, new in pairs if old != new]
    if item.department_id != department.id:
        previous = departments.get(item.department_id)
        old = previous.code if previous else str(item.department_id)
        changes.append(FieldChange(Column.DEPARTMENT, old, department.code))
    if item.deadline != row.deadline:
        changes.append(
            FieldChange(Column.DEADLINE, item.deadline.isoformat(), row.deadline.isoformat())
        )
    return changes


async def plan_import(
    session: AsyncSession,
    parsed: ParsedFile,
    *,
    progress: Progress | None = None,
    progress_every: int = 500,
) -> ImportPlan:
    """What Apply would do, row by row; reads the database and writes nothing."""
    departments = list(await queries.all_departments(session))
    by_name = _department_index(departments)
    by_id = {department.id: department for department in departments}
    items = {item.code.lower(): item for item in (await session.exec(select(RoadmapItem))).all()}
    plan = ImportPlan(errors=list(parsed.errors), data_rows=parsed.data_rows)
    total = len(parsed.rows)
    for checked, row in enumerate(parsed.rows, start=1):
        department = by_name.get(row.department.lower()) or by_name.get(
            normalize_header(row.department)
        )
        if department is None:
            plan.errors.append(
                RowError(row.row_number, row.code, RowProblem.UNKNOWN_DEPARTMENT, row.department)
            )
        else:
            existing = items.get(row.code.lower())
            if existing is None:
                plan.new.append(PlannedNew(row, department.id))  # type: ignore[arg-type]
            else:
                changes = _compare(existing, row, department, by_id)
                if changes:
                    plan.updated.append(
                        PlannedUpdate(row, existing.id, department.id, tuple(changes))  # type: ignore[arg-type]
                    )
                else:
                    plan.unchanged.append(row)
        if progress is not None and (checked % progress_every == 0 or checked == total):
            await progress(checked, total)
    plan.errors.sort(key=lambda error: error.row_number)
    return plan


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int


async def apply_import(
    session: AsyncSession,
    plan: ImportPlan,
    *,
    actor: Person | None,
    now: datetime,
    source: str = "",
) -> ImportResult:
    """Writes the plan in one transaction: all of it, or on any failure none of it."""
    departments = {d.id: d for d in await queries.all_departments(session)}
    try:
        for planned in plan.new:
            row = planned.row
            await record_new_item(
                session,
                code=row.code,
                title_kk=row.title_kk,
                title_ru=row.title_ru,
                department=departments[planned.department_id],
                deadline=row.deadline,
                target=row.target,
                actor=actor,
                now=now,
                note="import",
            )
        for update in plan.updated:
            await _apply_update(session, update, actor=actor, now=now)
        await queries.add_audit(
            session,
            at=now,
            action="import.apply",
            actor=actor,
            target=source or None,
            details=(
                f"new={len(plan.new)} updated={len(plan.updated)} "
                f"unchanged={len(plan.unchanged)} errors={len(plan.errors)}"
            ),
        )
        await session.commit()
    except BaseException:
        await session.rollback()
        raise
    return ImportResult(created=len(plan.new), updated=len(plan.updated))


async def _apply_update(
    session: AsyncSession,
    update: PlannedUpdate,
    *,
    actor: Person | None,
    now: datetime,
) -> None:
    item = await session.get(RoadmapItem, update.item_id)
    if item is None:  # deleted since the plan was made; the digest check should prevent this
        raise UnknownItemError(update.row.code)
    edits: list[str] = []
    for change in update.changes:
        if change.name == Column.DEADLINE:
            await record_deadline_change(
                session, item=item, deadline=update.row.deadline, actor=actor, now=now
            )
        elif change.name == Column.DEPARTMENT:
            item.department_id = update.department_id
            await queries.add_audit(
                session,
                at=now,
                action="item.assign",
                actor=actor,
                target=item.code,
                details=f"{change.old} -> {change.new}",
            )
        else:
            setattr(item, str(change.name), change.new)
            edits.append(f"{change.name}: {change.old!r} -> {change.new!r}")
    session.add(item)
    if edits:
        await queries.add_audit(
            session,
            at=now,
            action="item.edit",
            actor=actor,
            target=item.code,
            details="\n".join(edits),
        )


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
    from openpyxl import Workbook  # openpyxl loads on first use
    from openpyxl.styles import Font

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
