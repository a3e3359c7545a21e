"""Reading the secretariat's spreadsheet into rows: bytes in, rows and per-row problems out.

Pure: no database and no Telegram, so the bot, the command line and the tests share it and a
property test can feed it anything.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from openpyxl import load_workbook
from openpyxl.utils.datetime import from_excel
from openpyxl.utils.exceptions import InvalidFileException

from bot.core.errors import DomainError
from bot.core.limits import TELEGRAM_DOWNLOAD_LIMIT
from bot.core.parsing import MAX_TITLE_LENGTH, is_item_code, parse_date

MAX_ROWS = 10_000
MAX_CODE_LENGTH = 32
MAX_TARGET_LENGTH = 2000
HEADER_SEARCH_ROWS = 10
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGIC = b"PK\x03\x04"
_ENCRYPTION_MARKERS = ("EncryptionInfo".encode("utf-16-le"), "EncryptedPackage".encode("utf-16-le"))
_EXTRA_DATE_FORMATS = ("%d/%m/%Y", "%Y-%m-%d %H:%M:%S", "%d.%m.%y")


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
    for alias, column in (extra or {}).items():
        aliases.setdefault(normalize_header(alias), column)
    return aliases


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
