"""The at-risk assessment: the rules of `bot.risk.rules` applied to every item at once.

`assess_items` gathers the facts for every item of a year with a handful of aggregate
queries (the newest update per item through an index lookup, postponement counts, the
departments' newest round requests) and never walks the status history row by row in Python.
`assess_tally` is the same assessment kept small for the digest: the items at risk in full,
every other item only counted, the done ones without even a row. Both stream the rows, so no
full result is held at once.
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

import sqlalchemy as sa
from sqlalchemy import and_, case, func, literal, type_coerce
from sqlalchemy.orm import aliased
from sqlmodel import SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.risk.forecast import Forecast
from bot.risk.forecast_cache import every_forecast, screened_forecasts
from bot.risk.forecast_data import forecasts_for
from bot.risk.rules import (
    DISMISSIBLE_REASONS,
    ItemFacts,
    ItemRisk,
    RiskReason,
    RiskState,
    RiskThresholds,
    fingerprint,
    risk_reasons,
    risk_state,
)
from db import queries
from db.models import (
    DeadlineChange,
    ItemStatus,
    RiskDismissal,
    RoadmapItem,
    RoundRequest,
    StatusUpdate,
)


def _table(model: type[SQLModel]) -> sa.Table:
    """The Core table behind a model (SQLModel's class attribute is untyped)."""
    table: sa.Table = model.__table__  # type: ignore[attr-defined]
    return table


def _end_of_day(day: date, tz: tzinfo) -> datetime:
    return datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz)


async def assess_items(
    session: AsyncSession,
    *,
    today: date,
    year: int | None,
    thresholds: RiskThresholds,
    tz: tzinfo,
    as_of_history: bool = False,
    item_ids: Collection[int] | None = None,
    forecasts: Forecasts = None,
) -> dict[int, ItemRisk]:
    """Every non-archived item of the year (all years when None), keyed by item id.

    Items with an empty `reasons` list are not at risk. With `as_of_history`, only what was
    known at the end of `today` counts (for week-by-week charts); deadlines stay current.
    `item_ids` narrows it to those items (the chair-alert scan re-assesses changed ones only).
    `forecasts`: which items get a completion forecast (True: all, a collection: those);
    None: all when the "forecast: late" rule is on (it needs them), else none.
    """
    result: dict[int, ItemRisk] = {}
    if item_ids is not None and not item_ids:
        return result
    judged = _judged_rows(
        session, today, year, thresholds, tz, as_of_history, item_ids, forecasts=forecasts
    )
    async for rows, judge in judged:
        with collector_paused():
            for row in rows:
                result[row[0]] = _item_risk(row, *judge(row), thresholds)
    return result


@dataclass
class RiskTally:
    """One assessment kept small: the items at risk in full, the others only counted by
    department and newest status (None: never reported), which is all a digest shows of them."""

    at_risk: dict[int, ItemRisk] = field(default_factory=dict)
    others: dict[tuple[int, str | None], int] = field(default_factory=dict)


async def assess_tally(
    session: AsyncSession,
    *,
    today: date,
    year: int | None,
    thresholds: RiskThresholds,
    tz: tzinfo,
    as_of_history: bool = False,
) -> RiskTally:
    """`assess_items` for a digest: the same rules on the same rows, without an `ItemRisk`
    for each of the items that are not at risk. A done item has no reasons, so the database
    sends no row for it at all: each department's done items are its item count less the
    rows sent for it (two thirds of a mature roadmap's rows never leave SQLite).
    `as_of_history` as for `assess_items` (the week's changes compare with last Friday's)."""
    tally = RiskTally()
    at_risk, others = tally.at_risk, tally.others
    department_items: dict[int, int] = {}
    not_done: dict[int, int] = {}
    judged = _judged_rows(
        session, today, year, thresholds, tz, as_of_history, None, counted_done=True
    )
    async for rows, judge in judged:
        with collector_paused():
            for row in rows:
                department = row[_DEPARTMENT]
                if row[0] is None:  # not an item: the department's count of items
                    department_items[department] = row[_DEPARTMENT_ITEMS]
                    continue
                not_done[department] = not_done.get(department, 0) + 1
                facts, reasons, dismissed = judge(row)
                if reasons:
                    at_risk[row[0]] = _item_risk(row, facts, reasons, dismissed, thresholds)
                    continue
                key = (department, row[_STATUS])
                others[key] = others.get(key, 0) + 1
    for department, items in department_items.items():
        done = items - not_done.get(department, 0)
        if done:
            others[department, _DONE] = done
    return tally


PARTITION = 2_000  # rows per fetch: the memory held for rows stays flat at any size
Forecasts = bool | Collection[int] | None


async def _judged_rows(
    session: AsyncSession,
    today: date,
    year: int | None,
    thresholds: RiskThresholds,
    tz: tzinfo,
    as_of_history: bool,
    only: Collection[int] | None,
    *,
    counted_done: bool = False,
    forecasts: Forecasts = None,
) -> AsyncIterator[tuple[Sequence[Any], Callable[[Any], _Judgement]]]:
    """The rows of `_items_with_newest_update` a partition at a time, with the function that
    applies the rules to one of them (the smaller per-department and per-item facts are read
    first, so each row is judged as it arrives). With `counted_done`, see `_done_counted`."""
    until = _end_of_day(today, tz) if as_of_history else None
    item_filter: list[sa.ColumnElement[bool]] = [col(RoadmapItem.archived).is_(False)]
    if only is not None:
        item_filter.append(col(RoadmapItem.id).in_(list(only)))
    if year is not None:
        item_filter.append(col(RoadmapItem.year) == year)
    if until is not None:
        item_filter.append(col(RoadmapItem.created_at) < until)
    selected = select(RoadmapItem.id).where(*item_filter)

    connection = await session.connection()
    postgres = connection.dialect.name == "postgresql"
    if postgres:
        # Compiling this one read to machine code costs more than running it.
        await connection.execute(sa.text("SET LOCAL jit = off"))
    postponed = await _postponements(session, selected, until)
    requests = await _recent_requests(session, thresholds.missed_rounds, until)
    dismissals = await _dismissals(session, selected, until)
    predicted = await _forecasts(session, today, year, thresholds, tz, until, only, forecasts)
    judge = _judge(today, thresholds, tz, postponed, requests, dismissals, predicted)
    statement = _items_with_newest_update(
        item_filter, thresholds, until, _flat_cutoff(today, year, thresholds), lateral=postgres
    )
    if counted_done:
        statement = _done_counted(statement, item_filter)
    # Core execution: plain rows, without the ORM's per-row loading work.
    result = await connection.stream(statement)
    try:
        async for rows in result.partitions(PARTITION):
            yield rows, judge
    finally:
        await result.close()


async def _forecasts(
    session: AsyncSession,
    today: date,
    year: int | None,
    thresholds: RiskThresholds,
    tz: tzinfo,
    until: datetime | None,
    only: Collection[int] | None,
    wanted: Forecasts,
) -> dict[int, Forecast]:
    """The forecasts the assessment shows or judges by (see `assess_items`)."""
    since, screened = None, False
    if wanted is None:  # only for the rule, which leaves overdue items alone
        wanted, since, screened = thresholds.forecasts_judged, today, True
    if wanted is False:
        return {}
    chosen = None if wanted is True else wanted
    if only is not None:
        chosen = set(only) if chosen is None else set(only) & set(chosen)
    if screened and chosen is None and until is None and since is not None:
        return await screened_forecasts(session, year=year, tz=tz, since_deadline=since)
    if not screened and until is None:  # today's, as shown: the stored ones where current
        return await every_forecast(session, year=year, tz=tz, only=chosen)
    return await forecasts_for(
        session,
        year=year,
        tz=tz,
        until=until,
        only=chosen,
        since_deadline=since,
        screened=screened,
    )


@contextmanager
def collector_paused() -> Iterator[None]:
    """Building tens of thousands of small objects at once triggers the cyclic garbage
    collector over and over (half the time at 50,000 items); none of them form cycles.
    Process-wide: whoever found it on turns it back on, so overlapping pauses end with it on."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _day_reader(tz: tzinfo) -> Callable[[datetime | str | None], date | None]:
    """Local calendar day of a stored UTC moment, remembered per moment: items loaded by one
    import share their creation time, so most conversions are lookups."""
    seen: dict[Any, date | None] = {None: None}

    def day_of(moment: datetime | str | None) -> date | None:
        found = seen.get(moment, _MISSING)
        if found is not _MISSING:
            return found  # type: ignore[return-value]
        value = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
        if value.tzinfo is None:  # type: ignore[union-attr]
            value = value.replace(tzinfo=UTC)  # type: ignore[union-attr]
        seen[moment] = result = value.astimezone(tz).date()  # type: ignore[union-attr]
        return result

    return day_of


def _as_utc(moment: datetime | None) -> datetime | None:
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment


def _utc(moment: datetime | str) -> datetime:
    value = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _missed_reader(
    requests: dict[int, list[tuple[datetime, bool]]], tz: tzinfo
) -> Callable[[int, datetime | str], tuple[date, ...]]:
    """The days of the department's unanswered requests among its newest ones, counting only
    requests made after the item was added (an item cannot miss a request made before it)."""
    seen: dict[tuple[int, Any], tuple[date, ...]] = {}

    def missed(department_id: int, created: datetime | str) -> tuple[date, ...]:
        key = (department_id, created)
        found = seen.get(key)
        if found is None:
            since = _utc(created)
            found = seen[key] = tuple(
                requested.astimezone(tz).date()
                for requested, unanswered in requests.get(department_id, ())
                if unanswered and requested >= since
            )
        return found

    return missed


_MISSING = object()
_NOT_POSTPONED: tuple[int, None] = (0, None)
_NO_RISK = RiskState.NONE
_DONE = ItemStatus.DONE.value
# Positions in a row of `_items_with_newest_update` (and of `_done_counted`).
_DEPARTMENT, _STATUS, _DEPARTMENT_ITEMS = 4, 9, 15
_Judgement = tuple[ItemFacts, list[RiskReason], list[RiskReason]]


def _judge(
    today: date,
    thresholds: RiskThresholds,
    tz: tzinfo,
    postponed: dict[int, tuple[int, datetime | None]],
    requests: dict[int, list[tuple[datetime, bool]]],
    dismissals: dict[int, list[tuple[str, str]]],
    forecasts: dict[int, Forecast],
) -> Callable[[Any], _Judgement]:
    """The rules applied to one row: its facts, its reasons and the reasons dismissed."""
    year_starts: dict[int, date] = {}
    day_of = _day_reader(tz)
    missed_by = _missed_reader(requests, tz)

    def judge(row: Any) -> _Judgement:
        item_id, _code, _kk, _ru, department_id, deadline, item_year, created = row[:8]
        latest_id, status, progress, _comment, _cause, latest_at, streak = row[8:15]
        year_start = year_starts.get(item_year)
        if year_start is None:
            year_start = year_starts[item_year] = date(item_year, 1, 1)
        created_day: date = day_of(created)  # type: ignore[assignment]
        moves, moved_at = postponed.get(item_id, _NOT_POSTPONED)
        facts = ItemFacts(
            deadline,
            created_day if created_day > year_start else year_start,
            status,
            progress,
            day_of(latest_at),
            streak or 0,
            moves,
            missed_by(department_id, created),
            created_day,
            forecast=forecasts.get(item_id),
            postponed_on=day_of(moved_at),
        )
        reasons = risk_reasons(facts, today, thresholds)
        dismissed: list[RiskReason] = []
        if reasons and item_id in dismissals:
            stamp = fingerprint(latest_id, deadline, department_id)
            revoked = {
                reason
                for reason, given_for in dismissals[item_id]
                if given_for == stamp and reason in DISMISSIBLE_REASONS
            }
            dismissed = [reason for reason in reasons if reason in revoked]
            reasons = [reason for reason in reasons if reason not in revoked]
        return facts, reasons, dismissed

    return judge


def _item_risk(
    row: Any,
    facts: ItemFacts,
    reasons: list[RiskReason],
    dismissed: list[RiskReason],
    thresholds: RiskThresholds,
) -> ItemRisk:
    (
        item_id,
        code,
        title_kk,
        title_ru,
        department_id,
        deadline,
        item_year,
        _created,
        latest_id,
        status,
        progress,
        comment,
        cause,
        latest_at,
        _streak,
    ) = row[:15]
    return ItemRisk(  # positional: measurably faster at 50,000 items
        item_id,
        code,
        title_kk,
        title_ru,
        department_id,
        deadline,
        item_year,
        facts,
        reasons,
        risk_state(reasons, status) if reasons else _NO_RISK,
        thresholds,
        dismissed,
        latest_id,
        status,
        progress,
        comment,
        cause,
        _as_utc(latest_at),
    )


def _flat_cutoff(today: date, year: int | None, thresholds: RiskThresholds) -> date | None:
    """Deadlines before this day may be in their last stretch (the flat rule's window).

    The remaining fraction is smallest when the item starts on 1 January, so
    (deadline - today) < f * (deadline - 1 January) is necessary; solved for the deadline it
    is a date, and the database skips the flat lookup for every later deadline.
    """
    fraction = thresholds.flat_remaining_fraction
    if year is None or fraction >= 1:
        return None
    elapsed = (today - date(year, 1, 1)).days
    return today + timedelta(days=int(fraction * elapsed / (1 - fraction)) + 1)


def _items_with_newest_update(
    item_filter: list[Any],
    thresholds: RiskThresholds,
    until: datetime | None,
    flat_cutoff: date | None,
    *,
    lateral: bool,
) -> Any:
    """Items joined to their newest update through an index lookup per item, plus how many of
    the newest `flat_rounds` updates repeat it as "on track" (asked only when it may matter).

    PostgreSQL gets a LATERAL join (otherwise its planner hashes the whole update table);
    SQLite, which has no LATERAL, joins on a correlated subquery for the newest id.
    """

    def newest_first(query: Any, table: Any) -> Any:
        query = query.where(table.item_id == RoadmapItem.id)
        if until is not None:
            query = query.where(table.created_at < until)
        return query.order_by(col(table.created_at).desc(), col(table.id).desc())

    if lateral:
        newest: Any = newest_first(select(StatusUpdate), StatusUpdate).limit(1).lateral("newest")
        latest = newest.c
        select_from = _table(RoadmapItem).outerjoin(newest, sa.true())
    else:
        newer = aliased(StatusUpdate)
        newest_id = (
            newest_first(select(newer.id), newer).limit(1).correlate(RoadmapItem).scalar_subquery()
        )
        latest = _table(StatusUpdate).c
        select_from = _table(RoadmapItem).outerjoin(_table(StatusUpdate), latest.id == newest_id)
    recent = aliased(StatusUpdate)
    newest_few = (
        # A corrected report and its correction are one answer: the original is not counted.
        newest_first(select(recent.status, recent.progress), recent)
        .where(col(recent.corrected).is_(False))
        .limit(max(thresholds.flat_rounds, 1))
        .correlate(RoadmapItem)
        .subquery()
    )
    streak = (
        select(func.count())
        .select_from(newest_few)
        .where(newest_few.c.status == ItemStatus.ON_TRACK, newest_few.c.progress == latest.progress)
        .correlate_except(newest_few)
        .scalar_subquery()
    )
    may_be_flat = [latest.status == ItemStatus.ON_TRACK]
    if flat_cutoff is not None:
        may_be_flat.append(col(RoadmapItem.deadline) < flat_cutoff)
    return (
        sa.select(  # more columns than sqlmodel's typed select() takes
            col(RoadmapItem.id),
            col(RoadmapItem.code),
            col(RoadmapItem.title_kk),
            col(RoadmapItem.title_ru),
            col(RoadmapItem.department_id),
            col(RoadmapItem.deadline),
            col(RoadmapItem.year),
            type_coerce(RoadmapItem.created_at, sa.DateTime()).label("item_created_at"),
            latest.id.label("update_id"),
            latest.status,
            latest.progress,
            latest.comment,
            latest.cause,
            type_coerce(latest.created_at, sa.DateTime()).label("update_created_at"),
            case((and_(*may_be_flat), streak), else_=literal(0)),
        )
        .select_from(select_from)
        .where(*item_filter)
    )


def _done_counted(items: Any, item_filter: list[Any]) -> Any:
    """The items whose newest update is not "done" (or that have none), then one row per
    department (no item id) with its number of items in the last column.

    One statement, so the counts and the rows come from the same snapshot of the database: a
    department's done items are exactly its count less its rows.
    """
    latest_status = items.selected_columns.status
    rows = items.where(latest_status.is_distinct_from(ItemStatus.DONE)).add_columns(
        sa.null().label("department_items")
    )
    width = len(items.selected_columns)
    counts = (
        sa.select(
            *(sa.null() for _ in range(_DEPARTMENT)),
            col(RoadmapItem.department_id),
            *(sa.null() for _ in range(width - _DEPARTMENT - 1)),
            func.count().label("department_items"),
        )
        .where(*item_filter)
        .group_by(col(RoadmapItem.department_id))
    )
    return sa.union_all(rows, counts)


async def _postponements(
    session: AsyncSession, item_ids: Any, until: datetime | None
) -> dict[int, tuple[int, datetime | None]]:
    """Per item: how many times its deadline was moved later, and when it last was."""
    statement = select(
        DeadlineChange.item_id, func.count(), func.max(DeadlineChange.changed_at)
    ).where(
        col(DeadlineChange.item_id).in_(item_ids),
        col(DeadlineChange.new_deadline) > col(DeadlineChange.old_deadline),
    )
    if until is not None:
        statement = statement.where(DeadlineChange.changed_at < until)
    statement = statement.group_by(col(DeadlineChange.item_id))
    rows = (await session.exec(statement)).all()
    return {item_id: (count, _utc(last)) for item_id, count, last in rows}


async def _recent_requests(
    session: AsyncSession, rounds: int, until: datetime | None
) -> dict[int, list[tuple[datetime, bool]]]:
    """Per department: its newest `rounds` round requests, newest first, and whether each is
    still unanswered (as of `until`)."""
    if rounds <= 0:
        return {}
    rank = (
        func.row_number()
        .over(
            partition_by=col(RoundRequest.department_id),
            order_by=(col(RoundRequest.requested_at).desc(), col(RoundRequest.id).desc()),
        )
        .label("rn")
    )
    answered = RoundRequest.answered_at.is_not(None)  # type: ignore[union-attr]
    if until is not None:
        answered = and_(answered, col(RoundRequest.answered_at) < until)
    ranked_query = select(
        RoundRequest.department_id,
        RoundRequest.requested_at,
        case((answered, literal(0)), else_=literal(1)).label("open"),
        rank,
    )
    ranked_query = ranked_query.where(col(RoundRequest.excused).is_(False))  # all were away
    if until is not None:
        ranked_query = ranked_query.where(RoundRequest.requested_at < until)
    ranked = ranked_query.subquery()
    statement = (
        select(ranked.c.department_id, ranked.c.requested_at, ranked.c.open)
        .where(ranked.c.rn <= rounds)
        .order_by(ranked.c.department_id, ranked.c.rn)
    )
    result: dict[int, list[tuple[datetime, bool]]] = {}
    for dept, requested, unanswered in (await session.exec(statement)).all():
        result.setdefault(dept, []).append((_utc(requested), bool(unanswered)))
    return result


async def _dismissals(
    session: AsyncSession, item_ids: Any, until: datetime | None
) -> dict[int, list[tuple[str, str]]]:
    statement = select(
        RiskDismissal.item_id, RiskDismissal.reason, RiskDismissal.item_fingerprint
    ).where(col(RiskDismissal.item_id).in_(item_ids))
    if until is not None:
        statement = statement.where(RiskDismissal.created_at < until)
    result: dict[int, list[tuple[str, str]]] = {}
    for item_id, reason, stamp in (await session.exec(statement)).all():
        result.setdefault(item_id, []).append((reason, stamp))
    return result


async def at_risk_counts(
    session: AsyncSession,
    *,
    days: list[date],
    year: int | None,
    thresholds: RiskThresholds,
    tz: tzinfo,
) -> list[int]:
    """How many items were at risk at the end of each day, from what was known then."""
    counts = []
    for day in days:
        risks = await assess_items(
            session, today=day, year=year, thresholds=thresholds, tz=tz, as_of_history=True
        )
        counts.append(sum(1 for risk in risks.values() if risk.at_risk))
    return counts


async def note_stated_days(session: AsyncSession, risks: Collection[ItemRisk], tz: tzinfo) -> None:
    """Fill each declared item's `stated_on`: the day of the report that declared it, which a
    later "no change" confirmation does not replace (only the views that show it ask)."""
    declared = [risk for risk in risks if RiskReason.DECLARED in risk.reasons]
    stated = await queries.last_real_reports(session, [risk.item_id for risk in declared])
    for risk in declared:
        moment = stated.get(risk.item_id)
        if moment is not None:
            risk.stated_on = _utc(moment).astimezone(tz).date()


async def assess_item(
    session: AsyncSession,
    *,
    item_id: int,
    year: int,
    today: date,
    thresholds: RiskThresholds,
    tz: tzinfo,
) -> ItemRisk | None:
    """One item's assessment: the same numbers every view of its year shows (a row is judged
    on its own facts; its forecast's pools still come from the whole year)."""
    risks = await assess_items(
        session,
        today=today,
        year=year,
        thresholds=thresholds,
        tz=tz,
        item_ids=[item_id],
        forecasts=[item_id],
    )
    risk = risks.get(item_id)
    if risk is not None:
        await note_stated_days(session, [risk], tz)
    return risk
