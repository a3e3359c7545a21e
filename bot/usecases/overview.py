"""What the chair reads of the Road Map as a whole: the year's summary and one department.

Both are read-only: each opens a session, reads, and closes it. The outcomes are plain data
(counts, items with their risk reasons, the chart's numbers) that the chat and the web render.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from bot.risk import forecast_views
from bot.risk.assess import assess_items
from bot.risk.digest import DigestData, Summary, code_key, collect_digest, summarize
from bot.risk.rules import ItemRisk
from bot.usecases.ports import UseCaseContext
from db import queries
from db.engine import AsyncSession
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


async def _find_department(session: AsyncSession, key: DepartmentKey) -> Department | None:
    if isinstance(key, int):
        return await queries.department_by_id(session, key)
    return await queries.department_by_code(session, key)


async def department_view(
    ctx: UseCaseContext, key: DepartmentKey, year: int | None = None
) -> DepartmentView | None:
    """The department's items (this year's by default); None when there is no such
    department."""
    today = ctx.today()
    year = today.year if year is None else year
    async with ctx.session_maker() as session:
        department = await _find_department(session, key)
        if department is None or department.id is None:
            return None
        # Only the department's items are assessed and forecast (the forecasts' pools still
        # come from every item); a huge department is read whole, below the parameter limits.
        own_ids = await queries.department_item_ids(session, [department.id])
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
    items = sorted(own.values(), key=lambda risk: code_key(risk.code))
    items.sort(key=forecast_views.by_chance)  # the least likely to be met first
    return DepartmentView(department, year, today, summarize(own), items)
