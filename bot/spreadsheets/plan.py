"""Comparing parsed rows with the database: what Apply would create, change or leave alone.

Reads and never writes, so the dry run and Apply share one plan, and its digest tells whether
the file or the Road Map changed between the two.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.spreadsheets.executors import COLLECTIVE, DISTRICTS_COLLECTIVE, is_district_akimat
from bot.spreadsheets.headers import normalize_header
from bot.spreadsheets.parse import (
    Column,
    Guess,
    GuessKind,
    ImportRow,
    ParsedFile,
    RowError,
    RowProblem,
)
from db import queries
from db.ids import row_id
from db.models import Department, DepartmentAlias, RoadmapItem

Progress = Callable[[int, int], Awaitable[None]]


@dataclass(frozen=True)
class FieldChange:
    name: Column
    old: str
    new: str


@dataclass(frozen=True)
class PlannedUpdate:
    row: ImportRow
    item_id: int
    department_id: int
    changes: tuple[FieldChange, ...]
    co_executor_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class PlannedNew:
    row: ImportRow
    department_id: int
    co_executor_ids: tuple[int, ...] = ()


@dataclass
class ImportPlan:
    new: list[PlannedNew] = field(default_factory=list)
    updated: list[PlannedUpdate] = field(default_factory=list)
    unchanged: list[ImportRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    data_rows: int = 0
    guesses: list[Guess] = field(default_factory=list)
    sheet: str = ""
    header_row: int = 0

    @property
    def has_changes(self) -> bool:
        return bool(self.new or self.updated)

    def digest(self) -> str:
        """A fingerprint of what Apply would write, to notice a Road Map changed meanwhile."""
        parts = [
            f"n:{p.row.code}:{p.department_id}:{p.row.deadline}:{p.co_executor_ids}"
            for p in self.new
        ]
        for update in self.updated:
            changes = ",".join(f"{c.name}={c.new}" for c in update.changes)
            parts.append(f"u:{update.item_id}:{changes}")
        parts += [f"e:{e.row_number}:{e.problem}" for e in self.errors]
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


# Words a department's name carries in an official list and not in the bot's directory.
_CITY_WORDS = re.compile(
    r"\b(?:шымкент(?:а)? қаласы(?:ның)?|города шымкент(?:а)?|г шымкент(?:а)?|шымкент(?:а)?|"
    r"әкімдігі(?:нің)?|акимата|коммуналдық|мемлекеттік|мекемесі|мм|кгу|гу|"
    r"коммунальное|государственное|учреждение)\b"
)


def department_key(text: str) -> str:
    """A department's name without the city, the legal form and punctuation, to compare."""
    value = normalize_header(text.replace("«", " ").replace("»", " "))
    return " ".join(_CITY_WORDS.sub(" ", value).split())


class DepartmentMatcher:
    """Finds a department by its code or its name, full or short, in Kazakh or Russian."""

    def __init__(
        self, departments: Iterable[Department], aliases: Mapping[str, int] | None = None
    ) -> None:
        self.by_code = {d.code.lower(): d for d in departments}
        by_id = {d.id: d for d in self.by_code.values()}
        self.aliases = {
            alias.lower(): by_id[department_id]
            for alias, department_id in (aliases or {}).items()
            if department_id in by_id
        }
        self.by_name: dict[str, Department] = {}
        self.words: list[tuple[frozenset[str], Department]] = []
        for department in self.by_code.values():
            for name in (department.name_kk, department.name_ru):
                key = department_key(name)
                if key:
                    self.by_name.setdefault(key, department)
                    self.words.append((frozenset(key.split()), department))

    def find(self, text: str) -> tuple[Department | None, bool]:
        """The department, and whether it was recognised by name rather than by its code."""
        exact = self.by_code.get(text.strip().lower())
        if exact is not None:
            return exact, False
        alias = self.aliases.get(" ".join(text.split()).lower())
        if alias is not None:
            return alias, True
        key = department_key(text)
        if not key:
            return None, False
        if key in self.by_name:
            return self.by_name[key], True
        found = self.candidates(key)
        if len(found) == 1:
            return found[0], True
        return None, False

    def candidates(self, key: str) -> list[Department]:
        """Departments whose name's words hold the text's, or the other way round."""
        words = frozenset(key.split())
        found = {d.id: d for name, d in self.words if name <= words or words <= name}
        return sorted(found.values(), key=lambda department: department.code)

    def ambiguity(self, text: str) -> str:
        """«edu, health» when a name matches more than one department; "" otherwise."""
        key = department_key(text)
        found = self.candidates(key) if key else []
        return ", ".join(department.code for department in found) if len(found) > 1 else ""


def _compare(
    item: RoadmapItem,
    row: ImportRow,
    department: Department,
    departments: Mapping[int | None, Department],
    co_executors: tuple[int, ...],
    current_co_executors: tuple[int, ...],
) -> list[FieldChange]:
    pairs = [
        (Column.TITLE_KK, item.title_kk, row.title_kk),
        (Column.TITLE_RU, item.title_ru, row.title_ru),
        (Column.TARGET, item.target or "", row.target),
        (Column.COMPLETION_FORM, item.completion_form or "", row.completion_form),
        (Column.COSTS, item.costs or "", row.costs),
        (Column.FUNDING, item.funding or "", row.funding),
    ]
    changes = [FieldChange(name, old, new) for name, old, new in pairs if old != new]
    if item.department_id != department.id:
        previous = departments.get(item.department_id)
        old = previous.code if previous else str(item.department_id)
        changes.append(FieldChange(Column.DEPARTMENT, old, department.code))
    if item.deadline != row.deadline:
        changes.append(
            FieldChange(Column.DEADLINE, item.deadline.isoformat(), row.deadline.isoformat())
        )
    if (item.deadline_text or "") != row.deadline_text:
        changes.append(FieldChange(Column.DEADLINE_TEXT, item.deadline_text, row.deadline_text))
    if sorted(current_co_executors) != sorted(co_executors):

        def codes(ids: tuple[int, ...]) -> str:
            return ", ".join(sorted(departments[i].code for i in ids if i in departments))

        changes.append(
            FieldChange(Column.CO_EXECUTORS, codes(current_co_executors), codes(co_executors))
        )
    return changes


def _resolve_co_executors(
    row: ImportRow, lead: Department, matcher: DepartmentMatcher, guesses: list[Guess]
) -> tuple[int, ...]:
    """The co-executors' ids; a name that matches nothing is stated and left out."""
    ids: list[int] = []
    for name in row.co_executors:
        department, by_name = matcher.find(name)
        if department is None and COLLECTIVE.search(name):
            ids += _collective(row, name, lead, matcher, guesses, ids)
            continue
        if department is None:
            guesses.append(
                Guess(
                    GuessKind.UNKNOWN_CO_EXECUTOR,
                    row.row_number,
                    row.department_cell,
                    {"name": name},
                )
            )
            continue
        if by_name:
            guesses.append(
                Guess(
                    GuessKind.DEPARTMENT_BY_NAME,
                    row.row_number,
                    row.department_cell,
                    {"name": name, "code": department.code},
                )
            )
        if department.id != lead.id and department.id not in ids:
            ids.append(row_id(department))
    return tuple(ids)


def _collective(
    row: ImportRow,
    name: str,
    lead: Department,
    matcher: DepartmentMatcher,
    guesses: list[Guess],
    taken: list[int],
) -> list[int]:
    """«акиматы районов» means every district akimat in the directory; «заинтересованные
    государственные органы» means no department in particular and is not recorded."""
    districts = (
        [d for d in matcher.by_code.values() if is_district_akimat(d.name_kk, d.name_ru)]
        if DISTRICTS_COLLECTIVE.search(name)
        else []
    )
    districts.sort(key=lambda department: department.code)
    added = [d for d in districts if d.id != lead.id and d.id not in taken]
    if districts:
        codes = ", ".join(sorted(d.code for d in districts))
        args = {"name": name, "codes": codes}
        guesses.append(
            Guess(GuessKind.COLLECTIVE_EXPANDED, row.row_number, row.department_cell, args)
        )
    else:
        guesses.append(
            Guess(GuessKind.COLLECTIVE, row.row_number, row.department_cell, {"name": name})
        )
    return [d.id for d in added if d.id is not None]


async def plan_import(
    session: AsyncSession,
    parsed: ParsedFile,
    *,
    progress: Progress | None = None,
    progress_every: int = 500,
) -> ImportPlan:
    """What Apply would do, row by row; reads the database and writes nothing."""
    departments = list(await queries.all_departments(session))
    aliases = await session.exec(select(DepartmentAlias))
    matcher = DepartmentMatcher(
        departments, {alias.alias: alias.department_id for alias in aliases.all()}
    )
    by_id = {department.id: department for department in departments}
    items = {item.code.lower(): item for item in (await session.exec(select(RoadmapItem))).all()}
    current = await queries.co_executor_ids(session)
    plan = ImportPlan(
        errors=list(parsed.errors),
        data_rows=parsed.data_rows,
        guesses=list(parsed.guesses),
        sheet=parsed.sheet,
        header_row=parsed.header_row,
    )
    total = len(parsed.rows)
    for checked, row in enumerate(parsed.rows, start=1):
        department, by_name = matcher.find(row.department)
        if department is None:
            both = matcher.ambiguity(row.department)
            plan.errors.append(
                RowError(
                    row.row_number,
                    row.code,
                    RowProblem.AMBIGUOUS_DEPARTMENT if both else RowProblem.UNKNOWN_DEPARTMENT,
                    f"{row.department}|{both}" if both else row.department,
                    row.department_cell,
                )
            )
        else:
            if by_name:
                plan.guesses.append(
                    Guess(
                        GuessKind.DEPARTMENT_BY_NAME,
                        row.row_number,
                        row.department_cell,
                        {"name": row.department, "code": department.code},
                    )
                )
            co_executors = _resolve_co_executors(row, department, matcher, plan.guesses)
            existing = items.get(row.code.lower())
            if existing is None:
                plan.new.append(PlannedNew(row, row_id(department), co_executors))
            else:
                assert existing.id is not None  # read from the database
                changes = _compare(
                    existing,
                    row,
                    department,
                    by_id,
                    co_executors,
                    tuple(current.get(existing.id, ())),
                )
                if changes:
                    plan.updated.append(
                        PlannedUpdate(
                            row, row_id(existing), row_id(department), tuple(changes), co_executors
                        )
                    )
                else:
                    plan.unchanged.append(row)
        if progress is not None and (checked % progress_every == 0 or checked == total):
            await progress(checked, total)
    plan.errors.sort(key=lambda error: error.row_number)
    plan.guesses.sort(key=lambda guess: guess.row_number)
    return plan
