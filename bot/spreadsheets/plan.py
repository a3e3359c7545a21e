"""Comparing parsed rows with the database: what Apply would create, change or leave alone.

Reads and never writes, so the dry run and Apply share one plan, and its digest tells whether
the file or the Road Map changed between the two.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.spreadsheets.parse import (
    Column,
    ImportRow,
    ParsedFile,
    RowError,
    RowProblem,
    normalize_header,
)
from db import queries
from db.models import Department, RoadmapItem

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


@dataclass(frozen=True)
class PlannedNew:
    row: ImportRow
    department_id: int


@dataclass
class ImportPlan:
    new: list[PlannedNew] = field(default_factory=list)
    updated: list[PlannedUpdate] = field(default_factory=list)
    unchanged: list[ImportRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    data_rows: int = 0

    @property
    def has_changes(self) -> bool:
        return bool(self.new or self.updated)

    def digest(self) -> str:
        """A fingerprint of what Apply would write, to notice a Road Map changed meanwhile."""
        parts = [f"n:{p.row.code}:{p.department_id}:{p.row.deadline}" for p in self.new]
        for update in self.updated:
            changes = ",".join(f"{c.name}={c.new}" for c in update.changes)
            parts.append(f"u:{update.item_id}:{changes}")
        parts += [f"e:{e.row_number}:{e.problem}" for e in self.errors]
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def _department_index(departments: Iterable[Department]) -> dict[str, Department]:
    """Departments by code, and by their full name as a spreadsheet may spell it."""
    index: dict[str, Department] = {}
    for department in departments:
        for name in (department.name_kk, department.name_ru):
            index.setdefault(normalize_header(name), department)
    for department in departments:
        index[department.code.lower()] = department
    return index


def _compare(
    item: RoadmapItem,
    row: ImportRow,
    department: Department,
    departments: Mapping[int | None, Department],
) -> list[FieldChange]:
    pairs = [
        (Column.TITLE_KK, item.title_kk, row.title_kk),
        (Column.TITLE_RU, item.title_ru, row.title_ru),
        (Column.TARGET, item.target or "", row.target),
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
    return changes


async def plan_import(
    session: AsyncSession,
    parsed: ParsedFile,
    *,
    progress: Progress | None = None,
    progress_every: int = 500,
) -> ImportPlan:
    """What Apply would do, row by row; reads the database and writes nothing."""
    departments = list(await queries.all_departments(session))
    by_name = _department_index(departments)
    by_id = {department.id: department for department in departments}
    items = {item.code.lower(): item for item in (await session.exec(select(RoadmapItem))).all()}
    plan = ImportPlan(errors=list(parsed.errors), data_rows=parsed.data_rows)
    total = len(parsed.rows)
    for checked, row in enumerate(parsed.rows, start=1):
        department = by_name.get(row.department.lower()) or by_name.get(
            normalize_header(row.department)
        )
        if department is None:
            plan.errors.append(
                RowError(row.row_number, row.code, RowProblem.UNKNOWN_DEPARTMENT, row.department)
            )
        else:
            existing = items.get(row.code.lower())
            if existing is None:
                plan.new.append(PlannedNew(row, department.id))  # type: ignore[arg-type]
            else:
                changes = _compare(existing, row, department, by_id)
                if changes:
                    plan.updated.append(
                        PlannedUpdate(row, existing.id, department.id, tuple(changes))  # type: ignore[arg-type]
                    )
                else:
                    plan.unchanged.append(row)
        if progress is not None and (checked % progress_every == 0 or checked == total):
            await progress(checked, total)
    plan.errors.sort(key=lambda error: error.row_number)
    return plan
