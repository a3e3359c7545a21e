"""The forecasts of a year's items from the database: their progress histories, the
departments' and everyone's recent gains, the working-day calendar; the method itself is
`bot.risk.forecast` (pure).

One read of the year's updates (oldest first, item by item) gives every item's history; the
pools are built from the same rows, so a card, /dept, the digest and the export agree.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.risk.forecast import (
    Forecast,
    WorkingDays,
    daily_progress,
    forecast,
    has_enough_updates,
    may_be_unlikely,
    weekly_gains,
)
from bot.workdays.calendar import load_calendar
from db.models import ItemStatus, RoadmapItem, StatusUpdate

_DONE = ItemStatus.DONE.value
IN_THREAD_FROM = 200  # forecasts; fewer take well under a tenth of a second
ONLY_READ_LIMIT = 10_000  # items read by id; more are read with the whole year


@dataclass(slots=True)
class ItemHistory:
    department_id: int
    deadline: date
    start: date
    history: list[tuple[date, int]]
    latest_id: int = 0
    latest_status: str = ""


def item_forecast(
    item_id: int,
    item: ItemHistory,
    calendar: WorkingDays,
    department_gains: Sequence[float] = (),
    all_gains: Sequence[float] = (),
) -> Forecast:
    """One item's forecast, seeded per (item, newest report): the one call every reader makes."""
    return forecast(
        item.history,
        start=item.start,
        deadline=item.deadline,
        calendar=calendar,
        seed=f"{item_id}|{item.latest_id}",
        department_gains=department_gains,
        all_gains=all_gains,
    )


def item_start(created_day: date, year: int) -> date:
    """Where an item's time starts: the day it was added, or its year's first day if later
    (the same `start` as the risk rules' facts)."""
    first = date(year, 1, 1)
    return created_day if created_day > first else first


def _local_day(tz: tzinfo) -> Callable[[Any], date]:
    seen: dict[Any, date] = {}

    def day_of(moment: Any) -> date:
        found = seen.get(moment)
        if found is None:
            value = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
            if value.tzinfo is None:
                value = value.replace(tzinfo=UTC)
            found = seen[moment] = value.astimezone(tz).date()
        return found

    return day_of


async def forecasts_for(
    session: AsyncSession,
    *,
    year: int | None,
    tz: tzinfo,
    until: datetime | None = None,
    only: Collection[int] | None = None,
    skip: Collection[int] = (),
    since_deadline: date | None = None,
    screened: bool = False,
) -> dict[int, Forecast]:
    """The forecast of each not-done item of the year (all years when None) that has reports.

    `only`: forecast just these items (the pools still come from all of them); `skip`: not
    these; `since_deadline`: only items whose deadline is on or after that day (an overdue
    item needs no forecast to be late). `until`: what was known before that moment.
    `screened`: only the forecasts that may be `unlikely` (`may_be_unlikely`: the others are
    known not to be without simulating them), for the rule and the digest's warning.
    """
    # A screened forecast never borrows (it needs 5 weeks of the item's own gains, or a
    # stall), so only the wanted items' histories are needed then.
    read_only = only if screened and only is not None and len(only) <= ONLY_READ_LIMIT else None
    items = await read_histories(session, year, tz, until, read_only)
    if not items:
        return {}
    first = min(item.start for item in items.values()) - timedelta(days=7)
    calendar = WorkingDays((await load_calendar(session, zone_of(tz))).is_working_day, first)
    department_gains: dict[int, list[float]] = {}
    all_gains: list[float] = []
    wanted: list[int] = []
    for item_id, item in items.items():
        days = daily_progress(item.history)
        points = [(calendar.index(day), progress) for day, progress in days]
        if has_enough_updates(points):
            gains = weekly_gains(points).weekly
            department_gains.setdefault(item.department_id, []).extend(gains)
            all_gains.extend(gains)
        if item.latest_status == _DONE or item_id in skip:
            continue
        if only is not None and item_id not in only:
            continue
        if since_deadline is not None and item.deadline < since_deadline:
            continue
        if screened and not may_be_unlikely(points, calendar.last_index_by(item.deadline)):
            continue
        wanted.append(item_id)

    def simulate() -> dict[int, Forecast]:
        return {
            item_id: item_forecast(
                item_id,
                items[item_id],
                calendar,
                department_gains.get(items[item_id].department_id, ()),
                all_gains,
            )
            for item_id in wanted
        }

    if len(wanted) < IN_THREAD_FROM:
        return simulate()
    # Thousands of simulations take seconds of CPU: in a worker thread the bot keeps
    # answering meanwhile (it gets the interpreter back every few milliseconds).
    return await asyncio.to_thread(simulate)


def zone_of(tz: tzinfo) -> ZoneInfo:
    return tz if isinstance(tz, ZoneInfo) else ZoneInfo("UTC")


async def read_histories(
    session: AsyncSession,
    year: int | None,
    tz: tzinfo,
    until: datetime | None,
    only: Collection[int] | None = None,
) -> dict[int, ItemHistory]:
    """Every non-archived item's reports (day, progress), oldest first (`only`: these items')."""
    update = StatusUpdate.__table__.c  # type: ignore[attr-defined]
    item = RoadmapItem.__table__.c  # type: ignore[attr-defined]
    # A corrected report and its correction are one answer: the correction stands for both.
    conditions: list[Any] = [item.archived.is_(False), update.corrected.is_(False)]
    if year is not None:
        conditions.append(item.year == year)
    if until is not None:
        conditions += [update.created_at < until, item.created_at < until]
    if only is not None:
        conditions.append(item.id.in_(list(only)))
    statement = (
        sa.select(
            update.item_id,
            item.department_id,
            item.deadline,
            item.year,
            sa.type_coerce(item.created_at, sa.DateTime()),
            update.id,
            update.status,
            update.progress,
            sa.type_coerce(update.created_at, sa.DateTime()),
        )
        .select_from(StatusUpdate.__table__.join(RoadmapItem.__table__))  # type: ignore[attr-defined]
        .where(*conditions)
        .order_by(update.item_id, update.created_at, update.id)
    )
    day_of = _local_day(tz)
    items: dict[int, ItemHistory] = {}
    current: ItemHistory | None = None
    current_id = None
    connection = await session.connection()
    result = await connection.stream(statement)
    try:
        async for rows in result.partitions(5_000):
            for row in rows:
                item_id, department, deadline, item_year, created = row[:5]
                if current is None or item_id != current_id:
                    current_id = item_id
                    current = items[item_id] = ItemHistory(
                        department, deadline, item_start(day_of(created), item_year), []
                    )
                current.history.append((day_of(row[8]), row[7]))
                current.latest_id, current.latest_status = row[5], row[6]
    finally:
        await result.close()
    return items
