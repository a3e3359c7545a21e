"""Files built to hurt a parser, written part by part so each is small on disk (issue 24).

Each builder returns the bytes a person (or an attacker) could send: a sheet that declares
XFD1048576, a million rows, five real rows and a million formatted empty ones, a package whose
part expands a thousand times, a workbook with macros, one with external links, and a PDF.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from bot.spreadsheets.grid import FileProblem

HEADER = ("Код", "Наименование", "Исполнитель", "Срок")
_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/styles.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
    "</Types>"
)
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="Roadmap" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/worksheet" Target="worksheets/sheet1.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/styles" Target="styles.xml"/></Relationships>'
)
_STYLES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<fonts count="1"><font/></fonts><fills count="1"><fill/></fills>'
    '<borders count="1"><border/></borders>'
    '<cellXfs count="2"><xf numFmtId="0"/><xf numFmtId="0" fillId="0" applyFill="1"/></cellXfs>'
    "</styleSheet>"
)


def _cell(reference: str, text: str) -> str:
    return f'<c r="{reference}" t="inlineStr"><is><t>{text}</t></is></c>'


def _row(number: int, values: Iterable[str]) -> str:
    cells = "".join(_cell(f"{'ABCD'[i]}{number}", text) for i, text in enumerate(values))
    return f'<row r="{number}">{cells}</row>'


def _item(number: int) -> tuple[str, str, str, str]:
    return (f"1.{number}", f"Мероприятие {number}", "edu", "01.09.2025")


def xlsx_from_parts(
    sheet_xml: Iterable[str],
    *,
    extra: dict[str, bytes] | None = None,
    level: int = 6,
) -> bytes:
    """A package with one sheet whose XML is streamed from `sheet_xml` (never held whole)."""
    target = io.BytesIO()
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        archive.writestr("_rels/.rels", _ROOT_RELS)
        archive.writestr("xl/workbook.xml", _WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        archive.writestr("xl/styles.xml", _STYLES)
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            buffer: list[str] = []
            for piece in sheet_xml:
                buffer.append(piece)
                if len(buffer) >= 5000:
                    sheet.write("".join(buffer).encode())
                    buffer.clear()
            sheet.write("".join(buffer).encode())
        for name, content in (extra or {}).items():
            archive.writestr(name, content)
    return target.getvalue()


def _sheet(dimension: str, body: Iterable[str]) -> Iterator[str]:
    yield (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f'<dimension ref="{dimension}"/><sheetData>'
    )
    yield from body
    yield "</sheetData></worksheet>"


def real_rows(count: int) -> Iterator[str]:
    yield _row(1, HEADER)
    for number in range(2, count + 2):
        yield _row(number, _item(number - 1))


def xfd_dimension() -> bytes:
    """2 KB: one cell at XFD1048576, and the sheet says it spans all of Excel."""
    body = ['<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>']
    return xlsx_from_parts(_sheet("A1:XFD1048576", body))


def million_rows() -> bytes:
    """A sheet of 1,000,000 item rows under the header."""

    def rows() -> Iterator[str]:
        yield _row(1, HEADER)
        for number in range(2, 1_000_002):
            yield (
                f'<row r="{number}"><c r="A{number}"><v>{number}</v></c>'
                f'<c r="B{number}" t="inlineStr"><is><t>x</t></is></c>'
                f'<c r="C{number}" t="inlineStr"><is><t>edu</t></is></c>'
                f'<c r="D{number}" t="inlineStr"><is><t>2025</t></is></c></row>'
            )

    return xlsx_from_parts(_sheet("A1:D1000001", rows()), level=1)


def empty_formatted_rows() -> bytes:
    """Five real items, then a million rows that carry a fill and nothing else."""

    def rows() -> Iterator[str]:
        yield from real_rows(5)
        for number in range(7, 1_000_007):
            yield f'<row r="{number}" s="1" customFormat="1"/>'

    return xlsx_from_parts(_sheet("A1:D1000006", rows()))


def expanding_zip() -> bytes:
    """Five real items, and a part that unpacks a thousand times larger than it is packed."""
    padding = b" " * (64 * 1024 * 1024)
    return xlsx_from_parts(
        _sheet("A1:D6", real_rows(5)), extra={"xl/media/image1.emf": padding}, level=9
    )


def with_macros() -> bytes:
    return xlsx_from_parts(
        _sheet("A1:D6", real_rows(5)), extra={"xl/vbaProject.bin": b"\xd0\xcf\x11\xe0macro"}
    )


def with_external_links() -> bytes:
    link = (
        b'<externalLink xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        b'<externalBook><sheetNames><sheetName val="Budget"/></sheetNames></externalBook>'
        b"</externalLink>"
    )
    return xlsx_from_parts(
        _sheet("A1:D6", real_rows(5)), extra={"xl/externalLinks/externalLink1.xml": link}
    )


def pdf_file() -> bytes:
    return b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@dataclass(frozen=True)
class Hostile:
    name: str  # the file name it is sent under
    build: Callable[[], bytes]
    problem: FileProblem | None  # None: it imports, and `rows` items come out
    rows: int = 0


HOSTILE_FILES = (
    Hostile("xfd1048576.xlsx", xfd_dimension, FileProblem.HUGE_SHEET),
    Hostile("million-rows.xlsx", million_rows, FileProblem.TOO_MANY_ROWS),
    Hostile("empty-formatted-rows.xlsx", empty_formatted_rows, None, rows=5),
    Hostile("expands-1000x.xlsx", expanding_zip, FileProblem.ZIP_BOMB),
    Hostile("macros.xlsm", with_macros, FileProblem.MACROS),
    Hostile("external-links.xlsx", with_external_links, FileProblem.EXTERNAL_LINKS),
    Hostile("roadmap.pdf", pdf_file, FileProblem.PDF),
)
