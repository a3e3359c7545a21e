"""Reading the secretariat's spreadsheet into rows: bytes in, rows, problems and guesses out.

Pure: no database and no Telegram, so the bot, the command line and the tests share it and a
property test can feed it anything. Real office workbooks are read as they are kept: the
roadmap on any sheet, a title above the header, a row of column numbers, section rows,
department cells merged over several items, deadlines in words. Whatever the parser had to
guess is returned as a `Guess`, so the dry run can state it.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from enum import StrEnum

from bot.core.errors import DomainError
from bot.core.limits import TELEGRAM_DOWNLOAD_LIMIT
from bot.core.parsing import MAX_DEADLINE_REASON, MAX_TITLE_LENGTH, is_item_code
from bot.spreadsheets.deadlines import Precision, read_deadline
from bot.spreadsheets.executors import (
    is_legend_sheet,
    legend_entry,
    legend_from_lines,
    legend_from_rows,
    read_executors,
    roman_number,
)
from bot.spreadsheets.grid import (
    HEADER_SEARCH_ROWS,
    MAX_ROWS,
    MAX_UNPACKED_SIZE,
    FileProblem,
    Grid,
    SpreadsheetFileError,
    column_letter,
    csv_grid,
    decode_grids,
    is_huge,
)
from bot.spreadsheets.grid import cell_text as _cell_text
from bot.spreadsheets.grid import is_blank as _is_blank
from bot.spreadsheets.headers import Kind, classify_header, normalize_header
from bot.spreadsheets.xlsx import EXAMPLE_AUTHOR

__all__ = [
    "EXAMPLE_AUTHOR",
    "HEADER_SEARCH_ROWS",
    "MAX_ROWS",
    "MAX_UNPACKED_SIZE",
    "FileProblem",
    "Grid",
    "SpreadsheetFileError",
    "column_letter",
    "csv_grid",
]

MAX_CODE_LENGTH = 32
# The template's example row, known by its titles wherever it stands: a row typed over it is
# an item like any other, and the example kept anywhere is never imported.
EXAMPLE_TITLES = {
    "title_kk": "№5 мектепті күрделі жөндеу",
    "title_ru": "Капитальный ремонт школы №5",
}
MAX_TARGET_LENGTH = 2000
_KAZAKH_LETTERS = frozenset("әғқңөұүһі")
_YEAR = re.compile(r"(?<!\d)(20\d\d)(?!\d)")
_ROMAN_SECTION = re.compile(
    r"^(?:(?:раздел|направление|бөлім|бағыт|section)\s*)?([IVXLІХ]{1,6})(?:[.)]|\s|$)"
)
_NOTES_START = re.compile(
    r"^\s*\*?\s*(?:примечани|ескерт|расшифровка|аббревиатур|сокращени|қысқарту|"
    r"қысқартылған|note)",
    re.I,
)
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
    # The state action plan's columns, kept on the item as written.
    COMPLETION_FORM = "completion_form"
    COSTS = "costs"
    FUNDING = "funding"
    # Why the deadline moved, when the file says: kept with the move, not on the item.
    DEADLINE_REASON = "deadline_reason"


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
    AMBIGUOUS_DEPARTMENT = "ambiguous_department"
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
    SUBHEADER_ROW = "subheader_row"
    ITEM_BY_DISTRICT = "item_by_district"
    ABBREVIATION = "abbreviation"
    LEGEND = "legend"
    CODES_FROM_SECTIONS = "codes_from_sections"
    COLLECTIVE = "collective"  # names no department: not recorded
    COLLECTIVE_EXPANDED = "collective_expanded"  # «акиматы районов»: every district akimat
    HIDDEN_COLUMN = "hidden_column"
    HIDDEN_ROWS = "hidden_rows"
    HIDDEN_SHEETS = "hidden_sheets"
    CUT_AT_ROW = "cut_at_row"


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
    completion_form: str = ""
    costs: str = ""  # «2025: 1.5; 2026: 2.5» under a group header, or the one value
    funding: str = ""
    deadline_reason: str = ""


@dataclass(frozen=True)
class ParsedFile:
    rows: list[ImportRow]
    errors: list[RowError]
    data_rows: int
    guesses: list[Guess] = field(default_factory=list)
    sheet: str = ""  # empty for a CSV file
    header_row: int = 0


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
            if not isinstance(value, str) or index + 1 in grid.hidden_columns:
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
    shown = [
        grid
        for grid in grids
        if (not grid.hidden and not is_legend_sheet(grid.name)) or grid.name == sheet
    ] or list(grids)
    found = [(grid, _find_header(grid, aliases)) for grid in shown]
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
    above: list[object] = [*grid.caption, *(v for row in grid.rows[: header.row - 1] for v in row)]
    for value in above:
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
        return date(1899, 12, 30) + timedelta(days=int(value))
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
    legend: dict[str, str] = field(default_factory=dict)
    legend_used: set[str] = field(default_factory=set)
    in_notes: bool = False
    plain_codes: dict[int, tuple[str, str]] = field(default_factory=dict)  # row: section, number
    cost_columns: list[tuple[int, str]] = field(default_factory=list)  # index, sub-header

    def is_note(self, row: Sequence[object]) -> bool:
        """Footnotes under the table («УО – управление образования»): never a section."""
        if any(_cell_text(self.value(row, c)) for c in (Column.DEPARTMENT, Column.DEADLINE)):
            return False
        texts = {_cell_text(value) for value in row} - {""}
        if len(texts) != 1:
            return False
        text = next(iter(texts))
        if _NOTES_START.match(text):
            self.in_notes = True
        return self.in_notes or legend_entry(text) is not None

    def spelled_out(self, name: str) -> str:
        full = self.legend.get(name.strip())
        if full is None:
            return name
        self.legend_used.add(name.strip())
        return full

    def legend_guesses(self) -> list[Guess]:
        if not self.legend_used:
            return []
        pairs = "; ".join(f"{key} = {self.legend[key]}" for key in sorted(self.legend_used))
        return [Guess(GuessKind.LEGEND, 0, "", {"pairs": pairs})]

    def codes_within_sections(self, guesses: list[Guess]) -> list[ImportRow]:
        """Items numbered 1, 2, … anew in each section: the code becomes section.number."""
        numbers = [number for _section, number in self.plain_codes.values()]
        if len(numbers) == len(set(numbers)):
            return self.rows
        rows = []
        for row in self.rows:
            section, plain = self.plain_codes.get(row.row_number, ("", ""))
            if section:
                row = replace(row, code=f"{section}.{plain}")
            rows.append(row)
        example = next((row.code for row in rows if row.row_number in self.plain_codes), "")
        guesses.append(Guess(GuessKind.CODES_FROM_SECTIONS, 0, "", {"example": example}))
        return rows

    def cell(self, column: Column, number: int) -> str:
        index = self.mapping.get(column)
        return "" if index is None else f"{column_letter(index + 1)}{number}"

    def value(self, row: Sequence[object], column: Column) -> object:
        index = self.mapping.get(column)
        return row[index] if index is not None and index < len(row) else None

    def is_example(self, row: Sequence[object]) -> bool:
        """The template's example row, by its titles (each title column read says it)."""
        titles = [
            (_cell_text(self.value(row, column)), EXAMPLE_TITLES[column.value])
            for column in (Column.TITLE_KK, Column.TITLE_RU)
            if column in self.mapping
        ]
        return bool(titles) and all(found == example for found, example in titles)

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
        roman = _ROMAN_SECTION.match(text)
        value = roman_number(roman.group(1)) if roman else None
        if found:
            self.section = found.group(1)
        elif value is not None:
            self.section = str(value)
        else:
            self.section = str(self.sections_seen)
        self.in_section = 0
        self.guesses.append(Guess(GuessKind.SECTION, number, "", {"text": text[:80]}))

    def read(
        self, number: int, row: Sequence[object], district_rows: Sequence[Sequence[object]] = ()
    ) -> None:
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
        if self.is_example(row):
            self.errors.append(RowError(number, code, RowProblem.EXAMPLE_ROW))
            return
        checked = self.check(number, row, code, district_rows)
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
        if code.isdigit() and self.section:
            self.plain_codes[number] = (self.section, code)
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

    def executors(
        self, row: Sequence[object], district_rows: Sequence[Sequence[object]]
    ) -> list[str]:
        """The lead first, then the co-executors: marks, a co-executor column, the districts."""
        names: list[str] = []
        for source in (row, *district_rows):
            found = read_executors(
                _cell_text(self.value(source, Column.DEPARTMENT)),
                _cell_text(self.value(source, Column.CO_EXECUTORS)),
            )
            if found is not None:
                names += [found.lead, *found.co_executors]
        spelled = [self.spelled_out(name) for name in names]
        return list(dict.fromkeys(spelled))

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

    def check(  # noqa: C901 - one branch per office habit or format case
        self,
        number: int,
        row: Sequence[object],
        code: str,
        district_rows: Sequence[Sequence[object]] = (),
    ) -> ImportRow | RowError:
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
        department_cell = self.cell(Column.DEPARTMENT, number)
        departments = self.executors(row, district_rows)
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
            completion_form=_cell_text(self.value(row, Column.COMPLETION_FORM))[:MAX_TARGET_LENGTH],
            costs=self.costs(row),
            funding=_cell_text(self.value(row, Column.FUNDING))[:300],
            deadline_reason=_cell_text(self.value(row, Column.DEADLINE_REASON))[
                :MAX_DEADLINE_REASON
            ],
        )

    def costs(self, row: Sequence[object]) -> str:
        """The costs, each under its year or source when a group header spans several."""
        parts = []
        for index, label in self.cost_columns:
            value = _cell_text(_at(row, index))
            if value:
                parts.append(f"{label}: {value}" if label else value)
        return "; ".join(parts)[:300]


def _legend_sheets(grids: Sequence[Grid]) -> dict[str, str]:
    legend: dict[str, str] = {}
    for grid in grids:
        if is_legend_sheet(grid.name):
            for key, value in legend_from_rows(grid.rows).items():
                legend.setdefault(key, value)
    return legend


def _legend(grid: Grid, header: _Header, sheets: Mapping[str, str] | None) -> dict[str, str]:
    """Abbreviations spelled out: a legend sheet, lines under the table, notes under a table."""
    legend = dict(sheets or {})
    lines = [
        text
        for row in grid.rows[header.row :]
        if len(texts := {_cell_text(value) for value in row} - {""}) == 1
        for text in texts
    ]
    for key, value in legend_from_lines([*lines, *grid.notes]).items():
        legend.setdefault(key, value)
    return legend


def _is_subheader(
    grid: Grid, header: _Header, mapping: Mapping[Column, int], row: Sequence[object]
) -> bool:
    """Under a two-row header: the item columns empty or repeating the header (merged down)."""
    head = grid.rows[header.row - 1]
    essential = [mapping[c] for c in (Column.TITLE_KK, Column.DEPARTMENT, Column.DEADLINE)]
    texts = [_cell_text(row[i]) if i < len(row) else "" for i in essential]
    if not any(texts) and (
        Column.CODE not in mapping or not _cell_text(_at(row, mapping[Column.CODE]))
    ):
        return True
    return all(
        text == "" or (index < len(head) and text == _cell_text(head[index]))
        for text, index in zip(texts, essential, strict=True)
    ) and any(texts)


def _cost_columns(
    grid: Grid, header: _Header, mapping: Mapping[Column, int]
) -> list[tuple[int, str]]:
    """The costs column, or the columns under its group header with their sub-headers."""
    start = mapping.get(Column.COSTS)
    if start is None:
        return []
    head = grid.rows[header.row - 1]
    below = grid.rows[header.row] if header.row < len(grid.rows) else []
    if not _is_subheader(grid, header, mapping, below):
        return [(start, "")]
    columns = [(start, _cell_text(_at(below, start)))]
    index = start + 1
    while index < len(head) and not _cell_text(head[index]) and _cell_text(_at(below, index)):
        columns.append((index, _cell_text(_at(below, index))))
        index += 1
    if len(columns) == 1:
        return [(start, "")]
    return columns


def _at(row: Sequence[object], index: int) -> object:
    return row[index] if index < len(row) else None


def _item_groups(grid: Grid, header: _Header, mapping: Mapping[Column, int]) -> dict[int, int]:
    """An item broken down by district: its code cell merged over the district rows."""
    code = mapping.get(Column.CODE)
    if code is None:
        return {}
    return {
        min_row: max_row
        for min_row, max_row, min_col, _max_col in grid.merged
        if min_col == code + 1 and max_row > min_row > header.row
    }


def _walk(reader: _Reader, grid: Grid, header: _Header, mapping: Mapping[Column, int]) -> int:
    """Every row under the header to the reader; the number of item rows."""
    groups = _item_groups(grid, header, mapping)
    data_rows = 0
    in_header = True  # sub-header rows and the row of column numbers may follow the header
    skip_until = 0
    for number, row in enumerate(grid.rows[header.row :], start=header.row + 1):
        if _is_blank(row) or number in grid.hidden_rows or number <= skip_until:
            continue
        if in_header and _is_subheader(grid, header, mapping, row):
            reader.guesses.append(Guess(GuessKind.SUBHEADER_ROW, number))
            continue
        if in_header and _is_number_row(row):
            reader.guesses.append(Guess(GuessKind.NUMBER_ROW, number))
            continue
        in_header = False
        if reader.is_note(row):
            continue
        section = reader.is_section(row)
        if section is not None:
            reader.start_section(number, section)
            continue
        data_rows += 1
        if data_rows > MAX_ROWS:
            raise SpreadsheetFileError(FileProblem.TOO_MANY_ROWS)
        skip_until = groups.get(number, 0)
        reader.read(number, row, grid.rows[number:skip_until])
        if skip_until:
            args = {"first": str(number), "last": str(skip_until)}
            reader.guesses.append(Guess(GuessKind.ITEM_BY_DISTRICT, number, "", args))
    return data_rows


def _spans(numbers: Iterable[int]) -> str:
    """«3-5, 9»: row numbers as the person reads them."""
    spans: list[list[int]] = []
    for number in sorted(numbers):
        if spans and number == spans[-1][1] + 1:
            spans[-1][1] = number
        else:
            spans.append([number, number])
    return ", ".join(f"{a}" if a == b else f"{a}-{b}" for a, b in spans)


def _hidden_guesses(grid: Grid, hidden_sheets: Sequence[str]) -> list[Guess]:
    """What was not read because the person cannot see it, or because it was past the end."""
    guesses = [
        Guess(GuessKind.HIDDEN_COLUMN, 0, column_letter(number), {"letter": column_letter(number)})
        for number in sorted(grid.hidden_columns)
        if any(number <= len(row) and _cell_text(row[number - 1]) for row in grid.rows)
    ]
    if grid.hidden_rows:
        guesses.append(Guess(GuessKind.HIDDEN_ROWS, 0, "", {"rows": _spans(grid.hidden_rows)}))
    if hidden_sheets:
        guesses.append(Guess(GuessKind.HIDDEN_SHEETS, 0, "", {"sheets": ", ".join(hidden_sheets)}))
    if grid.cut_at_row:
        guesses.append(Guess(GuessKind.CUT_AT_ROW, 0, "", {"row": str(grid.cut_at_row)}))
    return guesses


def _merged_guesses(grid: Grid, header: _Header, mapping: Mapping[Column, int]) -> list[Guess]:
    columns = {index + 1: column for column, index in mapping.items()}
    guesses = []
    for min_row, max_row, min_col, _max_col in grid.merged:
        if max_row > min_row > header.row and min_col in columns:
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
    hidden_sheets: Sequence[str] = (),
    legend: Mapping[str, str] | None = None,
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
    guesses += _hidden_guesses(grid, hidden_sheets)
    year, year_source = _roadmap_year(grid, header, mapping, filename)
    reader = _Reader(grid, mapping, year, year_source)
    reader.legend = _legend(grid, header, legend)
    reader.cost_columns = _cost_columns(grid, header, mapping)
    data_rows = _walk(reader, grid, header, mapping)
    if data_rows == 0:
        raise SpreadsheetFileError(FileProblem.EMPTY)
    if reader.year_used and year is not None:
        guesses.append(
            Guess(GuessKind.ROADMAP_YEAR, 0, "", {"year": str(year), "source": year_source})
        )
    guesses += _merged_guesses(grid, header, mapping)
    guesses += reader.legend_guesses()
    guesses += reader.guesses
    rows = reader.codes_within_sections(guesses)
    guesses.sort(key=lambda guess: guess.row_number)
    return _drop_duplicates(rows, reader.errors, data_rows, guesses, grid.name, header.row)


def read_spreadsheet(
    data: bytes,
    filename: str,
    *,
    extra_aliases: Mapping[str, Column] | None = None,
    sheet: str | None = None,
) -> ParsedFile:
    """Rows that can be imported, the rows that cannot (each with its reason), the guesses.

    Reads in this process: the bot calls `parse_spreadsheet`, which runs this in a guarded
    child. Raises `SpreadsheetFileError` when the file as a whole is unusable,
    `SheetChoiceNeeded` when two sheets look equally like the Road Map and `sheet` names none.
    """
    if len(data) > TELEGRAM_DOWNLOAD_LIMIT:
        raise SpreadsheetFileError(FileProblem.TOO_LARGE)
    if not data.strip():
        raise SpreadsheetFileError(FileProblem.EMPTY)
    aliases = {normalize_header(alias): column for alias, column in (extra_aliases or {}).items()}
    _kind, grids = decode_grids(data, filename)
    try:
        grid, header, others = _choose_sheet(grids, aliases, sheet)
        return read_grid(
            grid,
            filename,
            aliases,
            other_sheets=[other.name for other in others],
            header=header,
            hidden_sheets=[other.name for other in grids if other.hidden and other is not grid],
            legend=_legend_sheets(grids),
        )
    except SpreadsheetFileError as error:
        if error.problem in (FileProblem.EMPTY, FileProblem.MISSING_COLUMNS):
            _refuse_huge(grids)
        raise


def _refuse_huge(grids: Sequence[Grid]) -> None:
    """Nothing readable, and a sheet that claims to be huge: say that, not «empty»."""
    for grid in grids:
        if grid.cut_at_row or grid.cut_columns or is_huge(grid.declared):
            raise SpreadsheetFileError(
                FileProblem.HUGE_SHEET, detail=grid.declared.partition(":")[2] or grid.name
            )


def parse_spreadsheet(
    data: bytes,
    filename: str,
    *,
    extra_aliases: Mapping[str, Column] | None = None,
    sheet: str | None = None,
) -> ParsedFile:
    """`read_spreadsheet` in a child process with a memory and a time limit: a hostile file
    costs the bot nothing. Same arguments, result and exceptions."""
    from bot.spreadsheets.isolation import parse_in_child

    parsed = parse_in_child(data, filename, extra_aliases=extra_aliases, sheet=sheet)
    assert isinstance(parsed, ParsedFile)  # what the child sends back
    return parsed


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
