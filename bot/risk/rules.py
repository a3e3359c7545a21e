"""The risk rules: which Road Map items will not be met, and why, as plain functions.

The rules read `ItemFacts` (what the database aggregated for one item) and a day, so each can
be tested without a database; they import neither aiogram nor the database.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from bot.risk.forecast import Forecast, unlikely


class RiskReason(StrEnum):
    DECLARED = "declared"
    OVERDUE = "overdue"
    STALE = "stale"
    BEHIND_PLAN = "behind_plan"
    FLAT = "flat"
    DEADLINE_MOVED = "deadline_moved"
    FORECAST_LATE = "forecast_late"


# What the department said and what the calendar says are facts; the rest are estimates the
# secretariat may overrule with an explanation.
DISMISSIBLE_REASONS = frozenset(
    {
        RiskReason.STALE,
        RiskReason.BEHIND_PLAN,
        RiskReason.FLAT,
        RiskReason.DEADLINE_MOVED,
        RiskReason.FORECAST_LATE,
    }
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
    # "forecast: late" when the chance to meet the deadline is below this; 0 turns it off.
    forecast_probability: float = 0.0
    # A deadline moved by the council's decision is information; it becomes a risk reason
    # only from this many postponements (0: never by count), or when it was moved after the
    # department had declared the item at risk.
    postponements: int = 2

    @property
    def forecasts_judged(self) -> bool:
        return self.forecast_probability > 0


@dataclass(frozen=True, slots=True)
class ItemFacts:
    """What the rules need to know about one item, already aggregated by the database.

    `flat_streak`: how many of the item's newest `flat_rounds` updates say "on track" with the
    newest update's progress (left 0 when the deadline is too far for the flat rule).
    `missed_requests`: the days of the unanswered requests among the department's newest
    `missed_rounds` round requests made since the item was added. `created`: the day the item
    was added or imported. `forecast`: its completion forecast, when one was asked for.
    """

    deadline: date
    start: date
    latest_status: str | None = None
    latest_progress: int | None = None
    latest_day: date | None = None
    flat_streak: int = 0
    postponements: int = 0
    missed_requests: tuple[date, ...] = ()
    created: date | None = None
    forecast: Forecast | None = None
    postponed_on: date | None = None  # the day of the newest postponement

    @property
    def unanswered_rounds(self) -> int:
        return len(self.missed_requests)

    @property
    def quiet_since(self) -> date:
        """The day staleness counts from: the later of the last update and the day the item was
        added; an item never reported counts from `start` (nobody reports ahead of its year)."""
        if self.latest_day is None:
            return self.start
        added = self.created or self.latest_day
        return added if added > self.latest_day else self.latest_day


# The values of the database's item statuses (tests/unit/test_risk_rules.py keeps them equal): the
# rules import no database code.
DONE, ON_TRACK, AT_RISK, BLOCKED = "done", "on_track", "at_risk", "blocked"
_DONE_STATUS = DONE
_DECLARED_STATUSES = frozenset({AT_RISK, BLOCKED})


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


def is_item_overdue(
    deadline: date, latest_status: str | None, today: date, *, archived: bool = False
) -> bool:
    """The overdue rule for one item as a table row holds it (an archived item never is)."""
    facts = ItemFacts(deadline=deadline, start=deadline, latest_status=latest_status)
    return not archived and is_overdue(facts, today)


def days_without_update(facts: ItemFacts, today: date) -> int:
    """Days since the newest update or since the item was added, whichever is later; never
    negative (an item added in advance of its year is not "late" yet)."""
    return max(0, (today - facts.quiet_since).days)


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
    if rounds <= 0 or facts.flat_streak < rounds or facts.latest_status != ON_TRACK:
        return False
    if (facts.latest_progress or 0) >= 100:
        return False
    left = remaining_fraction(facts.start, facts.deadline, today)
    return left < thresholds.flat_remaining_fraction


def is_forecast_late(facts: ItemFacts, today: date, thresholds: RiskThresholds) -> bool:
    """The forecast, from the item's own pace (at least 5 weeks of it: borrowed gains are
    shown, not judged by), gives less than the configured chance to meet a deadline still
    ahead; a stall near the end counts as its own pace."""
    found = facts.forecast
    if found is None or facts.deadline < today:
        return False
    return unlikely(found, thresholds.forecast_probability)


def is_deadline_moved(facts: ItemFacts, thresholds: RiskThresholds | None = None) -> bool:
    """Postponed often enough to worry (`thresholds.postponements` times), or postponed after
    the department declared the item at risk; a single move is the council's decision."""
    if facts.postponements <= 0:
        return False
    limit = (thresholds or RiskThresholds()).postponements
    if limit > 0 and facts.postponements >= limit:
        return True
    return (
        is_declared(facts)
        and facts.postponed_on is not None
        and facts.latest_day is not None
        and facts.postponed_on >= facts.latest_day
    )


def risk_reasons(facts: ItemFacts, today: date, thresholds: RiskThresholds) -> list[RiskReason]:
    """Every reason that applies, in a fixed order; a done item has none."""
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
    if is_deadline_moved(facts, thresholds):
        reasons.append(_DEADLINE_MOVED)
    if facts.forecast is not None and is_forecast_late(facts, today, thresholds):
        reasons.append(_FORECAST_LATE)
    return reasons


# Looked up once: enum attribute access costs a little on each of 50,000 items.
_DECLARED, _OVERDUE, _STALE = RiskReason.DECLARED, RiskReason.OVERDUE, RiskReason.STALE
_BEHIND_PLAN, _FLAT = RiskReason.BEHIND_PLAN, RiskReason.FLAT
_DEADLINE_MOVED, _FORECAST_LATE = RiskReason.DEADLINE_MOVED, RiskReason.FORECAST_LATE


def risk_state(reasons: Iterable[RiskReason], latest_status: str | None) -> RiskState:
    reasons = set(reasons)
    if not reasons:
        return RiskState.NONE
    if RiskReason.OVERDUE in reasons:
        return RiskState.OVERDUE
    if RiskReason.DECLARED in reasons and latest_status == BLOCKED:
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
    thresholds: RiskThresholds
    dismissed: list[RiskReason] = field(default_factory=list)
    latest_update_id: int | None = None
    latest_status: str | None = None
    latest_progress: int | None = None
    latest_comment: str | None = None
    latest_cause: str | None = None
    latest_at: datetime | None = None
    # The day the latest status was stated, when later reports only confirmed it ("no change");
    # filled by the views that show it (the card, /dept, an alert), None elsewhere.
    stated_on: date | None = None

    @property
    def at_risk(self) -> bool:
        return bool(self.reasons)

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.latest_update_id, self.deadline, self.department_id)

    @property
    def reported(self) -> bool:
        return self.latest_update_id is not None

    @property
    def forecast(self) -> Forecast | None:
        return self.facts.forecast


def parse_reason(text: str) -> RiskReason | None:
    """A reason as typed after /dismiss: its code, e.g. `stale` or `behind-plan`."""
    normalized = text.strip().lower().replace("-", "_")
    try:
        return RiskReason(normalized)
    except ValueError:
        return None
