"""Each risk rule on its own, as a pure function of an item's facts, at its edges."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from bot.risk.rules import (
    ItemFacts,
    RiskReason,
    RiskState,
    RiskThresholds,
    fingerprint,
    is_behind_plan,
    is_deadline_moved,
    is_declared,
    is_flat,
    is_overdue,
    is_stale,
    parse_reason,
    planned_progress,
    remaining_fraction,
    risk_reasons,
    risk_state,
)

TODAY = date(2025, 6, 1)
T = RiskThresholds()
# An item running from 1 January to 31 December, reported on track yesterday at a fair 45 %.
HEALTHY = ItemFacts(
    deadline=date(2025, 12, 31),
    start=date(2025, 1, 1),
    latest_status="on_track",
    latest_progress=45,
    latest_day=date(2025, 5, 31),
    flat_streak=1,
)


def test_a_healthy_item_has_no_reasons() -> None:
    assert risk_reasons(HEALTHY, TODAY, T) == []
    assert risk_state([], "on_track") == RiskState.NONE


@pytest.mark.parametrize(
    ("status", "expected"),
    [("at_risk", True), ("blocked", True), ("on_track", False), ("done", False), (None, False)],
)
def test_declared_follows_the_newest_update(status: str | None, expected: bool) -> None:
    assert is_declared(replace(HEALTHY, latest_status=status)) is expected


def test_overdue_starts_the_day_after_the_deadline_and_never_for_done_items() -> None:
    on_the_day = replace(HEALTHY, deadline=TODAY)
    assert not is_overdue(on_the_day, TODAY)
    assert is_overdue(on_the_day, date(2025, 6, 2))
    assert is_overdue(replace(on_the_day, latest_status=None), date(2025, 6, 2))
    done = replace(on_the_day, latest_status="done", latest_progress=100)
    assert not is_overdue(done, date(2025, 6, 2))
    assert risk_reasons(done, date(2026, 1, 1), T) == []


def test_stale_after_fourteen_days_without_an_update() -> None:
    assert not is_stale(replace(HEALTHY, latest_day=date(2025, 5, 19)), TODAY, T)  # 13 days
    assert is_stale(replace(HEALTHY, latest_day=date(2025, 5, 18)), TODAY, T)  # 14 days
    assert is_stale(replace(HEALTHY, latest_day=date(2025, 5, 28)), TODAY, RiskThresholds(3))


def test_stale_counts_from_the_start_when_nobody_reported() -> None:
    never = ItemFacts(deadline=date(2025, 12, 31), start=date(2025, 5, 20))
    assert not is_stale(never, TODAY, T)  # started 12 days ago
    assert is_stale(replace(never, start=date(2025, 5, 18)), TODAY, T)
    # Nothing reported is not "behind plan": there is no reported progress to compare.
    assert not is_behind_plan(replace(never, start=date(2025, 1, 1)), TODAY, T)


def test_stale_when_the_last_two_rounds_went_unanswered() -> None:
    assert not is_stale(replace(HEALTHY, missed_requests=(date(2025, 5, 26),)), TODAY, T)
    assert is_stale(
        replace(HEALTHY, missed_requests=(date(2025, 5, 26), date(2025, 5, 19))), TODAY, T
    )
    assert not is_stale(
        replace(HEALTHY, missed_requests=(date(2025, 5, 26), date(2025, 5, 19))),
        TODAY,
        RiskThresholds(missed_rounds=3),
    )


def test_planned_progress_is_a_straight_line_clamped_to_0_100() -> None:
    start, deadline = date(2025, 1, 1), date(2025, 1, 11)
    assert planned_progress(start, deadline, date(2025, 1, 6)) == 50
    assert planned_progress(start, deadline, date(2024, 12, 1)) == 0
    assert planned_progress(start, deadline, date(2025, 2, 1)) == 100
    assert planned_progress(deadline, deadline, deadline) == 100  # no time at all
    assert remaining_fraction(start, deadline, date(2025, 1, 9)) == pytest.approx(0.2)
    assert remaining_fraction(start, deadline, date(2025, 3, 1)) == 0


def test_behind_plan_is_more_than_25_points_below_the_line() -> None:
    # 1 Jan → 11 Jan: on 6 January the line stands at 50 %.
    facts = replace(HEALTHY, start=date(2025, 1, 1), deadline=date(2025, 1, 11))
    day = date(2025, 1, 6)
    assert not is_behind_plan(replace(facts, latest_progress=25), day, T)  # exactly 25 below
    assert is_behind_plan(replace(facts, latest_progress=24), day, T)
    assert not is_behind_plan(replace(facts, latest_progress=24), day, RiskThresholds(30, 2, 30))


def test_flat_needs_three_equal_on_track_reports_in_the_last_third() -> None:
    flat = replace(
        HEALTHY,
        start=date(2025, 1, 1),
        deadline=date(2025, 7, 1),
        flat_streak=3,
        latest_progress=60,
    )
    assert is_flat(flat, TODAY, T)  # 30 of 181 days left
    assert not is_flat(flat, date(2025, 4, 1), T)  # more than a third left
    assert not is_flat(replace(flat, flat_streak=2), TODAY, T)  # it moved, or one was at risk
    assert not is_flat(replace(flat, latest_status="at_risk"), TODAY, T)
    assert not is_flat(replace(flat, latest_progress=100), TODAY, T)
    assert is_flat(replace(flat, flat_streak=2), TODAY, RiskThresholds(flat_rounds=2))
    assert not is_flat(replace(flat, flat_streak=5), TODAY, RiskThresholds(flat_rounds=0))


def test_deadline_moved_counts_postponements_only() -> None:
    # Issue 23: one move is the council's decision (information); the rule asks for
    # RISK_POSTPONEMENTS moves (2 by default), or a move after a declared risk.
    assert not is_deadline_moved(HEALTHY)
    assert not is_deadline_moved(replace(HEALTHY, postponements=1))
    assert is_deadline_moved(replace(HEALTHY, postponements=2))
    assert is_deadline_moved(replace(HEALTHY, postponements=1), RiskThresholds(postponements=1))
    assert not is_deadline_moved(replace(HEALTHY, postponements=5), RiskThresholds(postponements=0))


def test_a_move_after_a_declared_risk_is_a_reason() -> None:
    declared = replace(HEALTHY, latest_status="at_risk", latest_day=date(2025, 5, 31))
    assert is_deadline_moved(replace(declared, postponements=1, postponed_on=date(2025, 6, 2)))
    assert not is_deadline_moved(replace(declared, postponements=1, postponed_on=date(2025, 5, 1)))
    assert not is_deadline_moved(replace(HEALTHY, postponements=1, postponed_on=date(2025, 6, 2)))


def test_reasons_come_in_a_fixed_order_and_give_the_state() -> None:
    facts = replace(
        HEALTHY,
        deadline=date(2025, 5, 1),
        latest_status="blocked",
        latest_progress=10,
        latest_day=date(2025, 4, 1),
        postponements=2,
    )
    reasons = risk_reasons(facts, TODAY, T)
    assert reasons == [
        RiskReason.DECLARED,
        RiskReason.OVERDUE,
        RiskReason.STALE,
        RiskReason.BEHIND_PLAN,
        RiskReason.DEADLINE_MOVED,
    ]
    assert risk_state(reasons, "blocked") == RiskState.OVERDUE
    assert risk_state([RiskReason.DECLARED], "blocked") == RiskState.BLOCKED
    assert risk_state([RiskReason.DECLARED], "at_risk") == RiskState.AT_RISK
    assert risk_state([RiskReason.STALE], "on_track") == RiskState.AT_RISK


def test_fingerprint_and_reason_parsing() -> None:
    assert fingerprint(7, date(2025, 9, 1), 3) != fingerprint(8, date(2025, 9, 1), 3)
    assert fingerprint(None, date(2025, 9, 1), 3) == "0|2025-09-01|3"
    assert parse_reason("Behind-Plan") == RiskReason.BEHIND_PLAN
    assert parse_reason("stale") == RiskReason.STALE
    assert parse_reason("late") is None


def test_the_rules_know_the_database_statuses_and_import_no_framework() -> None:
    import ast
    from pathlib import Path

    from bot.risk import rules
    from db.models import ItemStatus

    assert (rules.DONE, rules.ON_TRACK, rules.AT_RISK, rules.BLOCKED) == (
        ItemStatus.DONE,
        ItemStatus.ON_TRACK,
        ItemStatus.AT_RISK,
        ItemStatus.BLOCKED,
    )
    tree = ast.parse(Path(rules.__file__).read_text(encoding="utf-8"))
    imported = {
        name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for name in (
            [node.module or ""]
            if isinstance(node, ast.ImportFrom)
            else [a.name for a in node.names]
        )
    }
    assert not {
        name
        for name in imported
        if name.split(".")[0] in {"aiogram", "db", "sqlalchemy", "sqlmodel"}
    }
