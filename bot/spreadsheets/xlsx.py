"""An .xlsx workbook streamed into grids, its declared dimension distrusted.

openpyxl builds every cell of a sheet's declared area (a stray cell in XFD1048576 makes
seventeen billion) and a row object for every formatted empty row, so uploads are read here
with the standard library's incremental XML parser instead: the package is checked first
(grid.checked_zip), rows stream in and reading stops at the row limit, at a long run of empty
rows and past the column cap. Hidden sheets, rows and columns, merged ranges and formulas
without a cached value are noted for the roadmap reader.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
import zlib
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import IO, cast
from xml.etree.ElementTree import Element, ParseError, XMLPullParser

from bot.spreadsheets.grid import (
    MAX_COLUMNS,
    FileProblem,
    Grid,
    RowCollector,
    SpreadsheetFileError,
    checked_zip,
    column_number,
    fill_merged_down,
    parse_range,
)

EXAMPLE_AUTHOR = "roadmap-bot example"  # the template's example row carries a note by this author
_CHUNK = 256 * 1024
_REL_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_CELL_REF = re.compile(r"^([A-Za-z]{1,3})(\d+)$")
_MERGE = re.compile(rb"<(?:\w+:)?mergeCell\s[^>]*?ref=\"([A-Z]{1,3}\d+:[A-Z]{1,3}\d+)\"")
# Excel's built-in number formats that are dates, and the decimals of the few that matter.
_BUILTIN_DATES = frozenset((*range(14, 23), *range(27, 37), *range(45, 48), *range(50, 59)))
_BUILTIN_FORMATS = {0: "General", 1: "0", 2: "0.00", 3: "#,##0", 4: "#,##0.00", 10: "0.00%"}
_DATE_CODE = re.compile(r"[dmyhs]", re.I)
_EPOCH_1900 = datetime(1899, 12, 30)  # noqa: DTZ001 - Excel keeps wall time, no zone
_EPOCH_1904 = datetime(1904, 1, 1)  # noqa: DTZ001 - Excel keeps wall time, no zone


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _iter_elements(stream: IO[bytes], tags: frozenset[str]) -> Iterator[Element]:
    """Elements with these local names as each ends, cleared once used: memory stays flat."""
    parser: XMLPullParser[Element] = XMLPullParser(events=("end",))
    finished = False
    while not finished:
        chunk = stream.read(_CHUNK)
        if chunk:
            parser.feed(chunk)
        else:
            parser.close()
            finished = True
        for _event, element in cast("Iterator[tuple[str, Element]]", parser.read_events()):
            if _local(element.tag) in tags:
                yield element
                element.clear()


def _read_xml(archive: zipfile.ZipFile, name: str) -> Element | None:
    from xml.etree.ElementTree import fromstring

    if name not in archive.namelist():
        return None
    return fromstring(archive.read(name))


def _relationships(archive: zipfile.ZipFile, part: str) -> dict[str, tuple[str, str]]:
    """A part's relationships: id → (type's last word, target path inside the package)."""
    folder, name = posixpath.split(part)
    root = _read_xml(archive, posixpath.join(folder, "_rels", f"{name}.rels"))
    found: dict[str, tuple[str, str]] = {}
    for element in root if root is not None else ():
        target = element.get("Target", "")
        if element.get("TargetMode") == "External":
            continue
        path = target.lstrip("/") if target.startswith("/") else posixpath.join(folder, target)
        found[element.get("Id", "")] = (
            element.get("Type", "").rsplit("/", 1)[-1],
            posixpath.normpath(path),
        )
    return found


def _text_of(element: Element) -> str:
    """The text of a string item: its runs joined, phonetic guides left out."""
    if _local(element.tag) == "t":
        return element.text or ""
    return "".join(_text_of(child) for child in element if _local(child.tag) in ("t", "r"))


def _shared_strings(archive: zipfile.ZipFile, path: str | None) -> list[str]:
    if path is None or path not in archive.namelist():
        return []
    with archive.open(path) as stream:
        return [_text_of(item) for item in _iter_elements(stream, frozenset({"si"}))]


def _is_date_code(code: str) -> bool:
    plain = re.sub(r'"[^"]*"|\[[^\]]*\]|\\.', "", code)
    return bool(_DATE_CODE.search(plain))


def _styles(archive: zipfile.ZipFile, path: str | None) -> tuple[list[str], list[bool]]:
    """Each cell style's number format, and whether it shows a date."""
    root = _read_xml(archive, path) if path else None
    if root is None:
        return [], []
    custom: dict[int, str] = {}
    formats: list[str] = []
    dates: list[bool] = []
    for element in root:
        name = _local(element.tag)
        if name == "numFmts":
            for fmt in element:
                custom[int(fmt.get("numFmtId", "0"))] = fmt.get("formatCode", "")
        elif name == "cellXfs":
            for xf in element:
                number = int(xf.get("numFmtId", "0"))
                code = custom.get(number, _BUILTIN_FORMATS.get(number, "General"))
                formats.append(code)
                dates.append(number in _BUILTIN_DATES or (number in custom and _is_date_code(code)))
    return formats, dates


class _Book:
    """What every sheet needs from the rest of the package."""

    def __init__(self, archive: zipfile.ZipFile) -> None:
        self.archive = archive
        root = _read_xml(archive, "xl/workbook.xml")
        if root is None:
            raise SpreadsheetFileError(FileProblem.NOT_SPREADSHEET)
        if not archive.read("[Content_Types].xml").strip():
            raise SpreadsheetFileError(FileProblem.CORRUPT)
        relations = _relationships(archive, "xl/workbook.xml")
        by_type = {kind: path for kind, path in relations.values()}
        self.strings = _shared_strings(archive, by_type.get("sharedStrings"))
        self.formats, self.dates = _styles(archive, by_type.get("styles"))
        self.epoch = _EPOCH_1900
        self.sheets: list[tuple[str, str, bool]] = []  # name, part, hidden
        for element in root:
            name = _local(element.tag)
            if name == "workbookPr" and element.get("date1904") in ("1", "true"):
                self.epoch = _EPOCH_1904
            if name != "sheets":
                continue
            for sheet in element:
                kind, path = relations.get(sheet.get(f"{_REL_NS}id", ""), ("", ""))
                if kind == "worksheet":
                    hidden = sheet.get("state", "visible") != "visible"
                    self.sheets.append((sheet.get("name", ""), path, hidden))

    def value(self, cell: Element, style: int) -> tuple[object, bool]:
        """The cell's value, and whether it is a formula that has none."""
        kind = cell.get("t", "n")
        raw: str | None = None
        formula = False
        inline = ""
        for child in cell:
            name = _local(child.tag)
            if name == "v":
                raw = child.text or ""
            elif name == "f":
                formula = True
            elif name == "is":
                inline = _text_of(child)
        if kind == "inlineStr":
            return inline, False
        if not raw:
            return None, formula
        if kind == "s":
            index = int(raw)
            return (self.strings[index] if 0 <= index < len(self.strings) else None), False
        if kind in ("str", "e"):
            return raw, False
        if kind == "b":
            return raw in ("1", "true"), False
        if kind == "d":
            try:
                return datetime.fromisoformat(raw), False
            except ValueError:
                return raw, False
        return self.number(raw, style), False

    def number(self, raw: str, style: int) -> object:
        try:
            number: int | float = float(raw) if any(c in raw for c in ".eE") else int(raw)
        except ValueError:
            return raw
        if 0 <= style < len(self.dates) and self.dates[style] and 0 < number < 2958466:
            return self.epoch + timedelta(days=float(number))
        return float(number) if isinstance(number, float) else number


def _merged(archive: zipfile.ZipFile, part: str) -> list[tuple[int, int, int, int]]:
    """The merged ranges, found in the raw XML: they follow the rows, which may not be read."""
    found: list[tuple[int, int, int, int]] = []
    tail = b""
    with archive.open(part) as stream:
        while chunk := stream.read(_CHUNK):
            text = tail + chunk
            for match in _MERGE.finditer(text):
                span = parse_range(match.group(1).decode())
                if span is not None:
                    found.append(span)
            cut = text.rfind(b"<")
            tail = text[cut:] if cut >= 0 and len(text) - cut < 512 else b""
    return found


def _sheet_grid(book: _Book, name: str, part: str, hidden: bool) -> Grid:  # noqa: C901 - one branch per element of a sheet
    collector = RowCollector()
    number_formats: dict[tuple[int, int], str] = {}
    formulas: set[tuple[int, int]] = set()
    hidden_rows: set[int] = set()
    hidden_columns: set[int] = set()
    declared = ""
    cut_columns = False
    row_number = 0
    wanted = frozenset({"dimension", "col", "row"})
    with book.archive.open(part) as stream:
        for element in _iter_elements(stream, wanted):
            tag = _local(element.tag)
            if tag == "dimension":
                declared = element.get("ref", "")
                continue
            if tag == "col":
                if element.get("hidden") in ("1", "true"):
                    first = int(element.get("min", "1"))
                    last = min(int(element.get("max", "1")), MAX_COLUMNS)
                    hidden_columns.update(range(first, last + 1))
                continue
            row_number = int(element.get("r") or row_number + 1)
            values: list[object] = []
            position = 0
            for cell in element:
                if _local(cell.tag) != "c":
                    continue
                found = _CELL_REF.match(cell.get("r", ""))
                position = column_number(found.group(1)) if found else position + 1
                if position > MAX_COLUMNS:
                    cut_columns = cut_columns or len(cell) > 0
                    continue
                style = int(cell.get("s", "0"))
                value, formula_only = book.value(cell, style)
                if formula_only:
                    formulas.add((row_number, position))
                if value is None:
                    continue
                values.extend([None] * (position - len(values)))
                values[position - 1] = value
                if isinstance(value, float) and 0 <= style < len(book.formats):
                    number_formats[(row_number, position)] = book.formats[style]
            if element.get("hidden") in ("1", "true") and values:
                hidden_rows.add(row_number)
            if not collector.add(row_number, values):
                break
    grid = Grid(
        name=name,
        rows=collector.rows,
        number_formats=number_formats,
        formulas=frozenset(formulas),
        merged=[span for span in _merged(book.archive, part) if span[0] <= len(collector.rows)],
        hidden=hidden,
        hidden_rows=frozenset(hidden_rows),
        hidden_columns=frozenset(hidden_columns),
        declared=declared,
        cut_at_row=collector.cut_at_row,
        cut_columns=cut_columns,
    )
    fill_merged_down(grid)
    return grid


def xlsx_grids(data: bytes) -> list[Grid]:
    """Every worksheet of the workbook; raises `SpreadsheetFileError` for what cannot be read."""
    archive = checked_zip(data)
    try:
        names = archive.namelist()
        if "xl/workbook.xml" not in names:
            raise SpreadsheetFileError(FileProblem.NOT_SPREADSHEET)
        if any(name.lower().endswith("vbaproject.bin") for name in names):
            raise SpreadsheetFileError(FileProblem.MACROS)
        if any(name.startswith("xl/externalLinks/") for name in names):
            raise SpreadsheetFileError(FileProblem.EXTERNAL_LINKS)
        try:
            book = _Book(archive)
            return [_sheet_grid(book, *sheet) for sheet in book.sheets if sheet[1] in names]
        except (ParseError, KeyError, ValueError, IndexError, zipfile.BadZipFile, zlib.error) as e:
            raise SpreadsheetFileError(FileProblem.CORRUPT) from e
    finally:
        archive.close()
