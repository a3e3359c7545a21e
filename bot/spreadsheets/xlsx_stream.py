"""A streaming XLSX writer: rows go straight into the zipped sheet XML, in linear time.

openpyxl, even in its write-only mode, spends about 80 µs a row (a cell object and an lxml
element for every value): half a million History rows took 40 s. The export needs only
strings, numbers, dates, a bold header, a frozen header row, filters and column widths, so
this writes the XML itself: about 7 µs a row, memory bounded by one chunk and the shared
strings (short, repeated texts only: department names, statuses, authors). Strings are always
written as text, never as formulas; a text Excel would read as a formula on editing gets the
quote prefix.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from types import TracebackType
from typing import IO, Any

FORMULA_PREFIXES = ("=", "+", "-", "@")
EXCEL_MAX_ROWS = 1_048_576
MAX_WIDTH = 60
_EPOCH = datetime(1899, 12, 30)  # noqa: DTZ001 (Excel's day 0, a wall-clock date)
_DAY = timedelta(days=1)
_SHARED_MAX_LENGTH = 80  # longer texts (comments, titles) are written inline, not remembered
_SHARED_MAX_COUNT = 65_536
_CHUNK_ROWS = 2_000
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"})

# Cell styles (cellXfs indexes in styles.xml below).
_BOLD, _DATE, _DATETIME, _PERCENT, _QUOTED = 1, 2, 3, 4, 5

_STYLES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<numFmts count="2"><numFmt numFmtId="164" formatCode="DD.MM.YYYY"/>'
    '<numFmt numFmtId="165" formatCode="DD.MM.YYYY HH:MM"/></numFmts>'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="6">'
    '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="9" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" quotePrefix="1"/>'
    "</cellXfs>"
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PACKAGE_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'


def _text(value: str) -> str:
    return _ILLEGAL.sub("", value).translate(_ESCAPES)


def _absolute(area: str) -> str:
    """A1:O9 -> $A$1:$O$9."""
    return ":".join(re.sub(r"([A-Z]+)(\d+)", r"$\1$\2", ref) for ref in area.split(":"))


def column_letter(index: int) -> str:
    """1 -> A, 27 -> AA."""
    letters = ""
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


class XlsxSheet:
    """One sheet being written: rows are appended in order, then the sheet is closed."""

    def __init__(
        self,
        book: XlsxStream,
        stream: IO[bytes],
        widths: Sequence[int],
        percent_columns: frozenset[int],
        inline_columns: frozenset[int] = frozenset(),
    ) -> None:
        self._book = book
        self._stream = stream
        self._letters = [column_letter(n) for n in range(1, len(widths) + 1)]
        self._percent = percent_columns
        self._inline = inline_columns
        self._rows = 0
        self._pending: list[str] = []
        cols = "".join(
            f'<col min="{n}" max="{n}" width="{min(width, MAX_WIDTH)}" customWidth="1"/>'
            for n, width in enumerate(widths, start=1)
        )
        self._write(
            f'{_HEAD}<worksheet xmlns="{_MAIN}" xmlns:r="{_REL}">'
            '<sheetViews><sheetView workbookViewId="0">'
            '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
            '<selection pane="bottomLeft" activeCell="A2" sqref="A2"/></sheetView></sheetViews>'
            f'<sheetFormatPr defaultRowHeight="15"/><cols>{cols}</cols><sheetData>'
        )

    @property
    def rows(self) -> int:
        return self._rows

    def _write(self, xml: str) -> None:
        self._stream.write(xml.encode())

    def append(self, values: Sequence[Any], *, header: bool = False) -> None:
        """One row; None leaves a cell empty. Excel holds at most EXCEL_MAX_ROWS rows."""
        if self._rows >= EXCEL_MAX_ROWS:
            raise ValueError("an Excel sheet holds at most 1,048,576 rows")
        number = str(self._rows + 1)
        cells = []
        tails = self._book.tails
        for column, (letter, value) in enumerate(zip(self._letters, values, strict=True), 1):
            if value is None or value == "":
                continue
            kind = type(value)
            if kind is str:
                tail = None if header else tails.get(value)
                if tail is None:
                    if column in self._inline and not header:
                        tail = self._inline_tail(value)
                    else:
                        tail = self._string_tail(value, _BOLD if header else 0)
                cells.append(f'<c r="{letter}{number}"{tail}')
            elif kind is int or kind is float:
                style = f' s="{_PERCENT}"' if column in self._percent else ""
                cells.append(f'<c r="{letter}{number}"{style}><v>{value!r}</v></c>')
            elif kind is datetime:
                serial = (value.replace(tzinfo=None) - _EPOCH) / _DAY
                cells.append(f'<c r="{letter}{number}" s="{_DATETIME}"><v>{serial!r}</v></c>')
            else:
                cells.append(self._other(f"{letter}{number}", value, column))
        self._rows += 1  # only once the row is whole: a refused row leaves no gap
        self._pending.append(f'<row r="{number}">{"".join(cells)}</row>')
        if len(self._pending) >= _CHUNK_ROWS:
            self._flush()

    def extend(self, rows: Iterable[Sequence[Any]]) -> None:
        for values in rows:
            self.append(values)

    def _other(self, ref: str, value: Any, column: int) -> str:
        """The rarer kinds (and subclasses of the common ones)."""
        if isinstance(value, str):
            return f'<c r="{ref}"{self._string_tail(value, 0)}'
        if isinstance(value, bool):
            return f'<c r="{ref}" t="b"><v>{int(value)}</v></c>'
        if isinstance(value, datetime):
            serial = (value.replace(tzinfo=None) - _EPOCH) / _DAY
            return f'<c r="{ref}" s="{_DATETIME}"><v>{serial!r}</v></c>'
        if isinstance(value, date):
            return f'<c r="{ref}" s="{_DATE}"><v>{(value - _EPOCH.date()).days}</v></c>'
        if isinstance(value, int | float):
            style = f' s="{_PERCENT}"' if column in self._percent else ""
            return f'<c r="{ref}"{style}><v>{value!r}</v></c>'
        raise TypeError(f"cannot write {type(value).__name__} to a cell")

    @staticmethod
    def _inline_tail(value: str) -> str:
        """A text written in its cell, never into the shared strings (a title is unique: it
        would only crowd out the texts that repeat)."""
        styled = f' s="{_QUOTED}"' if value.startswith(FORMULA_PREFIXES) else ""
        return f'{styled} t="inlineStr"><is><t xml:space="preserve">{_text(value)}</t></is></c>'

    def _string_tail(self, value: str, style: int) -> str:
        """A text cell after its reference; a shared string's is remembered (not a header's)."""
        if value.startswith(FORMULA_PREFIXES) and not style:
            style = _QUOTED
        styled = f' s="{style}"' if style else ""
        index = self._book.shared_index(value)
        if index is None:
            text = _text(value)
            return f'{styled} t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>'
        tail = f'{styled} t="s"><v>{index}</v></c>'
        if style != _BOLD:
            self._book.tails[value] = tail
        return tail

    def _flush(self) -> None:
        if self._pending:
            self._write("".join(self._pending))
            self._pending = []

    def close(self) -> str:
        """Ends the sheet; returns its filtered range ("A1:O9")."""
        self._flush()
        area = f"A1:{self._letters[-1]}{max(self._rows, 1)}"
        self._write(f'</sheetData><autoFilter ref="{area}"/></worksheet>')
        self._stream.close()
        return area


class XlsxStream:
    """A workbook written sheet after sheet into `target` (a binary file or buffer)."""

    def __init__(self, target: IO[bytes]) -> None:
        self._zip = zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=1)
        self._titles: list[str] = []
        self._filters: list[str] = []
        self._shared: dict[str, int] = {}
        self.tails: dict[str, str] = {}  # a shared string's cell after its reference
        self._open: XlsxSheet | None = None

    def shared_index(self, value: str) -> int | None:
        """The shared-strings index of a short text, None for a text to write inline."""
        index = self._shared.get(value)
        short = len(value) <= _SHARED_MAX_LENGTH
        if index is None and short and len(self._shared) < _SHARED_MAX_COUNT:
            index = self._shared[value] = len(self._shared)
        return index

    def sheet(
        self,
        title: str,
        widths: Sequence[int],
        *,
        percent_columns: Iterable[int] = (),
        inline_columns: Iterable[int] = (),
    ) -> XlsxSheet:
        """A new sheet (the previous one is closed); `widths` fixes the number of columns.
        `inline_columns` (1-based): texts unique to their row, kept out of the shared strings."""
        if self._open is not None:
            self._filters.append(self._open.close())
        self._titles.append(_ILLEGAL.sub("", title)[:31])
        name = f"xl/worksheets/sheet{len(self._titles)}.xml"
        stream = self._zip.open(name, "w", force_zip64=True)
        self._open = XlsxSheet(
            self, stream, widths, frozenset(percent_columns), frozenset(inline_columns)
        )
        return self._open

    def close(self) -> None:
        if self._open is not None:
            self._filters.append(self._open.close())
            self._open = None
        count = len(self._titles)
        sheets = "".join(
            f'<sheet name="{_text(title)}" sheetId="{n}" r:id="rId{n}"/>'
            for n, title in enumerate(self._titles, start=1)
        )
        # Filters need a defined name per sheet for Excel to show them on opening.
        names = "".join(
            f'<definedName name="_xlnm._FilterDatabase" localSheetId="{n}" hidden="1">'
            f"'{_text(title).replace(chr(39), chr(39) * 2)}'!{_absolute(area)}</definedName>"
            for n, (title, area) in enumerate(zip(self._titles, self._filters, strict=True))
        )
        self._put(
            "xl/workbook.xml",
            f'<workbook xmlns="{_MAIN}" xmlns:r="{_REL}"><sheets>{sheets}</sheets>'
            + (f"<definedNames>{names}</definedNames>" if names else "")
            + "</workbook>",
        )
        relations = "".join(
            f'<Relationship Id="rId{n}" Type="{_REL}/worksheet" Target="worksheets/sheet{n}.xml"/>'
            for n in range(1, count + 1)
        )
        self._put(
            "xl/_rels/workbook.xml.rels",
            f'<Relationships xmlns="{_PACKAGE_REL}">{relations}'
            f'<Relationship Id="rId{count + 1}" Type="{_REL}/styles" Target="styles.xml"/>'
            f'<Relationship Id="rId{count + 2}" Type="{_REL}/sharedStrings" '
            'Target="sharedStrings.xml"/></Relationships>',
        )
        self._zip.writestr("xl/styles.xml", _STYLES)
        strings = "".join(
            f'<si><t xml:space="preserve">{_text(value)}</t></si>' for value in self._shared
        )
        self._put(
            "xl/sharedStrings.xml",
            f'<sst xmlns="{_MAIN}" count="{len(self._shared)}" '
            f'uniqueCount="{len(self._shared)}">{strings}</sst>',
        )
        overrides = "".join(
            f'<Override PartName="/xl/worksheets/sheet{n}.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            for n in range(1, count + 1)
        )
        self._put(
            "[Content_Types].xml",
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" '
            'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/styles.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
            '<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
            f"{overrides}</Types>",
        )
        self._put(
            "_rels/.rels",
            f'<Relationships xmlns="{_PACKAGE_REL}"><Relationship Id="rId1" '
            f'Type="{_REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        )
        self._zip.close()

    def _put(self, name: str, xml: str) -> None:
        self._zip.writestr(name, _HEAD + xml)

    def __enter__(self) -> XlsxStream:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if kind is None:
            self.close()
        else:
            self._zip.close()
