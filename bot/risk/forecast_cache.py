"""The screened forecasts kept per item, so the digest's "likely late" is a lookup.

A forecast is a pure function of the item's reports, start, deadline, seed and the working-day
calendar; a screened one (`forecast_data.forecasts_for(screened=True)`) never borrows other
items' gains. So it is computed when one of those changes, which always leaves a `risk_dirty`
mark that the alert scan reads: the scan calls `refresh_forecasts` for the items it marks off
(every item on the day's first full scan) in its own transaction. A reader uses a stored row
only while no mark names the item and the row's deadline and calendar are the item's; every
other item is computed afresh from its own reports, so the answer is always the fresh one
(tests/integration/test_forecast_cache.py).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, timedelta, tzinfo
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.risk.forecast import (
    OWN_GAINS_ENOUGH,
    TRIALS,
    Borrowed,
    Forecast,
    Outcome,
    WorkingDays,
    daily_progress,
    has_enough_updates,
    may_be_unlikely,
    weekly_gains,
)
from bot.risk.forecast_data import (
    IN_THREAD_FROM,
    ONLY_READ_LIMIT,
    ItemHistory,
    forecasts_for,
    item_forecast,
    read_histories,
    zone_of,
)
from bot.workdays.calendar import load_calendar
from bot.workdays.kazakhstan import kazakhstan_holidays
from bot.workdays.transfers import working_weekends
from db.models import ForecastCache, ItemStatus, RiskDirty, RoadmapItem

METHOD = "1"  # change when the method's answers change: every stored row is then recomputed
_CALENDAR_YEARS = range(2020, 2041)
_CHUNK = 1_000  # ids per statement, far below the databases' parameter limits
_DONE = ItemStatus.DONE.value


def encode(found: Forecast) -> str:
    """A forecast as a JSON list (days as ordinals; the chance's float round-trips exactly):
    thousands are read per digest, so the short form is the cheap one to decode."""
    days = [None if day is None else day.toordinal() for day in _days(found)]
    fields = [found.outcome.value, found.progress, found.chance, found.own_gains]
    fields += [found.borrowed.value, found.setbacks, *days]
    return json.dumps(fields, separators=(",", ":"))


def _days(found: Forecast) -> tuple[date | None, ...]:
    return (
        found.as_of,
        found.deadline,
        found.pace_date,
        found.p50,
        found.p85,
        found.stalled_since,
    )


def decode(text: str) -> Forecast:
    outcome, progress, chance, own, borrowed, setbacks, *ordinals = json.loads(text)
    as_of, deadline, pace, p50, p85, stalled = (
        None if day is None else date.fromordinal(day) for day in ordinals
    )
    return Forecast(
        Outcome(outcome),
        progress,
        as_of,
        deadline,
        pace,
        p50,
        p85,
        chance,
        own,
        Borrowed(borrowed),
        setbacks,
        stalled,
    )


@cache
def _public_days() -> str:
    """The code's own calendar (public holidays, moved working weekends) as one digest."""
    public = sorted(kazakhstan_holidays(_CALENDAR_YEARS))
    weekends = sorted(working_weekends(_CALENDAR_YEARS))
    text = ",".join(day.isoformat() for day in public) + "|"
    text += ",".join(day.isoformat() for day in weekends)
    return hashlib.sha256(text.encode()).hexdigest()


async def calendar_fingerprint(session: AsyncSession, tz: tzinfo) -> str:
    """The working-day calendar the forecasts count in: the zone, the code's holidays and the
    secretariat's `/holiday` days."""
    calendar = await load_calendar(session, zone_of(tz))
    overrides = ",".join(
        f"{day.isoformat()}:{int(off)}" for day, off in sorted(calendar.overrides.items())
    )
    text = f"{METHOD}|{zone_of(tz).key}|{_public_days()}|{overrides}"
    return hashlib.sha256(text.encode()).hexdigest()


def _inputs(
    calendar: str,
    item_id: int,
    seed: int,
    start: date,
    deadline: date,
    history: Any,
    status: str,
) -> str:
    days = ";".join(f"{day.isoformat()}={progress}" for day, progress in history)
    text = f"{calendar}|{TRIALS}|{item_id}|{seed}|{start}|{deadline}|{status}|{days}"
    return hashlib.sha256(text.encode()).hexdigest()


def _encode_gains(points: list[tuple[int, int]]) -> str | None:
    """The weekly gains an item lends to the pools (None: too few updates to lend any)."""
    if not has_enough_updates(points):
        return None
    return json.dumps(weekly_gains(points).weekly, separators=(",", ":"))


async def refresh_forecasts(
    session: AsyncSession,
    *,
    tz: tzinfo,
    today: date,
    changed: Collection[int],
    every_stale: bool = False,
) -> int:
    """Store the forecasts of the `changed` items (the marks the scan consumes) and, with
    `every_stale`, of every item without a current row (none stored yet, another deadline or
    calendar), where their inputs changed: each not-done item's forecast on its own gains
    (the screened one too, when it may be unlikely) and its weekly gains; returns how many
    were simulated.
    Flushed, not committed: the caller's transaction is the one that consumes the marks."""
    fingerprint = await calendar_fingerprint(session, tz)
    wanted = set(changed)
    if every_stale:
        wanted |= await _items_without_a_current_row(session, fingerprint)
    if not wanted:
        return 0
    deadlines = await _deadlines(session, wanted)
    if not deadlines:
        return 0
    read_only = wanted if len(wanted) <= ONLY_READ_LIMIT else None
    histories = await read_histories(session, None, tz, None, read_only)
    stored = await _stored_inputs(session, list(deadlines))
    starts = [item.start for item in histories.values()] or [today]
    calendar = WorkingDays(
        (await load_calendar(session, zone_of(tz))).is_working_day, min(starts) - timedelta(days=7)
    )
    rows: dict[int, dict[str, Any]] = {}
    to_simulate: list[int] = []
    screened: set[int] = set()
    for item_id, deadline in deadlines.items():
        item = histories.get(item_id)
        days = daily_progress(item.history) if item is not None else []
        seed, start = (item.latest_id, item.start) if item is not None else (0, deadline)
        status = item.latest_status if item is not None else ""
        inputs = _inputs(fingerprint, item_id, seed, start, deadline, days, status)
        if stored.get(item_id) == inputs:
            continue
        points = [(calendar.index(day), progress) for day, progress in days]
        screened_in = False
        if item is not None and item.latest_status != _DONE:
            screened_in = may_be_unlikely(points, calendar.last_index_by(deadline))
            to_simulate.append(item_id)
        rows[item_id] = {
            "item_id": item_id,
            "inputs": inputs,
            "calendar": fingerprint,
            "deadline": deadline,
            "screened_in": screened_in,
            "forecast": None,
            "own": None,
            "gains": _encode_gains(points),
        }
        if screened_in and deadline >= today:  # an overdue item is late without a forecast
            screened.add(item_id)

    def simulate() -> dict[int, str]:
        return {
            item_id: encode(item_forecast(item_id, histories[item_id], calendar))
            for item_id in to_simulate
        }

    simulated = (
        simulate() if len(to_simulate) < IN_THREAD_FROM else await asyncio.to_thread(simulate)
    )
    for item_id, text in simulated.items():
        rows[item_id]["own"] = text  # a screened forecast never borrows: the same one
        if item_id in screened:
            rows[item_id]["forecast"] = text
    await _replace_rows(session, rows)
    return len(simulated)


async def _items_without_a_current_row(session: AsyncSession, fingerprint: str) -> set[int]:
    table = _table()
    item = RoadmapItem.__table__.c  # type: ignore[attr-defined]
    statement = (
        sa.select(item.id)
        .select_from(RoadmapItem.__table__.outerjoin(table, table.c.item_id == item.id))  # type: ignore[attr-defined]
        .where(
            item.archived.is_(False),
            sa.or_(
                table.c.item_id.is_(None),
                table.c.calendar != fingerprint,
                table.c.deadline != item.deadline,
            ),
        )
    )
    return set((await (await session.connection()).execute(statement)).scalars().all())


async def _deadlines(session: AsyncSession, ids: set[int]) -> dict[int, date]:
    """The deadlines of those of `ids` that are not archived."""
    item = RoadmapItem.__table__.c  # type: ignore[attr-defined]
    statement = sa.select(item.id, item.deadline).where(item.archived.is_(False))
    connection = await session.connection()
    if len(ids) > ONLY_READ_LIMIT:
        rows = (await connection.execute(statement)).all()
        return {item_id: deadline for item_id, deadline in rows if item_id in ids}
    found: dict[int, date] = {}
    ordered = sorted(ids)
    for start in range(0, len(ordered), _CHUNK):
        chunk = statement.where(item.id.in_(ordered[start : start + _CHUNK]))
        found.update(dict((await connection.execute(chunk)).all()))
    return found


async def _stored_inputs(session: AsyncSession, ids: list[int]) -> dict[int, str]:
    table = _table()
    found: dict[int, str] = {}
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        statement = sa.select(table.c.item_id, table.c.inputs).where(table.c.item_id.in_(chunk))
        found.update(
            {
                item_id: inputs
                for item_id, inputs in (await (await session.connection()).execute(statement)).all()
            }
        )
    return found


async def _replace_rows(session: AsyncSession, rows: dict[int, dict[str, Any]]) -> None:
    table = _table()
    ids = list(rows)
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        await (await session.connection()).execute(
            sa.delete(table).where(table.c.item_id.in_(chunk))
        )
        await (await session.connection()).execute(
            sa.insert(table), [rows[item_id] for item_id in chunk]
        )


def _table() -> sa.Table:
    return ForecastCache.__table__  # type: ignore[attr-defined]


async def screened_forecasts(
    session: AsyncSession,
    *,
    year: int | None,
    tz: tzinfo,
    since_deadline: date,
    skip: Collection[int] = (),
) -> dict[int, Forecast]:
    """`forecasts_for(screened=True, since_deadline=...)`: the stored rows where they are
    current, the rest computed from their own reports."""
    table = _table()
    item = RoadmapItem.__table__.c  # type: ignore[attr-defined]
    statement = (
        sa.select(
            item.id,
            item.deadline,
            table.c.deadline,
            table.c.calendar,
            table.c.screened_in,
            table.c.forecast,
        )
        .select_from(RoadmapItem.__table__.outerjoin(table, table.c.item_id == item.id))  # type: ignore[attr-defined]
        .where(item.archived.is_(False), item.deadline >= since_deadline)
    )
    if year is not None:
        statement = statement.where(item.year == year)
    marked = {
        item_id
        for item_id in (await session.exec(select(RiskDirty.item_id))).all()
        if item_id is not None
    }
    fingerprint = await calendar_fingerprint(session, tz)
    skipped = set(skip)
    found: dict[int, Forecast] = {}
    stale: list[int] = []
    for item_id, deadline, stored_deadline, calendar, screened_in, text in (
        await (await session.connection()).execute(statement)
    ).all():
        if item_id in skipped:
            continue
        current = (
            calendar == fingerprint
            and stored_deadline == deadline
            and item_id not in marked
            and (text is not None or not screened_in)
        )
        if not current:
            stale.append(item_id)
        elif text is not None:
            found[item_id] = decode(text)
    if stale:
        found.update(
            await forecasts_for(
                session,
                year=year,
                tz=tz,
                only=set(stale),
                since_deadline=since_deadline,
                screened=True,
            )
        )
    return found


_POOLED = (Outcome.FORECAST, Outcome.NO_FINISH)  # the outcomes a pool is drawn from


def _may_borrow(found: Forecast) -> bool:
    """Whether this forecast on the item's own gains could change with its pools' (it has
    fewer than 5 weeks of its own and got as far as drawing from a pool)."""
    return found.outcome in _POOLED and found.own_gains < OWN_GAINS_ENOUGH


@dataclass(slots=True)
class _Stored:
    """One item's row as the export reads it: its own forecast and gains, or None for an
    item to compute afresh (no current row)."""

    item_id: int
    department_id: int
    current: bool
    own: str | None
    gains: str | None


async def every_forecast(
    session: AsyncSession,
    *,
    year: int | None,
    tz: tzinfo,
    only: Collection[int] | None = None,
) -> dict[int, Forecast]:
    """`forecasts_for(session, year=year, tz=tz, only=only)`, read from the stored rows where
    they are current: only the items without one and those whose pool lends them gains (fewer
    than 5 weeks of their own) are simulated; the pools are the stored gains (an item without
    a current row lends the gains of its history, read afresh). The decoding and the
    simulations run in a worker thread."""
    table = _table()
    item = RoadmapItem.__table__.c  # type: ignore[attr-defined]
    statement = (
        sa.select(
            item.id,
            item.department_id,
            item.deadline,
            table.c.deadline,
            table.c.calendar,
            table.c.own,
            table.c.gains,
        )
        .select_from(RoadmapItem.__table__.outerjoin(table, table.c.item_id == item.id))  # type: ignore[attr-defined]
        .where(item.archived.is_(False))
        .order_by(item.id)  # the order `read_histories` gives: the pools' order
    )
    if year is not None:
        statement = statement.where(item.year == year)
    marked = {
        item_id
        for item_id in (await session.exec(select(RiskDirty.item_id))).all()
        if item_id is not None
    }
    fingerprint = await calendar_fingerprint(session, tz)
    stored: list[_Stored] = []
    result = await (await session.connection()).stream(statement)
    try:
        async for rows in result.partitions(5_000):
            for item_id, department, deadline, kept_deadline, calendar, own, gains in rows:
                current = (
                    calendar == fingerprint and kept_deadline == deadline and item_id not in marked
                )
                stored.append(_Stored(item_id, department, current, own, gains))
    finally:
        await result.close()
    wanted = None if only is None else set(only)
    decoded = await asyncio.to_thread(_decode_stored, stored, wanted)
    stale = {row.item_id for row in stored if not row.current}
    computed = stale | {item_id for item_id, found in decoded.items() if _may_borrow(found)}
    if wanted is not None:
        computed &= wanted
    if not computed:
        return decoded
    needed = stale | computed  # a stale item's gains go into the pools
    read_only = needed if len(needed) <= ONLY_READ_LIMIT else None
    histories = await read_histories(session, year, tz, None, read_only)
    histories = {item_id: histories[item_id] for item_id in needed if item_id in histories}
    if not histories:  # the computed items have no reports: no forecast
        return {item_id: found for item_id, found in decoded.items() if item_id not in computed}
    first = min(history.start for history in histories.values()) - timedelta(days=7)
    calendar_days = WorkingDays((await load_calendar(session, zone_of(tz))).is_working_day, first)
    return await asyncio.to_thread(_with_pools, stored, decoded, histories, computed, calendar_days)


def _decode_stored(stored: list[_Stored], wanted: set[int] | None) -> dict[int, Forecast]:
    return {
        row.item_id: decode(row.own)
        for row in stored
        if row.current and row.own is not None and (wanted is None or row.item_id in wanted)
    }


def _with_pools(
    stored: list[_Stored],
    decoded: dict[int, Forecast],
    histories: dict[int, ItemHistory],
    computed: set[int],
    calendar: WorkingDays,
) -> dict[int, Forecast]:
    """The pools from every item's gains (stored, or from the history read afresh), in item
    order as `forecasts_for` builds them; then the `computed` items' forecasts."""
    department_gains: dict[int, list[float]] = {}
    all_gains: list[float] = []
    for row in stored:
        if row.item_id in histories:
            history = histories[row.item_id]
            days = daily_progress(history.history)
            points = [(calendar.index(day), progress) for day, progress in days]
            gains: list[float] | None = (
                list(weekly_gains(points).weekly) if has_enough_updates(points) else None
            )
            lender = history.department_id
        elif row.current:
            gains = json.loads(row.gains) if row.gains is not None else None
            lender = row.department_id
        else:
            continue  # no current row and no reports: lends nothing
        if gains is not None:
            department_gains.setdefault(lender, []).extend(gains)
            all_gains.extend(gains)
    found = {item_id: known for item_id, known in decoded.items() if item_id not in computed}
    for item_id in computed:
        own = histories.get(item_id)
        if own is None or own.latest_status == _DONE:
            continue
        department = department_gains.get(own.department_id, ())
        found[item_id] = item_forecast(item_id, own, calendar, department, all_gains)
    return found
