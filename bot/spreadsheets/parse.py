"""Reading the secretariat's spreadsheet into rows: bytes in, rows, problems and guesses out.

Pure: no database and no Telegram, so the bot, the command line and the tests share it and a
property test can feed it anything. Real office workbooks are read as they are kept: the
roadmap on any sheet, a title above the header, a row of column numbers, section rows,
department cells merged over several items, deadlines in words. Whatever the parser had to
guess is returned as a `Guess`, so the dry run can state it.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from bot.core.errors import DomainError
from bot.core.limits import TELEGRAM_DOWNLOAD_LIMIT
from bot.core.parsing import MAX_TITLE_LENGTH, is_item_code
from bot.core.text import clean_input
from bot.spreadsheets.deadlines import Precision, read_deadline
from bot.spreadsheets.headers import Kind, classify_header, normalize_header

if TYPE_CHECKING:
    from openpyxl.worksheet.worksheet import Worksheet


MAX_ROWS = 10_000
MAX_UNPACKED_SIZE = 400 * 1024 * 1024  # a real 10,000-row workbook unpacks to a few dozen MB
MAX_CODE_LENGTH = 32
MAX_TARGET_LENGTH = 2000
HEADER_SEARCH_ROWS = 20
EXAMPLE_AUTHOR = "roadmap-bot example"  # the template's example row carries a note by this author
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGIC = b"PK\x03\x04"
_ENCRYPTION_MARKERS = ("EncryptionInfo".encode("utf-16-le"), "EncryptedPackage".encode("utf-16-le"))
_KAZAKH_LETTERS = frozenset("әғқңөұүһі")
_YEAR = re.compile(r"(?<!\d)(20\d\d)(?!\d)")
_SECTION_NUMBER = re.compile(
    r"^(?:(?:раздел|направление|бөлім|бағыт|section)\s*)?(\d{1,3}(?:\.\d{1,3})*)(?!\d)", re.I
)


class Column(StrEnum):
    CODE = "code"
    TITLE_KK = "title_kk"
    TITLE_RU = "title_ru"
    DEPARTMENT = "department"
    DEADLINE = "deadline"
    TARGET = "target"
    # Not columns of the template, but fields an import compares and writes.
    DEADLINE_TEXT = "deadline_text"
    CO_EXECUTORS = "co_executors"


TEMPLATE_COLUMNS = (
    Column.CODE,
    Column.TITLE_KK,
    Column.TITLE_RU,
    Column.DEPARTMENT,
    Column.DEADLINE,
    Column.TARGET,
)
REQUIRED_COLUMNS = (
    Column.CODE,
    Column.TITLE_KK,
    Column.TITLE_RU,
    Column.DEPARTMENT,
    Column.DEADLINE,
)


class FileProblem(StrEnum):
    NOT_SPREADSHEET = "not_spreadsheet"
    CORRUPT = "corrupt"
    BAD_CSV = "bad_csv"
    LEGACY_XLS = "legacy_xls"
    ENCRYPTED = "encrypted"
    EMPTY = "empty"
    TOO_MANY_ROWS = "too_many_rows"
    TOO_LARGE = "too_large"
    MISSING_COLUMNS = "missing_columns"


class SpreadsheetFileError(DomainError):
    """The file as a whole cannot be read; nothing was checked."""

    def __init__(self, problem: FileProblem, missing: Sequence[Column] = (), line: int = 0) -> None:
        super().__init__(problem)
        self.problem = problem
        self.missing = tuple(missing)
        self.line = line


class SheetChoiceNeeded(DomainError):  # noqa: N818 - a question to ask, not an error
    """Two or more sheets look equally like the Road Map: the person chooses."""

    def __init__(self, sheets: Sequence[str]) -> None:
        super().__init__(", ".join(sheets))
        self.sheets = tuple(sheets)


class RowProblem(StrEnum):
    BAD_CODE = "bad_code"
    DUPLICATE_CODE = "duplicate_code"
    MISSING_TITLE = "missing_title"
    MISSING_DEPARTMENT = "missing_department"
    UNKNOWN_DEPARTMENT = "unknown_department"
    MISSING_DEADLINE = "missing_deadline"
    BAD_DATE = "bad_date"
    NO_YEAR = "no_year"
    TOO_LONG = "too_long"
    FORMULA_WITHOUT_VALUE = "formula_without_value"
    EXAMPLE_ROW = "example_row"


@dataclass(frozen=True)
class RowError:
    row_number: int  # as Excel numbers it, header included
    code: str
    problem: RowProblem
    detail: str = ""
    cell: str = ""  # «E12»: where to look


class GuessKind(StrEnum):
    SHEET = "sheet"
    HEADER_ROW = "header_row"
    COLUMN = "column"
    TITLE_FALLBACK = "title_fallback"
    NUMBER_ROW = "number_row"
    SECTION = "section"
    MERGED = "merged"
    ROADMAP_YEAR = "roadmap_year"
    DEADLINE = "deadline"
    CODE_PROPOSED = "code_proposed"
    CODE_FROM_NUMBER = "code_from_number"
    DEPARTMENT_BY_NAME = "department_by_name"
    CO_EXECUTORS = "co_executors"
    UNKNOWN_CO_EXECUTOR = "unknown_co_executor"


@dataclass(frozen=True)
class Guess:
    """One thing the importer inferred rather than read; `args` fill the localized text."""

    kind: GuessKind
    row_number: int = 0  # 0: about the file, not a row
    cell: str = ""
    args: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ImportRow:
    row_number: int
    code: str
    title_kk: str
    title_ru: str
    department: str  # the lead department as written: a code or a name
    deadline: date
    target: str
    co_executors: tuple[str, ...] = ()
    deadline_text: str = ""  # the original words when they are less precise than a day
    department_cell: str = ""


@dataclass(frozen=True)
class ParsedFile:
    rows: list[ImportRow]
    errors: list[RowError]
    data_rows: int
    guesses: list[Guess] = field(default_factory=list)
    sheet: str = ""  # empty for a CSV file
    header_row: int = 0


@dataclass
class Grid:
    """One sheet as values; what the parser needs of Excel beyond the values rides along."""

    name: str
    rows: list[list[object]]
    number_formats: dict[tuple[int, int], str] = field(default_factory=dict)  # of float cells
    formulas: frozenset[tuple[int, int]] = frozenset()  # formula cells that have no value
    example_rows: frozenset[int] = frozenset()
    merged: list[tuple[int, int, int, int]] = field(default_factory=list)  # rows, columns: 1-based


def _cell_text(value: object) -> str:
    """A cell as text; Excel turns «2.3» into a number and «1» into 1.0, so undo that."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.isoformat()
    return " ".join(clean_input(str(value)).split())


def _is_blank(row: Sequence[object]) -> bool:
    return all(_cell_text(value) == "" for value in row)


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


def column_letter(number: int) -> str:
    """Excel's column name for a 1-based column number: 1 → A, 27 → AA."""
    letters = ""
    while number > 0:
        number, remainder = divmod(number - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return letters


def _formula_cells(data: bytes, names: Sequence[str]) -> dict[str, frozenset[tuple[int, int]]]:
    """Cells holding a formula, by sheet; read only when a sheet's XML has formulas at all."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        if not any(
            b"<f" in archive.read(entry)
            for entry in archive.namelist()
            if entry.startswith("xl/worksheets/") and entry.endswith(".xml")
        ):
            return {}
    from openpyxl import load_workbook  # openpyxl loads on the first import, not at start
    from openpyxl.worksheet.worksheet import Worksheet

    workbook = load_workbook(io.BytesIO(data), data_only=False)
    try:
        return {
            sheet.title: frozenset(
                (cell.row, cell.column)
                for row in sheet.iter_rows()
                for cell in row
                if cell.data_type == "f"
            )
            for sheet in workbook.worksheets
            if isinstance(sheet, Worksheet) and sheet.title in names
        }
    finally:
        workbook.close()


def _sheet_grid(sheet: Worksheet, formulas: frozenset[tuple[int, int]]) -> Grid:
    rows: list[list[object]] = []
    number_formats: dict[tuple[int, int], str] = {}
    examples: set[int] = set()
    blank_run = 0
    for row in sheet.iter_rows():
        values: list[object] = []
        for cell in row:
            value = cell.value
            values.append(value)
            if isinstance(value, float):
                number_formats[(cell.row, cell.column)] = str(cell.number_format)
            comment = cell.comment
            if comment is not None and comment.author == EXAMPLE_AUTHOR:
                examples.add(cell.row)
        blank_run = blank_run + 1 if _is_blank(values) else 0
        rows.append(values)
        if len(rows) - blank_run > MAX_ROWS + HEADER_SEARCH_ROWS + 1:
            raise SpreadsheetFileError(FileProblem.TOO_MANY_ROWS)
    del rows[len(rows) - blank_run :]  # trailing formatted empty rows
    merged = [
        (r.min_row, r.max_row, r.min_col, r.max_col)
        for r in sheet.merged_cells.ranges
        if r.max_row > r.min_row
    ]
    for min_row, max_row, min_col, _max_col in merged:
        if min_row > len(rows) or min_col > len(rows[min_row - 1]):
            continue
        value = rows[min_row - 1][min_col - 1]
        for number in range(min_row + 1, min(max_row, len(rows)) + 1):
            target = rows[number - 1]
            target.extend([None] * (min_col - len(target)))
            target[min_col - 1] = value
    return Grid(
        name=sheet.title,
        rows=rows,
        number_formats=number_formats,
        formulas=formulas,
        example_rows=frozenset(examples),
        merged=merged,
    )


def _xlsx_grids(data: bytes) -> list[Grid]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if "xl/workbook.xml" not in archive.namelist():
                raise SpreadsheetFileError(FileProblem.NOT_SPREADSHEET)
            if sum(entry.file_size for entry in archive.infolist()) > MAX_UNPACKED_SIZE:
                raise SpreadsheetFileError(FileProblem.TOO_LARGE)  # a zip bomb, or near one
    except zipfile.BadZipFile as error:
        raise SpreadsheetFileError(FileProblem.NOT_SPREADSHEET) from error
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException
    from openpyxl.worksheet.worksheet import Worksheet

    try:
        workbook = load_workbook(io.BytesIO(data), data_only=True)
    except InvalidFileException as error:
        raise SpreadsheetFileError(FileProblem.NOT_SPREADSHEET) from error
    except Exception as error:  # a damaged package: openpyxl raises XML, key and type errors
        raise SpreadsheetFileError(FileProblem.CORRUPT) from error
    try:
        sheets = [sheet for sheet in workbook.worksheets if isinstance(sheet, Worksheet)]
        try:
            formulas = _formula_cells(data, [sheet.title for sheet in sheets])
        except Exception as error:  # the same damage, met on the second reading
            raise SpreadsheetFileError(FileProblem.CORRUPT) from error
        return [_sheet_grid(sheet, formulas.get(sheet.title, frozenset())) for sheet in sheets]
    finally:
        workbook.close()


def _decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM) first; Excel on a Russian Windows saves CSV in Windows-1251."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1251", errors="replace")


def csv_grid(data: bytes) -> Grid:
    """Every row read here, inside the guard: a broken line is one clear answer, not a crash."""
    text = _decode_text(data)
    if "\n" not in text:
        text = text.replace("\r", "\n")  # classic Mac line ends
    try:
        dialect: Any = csv.Sniffer().sniff(text[:8192], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    rows: list[list[object]] = []
    try:
        for row in reader:
            rows.append(list(row))
            if len(rows) > MAX_ROWS + HEADER_SEARCH_ROWS + 1:
                raise SpreadsheetFileError(FileProblem.TOO_MANY_ROWS)
    except csv.Error as error:
        raise SpreadsheetFileError(FileProblem.BAD_CSV, line=reader.line_num) from error
    return Grid(name="", rows=rows)


@dataclass(frozen=True)
class _Header:
    row: int  # 1-based
    kinds: dict[int, tuple[Kind, str | None, str]]  # column index → kind, language, header text

    @property
    def found(self) -> set[Kind]:
        return {kind for kind, _language, _text in self.kinds.values()}

    @property
    def complete(self) -> bool:
        return {Kind.TITLE, Kind.DEPARTMENT, Kind.DEADLINE} <= self.found

    @property
    def score(self) -> tuple[bool, int]:
        return self.complete, len(self.found)


def _exact(aliases: Mapping[str, Column], value: object) -> tuple[Kind, str | None] | None:
    column = aliases.get(normalize_header(value))
    if column is None:
        return None
    if column == Column.TITLE_KK:
        return Kind.TITLE, "kk"
    if column == Column.TITLE_RU:
        return Kind.TITLE, "ru"
    return Kind(column.value), None


def _find_header(grid: Grid, aliases: Mapping[str, Column]) -> _Header | None:
    best: _Header | None = None
    for number, row in enumerate(grid.rows[:HEADER_SEARCH_ROWS], start=1):
        kinds: dict[int, tuple[Kind, str | None, str]] = {}
        for index, value in enumerate(row):
            if not isinstance(value, str):
                continue
            found = _exact(aliases, value) or classify_header(value)
            if found is None:
                continue
            kind, language = found
            if kind != Kind.TITLE and any(k == kind for k, _l, _t in kinds.values()):
                continue  # the first column of a kind wins
            kinds[index] = (kind, language, " ".join(value.split()))
        header = _Header(number, kinds)
        if best is None or header.score > best.score:
            best = header
    return best


def _choose_sheet(
    grids: Sequence[Grid], aliases: Mapping[str, Column], sheet: str | None
) -> tuple[Grid, _Header, list[Grid]]:
    """The sheet whose header matches best; a tie between complete sheets is asked about."""
    found = [(grid, _find_header(grid, aliases)) for grid in grids]
    candidates = [(grid, header) for grid, header in found if header is not None]
    if sheet is not None:
        candidates = [(grid, header) for grid, header in candidates if grid.name == sheet]
    if not candidates:
        raise SpreadsheetFileError(FileProblem.EMPTY)
    top = max(header.score for _grid, header in candidates)
    best = [(grid, header) for grid, header in candidates if header.score == top]
    if len(best) > 1 and top[0]:
        raise SheetChoiceNeeded([grid.name for grid, _header in best])
    grid, header = best[0]
    others = [other for other, found_header in found if found_header and other is not grid]
    return grid, header, others


def _kazakh_share(grid: Grid, header: _Header, index: int) -> float:
    texts = [
        _cell_text(row[index]).lower()
        for row in grid.rows[header.row :]
        if index < len(row) and isinstance(row[index], str)
    ]
    texts = [text for text in texts if len(text) > 3]
    if not texts:
        return 0.0
    return sum(any(ch in _KAZAKH_LETTERS for ch in text) for text in texts) / len(texts)


def _assign_columns(grid: Grid, header: _Header) -> tuple[dict[Column, int], list[Guess]]:  # noqa: C901 - one branch per office habit or format case
    """Map kinds to columns, deciding the language of each title column and stating it."""
    mapping: dict[Column, int] = {}
    guesses: list[Guess] = []
    titles: list[tuple[int, str | None]] = []
    for index, (kind, language, _text) in sorted(header.kinds.items()):
        if kind == Kind.TITLE:
            titles.append((index, language))
        else:
            mapping[Column(kind.value)] = index
    languages: dict[int, tuple[str, str]] = {}  # index → language, how it was decided
    for index, language in titles[:2]:
        if language is not None:
            languages[index] = (language, "header")
    unmarked = [index for index, _language in titles[:2] if index not in languages]
    taken = {language for language, _how in languages.values()}
    if len(unmarked) == 2:
        first, second = sorted(unmarked, key=lambda i: -_kazakh_share(grid, header, i))
        languages[first] = ("kk", "cells")
        languages[second] = ("ru", "cells")
    elif len(unmarked) == 1:
        (index,) = unmarked
        if taken:
            languages[index] = ("ru" if "kk" in taken else "kk", "cells")
        else:
            share = _kazakh_share(grid, header, index)
            languages[index] = ("kk" if share >= 0.3 else "ru", "cells")
    if len(titles) == 2 and len({lang for lang, _h in languages.values()}) == 1:
        first_index = titles[0][0]
        second_index = titles[1][0]
        other = "ru" if languages[first_index][0] == "kk" else "kk"
        languages[second_index] = (other, "cells")
    for index, (language, _how) in languages.items():
        mapping[Column.TITLE_KK if language == "kk" else Column.TITLE_RU] = index
    for index, (kind, _language, text) in sorted(header.kinds.items()):
        column = next((c for c, i in mapping.items() if i == index), None)
        if column is None:
            continue
        how = languages.get(index, ("", "header"))[1] if kind == Kind.TITLE else "header"
        letter = column_letter(index + 1)
        guesses.append(
            Guess(
                GuessKind.COLUMN,
                0,
                f"{letter}{header.row}",
                {"letter": letter, "header": text, "column": column.value, "how": how},
            )
        )
    for present, absent in ((Column.TITLE_KK, Column.TITLE_RU), (Column.TITLE_RU, Column.TITLE_KK)):
        if present in mapping and absent not in mapping:
            mapping[absent] = mapping[present]
            guesses.append(
                Guess(
                    GuessKind.TITLE_FALLBACK,
                    0,
                    f"{column_letter(mapping[present] + 1)}{header.row}",
                    {"present": present.value, "absent": absent.value},
                )
            )
    return mapping, guesses


def _roadmap_year(
    grid: Grid, header: _Header, mapping: Mapping[Column, int], filename: str
) -> tuple[int | None, str]:
    """The year of deadlines that name none: from the title, the sheet, the file, the dates."""
    for row in grid.rows[: header.row - 1]:
        for value in row:
            text = _cell_text(value)
            found = _YEAR.search(text)
            if found and isinstance(value, str):
                return int(found.group(1)), text[:80]
    for text in (grid.name, filename):
        found = _YEAR.search(text)
        if found:
            return int(found.group(1)), text[:80]
    index = mapping.get(Column.DEADLINE)
    years: Counter[int] = Counter()
    for row in grid.rows[header.row :]:
        value = row[index] if index is not None and index < len(row) else None
        if isinstance(value, date):  # a datetime is a date too
            years[value.year] += 1
    if years:
        year, _count = years.most_common(1)[0]
        return year, ""
    return None, ""


def _is_number_row(row: Sequence[object]) -> bool:
    """«1 2 3 4 …» under the header: the column numbers of the printed form."""
    numbers = [_cell_text(value) for value in row if _cell_text(value)]
    return len(numbers) >= 3 and numbers == [str(n) for n in range(1, len(numbers) + 1)]


def _code_text(value: object, number_format: str | None) -> tuple[str, bool]:
    """The code as text, and whether Excel had stored it as a number."""
    if isinstance(value, float) and not isinstance(value, bool):
        decimals = re.search(r"\.(0+)", number_format or "")
        if decimals and not value.is_integer():
            return f"{value:.{len(decimals.group(1))}f}", True
        return (_cell_text(value) if value.is_integer() else repr(value)), True
    text = _cell_text(value).rstrip(".").strip()
    return text, False


def _cell_date(value: object) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    # 2000-01-01 .. 2099-12-31 as Excel serials
    if isinstance(value, int | float) and not isinstance(value, bool) and 36526 <= value <= 73051:
        from openpyxl.utils.datetime import from_excel

        converted = from_excel(value)
        return converted.date() if isinstance(converted, datetime) else None
    return None


@dataclass
class _Reader:
    """Walks the item rows of one sheet, keeping the section and the previous code."""

    grid: Grid
    mapping: dict[Column, int]
    roadmap_year: int | None
    year_source: str
    rows: list[ImportRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    guesses: list[Guess] = field(default_factory=list)
    section: str = ""
    sections_seen: int = 0
    in_section: int = 0
    previous_code: str = ""
    year_used: bool = False

    def cell(self, column: Column, number: int) -> str:
        index = self.mapping.get(column)
        return "" if index is None else f"{column_letter(index + 1)}{number}"

    def value(self, row: Sequence[object], column: Column) -> object:
        index = self.mapping.get(column)
        return row[index] if index is not None and index < len(row) else None

    def is_section(self, row: Sequence[object]) -> str | None:
        if any(
            _cell_text(self.value(row, column)) for column in (Column.DEPARTMENT, Column.DEADLINE)
        ):
            return None
        texts = {_cell_text(value) for value in row} - {""}
        if len(texts) != 1:
            return None
        return texts.pop()

    def start_section(self, number: int, text: str) -> None:
        self.sections_seen += 1
        found = _SECTION_NUMBER.match(text)
        self.section = found.group(1) if found else str(self.sections_seen)
        self.in_section = 0
        self.guesses.append(Guess(GuessKind.SECTION, number, "", {"text": text[:80]}))

    def read(self, number: int, row: Sequence[object]) -> None:
        self.in_section += 1
        formula = next(
            (
                column
                for column in TEMPLATE_COLUMNS
                if column in self.mapping
                and self.value(row, column) is None
                and (number, self.mapping[column] + 1) in self.grid.formulas
            ),
            None,
        )
        code = self.code(number, row)
        if formula is not None:
            self.errors.append(
                RowError(
                    number, code, RowProblem.FORMULA_WITHOUT_VALUE, cell=self.cell(formula, number)
                )
            )
            return
        if number in self.grid.example_rows:
            self.errors.append(RowError(number, code, RowProblem.EXAMPLE_ROW))
            return
        checked = self.check(number, row, code)
        if isinstance(checked, RowError):
            self.errors.append(checked)
        else:
            self.rows.append(checked)
        self.previous_code = code

    def code(self, number: int, row: Sequence[object]) -> str:
        """The code as read, proposed from the section when missing, or repaired (a lost 0)."""
        raw = self.value(row, Column.CODE)
        index = self.mapping.get(Column.CODE, 0)
        code, from_number = _code_text(raw, self.grid.number_formats.get((number, index + 1)))
        cell = self.cell(Column.CODE, number)
        if not code:
            prefix = f"{self.section}." if self.section else ""
            code = f"{prefix}{self.in_section}"
            self.guesses.append(Guess(GuessKind.CODE_PROPOSED, number, cell, {"code": code}))
            return code
        if from_number:
            restored = self.restore_lost_zero(code)
            if restored != code:
                self.guesses.append(
                    Guess(
                        GuessKind.CODE_FROM_NUMBER,
                        number,
                        cell,
                        {"read": code, "code": restored},
                    )
                )
                return restored
        return code

    def restore_lost_zero(self, code: str) -> str:
        """2.10 typed into a number cell comes back as 2.1; after 2.9 it must have been 2.10."""
        parent, _dot, last = code.rpartition(".")
        previous_parent, _pdot, previous_last = self.previous_code.rpartition(".")
        if (
            parent
            and parent == previous_parent
            and last.isdigit()
            and previous_last.isdigit()
            and int(previous_last) == int(last) * 10 - 1
        ):
            return f"{parent}.{int(last) * 10}"
        return code

    def check(self, number: int, row: Sequence[object], code: str) -> ImportRow | RowError:  # noqa: C901 - one branch per office habit or format case
        if len(code) > MAX_CODE_LENGTH:
            return RowError(
                number,
                code[:MAX_CODE_LENGTH],
                RowProblem.TOO_LONG,
                Column.CODE,
                self.cell(Column.CODE, number),
            )
        if not is_item_code(code):
            return RowError(number, code, RowProblem.BAD_CODE, cell=self.cell(Column.CODE, number))
        texts = {
            column: _cell_text(self.value(row, column))
            for column in (Column.TITLE_KK, Column.TITLE_RU, Column.DEPARTMENT, Column.TARGET)
        }
        for column in (Column.TITLE_KK, Column.TITLE_RU):
            if not texts[column]:
                return RowError(
                    number, code, RowProblem.MISSING_TITLE, column, self.cell(column, number)
                )
            if len(texts[column]) > MAX_TITLE_LENGTH:
                return RowError(
                    number, code, RowProblem.TOO_LONG, column, self.cell(column, number)
                )
        if Column.TARGET in self.mapping and len(texts[Column.TARGET]) > MAX_TARGET_LENGTH:
            return RowError(
                number, code, RowProblem.TOO_LONG, Column.TARGET, self.cell(Column.TARGET, number)
            )
        departments = [
            " ".join(part.split())
            for part in re.split(r"[,;\n]", str(self.value(row, Column.DEPARTMENT) or ""))
            if part.strip()
        ]
        department_cell = self.cell(Column.DEPARTMENT, number)
        if not departments:
            return RowError(number, code, RowProblem.MISSING_DEPARTMENT, cell=department_cell)
        deadline_cell = self.cell(Column.DEADLINE, number)
        raw_deadline = self.value(row, Column.DEADLINE)
        raw_text = _cell_text(raw_deadline)
        if raw_text == "":
            return RowError(number, code, RowProblem.MISSING_DEADLINE, cell=deadline_cell)
        deadline = _cell_date(raw_deadline)
        deadline_text = ""
        if deadline is None:
            reading = read_deadline(raw_text, self.roadmap_year)
            if reading is None:
                problem = RowProblem.BAD_DATE
                if self.roadmap_year is None and read_deadline(raw_text, 2000) is not None:
                    problem = RowProblem.NO_YEAR
                return RowError(number, code, problem, raw_text[:40], deadline_cell)
            deadline = reading.day
            if reading.precision != Precision.DAY or reading.year_assumed:
                deadline_text = raw_text[:200]
                self.year_used = self.year_used or reading.year_assumed
                self.guesses.append(
                    Guess(
                        GuessKind.DEADLINE,
                        number,
                        deadline_cell,
                        {
                            "text": raw_text[:80],
                            "date": deadline.isoformat(),
                            "precision": reading.precision.value,
                            "assumed": "1" if reading.year_assumed else "",
                        },
                    )
                )
        written = _cell_text(self.value(row, Column.DEADLINE_TEXT))
        if written:  # the bot's own export: the date, and the Road Map's wording beside it
            deadline_text = written[:200]
        if len(departments) > 1:
            self.guesses.append(
                Guess(
                    GuessKind.CO_EXECUTORS,
                    number,
                    department_cell,
                    {"lead": departments[0], "others": ", ".join(departments[1:])},
                )
            )
        return ImportRow(
            row_number=number,
            code=code,
            title_kk=texts[Column.TITLE_KK],
            title_ru=texts[Column.TITLE_RU],
            department=departments[0],
            deadline=deadline,
            target=texts[Column.TARGET],
            co_executors=tuple(departments[1:]),
            deadline_text=deadline_text,
            department_cell=department_cell,
        )


def _merged_guesses(grid: Grid, header: _Header, mapping: Mapping[Column, int]) -> list[Guess]:
    columns = {index + 1: column for column, index in mapping.items()}
    guesses = []
    for min_row, max_row, min_col, _max_col in grid.merged:
        if min_row > header.row and min_col in columns:
            guesses.append(
                Guess(
                    GuessKind.MERGED,
                    min_row,
                    f"{column_letter(min_col)}{min_row}",
                    {"first": str(min_row), "last": str(max_row)},
                )
            )
    return guesses


def read_grid(
    grid: Grid,
    filename: str,
    aliases: Mapping[str, Column],
    *,
    other_sheets: Sequence[str] = (),
    header: _Header | None = None,
) -> ParsedFile:
    """The rows of one sheet already read into values; pure, so it can be fed anything."""
    header = header or _find_header(grid, aliases)
    if header is None or all(_is_blank(row) for row in grid.rows):
        raise SpreadsheetFileError(FileProblem.EMPTY)
    if not header.complete:
        found = header.found
        missing = [
            column
            for column, kind in (
                (Column.TITLE_KK, Kind.TITLE),
                (Column.DEPARTMENT, Kind.DEPARTMENT),
                (Column.DEADLINE, Kind.DEADLINE),
            )
            if kind not in found
        ]
        raise SpreadsheetFileError(FileProblem.MISSING_COLUMNS, missing)
    mapping, column_guesses = _assign_columns(grid, header)
    guesses: list[Guess] = []
    if grid.name:
        guesses.append(
            Guess(GuessKind.SHEET, 0, "", {"sheet": grid.name, "others": ", ".join(other_sheets)})
        )
    guesses.append(Guess(GuessKind.HEADER_ROW, 0, "", {"row": str(header.row)}))
    guesses += column_guesses
    year, year_source = _roadmap_year(grid, header, mapping, filename)
    reader = _Reader(grid, mapping, year, year_source)
    data_rows = 0
    for number, row in enumerate(grid.rows[header.row :], start=header.row + 1):
        if _is_blank(row):
            continue
        if number == header.row + 1 and _is_number_row(row):
            reader.guesses.append(Guess(GuessKind.NUMBER_ROW, number))
            continue
        section = reader.is_section(row)
        if section is not None:
            reader.start_section(number, section)
            continue
        data_rows += 1
        if data_rows > MAX_ROWS:
            raise SpreadsheetFileError(FileProblem.TOO_MANY_ROWS)
        reader.read(number, row)
    if data_rows == 0:
        raise SpreadsheetFileError(FileProblem.EMPTY)
    if reader.year_used and year is not None:
        guesses.append(
            Guess(GuessKind.ROADMAP_YEAR, 0, "", {"year": str(year), "source": year_source})
        )
    guesses += _merged_guesses(grid, header, mapping)
    guesses += reader.guesses
    guesses.sort(key=lambda guess: guess.row_number)
    return _drop_duplicates(reader.rows, reader.errors, data_rows, guesses, grid.name, header.row)


def parse_spreadsheet(
    data: bytes,
    filename: str,
    *,
    extra_aliases: Mapping[str, Column] | None = None,
    sheet: str | None = None,
) -> ParsedFile:
    """Rows that can be imported, the rows that cannot (each with its reason), the guesses.

    Raises `SpreadsheetFileError` when the file as a whole is unusable, `SheetChoiceNeeded`
    when two sheets look equally like the Road Map and `sheet` does not name one.
    """
    if len(data) > TELEGRAM_DOWNLOAD_LIMIT:
        raise SpreadsheetFileError(FileProblem.TOO_LARGE)
    if not data.strip():
        raise SpreadsheetFileError(FileProblem.EMPTY)
    aliases = {normalize_header(alias): column for alias, column in (extra_aliases or {}).items()}
    if _sniff_kind(data, filename) == "csv":
        return read_grid(csv_grid(data), filename, aliases)
    grids = _xlsx_grids(data)
    grid, header, others = _choose_sheet(grids, aliases, sheet)
    return read_grid(
        grid, filename, aliases, other_sheets=[other.name for other in others], header=header
    )


def _drop_duplicates(
    rows: list[ImportRow],
    errors: list[RowError],
    data_rows: int,
    guesses: list[Guess],
    sheet: str,
    header_row: int,
) -> ParsedFile:
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
    return ParsedFile(
        rows=kept,
        errors=errors,
        data_rows=data_rows,
        guesses=guesses,
        sheet=sheet,
        header_row=header_row,
    )
