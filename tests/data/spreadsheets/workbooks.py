"""Spreadsheets for the import tests, generated rather than committed so each test shows its data.

openpyxl cannot write a password-protected workbook: an encrypted .xlsx is not a zip but an
OLE compound file (CFB) holding `EncryptionInfo` and `EncryptedPackage` streams. `cfb_file`
writes a minimal, structurally valid CFB container with chosen stream names, which is all the
importer looks at; with a `Workbook` stream the same container stands for a legacy .xls.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Sequence
from datetime import date
from typing import Any

from openpyxl import Workbook

DEPARTMENTS = {
    "edu": ("Білім басқармасы", "Управление образования"),
    "health": ("Денсаулық сақтау басқармасы", "Управление здравоохранения"),
    "build": ("Құрылыс басқармасы", "Управление строительства"),
    "roads": ("Жолаушылар көлігі және автомобиль жолдары басқармасы", "Управление дорог"),
    "energy": ("Энергетика басқармасы", "Управление энергетики"),
    "water": ("Су ресурстары басқармасы", "Управление водных ресурсов"),
    "social": ("Жұмыспен қамту және әлеуметтік бағдарламалар басқармасы", "Управление соцпрограмм"),
    "culture": ("Мәдениет басқармасы", "Управление культуры"),
}

RU_HEADERS = {
    "code": "Код пункта",
    "title_kk": "Наименование (каз.)",
    "title_ru": "Наименование (рус.)",
    "department": "Ответственное управление",
    "deadline": "Срок исполнения",
    "target": "Целевой показатель",
}
KK_HEADERS = {
    "code": "Тармақ коды",
    "title_kk": "Қазақша атауы",
    "title_ru": "Орысша атауы",
    "department": "Жауапты басқарма",
    "deadline": "Орындау мерзімі",
    "target": "Нысаналы көрсеткіш",
}
EN_HEADERS = {
    "code": "code",
    "title_kk": "title_kk",
    "title_ru": "title_ru",
    "department": "department code",
    "deadline": "deadline",
    "target": "target",
}
# Column order as the secretariat's own file has it: not the template's.
RU_ORDER = ("code", "department", "title_ru", "title_kk", "deadline", "target")


def roadmap_rows(count: int = 93) -> list[dict[str, Any]]:
    """`count` items in sections 1.x.y, spread over departments and the months of 2025."""
    rows = []
    codes = list(DEPARTMENTS)
    for index in range(count):
        section, rest = divmod(index, 30)
        code = f"{section + 1}.{rest // 6 + 1}.{rest % 6 + 1}"
        month = index % 12 + 1
        # Every fourth deadline typed by hand as text, the way it happens in real files.
        deadline: Any = date(2025, month, 28)
        if index % 4 == 3:
            deadline = f"28.{month:02d}.2025"
        rows.append(
            {
                "code": code,
                "title_kk": f"{code} тармағы: №{index + 1} нысанды салу және жөндеу",
                "title_ru": f"Пункт {code}: строительство и ремонт объекта №{index + 1}",
                "department": codes[index % len(codes)],
                "deadline": deadline,
                "target": f"{index + 10} объектов" if index % 3 else "",
            }
        )
    return rows


def xlsx(
    rows: Sequence[dict[str, Any]],
    headers: dict[str, str] = RU_HEADERS,
    order: Sequence[str] = RU_ORDER,
    *,
    title_row: str | None = "Шымкент қаласының Жол картасы 2025",
) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    if title_row:
        sheet.append([title_row])
        sheet.append([])
    sheet.append([headers[name] for name in order])
    for row in rows:
        sheet.append([row.get(name) for name in order])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def csv_bytes(
    rows: Sequence[dict[str, Any]],
    headers: dict[str, str] = RU_HEADERS,
    order: Sequence[str] = RU_ORDER,
    *,
    encoding: str = "utf-8-sig",
    delimiter: str = ";",
) -> bytes:
    def text(value: Any) -> str:
        return value.strftime("%d.%m.%Y") if isinstance(value, date) else str(value or "")

    lines = [delimiter.join(headers[name] for name in order)]
    lines += [delimiter.join(text(row.get(name)) for name in order) for row in rows]
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


_FREE, _END, _FAT, _NOSTREAM = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF


def _directory_entry(
    name: str, kind: int, *, child: int = _NOSTREAM, right: int = _NOSTREAM
) -> bytes:
    encoded = (name + "\x00").encode("utf-16-le") if name else b""
    return (
        encoded.ljust(64, b"\x00")
        + struct.pack("<HBB", len(encoded), kind, 1)
        + struct.pack("<III", _NOSTREAM, right, child)
        + b"\x00" * 16  # CLSID
        + b"\x00" * 4  # state bits
        + b"\x00" * 16  # creation and modification times
        + struct.pack("<IQ", _END, 0)  # empty stream
    )


def cfb_file(streams: Sequence[str] = ("EncryptionInfo", "EncryptedPackage")) -> bytes:
    """A compound file: header, one FAT sector, one directory sector, empty streams."""
    header = (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
        + b"\x00" * 16
        + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6)
        + b"\x00" * 6
        + struct.pack("<IIIIIIIII", 0, 1, 1, 0, 4096, _END, 0, _END, 0)
    )
    header += struct.pack("<I", 0) + struct.pack("<I", _FREE) * 108
    fat = struct.pack("<II", _FAT, _END) + struct.pack("<I", _FREE) * 126
    entries = [_directory_entry("Root Entry", 5, child=1)]
    for index, name in enumerate(streams, start=1):
        right = index + 1 if index < len(streams) else _NOSTREAM
        entries.append(_directory_entry(name, 2, right=right))
    while len(entries) % 4:
        entries.append(_directory_entry("", 0))
    directory = b"".join(entries)
    assert len(header) == 512 and len(fat) == 512 and len(directory) == 512
    return header + fat + directory
