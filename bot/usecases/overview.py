"""What the chair reads of the Road Map as a whole: the year's summary and one department.

Both are read-only: each opens a session, reads, and closes it. The outcomes are plain data
(counts, items with their risk reasons, the chart's numbers) that the chat and the web render.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

from bot.risk import forecast_views
from bot.risk.assess import assess_items, note_stated_days
from bot.risk.digest import (
    Category,
    DigestData,
    Summary,
    category,
    code_key,
    collect_digest,
    summarize,
)
from bot.risk.rules import ItemRisk, RiskReason
from bot.usecases.ports import UseCaseContext
from db import queries
from db.engine import AsyncSession
from db.ids import row_id
from db.models import Department

DEPARTMENT_BY_ID_LIMIT = 10_000  # items named in one statement: far below asyncpg's 32,767


async def summary(ctx: UseCaseContext, year: int | None = None) -> DigestData:
    """The year's digest (this year's by default): counts by category and department, the
    at-risk items with their reasons, and the weekly at-risk counts the chart draws. An empty
    year has `summary.total == 0`."""
    today = ctx.today()
    async with ctx.session_maker() as session:
        return await collect_digest(
            session,
            today=today,
            year=today.year if year is None else year,
            thresholds=ctx.thresholds,
            tz=ctx.tz,
        )


# A department as a person names it: its code as typed (`/dept edu`), or its id (a button).
DepartmentKey = str | int


@dataclass(frozen=True)
class DepartmentView:
    """One department's items of a year in code order, each with its status and reasons."""

    department: Department
    year: int
    today: date
    summary: Summary
    items: list[ItemRisk]


@dataclass(frozen=True)
class DepartmentChoice:
    """/dept without a code, or words that fit several departments (none: `departments` is
    every department): the departments to pick from, as buttons."""

    departments: list[Department]
    year: int
    typed: str | None = None  # what matched nothing or several, None for a bare /dept
    several: bool = False  # the typed words fit these departments (else they fit none)


def _words(text: str) -> list[str]:
    return [word for word in text.casefold().replace("«", " ").replace("»", " ").split() if word]


def matches(department: Department, typed: str) -> bool:
    """Whether every typed word starts a word of one of its names (kk, ru, short, code):
    «образование», «білім», «транспорт», «edu» all find theirs."""
    wanted = _words(typed)
    names = [
        department.code,
        department.name_kk,
        department.name_ru,
        department.short_name_kk or "",
        department.short_name_ru or "",
    ]
    for name in names:
        words = _words(name)
        if wanted and all(any(w.startswith(want[:5]) for w in words) for want in wanted):
            return True
    return False


async def _find_department(
    session: AsyncSession, key: DepartmentKey
) -> Department | list[Department] | None:
    """The department by id, code or name; several that fit, or None."""
    if isinstance(key, int):
        return await queries.department_by_id(session, key)
    found = await queries.department_by_code(session, key.lower())
    if found is not None:
        return found
    fitting = [dept for dept in await queries.all_departments(session) if matches(dept, key)]
    if len(fitting) == 1:
        return fitting[0]
    return fitting or None


async def department_view(
    ctx: UseCaseContext, key: DepartmentKey | None, year: int | None = None
) -> DepartmentView | DepartmentChoice:
    """The department's items (this year's by default). Without a key, or when the words fit
    several departments or none, the departments to choose from."""
    today = ctx.today()
    year = today.year if year is None else year
    async with ctx.session_maker() as session:
        department = None if key is None else await _find_department(session, key)
        if not isinstance(department, Department):
            if department:  # several fit
                return DepartmentChoice(department, year, str(key), several=True)
            every = list(await queries.all_departments(session))
            return DepartmentChoice(every, year, None if key is None else str(key))
        # Only the department's items are assessed and forecast (the forecasts' pools still
        # come from every item); a huge department is read whole, below the parameter limits.
        own_ids = await queries.department_item_ids(session, [row_id(department)])
        risks = await assess_items(
            session,
            today=today,
            year=year,
            thresholds=ctx.thresholds,
            tz=ctx.tz,
            item_ids=own_ids if len(own_ids) <= DEPARTMENT_BY_ID_LIMIT else None,
            forecasts=True,
        )
        own = {key: risk for key, risk in risks.items() if risk.department_id == department.id}
        await note_stated_days(session, own.values(), ctx.tz)
    items = sorted(own.values(), key=lambda risk: code_key(risk.code))
    items.sort(key=forecast_views.by_chance)  # the least likely to be met first
    return DepartmentView(department, year, today, summarize(own), items)


class TableSort(StrEnum):
    CODE = "code"
    DEADLINE = "deadline"
    PROGRESS = "progress"
    RISK = "risk"


TABLE_PAGE = 100  # rows on one page: a page of the table stays well under 100 KB
PAST = -1  # the deadline window "already passed"


@dataclass(frozen=True)
class TableFilter:
    """The secretariat's roadmap table: which items (all of them when every field is None)
    and in what order. `window`: deadlines within that many days from today, or PAST."""

    department_id: int | None = None
    category: Category | None = None
    reason: RiskReason | None = None
    window: int | None = None
    sort: TableSort = TableSort.CODE


@dataclass(frozen=True)
class RoadmapTable:
    """One page of the filtered items, how many matched, and the departments to filter by."""

    rows: list[ItemRisk]
    total: int
    page: int
    pages: int
    today: date
    departments: list[Department]


def _kept(risk: ItemRisk, wanted: TableFilter, today: date) -> bool:
    if wanted.department_id is not None and risk.department_id != wanted.department_id:
        return False
    if wanted.category is not None and category(risk) != wanted.category:
        return False
    if wanted.reason is not None and wanted.reason not in risk.reasons:
        return False
    if wanted.window == PAST:
        return risk.deadline < today
    if wanted.window is not None:
        return today <= risk.deadline <= today + timedelta(days=wanted.window)
    return True


def _sort_key(sort: TableSort) -> Callable[[ItemRisk], Any]:
    if sort == TableSort.DEADLINE:
        return lambda risk: (risk.deadline, code_key(risk.code))
    if sort == TableSort.PROGRESS:
        return lambda risk: (risk.latest_progress or 0, code_key(risk.code))
    if sort == TableSort.RISK:
        return lambda risk: (-len(risk.reasons), risk.deadline, code_key(risk.code))
    return lambda risk: code_key(risk.code)


async def roadmap_table(ctx: UseCaseContext, wanted: TableFilter, page: int = 1) -> RoadmapTable:
    """This year's items as the secretariat filters and sorts them, one page at a time."""
    today = ctx.today()
    async with ctx.session_maker() as session:
        risks = await assess_items(
            session, today=today, year=today.year, thresholds=ctx.thresholds, tz=ctx.tz
        )
        departments = list(await queries.all_departments(session))
    kept = sorted(
        (risk for risk in risks.values() if _kept(risk, wanted, today)),
        key=_sort_key(wanted.sort),
    )
    pages = max(1, -(-len(kept) // TABLE_PAGE))
    page = min(max(page, 1), pages)
    shown = kept[(page - 1) * TABLE_PAGE : page * TABLE_PAGE]
    return RoadmapTable(shown, len(kept), page, pages, today, departments)
