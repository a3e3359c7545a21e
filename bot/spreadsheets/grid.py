"""Decoding an uploaded file into grids of values: bytes in, one `Grid` per sheet or table out.

Pure (no database, no Telegram) and suspicious: a file's own word about itself is never
trusted. Every zip part is checked for its unpacked size and compression ratio before it is
opened, a sheet's declared dimension is ignored, rows are streamed and reading stops at the
row limit or at the first long run of empty rows, and columns past a cap are not read. Each
way a file can be refused has its own `FileProblem`, so the person is told what is wrong.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from bot.core.errors import DomainError
from bot.core.text import clean_input

MAX_ROWS = 10_000
HEADER_SEARCH_ROWS = 20
# Rows read at most: the header area, the item rows, and the row that proves there are more.
ROW_LIMIT = MAX_ROWS + HEADER_SEARCH_ROWS + 1
MAX_COLUMNS = 64  # a Road Map has a dozen columns; a cell in XFD is not one of them
BLANK_RUN = 500  # this many empty rows in a row end the table
MAX_UNPACKED_SIZE = 400 * 1024 * 1024  # a real 10,000-row workbook unpacks to a few dozen MB
MAX_PART_SIZE = 150 * 1024 * 1024
MAX_RATIO = 200  # office XML packs 5-50 times; a part packed tighter is built to expand
RATIO_CHECKED_FROM = 2 * 1024 * 1024  # small parts may pack tightly and harm nothing
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGIC = b"PK\x03\x04"
_PDF_MAGIC = b"%PDF"
_ENCRYPTION_MARKERS = ("EncryptionInfo".encode("utf-16-le"), "EncryptedPackage".encode("utf-16-le"))
_WORD_STREAM = "WordDocument".encode("utf-16-le")
_EXCEL_STREAMS = ("Workbook".encode("utf-16-le"), "Book".encode("utf-16-le"))


class FileProblem(StrEnum):
    NOT_SPREADSHEET = "not_spreadsheet"
    CORRUPT = "corrupt"
    BAD_CSV = "bad_csv"
    LEGACY_XLS = "legacy_xls"  # kept for stored answers; .xls is read now
    LEGACY_DOC = "legacy_doc"
    PDF = "pdf"
    ENCRYPTED = "encrypted"
    EMPTY = "empty"
    TOO_MANY_ROWS = "too_many_rows"
    TOO_LARGE = "too_large"
    ZIP_BOMB = "zip_bomb"
    HUGE_SHEET = "huge_sheet"
    MACROS = "macros"
    EXTERNAL_LINKS = "external_links"
    NO_TABLE = "no_table"
    TOO_MUCH_MEMORY = "too_much_memory"
    TOO_SLOW = "too_slow"
    MISSING_COLUMNS = "missing_columns"


class SpreadsheetFileError(DomainError):
    """The file as a whole cannot be read; nothing was checked."""

    def __init__(
        self,
        problem: FileProblem,
        missing: Sequence[Any] = (),
        line: int = 0,
        detail: str = "",
    ) -> None:
        super().__init__(problem)
        self.problem = problem
        self.missing = tuple(missing)
        self.line = line
        self.detail = detail  # the sheet, the dimension or the part the answer names


@dataclass
class Grid:
    """One sheet (or Word table) as values; what the parser needs beyond the values rides along."""

    name: str
    rows: list[list[object]]
    number_formats: dict[tuple[int, int], str] = field(default_factory=dict)  # of float cells
    formulas: frozenset[tuple[int, int]] = frozenset()  # formula cells that have no value
    merged: list[tuple[int, int, int, int]] = field(default_factory=list)  # rows, columns: 1-based
    hidden: bool = False  # a hidden sheet
    hidden_rows: frozenset[int] = frozenset()  # 1-based
    hidden_columns: frozenset[int] = frozenset()  # 1-based
    declared: str = ""  # the dimension the file claims, «A1:XFD1048576»
    cut_at_row: int = 0  # content after this row was not read (a long empty run before it)
    cut_columns: bool = False  # cells past MAX_COLUMNS were not read
    notes: list[str] = field(default_factory=list)  # lines under a Word table: the legend
    caption: list[str] = field(default_factory=list)  # lines above a Word table: its title


def cell_text(value: object) -> str:
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


def is_blank(row: Sequence[object]) -> bool:
    return all(cell_text(value) == "" for value in row)


def column_letter(number: int) -> str:
    """Excel's column name for a 1-based column number: 1 → A, 27 → AA."""
    letters = ""
    while number > 0:
        number, remainder = divmod(number - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return letters


def column_number(letters: str) -> int:
    number = 0
    for letter in letters.upper():
        number = number * 26 + ord(letter) - ord("A") + 1
    return number


class Kind(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"
    XLS = "xls"
    ODS = "ods"
    DOCX = "docx"


def sniff_kind(data: bytes, filename: str) -> Kind:
    """What the bytes are, whatever the name says; refusals that need no reading end here."""
    suffix = filename.lower().rsplit(".", 1)[-1] if "." in filename else ""
    if data.startswith(_PDF_MAGIC):
        raise SpreadsheetFileError(FileProblem.PDF)
    if data.startswith(_OLE_MAGIC):
        if any(marker in data for marker in _ENCRYPTION_MARKERS):
            raise SpreadsheetFileError(FileProblem.ENCRYPTED)
        if _WORD_STREAM in data and not any(stream in data for stream in _EXCEL_STREAMS):
            raise SpreadsheetFileError(FileProblem.LEGACY_DOC)
        return Kind.XLS
    if data.startswith(_ZIP_MAGIC):
        return _zip_kind(data)
    if suffix in ("csv", "txt") and b"\x00" not in data[:4096]:
        return Kind.CSV
    raise SpreadsheetFileError(FileProblem.NOT_SPREADSHEET)


def _zip_kind(data: bytes) -> Kind:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            mimetype = archive.read("mimetype")[:100] if "mimetype" in names else b""
    except (zipfile.BadZipFile, OSError, EOFError) as error:
        raise SpreadsheetFileError(FileProblem.NOT_SPREADSHEET) from error
    if "xl/workbook.xml" in names:
        return Kind.XLSX
    if "word/document.xml" in names:
        return Kind.DOCX
    if b"opendocument.spreadsheet" in mimetype:
        return Kind.ODS
    raise SpreadsheetFileError(FileProblem.NOT_SPREADSHEET)


def checked_zip(data: bytes) -> zipfile.ZipFile:
    """The package, once every part's unpacked size and packing ratio look like a real file's.

    Worksheets are streamed and stop at the row limit, so only their packing ratio is checked:
    a sheet of a million rows gets the «too many rows» answer, not «too large».
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, EOFError) as error:
        raise SpreadsheetFileError(FileProblem.NOT_SPREADSHEET) from error
    total = 0
    for entry in archive.infolist():
        packed = max(entry.compress_size, 1)
        if entry.file_size >= RATIO_CHECKED_FROM and entry.file_size / packed > MAX_RATIO:
            archive.close()
            ratio = f"{entry.file_size // packed}"
            raise SpreadsheetFileError(FileProblem.ZIP_BOMB, detail=ratio)
        if entry.filename.startswith("xl/worksheets/"):
            continue
        total += entry.file_size
        if entry.file_size > MAX_PART_SIZE or total > MAX_UNPACKED_SIZE:
            archive.close()
            raise SpreadsheetFileError(FileProblem.TOO_LARGE)
    return archive


def fill_merged_down(grid: Grid) -> None:
    """A cell merged over several rows (a department over its items) holds for every row."""
    rows = grid.rows
    for min_row, max_row, min_col, _max_col in grid.merged:
        if max_row <= min_row or min_row > len(rows) or min_col > len(rows[min_row - 1]):
            continue
        value = rows[min_row - 1][min_col - 1]
        for number in range(min_row + 1, min(max_row, len(rows)) + 1):
            target = rows[number - 1]
            target.extend([None] * (min_col - len(target)))
            target[min_col - 1] = value


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
            rows.append(list(row[:MAX_COLUMNS]))
            if len(rows) > ROW_LIMIT:
                raise SpreadsheetFileError(FileProblem.TOO_MANY_ROWS)
    except csv.Error as error:
        raise SpreadsheetFileError(FileProblem.BAD_CSV, line=reader.line_num) from error
    return Grid(name="", rows=rows)


class RowCollector:
    """Rows as they stream in: gaps filled, the limits kept, trailing empty rows dropped."""

    def __init__(self) -> None:
        self.rows: list[list[object]] = []
        self.cut_at_row = 0

    def add(self, number: int, values: list[object]) -> bool:
        """Take row `number` (1-based); False when reading should stop here."""
        last = len(self.rows)  # the last row with something in it
        if number <= last:
            return True  # rows out of order: the first one wins
        if is_blank(values):
            return number - last < BLANK_RUN
        if number - last - 1 >= BLANK_RUN:
            self.cut_at_row = last
            return False
        if number > ROW_LIMIT:
            raise SpreadsheetFileError(FileProblem.TOO_MANY_ROWS)
        self.rows.extend([] for _ in range(number - last - 1))
        self.rows.append(values)
        return True


_CELL_REF = re.compile(r"^([A-Za-z]{1,3})(\d+)$")
_RANGE_REF = re.compile(r"([A-Z]{1,3})(\d+):([A-Z]{1,3})(\d+)")


def parse_range(ref: str) -> tuple[int, int, int, int] | None:
    """«B3:D7» → (3, 7, 2, 4): rows, then columns, 1-based."""
    found = _RANGE_REF.fullmatch(ref.strip().upper())
    if not found:
        return None
    first_col, first_row, last_col, last_row = found.groups()
    return int(first_row), int(last_row), column_number(first_col), column_number(last_col)


def is_huge(declared: str) -> bool:
    """A dimension past what we read: the sheet claims more than a Road Map can be."""
    span = parse_range(declared)
    return span is not None and (span[1] > ROW_LIMIT or span[3] > MAX_COLUMNS)


def decode_grids(data: bytes, filename: str) -> tuple[Kind, list[Grid]]:
    """Every sheet (or Word table) of the file as a grid; raises `SpreadsheetFileError`."""
    kind = sniff_kind(data, filename)
    if kind == Kind.CSV:
        return kind, [csv_grid(data)]
    if kind == Kind.XLSX:
        from bot.spreadsheets.xlsx import xlsx_grids

        return kind, xlsx_grids(data)
    if kind == Kind.DOCX:
        from bot.spreadsheets.documents import docx_grids

        return kind, docx_grids(data)
    from bot.spreadsheets.documents import calamine_grids

    if kind == Kind.ODS:
        checked_zip(data).close()
    return kind, calamine_grids(data)
