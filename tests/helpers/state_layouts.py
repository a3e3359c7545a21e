"""Road Maps laid out as Kazakh state bodies publish their action plans (issue 24), in code.

One table model, written three ways (.xlsx with openpyxl, .xls with xlwt, .docx with
python-docx), in three layouts (Russian, Kazakh, bilingual): an annex title above a two-row
header (costs by year under a merged group header), the row of column numbers, sections with
arabic or roman numbers, items numbered 1., 2., … anew in each section, executors as
abbreviations spelled out in a legend (lines under the table or a sheet of their own), the
ОИ/С notation, a co-executor column, a department name with commas in it, collective
executors, items broken down by district over merged rows, deadlines as plans word them, and,
where the format has them, a hidden column, a hidden row and a hidden old sheet.

Each item's truth (code, lead, co-executors, deadline and wording, titles) comes with it.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from typing import Any

from tests.data.spreadsheets.workbooks import DEPARTMENTS

YEAR = 2025
SECTION_SIZES = (24, 23, 23, 23)  # 93 items
# Departments the state layouts need beyond tests.data.spreadsheets.workbooks.DEPARTMENTS.
EXTRA_DEPARTMENTS = {
    "arch": (
        "Сәулет, қала құрылысы және жер қатынастары басқармасы",
        "Управление архитектуры, градостроительства и земельных отношений",
    ),
    "abai": ("Абай ауданының әкімдігі", "Акимат Абайского района"),
    "farabi": ("Әл-Фараби ауданының әкімдігі", "Акимат Аль-Фарабийского района"),
    "karatau": ("Қаратау ауданының әкімдігі", "Акимат Каратауского района"),
    "enbek": ("Еңбекші ауданының әкімдігі", "Акимат Енбекшинского района"),
}
ALL_DEPARTMENTS = {**DEPARTMENTS, **EXTRA_DEPARTMENTS}
DISTRICTS = ("abai", "farabi", "karatau", "enbek")
ABBREVIATIONS = {
    "ru": {
        "edu": "УО",
        "health": "УЗ",
        "build": "УС",
        "roads": "УД",
        "energy": "УЭ",
        "water": "УВР",
        "social": "УЗСП",
        "culture": "УК",
        "arch": "УАГиЗО",
    },
    "kk": {
        "edu": "ББ",
        "health": "ДСБ",
        "build": "ҚБ",
        "roads": "ЖКЖБ",
        "energy": "ЭБ",
        "water": "СРБ",
        "social": "ЖҚӘББ",
        "culture": "МБ",
        "arch": "СҚҚЖҚБ",
    },
}
LEADS = ("edu", "health", "build", "roads", "energy", "water", "social", "culture", "arch")
SECTIONS = {
    "ru": ("1. Экономика", "2. Социальная сфера", "3. Инфраструктура", "4. Экология"),
    "kk": ("І. Экономика", "ІІ. Әлеуметтік сала", "ІІІ. Инфрақұрылым", "ІV. Экология"),
}
SECTIONS["bi"] = tuple(
    f"{kk} / {ru.split(' ', 1)[1]}" for kk, ru in zip(SECTIONS["kk"], SECTIONS["ru"], strict=True)
)
HEADERS = {
    "ru": {
        "code": "№ п/п",
        "title_ru": "Наименование мероприятия",
        "form": "Форма завершения",
        "old": "Исполнитель (до 2024 года)",
        "lead": "Ответственные за исполнение",
        "co": "Соисполнители",
        "deadline": "Срок исполнения",
        "costs": "Предполагаемые расходы (млн тенге)",
        "funding": "Источники финансирования",
    },
    "kk": {
        "code": "Р/с №",
        "title_kk": "Іс-шараның атауы",
        "form": "Аяқтау нысаны",
        "old": "Орындаушы (2024 жылға дейін)",
        "lead": "Орындауға жауаптылар",
        "co": "Бірлесіп орындаушылар",
        "deadline": "Орындау мерзімі",
        "costs": "Болжамды шығыстар (млн теңге)",
        "funding": "Қаржыландыру көздері",
    },
    "bi": {
        "code": "Р/с № / № п/п",
        "title_kk": "Іс-шараның атауы (мемлекеттік тілде)",
        "title_ru": "Наименование мероприятия (на русском языке)",
        "form": "Аяқтау нысаны / Форма завершения",
        "old": "Орындаушы (2024 жылға дейін)",
        "lead": "Ответственный исполнитель (ОИ) / Соисполнитель (С)",
        "co": "Соисполнители / Бірлесіп орындаушылар",
        "deadline": "Орындау мерзімі / Срок исполнения",
        "costs": "Болжамды шығыстар / Предполагаемые расходы (млн тенге)",
        "funding": "Қаржыландыру көздері / Источники финансирования",
    },
}
TITLES = {
    "ru": (
        "Приложение к постановлению акимата города Шымкент",
        f"План мероприятий по реализации Дорожной карты на {YEAR} год",
    ),
    "kk": (
        "Шымкент қаласы әкімдігінің қаулысына қосымша",
        f"Жол картасын іске асыру жөніндегі {YEAR} жылға арналған іс-шаралар жоспары",
    ),
}
TITLES["bi"] = (TITLES["kk"][1], TITLES["ru"][1])
COST_YEARS = ("2025", "2026", "2027")
BY_DISTRICT = (10, 55)  # items broken down by district
COLLECTIVE = {"ru": "акиматы районов", "kk": "аудан әкімдіктері"}
LEGEND_HEAD = {"ru": "Расшифровка аббревиатур:", "kk": "Қысқартулардың толық жазылуы:"}


@dataclass(frozen=True)
class Truth:
    code: str
    title_kk: str
    title_ru: str
    lead: str  # department code
    co_executors: tuple[str, ...]
    deadline: date
    deadline_text: str  # kept on the item: "" when the cell named a day


@dataclass
class Table:
    """The layout as rows of cells, whatever format writes it."""

    language: str
    columns: list[str]  # keys of HEADERS, "cost:2025"… for the cost years
    rows: list[list[Any]] = field(default_factory=list)  # from the first title row
    merges: list[tuple[int, int, int, int]] = field(default_factory=list)  # 0-based, inclusive
    header_row: int = 0  # 0-based
    number_row: int = 0  # 0-based
    hidden_rows: list[int] = field(default_factory=list)
    hidden_column: int | None = None
    legend_lines: list[str] = field(default_factory=list)  # under the table
    legend_sheet: list[tuple[str, str]] = field(default_factory=list)
    truth: list[Truth] = field(default_factory=list)


def _name(code: str, language: str) -> str:
    kk, ru = ALL_DEPARTMENTS[code]
    return kk if language == "kk" else ru


def _abbreviation(code: str, language: str) -> str:
    return ABBREVIATIONS["kk" if language == "kk" else "ru"][code]


def deadline_cell(index: int, language: str) -> tuple[Any, date, str]:
    """The index-th deadline as a plan words it: the cell, the date, the wording kept."""
    december = date(YEAR, 12, 31)
    forms: list[tuple[Any, date, bool]] = [
        ("1-полугодие 2025 г.", date(YEAR, 6, 30), True),
        ("2-жартыжылдық", december, True),
        ("ежеквартально, до 10 числа месяца, следующего за отчетным", december, True),
        ("1 раз в полугодие", december, True),
        ("в течение 2025 года", december, True),
        ("2025 жыл бойы", december, True),
        ("ноябрь-декабрь 2025 г.", december, True),
        ("до 25 декабря", date(YEAR, 12, 25), True),
        ("декабрь 2025 года", december, True),
        ("2025 жылғы желтоқсан", december, True),
        ("IV квартал 2025 года", december, True),
        ("до 1 июля 2025 года", date(YEAR, 7, 1), False),
        (date(YEAR, 10, 15), date(YEAR, 10, 15), False),
        ("март-апрель 2025 г.", date(YEAR, 4, 30), True),
        ("II тоқсан", date(YEAR, 6, 30), True),
        ("2025 жылдың бірінші жартыжылдығы", date(YEAR, 6, 30), True),
    ]
    cell, meant, keep = forms[index % len(forms)]
    return cell, meant, str(cell) if keep else ""


def _executors(index: int, language: str) -> tuple[str, str, str, tuple[str, ...], int]:
    """The executor cell, the co-executor cell, the lead, the co-executors meant, and how many
    of them the executor cell itself names (the rest come from the co-executor column)."""
    lead = LEADS[index % len(LEADS)]
    helper = LEADS[(index + 3) % len(LEADS)]
    other = LEADS[(index + 5) % len(LEADS)]
    short = _abbreviation(lead, language)
    kind = index % 6
    if kind == 0:
        return short, "", lead, (), 0
    if kind == 1:
        return _name(lead, language), _abbreviation(helper, language), lead, (helper,), 0
    if kind == 2:  # the ОИ/С notation, the lead not first
        cell = f"{_abbreviation(helper, language)} (С), {short} (ОИ)"
        return cell, "", lead, (helper,), 1
    if kind == 3:
        cell = (
            f"ОИ: {short}; С: {_abbreviation(helper, language)}, {_abbreviation(other, language)}"
        )
        return cell, "", lead, (helper, other), 2
    if kind == 4:  # a full name with commas, and a collective executor beside a department
        cell = f"{_name('arch', language)}, {short}"
        collective = COLLECTIVE["kk" if language == "kk" else "ru"]  # every district akimat
        return cell, collective, "arch", (lead, *sorted(DISTRICTS)), 1
    return short, _name(helper, language), lead, (helper,), 0


def build_table(language: str) -> Table:  # noqa: C901 - one branch per habit of the layout
    """The layout in `language` ("ru", "kk" or "bi")."""
    headers = HEADERS[language]
    columns = ["code"]
    columns += [key for key in ("title_kk", "title_ru") if key in headers]
    columns += ["form", "old", "lead", "co", "deadline"]
    columns += [f"cost:{year}" for year in COST_YEARS]
    columns += ["funding"]
    table = Table(language, columns)
    width = len(columns)
    for line in TITLES[language]:
        table.rows.append([line] + [None] * (width - 1))
    table.rows.append([None] * width)
    top: list[Any] = []
    sub: list[Any] = []
    cost_start = columns.index(f"cost:{COST_YEARS[0]}")
    for index, key in enumerate(columns):
        if key.startswith("cost:"):
            top.append(headers["costs"] if index == cost_start else None)
            sub.append(key.split(":")[1])
        else:
            top.append(headers[key])
            sub.append(headers[key])  # merged down over the two header rows
    table.header_row = len(table.rows)
    table.rows += [top, sub]
    h = table.header_row
    table.merges.append((h, h, cost_start, cost_start + len(COST_YEARS) - 1))
    for index, key in enumerate(columns):
        if not key.startswith("cost:"):
            table.merges.append((h, h + 1, index, index))
    table.number_row = len(table.rows)
    table.rows.append([str(n) for n in range(1, width + 1)])
    table.hidden_column = columns.index("old")
    item = 0
    for section_index, size in enumerate(SECTION_SIZES):
        section_row = len(table.rows)
        table.rows.append([SECTIONS[language][section_index]] + [None] * (width - 1))
        table.merges.append((section_row, section_row, 0, width - 1))
        for number in range(1, size + 1):
            code = f"{section_index + 1}.{number}"
            cell, meant, kept = deadline_cell(item, language)
            lead_cell, co_cell, lead, co, in_cell = _executors(item, language)
            title_kk = f"{number}-іс-шара: №{item + 1} нысанды салу және жөндеу"
            title_ru = f"Мероприятие {number}: строительство и ремонт объекта №{item + 1}"
            values = {
                "code": f"{number}.",
                "title_kk": title_kk,
                "title_ru": title_ru,
                "form": "Информация в акимат города" if item % 2 else "Әкімдікке ақпарат",
                "old": _abbreviation(LEADS[(item + 1) % len(LEADS)], language),
                "lead": lead_cell,
                "co": co_cell,
                "deadline": cell,
                "funding": "Местный бюджет" if item % 3 else "Жергілікті бюджет",
            }
            for year_index, year in enumerate(COST_YEARS):
                values[f"cost:{year}"] = round(1.5 * (item + 1) + year_index, 1)
            row_number = len(table.rows)
            table.rows.append([values.get(key) for key in columns])
            if item in BY_DISTRICT:  # one district a row, the code and title merged over them
                first_row = table.rows[row_number]
                first_row[columns.index("lead")] = f"{lead_cell}, {_name(DISTRICTS[0], language)}"
                first_row[columns.index("co")] = None
                for district in DISTRICTS[1:]:
                    extra: list[Any] = [None] * width
                    extra[columns.index("lead")] = _name(district, language)
                    extra[columns.index("deadline")] = cell
                    table.rows.append(extra)
                last = len(table.rows) - 1
                for key in ("code", "title_kk", "title_ru", "form"):
                    if key in columns:
                        column = columns.index(key)
                        table.merges.append((row_number, last, column, column))
                co = (*co[:in_cell], *DISTRICTS)
            if language == "kk":
                title_ru = title_kk
            elif language == "ru":
                title_kk = title_ru
            table.truth.append(Truth(code, title_kk, title_ru, lead, co, meant, kept))
            item += 1
            if item == 30:  # a cancelled item, hidden rather than deleted
                table.hidden_rows.append(len(table.rows))
                cancelled = dict(
                    values, code="7.", title_kk="Алынып тасталды", title_ru="Исключено"
                )
                table.rows.append([cancelled.get(key) for key in columns])
    pairs = [(_abbreviation(code, language), _name(code, language)) for code in LEADS]
    if language == "kk":
        table.legend_sheet = pairs
    else:
        table.legend_lines = [LEGEND_HEAD["ru"], *(f"{short} – {name}" for short, name in pairs)]
    return table


@dataclass
class Built:
    data: bytes
    table: Table
    filename: str


def write_xlsx(table: Table) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Жоспар" if table.language == "kk" else "План мероприятий"
    for row in table.rows:
        sheet.append(row)
    for line in table.legend_lines:
        sheet.append([line])
    for first_row, last_row, first_col, last_col in table.merges:
        sheet.merge_cells(
            start_row=first_row + 1,
            start_column=first_col + 1,
            end_row=last_row + 1,
            end_column=last_col + 1,
        )
    for row in table.hidden_rows:
        sheet.row_dimensions[row + 1].hidden = True
    if table.hidden_column is not None:
        from openpyxl.utils import get_column_letter

        sheet.column_dimensions[get_column_letter(table.hidden_column + 1)].hidden = True
    if table.legend_sheet:
        legend = workbook.create_sheet("Қысқартулар")
        for pair in table.legend_sheet:
            legend.append(list(pair))
    _old_sheet(workbook.create_sheet("2024 (ескі)"), table)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _old_sheet(sheet: Any, table: Table) -> None:
    """Last year's plan, hidden: the same header, so it would look like the Road Map too."""
    for row in table.rows[: table.header_row + 2]:
        sheet.append(row)
    sheet.append(["1.", "Өткен жыл", "Прошлый год", None, None, "edu", None, "2024 жыл"])
    sheet.sheet_state = "hidden"


def write_xls(table: Table) -> bytes:  # noqa: C901 - merges, hidden parts and the legend
    """Legacy Excel: xlwt writes merges and hidden sheets; calamine reports no hidden rows or
    columns, so the .xls carries neither (the layout's other habits are all there)."""
    import xlwt

    workbook = xlwt.Workbook(encoding="utf-8")
    sheet = workbook.add_sheet("Жоспар" if table.language == "kk" else "План мероприятий")
    skip = set(table.hidden_rows)
    covered = {
        (r, c)
        for first_row, last_row, first_col, last_col in table.merges
        for r in range(first_row, last_row + 1)
        for c in range(first_col, last_col + 1)
        if (r, c) != (first_row, first_col)
    }
    date_style = xlwt.easyxf(num_format_str="DD.MM.YYYY")
    out_row = 0
    mapping: dict[int, int] = {}
    for index, row in enumerate(table.rows):
        if index in skip:
            continue
        mapping[index] = out_row
        out_col = 0
        for column, value in enumerate(row):
            if column == table.hidden_column:
                continue
            if index == table.number_row:  # printed without the hidden column: renumbered
                value = str(out_col + 1)
            if (index, column) not in covered and value is not None:
                if isinstance(value, date):
                    sheet.write(out_row, out_col, value, date_style)
                else:
                    sheet.write(out_row, out_col, value)
            out_col += 1
        out_row += 1
    for line in table.legend_lines:
        sheet.write(out_row, 0, line)
        out_row += 1
    hidden = table.hidden_column if table.hidden_column is not None else 10_000

    def shift(column: int) -> int:
        return column - 1 if column > hidden else column

    for first_row, last_row, first_col, last_col in table.merges:
        if first_row in mapping and last_row in mapping and first_col != hidden:
            sheet.merge(mapping[first_row], mapping[last_row], shift(first_col), shift(last_col))
    if table.legend_sheet:
        legend = workbook.add_sheet("Қысқартулар")
        for number, (short, name) in enumerate(table.legend_sheet):
            legend.write(number, 0, short)
            legend.write(number, 1, name)
    old = workbook.add_sheet("2024 (ескі)")
    for number, row in enumerate(table.rows[: table.header_row + 1]):
        for column, value in enumerate(row):
            if value is not None and column != table.hidden_column:
                old.write(number, shift(column), value)
    old.visibility = 1
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def write_docx(table: Table) -> bytes:
    """A Word annex: the title as paragraphs, the table with merged cells, the legend below.
    Word has no hidden rows, columns or sheets: the annex carries none."""
    from docx import Document

    document = Document()
    for line in table.rows[: table.header_row]:
        if line[0]:
            document.add_paragraph(str(line[0]))
    keep = [c for c in range(len(table.columns)) if c != table.hidden_column]
    body = [
        row
        for index, row in enumerate(table.rows)
        if index >= table.header_row and index not in table.hidden_rows
    ]
    source_rows = [
        index
        for index in range(table.header_row, len(table.rows))
        if index not in table.hidden_rows
    ]
    word = document.add_table(rows=len(body), cols=len(keep))
    word.style = "Table Grid"
    position = {source: target for target, source in enumerate(source_rows)}
    column_at = {source: target for target, source in enumerate(keep)}
    for target, (row, word_row) in enumerate(zip(body, word.rows, strict=True)):
        word_cells = word_row.cells  # table.cell() walks the whole table: once a row here
        for column in keep:
            value = row[column]
            if source_rows[target] == table.number_row:  # renumbered without the hidden column
                value = str(column_at[column] + 1)
            if value is not None:
                text = value.strftime("%d.%m.%Y") if isinstance(value, date) else str(value)
                word_cells[column_at[column]].text = text
    for first_row, last_row, first_col, last_col in table.merges:
        if first_row not in position or last_row not in position or first_col not in column_at:
            continue
        last = last_col if last_col in column_at else last_col - 1
        start = word.cell(position[first_row], column_at[first_col])
        end = word.cell(position[last_row], column_at[last])
        text = start.text
        merged = start.merge(end)
        merged.text = text
    for line in [*table.legend_lines, *(f"{a} – {b}" for a, b in table.legend_sheet)]:
        document.add_paragraph(line)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


WRITERS = {"xlsx": write_xlsx, "xls": write_xls, "docx": write_docx}


@cache
def state_roadmap(language: str, kind: str) -> Built:
    table = build_table(language)
    return Built(WRITERS[kind](table), table, f"plan-{language}.{kind}")


def department_rows() -> Mapping[str, tuple[str, str]]:
    return ALL_DEPARTMENTS


def cells(table: Table) -> Sequence[Sequence[Any]]:
    return table.rows
