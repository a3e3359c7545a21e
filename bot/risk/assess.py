"""The at-risk engine: which Road Map items will not be met, and why.

The rules are plain functions over `ItemFacts`, so each can be tested without a database.
`assess_items` gathers the facts for every item of a year with a handful of aggregate
queries (the newest updates per item through a window function, postponement counts, the
departments' newest round requests) and never walks the status history row by row in Python.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from aiogram.utils.i18n import gettext as _
from sqlalchemy import and_, case, func, literal, type_coerce
from sqlalchemy.orm import aliased
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.app.config import Settings
from db import queries
from db.models import (
    DeadlineChange,
    ItemStatus,
    Person,
    RiskDismissal,
    RoadmapItem,
    RoundRequest,
    StatusUpdate,
)

DEFAULT_TZ = ZoneInfo("Asia/Almaty")


class RiskReason(StrEnum):
    DECLARED = "declared"
    OVERDUE = "overdue"
    STALE = "stale"
    BEHIND_PLAN = "behind_plan"
    FLAT = "flat"
    DEADLINE_MOVED = "deadline_moved"


# What the department said and what the calendar says are facts; the rest are estimates the
# secretariat may overrule with an explanation.
DISMISSIBLE_REASONS = frozenset(
    {RiskReason.STALE, RiskReason.BEHIND_PLAN, RiskReason.FLAT, RiskReason.DEADLINE_MOVED}
)


class RiskState(StrEnum):
    """The level a chair alert is about; a move to a higher level is a new alert."""

    NONE = "none"
    AT_RISK = "at_risk"
    BLOCKED = "blocked"
    OVERDUE = "overdue"


SEVERITY: dict[str, int] = {
    RiskState.NONE: 0,
    RiskState.AT_RISK: 1,
    RiskState.BLOCKED: 2,
    RiskState.OVERDUE: 3,
}


@dataclass(frozen=True)
class RiskThresholds:
    stale_days: int = 14
    missed_rounds: int = 2
    behind_plan_points: int = 25
    flat_rounds: int = 3
    flat_remaining_fraction: float = 1 / 3

    @classmethod
    def from_settings(cls, settings: Settings) -> RiskThresholds:
        return cls(
            stale_days=settings.risk_stale_days,
            missed_rounds=settings.risk_missed_rounds,
            behind_plan_points=settings.risk_behind_plan_points,
            flat_rounds=settings.risk_flat_rounds,
            flat_remaining_fraction=settings.risk_flat_remaining_fraction,
        )


@dataclass(frozen=True, slots=True)
class ItemFacts:
    """What the rules need to know about one item, already aggregated by the database.

    `flat_streak`: how many of the item's newest `flat_rounds` updates say "on track" with the
    newest update's progress (left 0 when the deadline is too far for the flat rule).
    `unanswered_rounds`: unanswered requests among the department's newest `missed_rounds`
    round requests.
    """

    deadline: date
    start: date
    latest_status: str | None = None
    latest_progress: int | None = None
    latest_day: date | None = None
    flat_streak: int = 0
    postponements: int = 0
    unanswered_rounds: int = 0


_DONE_STATUS = str(ItemStatus.DONE)
_DECLARED_STATUSES = frozenset({str(ItemStatus.AT_RISK), str(ItemStatus.BLOCKED)})


def planned_progress(start: date, deadline: date, today: date) -> float:
    """Where a straight line from start (0 %) to deadline (100 %) stands today."""
    total = (deadline - start).days
    if total <= 0:
        return 100.0 if today >= deadline else 0.0
    elapsed = (today - start).days
    return min(100.0, max(0.0, 100.0 * elapsed / total))


def remaining_fraction(start: date, deadline: date, today: date) -> float:
    total = (deadline - start).days
    if total <= 0:
        return 0.0
    return max(0.0, (deadline - today).days / total)


def is_declared(facts: ItemFacts) -> bool:
    return facts.latest_status in _DECLARED_STATUSES


def is_overdue(facts: ItemFacts, today: date) -> bool:
    return facts.deadline < today and facts.latest_status != _DONE_STATUS


def days_without_update(facts: ItemFacts, today: date) -> int:
    """Days since the newest update, or since the item's start when nobody reported yet."""
    return (today - (facts.latest_day or facts.start)).days


def is_stale(facts: ItemFacts, today: date, thresholds: RiskThresholds) -> bool:
    if days_without_update(facts, today) >= thresholds.stale_days:
        return True
    return thresholds.missed_rounds > 0 and facts.unanswered_rounds >= thresholds.missed_rounds


def is_behind_plan(facts: ItemFacts, today: date, thresholds: RiskThresholds) -> bool:
    if facts.latest_progress is None:  # nothing reported: the stale rule speaks for it
        return False
    expected = planned_progress(facts.start, facts.deadline, today)
    return expected - facts.latest_progress > thresholds.behind_plan_points


def is_flat(facts: ItemFacts, today: date, thresholds: RiskThresholds) -> bool:
    """Reported "on track" for N rounds running without moving, with little time left."""
    rounds = thresholds.flat_rounds
    if rounds <= 0 or facts.flat_streak < rounds or facts.latest_status != ItemStatus.ON_TRACK:
        return False
    if (facts.latest_progress or 0) >= 100:
        return False
    left = remaining_fraction(facts.start, facts.deadline, today)
    return left < thresholds.flat_remaining_fraction


def is_deadline_moved(facts: ItemFacts) -> bool:
    return facts.postponements > 0


def risk_reasons(
    facts: ItemFacts, today: date, thresholds: RiskThresholds | None = None
) -> list[RiskReason]:
    """Every reason that applies, in a fixed order; a done item has none."""
    thresholds = thresholds or _DEFAULT_THRESHOLDS
    if facts.latest_status == _DONE_STATUS:
        return []
    reasons = []
    if is_declared(facts):
        reasons.append(_DECLARED)
    if is_overdue(facts, today):
        reasons.append(_OVERDUE)
    if is_stale(facts, today, thresholds):
        reasons.append(_STALE)
    if is_behind_plan(facts, today, thresholds):
        reasons.append(_BEHIND_PLAN)
    if is_flat(facts, today, thresholds):
        reasons.append(_FLAT)
    if is_deadline_moved(facts):
        reasons.append(_DEADLINE_MOVED)
    return reasons


# Looked up once: enum attribute access costs a little on each of 50,000 items.
_DECLARED, _OVERDUE, _STALE = RiskReason.DECLARED, RiskReason.OVERDUE, RiskReason.STALE
_BEHIND_PLAN, _FLAT = RiskReason.BEHIND_PLAN, RiskReason.FLAT
_DEADLINE_MOVED = RiskReason.DEADLINE_MOVED
_DEFAULT_THRESHOLDS = RiskThresholds()


def risk_state(reasons: Iterable[RiskReason], latest_status: str | None) -> RiskState:
    reasons = set(reasons)
    if not reasons:
        return RiskState.NONE
    if RiskReason.OVERDUE in reasons:
        return RiskState.OVERDUE
    if RiskReason.DECLARED in reasons and latest_status == ItemStatus.BLOCKED:
        return RiskState.BLOCKED
    return RiskState.AT_RISK


def fingerprint(latest_update_id: int | None, deadline: date, department_id: int) -> str:
    """The item's data a dismissal was given for; any change revives the dismissed reason."""
    return f"{latest_update_id or 0}|{deadline.isoformat()}|{department_id}"


@dataclass(slots=True)
class ItemRisk:
    """One item's assessment: its reasons (after dismissals) and what it last reported."""

    item_id: int
    code: str
    title_kk: str
    title_ru: str
    department_id: int
    deadline: date
    year: int
    facts: ItemFacts
    reasons: list[RiskReason]
    state: RiskState
    dismissed: list[RiskReason] = field(default_factory=list)
    latest_update_id: int | None = None
    latest_status: str | None = None
    latest_progress: int | None = None
    latest_comment: str | None = None
    latest_cause: str | None = None
    latest_at: datetime | None = None

    @property
    def at_risk(self) -> bool:
        return bool(self.reasons)

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.latest_update_id, self.deadline, self.department_id)

    @property
    def reported(self) -> bool:
        return self.latest_update_id is not None


def _end_of_day(day: date, tz: tzinfo) -> datetime:
    return datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz)


async def assess_items(
    session: AsyncSession,
    *,
    today: date,
    year: int | None = None,
    thresholds: RiskThresholds | None = None,
    tz: tzinfo = DEFAULT_TZ,
    as_of_history: bool = False,
) -> dict[int, ItemRisk]:
    """Every non-archived item of the year (all years when None), keyed by item id.

    Items with an empty `reasons` list are not at risk. With `as_of_history`, only what was
    known at the end of `today` counts (for week-by-week charts); deadlines stay current.
    """
    thresholds = thresholds or RiskThresholds()
    until = _end_of_day(today, tz) if as_of_history else None
    item_filter = [col(RoadmapItem.archived).is_(False)]
    if year is not None:
        item_filter.append(RoadmapItem.year == year)
    if until is not None:
        item_filter.append(RoadmapItem.created_at < until)
    item_ids = select(RoadmapItem.id).where(*item_filter)

    connection = await session.connection()
    postgres = connection.dialect.name == "postgresql"
    if postgres:
        # Compiling this one read to machine code costs more than running it.
        await connection.execute(sa.text("SET LOCAL jit = off"))
    statement = _items_with_newest_update(
        item_filter, thresholds, until, _flat_cutoff(today, year, thresholds), lateral=postgres
    )
    # Core execution: plain rows, without the ORM's per-row loading work.
    result = await connection.execute(statement)  # buffered: .all() below does no I/O
    with _collector_paused():
        rows = result.all()
    if not rows:
        return {}
    postponed = await _postponements(session, item_ids, until)
    unanswered = await _unanswered_rounds(session, thresholds.missed_rounds, until)
    dismissals = await _dismissals(session, item_ids, until)

    with _collector_paused():
        return _assess_rows(rows, today, thresholds, tz, postponed, unanswered, dismissals)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Building tens of thousands of small objects at once triggers the cyclic garbage
    collector over and over (half the time at 50,000 items); none of them form cycles."""
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


_MISSING = object()
_NO_RISK = RiskState.NONE


def _assess_rows(
    rows: Sequence[Any],
    today: date,
    thresholds: RiskThresholds,
    tz: tzinfo,
    postponed: dict[int, int],
    unanswered: dict[int, int],
    dismissals: dict[int, list[tuple[str, str]]],
) -> dict[int, ItemRisk]:
    result: dict[int, ItemRisk] = {}
    year_starts: dict[int, date] = {}
    day_of = _day_reader(tz)
    for row in rows:
        (
            item_id,
            code,
            title_kk,
            title_ru,
            department_id,
            deadline,
            item_year,
            created,
            latest_id,
            status,
            progress,
            comment,
            cause,
            latest_at,
            streak,
        ) = row
        year_start = year_starts.get(item_year)
        if year_start is None:
            year_start = year_starts[item_year] = date(item_year, 1, 1)
        created_day: date = day_of(created)  # type: ignore[assignment]
        facts = ItemFacts(
            deadline,
            created_day if created_day > year_start else year_start,
            status,
            progress,
            day_of(latest_at),
            streak or 0,
            postponed.get(item_id, 0),
            unanswered.get(department_id, 0),
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
        result[item_id] = ItemRisk(  # positional: measurably faster at 50,000 items
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
            dismissed,
            latest_id,
            status,
            progress,
            comment,
            cause,
            _as_utc(latest_at),
        )
    return result


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
        select_from = RoadmapItem.__table__.outerjoin(newest, sa.true())
    else:
        newer = aliased(StatusUpdate)
        newest_id = (
            newest_first(select(newer.id), newer).limit(1).correlate(RoadmapItem).scalar_subquery()
        )
        latest = StatusUpdate.__table__.c
        select_from = RoadmapItem.__table__.outerjoin(
            StatusUpdate.__table__, latest.id == newest_id
        )
    recent = aliased(StatusUpdate)
    newest_few = (
        newest_first(select(recent.status, recent.progress), recent)
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
        select(
            RoadmapItem.id,
            RoadmapItem.code,
            RoadmapItem.title_kk,
            RoadmapItem.title_ru,
            RoadmapItem.department_id,
            RoadmapItem.deadline,
            RoadmapItem.year,
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


async def _postponements(
    session: AsyncSession, item_ids: Any, until: datetime | None
) -> dict[int, int]:
    statement = select(DeadlineChange.item_id, func.count()).where(
        col(DeadlineChange.item_id).in_(item_ids),
        col(DeadlineChange.new_deadline) > col(DeadlineChange.old_deadline),
    )
    if until is not None:
        statement = statement.where(DeadlineChange.changed_at < until)
    statement = statement.group_by(DeadlineChange.item_id)
    return {item_id: count for item_id, count in (await session.exec(statement)).all()}


async def _unanswered_rounds(
    session: AsyncSession, rounds: int, until: datetime | None
) -> dict[int, int]:
    """Per department: unanswered requests among its newest `rounds` round requests."""
    if rounds <= 0:
        return {}
    rank = (
        func.row_number()
        .over(
            partition_by=RoundRequest.department_id,
            order_by=(col(RoundRequest.requested_at).desc(), col(RoundRequest.id).desc()),
        )
        .label("rn")
    )
    answered = RoundRequest.answered_at.is_not(None)  # type: ignore[union-attr]
    if until is not None:
        answered = and_(answered, col(RoundRequest.answered_at) < until)
    ranked_query = select(
        RoundRequest.department_id,
        case((answered, literal(0)), else_=literal(1)).label("open"),
        rank,
    )
    ranked_query = ranked_query.where(col(RoundRequest.excused).is_(False))  # all were away
    if until is not None:
        ranked_query = ranked_query.where(RoundRequest.requested_at < until)
    ranked = ranked_query.subquery()
    statement = (
        select(ranked.c.department_id, func.sum(ranked.c.open))
        .where(ranked.c.rn <= rounds)
        .group_by(ranked.c.department_id)
    )
    return {dept: int(count or 0) for dept, count in (await session.exec(statement)).all()}


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
    thresholds: RiskThresholds | None = None,
    tz: tzinfo = DEFAULT_TZ,
) -> list[int]:
    """How many items were at risk at the end of each day, from what was known then."""
    counts = []
    for day in days:
        risks = await assess_items(
            session, today=day, year=year, thresholds=thresholds, tz=tz, as_of_history=True
        )
        counts.append(sum(1 for risk in risks.values() if risk.at_risk))
    return counts


class DismissRefusal(StrEnum):
    UNKNOWN_ITEM = "unknown_item"
    NOT_DISMISSIBLE = "not_dismissible"
    NOT_APPLICABLE = "not_applicable"


class DismissRefusedError(Exception):
    def __init__(self, refusal: DismissRefusal) -> None:
        super().__init__(refusal)
        self.refusal = refusal


async def dismiss_reason(
    session: AsyncSession,
    *,
    actor: Person,
    item_code: str,
    reason: RiskReason,
    text: str,
    today: date,
    now: datetime,
    thresholds: RiskThresholds | None = None,
    tz: tzinfo = DEFAULT_TZ,
) -> tuple[RoadmapItem, RiskDismissal]:
    """Record that the secretariat overrules a computed reason for the item's current data."""
    if reason not in DISMISSIBLE_REASONS:
        raise DismissRefusedError(DismissRefusal.NOT_DISMISSIBLE)
    item = await queries.item_by_code(session, item_code)
    if item is None or item.archived:
        raise DismissRefusedError(DismissRefusal.UNKNOWN_ITEM)
    risks = await assess_items(session, today=today, year=item.year, thresholds=thresholds, tz=tz)
    risk = risks.get(item.id)  # type: ignore[arg-type]
    if risk is None or reason not in risk.reasons:
        raise DismissRefusedError(DismissRefusal.NOT_APPLICABLE)
    dismissal = RiskDismissal(
        item_id=item.id,  # type: ignore[arg-type]
        reason=reason,
        text=text,
        actor_id=actor.id,
        created_at=now,
        item_fingerprint=risk.fingerprint,
    )
    session.add(dismissal)
    await queries.add_audit(
        session, at=now, action="risk.dismiss", actor=actor, target=item.code, details=reason
    )
    await session.commit()
    return item, dismissal


def reason_label(reason: RiskReason | str) -> str:
    """The reason's short name in the current locale."""
    labels = {
        RiskReason.DECLARED: _("risk declared by the department"),
        RiskReason.OVERDUE: _("overdue"),
        RiskReason.STALE: _("no recent update"),
        RiskReason.BEHIND_PLAN: _("behind plan"),
        RiskReason.FLAT: _("no progress"),
        RiskReason.DEADLINE_MOVED: _("deadline postponed"),
    }
    return labels.get(reason, str(reason))  # type: ignore[call-overload]


def parse_reason(text: str) -> RiskReason | None:
    """A reason as typed after /dismiss: its code, e.g. `stale` or `behind-plan`."""
    normalized = text.strip().lower().replace("-", "_")
    try:
        return RiskReason(normalized)
    except ValueError:
        return None
