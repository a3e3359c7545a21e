"""Road Map workbooks laid out the way a city secretariat keeps them, built in code.

Each builder returns the bytes and, item by item, what the import must make of them, so a
test compares the import with the truth the workbook was built from. The directory of
departments is `tests.data.spreadsheets.workbooks.DEPARTMENTS`.

openpyxl writes formulas without cached values (as a workbook nobody has opened in Excel);
`with_cached_values` writes the values Excel would have stored, into the sheet XML.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from xml.sax.saxutils import escape

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill

from tests.data.spreadsheets.workbooks import DEPARTMENTS

CODES = list(DEPARTMENTS)
RU_MONTHS_GENITIVE = [
    "января",
    "февраля",
    "марта",
    "апреля",
    "мая",
    "июня",
    "июля",
    "августа",
    "сентября",
    "октября",
    "ноября",
    "декабря",
]
RU_MONTHS = [
    "январь",
    "февраль",
    "март",
    "апрель",
    "май",
    "июнь",
    "июль",
    "август",
    "сентябрь",
    "октябрь",
    "ноябрь",
    "декабрь",
]
KK_MONTHS = [
    "қаңтар",
    "ақпан",
    "наурыз",
    "сәуір",
    "мамыр",
    "маусым",
    "шілде",
    "тамыз",
    "қыркүйек",
    "қазан",
    "қараша",
    "желтоқсан",
]
ROMAN = ("I", "II", "III", "IV")


@dataclass(frozen=True)
class Expected:
    """What one item row must become."""

    row: int
    code: str
    title_kk: str
    title_ru: str
    department: str  # a code of DEPARTMENTS
    deadline: date
    deadline_text: str = ""
    target: str = ""
    co_executors: tuple[str, ...] = ()


@dataclass
class Built:
    data: bytes
    items: list[Expected]
    sheet: str
    header_row: int
    sections: dict[int, str] = field(default_factory=dict)  # row → section text
    number_row: int = 0
    merged_department_rows: tuple[int, int] = (0, 0)
    float_codes: dict[int, tuple[str, str]] = field(default_factory=dict)  # row → read, restored
    proposed_codes: dict[int, str] = field(default_factory=dict)


def with_cached_values(data: bytes, sheet_index: int, values: Mapping[str, str]) -> bytes:
    """The workbook as Excel would save it: each formula cell given its computed text."""
    source = zipfile.ZipFile(io.BytesIO(data))
    target = io.BytesIO()
    name = f"xl/worksheets/sheet{sheet_index}.xml"
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
        for entry in source.namelist():
            content = source.read(entry)
            if entry == name:
                text = content.decode()
                for ref, value in values.items():
                    text, count = re.subn(
                        rf'<c r="{ref}"([^>]*)><f>(.*?)</f><v\s*/?>(?:</v>)?',
                        rf'<c r="{ref}"\1 t="str"><f>\2</f><v>{escape(value)}</v>',
                        text,
                    )
                    assert count == 1, ref
                content = text.encode()
            out.writestr(entry, content)
    return target.getvalue()


def department_forms(code: str) -> tuple[str, ...]:
    """The ways an office writes one department: code, full and short names in kk and ru."""
    name_kk, name_ru = DEPARTMENTS[code]
    return (
        code,
        f"Шымкент қаласының {name_kk[0].lower()}{name_kk[1:]}",
        f"{name_ru} города Шымкент",
        name_kk,
        name_ru,
        f"ГУ «{name_ru} города Шымкента»",
    )


def deadline_forms(index: int, year: int) -> tuple[Any, date, str]:
    """The index-th way of writing a deadline: the cell, the date it means, the kept text."""
    month = index % 12 + 1
    day = (index % 27) + 1
    kind = index % 15
    exact = date(year, month, day)
    december = date(year, 12, 31)
    quarter = (index % 4) + 1
    quarter_end = date(year, quarter * 3, (31, 30, 30, 31)[quarter - 1])
    month_end = date(year, month, 28 if month == 2 else (30 if month in (4, 6, 9, 11) else 31))
    forms: list[tuple[Any, date, str]] = [
        (exact, exact, ""),
        (f"{day:02d}.{month:02d}.{year}", exact, ""),
        (f"{day:02d}.{month:02d}.{year} г.", exact, ""),
        (f"{day:02d}.{month:02d}.{year} ж.", exact, ""),
        (f"{day} {RU_MONTHS_GENITIVE[month - 1]} {year} года", exact, ""),
        (f"{year} жылғы {day} {KK_MONTHS[month - 1]}", exact, ""),
        (f"{RU_MONTHS[month - 1]} {year}", month_end, "month"),
        (f"{year} жылғы {KK_MONTHS[month - 1]}", month_end, "month"),
        (f"{ROMAN[quarter - 1]} квартал {year}", quarter_end, "text"),
        (f"{ROMAN[quarter - 1]} тоқсан", quarter_end, "text"),
        (f"{quarter} квартал", quarter_end, "text"),
        (f"до {day} {RU_MONTHS_GENITIVE[month - 1]}", exact, "text"),
        (f"{year} жыл", december, "text"),
        ("ежегодно", december, "text"),
        ("жыл сайын", december, "text"),
    ]
    cell, meant, keep = forms[kind]
    if keep == "month":
        return cell, month_end, cell
    return cell, meant, cell if keep else ""


KK_LAYOUT = {
    "cover": "Түсініктеме",
    "cover_text": "Бұл кітапта Жол картасы және оның түсініктемесі бар.",
    "sheet": "Жол картасы",
    "title": "Шымкент қаласының 2025 жылға арналған Жол картасы",
    "subtitle": "(Шымкент қаласы мәслихатының шешімімен бекітілген)",
    "headers": (
        "Р/с №",
        "Іс-шараның атауы (мемлекеттік тілде)",
        "Іс-шараның атауы (орыс тілінде)",
        "Жауапты орган",
        "Орындау мерзімі",
        "Күтілетін нәтиже",
        "Аяқтау нысаны",
    ),
    "sections": (
        "1. Экономика",
        "2-бағыт. Әлеуметтік сала",
        "3-бағыт. Инфрақұрылым",
        "4-бағыт. Экология",
    ),
}
RU_LAYOUT = {
    "cover": "Пояснительная записка",
    "cover_text": "В книге — Дорожная карта и пояснения к ней.",
    "sheet": "Дорожная карта",
    "title": "Дорожная карта города Шымкент на 2025 год",
    "subtitle": "(утверждена решением маслихата города Шымкент)",
    "headers": (
        "№ п/п",
        "Наименование мероприятия (на казахском языке)",
        "Наименование мероприятия (на русском языке)",
        "Ответственный исполнитель",
        "Срок исполнения",
        "Ожидаемый результат",
        "Форма завершения",
    ),
    "sections": (
        "1. Экономика",
        "Раздел 2. Социальная сфера",
        "Раздел 3. Инфраструктура",
        "Раздел 4. Экология",
    ),
}
SECTION_SIZES = (24, 23, 23, 23)  # 93 items


def office_workbook(layout: Mapping[str, Any] = KK_LAYOUT, year: int = 2025) -> Built:  # noqa: C901 - one branch per office habit or format case
    """93 items on the second sheet, with every shape a real office file has."""
    workbook = Workbook()
    cover = workbook.active
    cover.title = layout["cover"]
    cover.append([layout["cover_text"]])
    sheet = workbook.create_sheet(layout["sheet"])
    width = len(layout["headers"])
    sheet.append([layout["title"]])
    sheet.append([layout["subtitle"]])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    sheet.merge_cells(start_row=2, start_column=1, end_row=2, end_column=width)
    sheet.append([])
    sheet.append(list(layout["headers"]))
    header_row = 4
    for cell in sheet[header_row]:
        cell.font = Font(bold=True)
    sheet.append(list(range(1, width + 1)))
    built = Built(data=b"", items=[], sheet=layout["sheet"], header_row=header_row, number_row=5)
    cached: dict[str, str] = {}
    index = 0
    for section_number, size in enumerate(SECTION_SIZES, start=1):
        sheet.append([layout["sections"][section_number - 1]])
        row = sheet.max_row
        sheet.merge_cells(start_row=row, start_column=1, end_row=row, end_column=width)
        built.sections[row] = layout["sections"][section_number - 1]
        merged_from = 0
        for place in range(1, size + 1):
            row = sheet.max_row + 1
            code = f"{section_number}.{place}"
            code_cell: Any = code
            if section_number == 1 and place % 5 == 0:
                code_cell = f"{code}."  # a trailing dot, as typed
            elif section_number == 2 and place <= 10:
                code_cell = float(code if place < 10 else f"{section_number}.1")
                if place == 10:
                    built.float_codes[row] = ("2.1", "2.10")
            elif section_number == 3 and place % 4 == 0:
                code_cell = None
                built.proposed_codes[row] = code
            department = CODES[index % len(CODES)]
            forms = department_forms(department)
            department_cell: Any = forms[index % len(forms)]
            co_executors: tuple[str, ...] = ()
            if index % 9 == 4:
                others = (CODES[(index + 3) % 8], CODES[(index + 5) % 8])
                co_executors = others
                names = [DEPARTMENTS[other][index % 2] for other in others]
                department_cell = f"{department_cell}, {names[0]};\n{names[1]}"
            if section_number == 4 and place <= 3:  # one department cell merged over 3 items
                department = CODES[0]
                co_executors = ()
                department_cell = department_forms(department)[1] if place == 1 else None
                merged_from = merged_from or row
            deadline_cell, deadline, deadline_text = deadline_forms(index, year)
            title_kk = f"{code}-іс-шара: №{index + 1} нысанды салу және жаңғырту"
            title_ru = f"Мероприятие {code}: строительство и модернизация объекта №{index + 1}"
            if index == 7:
                title_ru = "Ремонт сетей < 10 км & освещение «Нұр»"
            target: Any = f"{index + 5} нысан" if layout is KK_LAYOUT else f"{index + 5} объектов"
            expected_target = target
            if index % 10 == 6:
                target = f'="{index + 5} "&"нысан"'
                expected_target = f"{index + 5} нысан"
                cached[f"F{row}"] = expected_target
            completion = "Әкімдікке ақпарат" if layout is KK_LAYOUT else "Информация в акимат"
            sheet.append(
                [code_cell, title_kk, title_ru, department_cell, deadline_cell, target, completion]
            )
            if isinstance(deadline_cell, date):
                sheet.cell(row, 5).number_format = "DD.MM.YYYY"
            built.items.append(
                Expected(
                    row=row,
                    code=built.float_codes.get(row, ("", code))[1],
                    title_kk=title_kk,
                    title_ru=title_ru,
                    department=department,
                    deadline=deadline,
                    deadline_text=deadline_text,
                    target=expected_target,
                    co_executors=co_executors,
                )
            )
            index += 1
        if merged_from:
            sheet.merge_cells(
                start_row=merged_from, start_column=4, end_row=merged_from + 2, end_column=4
            )
            built.merged_department_rows = (merged_from, merged_from + 2)
    grey = PatternFill("solid", fgColor="EEEEEE")
    last = sheet.max_row
    for row in range(last + 1, last + 40):  # formatted, empty rows below the table
        for column in range(1, width + 1):
            sheet.cell(row, column).fill = grey
    buffer = io.BytesIO()
    workbook.save(buffer)
    built.data = with_cached_values(buffer.getvalue(), 2, cached)
    return built


def simple_workbook(
    headers: Sequence[str], rows: Sequence[Sequence[Any]], *, sheets: Sequence[str] = ("Лист1",)
) -> bytes:
    """The same header and rows on each named sheet: for sheet choice and single shapes."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    for name in sheets:
        sheet = workbook.create_sheet(name)
        sheet.append(list(headers))
        for row in rows:
            sheet.append(list(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def corrupt_xlsx(member: str = "[Content_Types].xml", content: bytes = b"") -> bytes:
    """A real workbook with one part of its zip replaced: empty or broken XML."""
    workbook = Workbook()
    workbook.active.append(["code", "title", "department", "deadline"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    source = zipfile.ZipFile(buffer)
    target = io.BytesIO()
    with zipfile.ZipFile(target, "w") as out:
        for entry in source.namelist():
            out.writestr(entry, content if entry == member else source.read(entry))
    return target.getvalue()
