"""The completion forecast pinned on hand-computed cases, and its monotonic sense."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from bot.risk.forecast import (
    NOT_ENOUGH,
    Borrowed,
    Outcome,
    Pool,
    WorkingDays,
    _draw_table,
    forecast,
    make_pool,
    may_be_unlikely,
    unlikely,
    weekly_gains,
)
from bot.risk.rules import ItemFacts, RiskReason, RiskThresholds, risk_reasons

MONDAY = date(2025, 1, 6)
START = MONDAY


def weekdays() -> WorkingDays:
    return WorkingDays(lambda day: day.weekday() < 5, date(2024, 12, 1))


def weekly(*progress: int, first: date = date(2025, 1, 13)) -> list[tuple[date, int]]:
    return [(first + timedelta(weeks=week), value) for week, value in enumerate(progress)]


def test_working_days_skip_weekends_and_holidays() -> None:
    calendar = WorkingDays(lambda day: day.weekday() < 5 and day != date(2025, 1, 8), MONDAY)
    assert calendar.index(date(2025, 1, 10)) - calendar.index(MONDAY) == 3  # Mon, Tue, Thu
    assert calendar.day_at(calendar.index(MONDAY) + 2) == date(2025, 1, 9)
    assert calendar.last_index_by(date(2025, 1, 12)) == calendar.index(date(2025, 1, 10))
    assert calendar.index(date(2024, 6, 3)) < calendar.index(MONDAY)  # grows backwards too


def test_steady_pace_hand_computed() -> None:
    """5 points a week from Monday 6 January: 20 % on 3 February after 20 working days, so
    the pace since start finishes after 100 working days, on Monday 26 May; every trial
    draws 5 a week, so 80 points take 16 weeks from 3 February: 26 May again."""
    history = weekly(5, 10, 15, 20)
    assert weekly_gains([(0, 5), (5, 10), (10, 15), (15, 20)]).weekly == (5.0, 5.0, 5.0)
    found = forecast(history, start=START, deadline=date(2025, 5, 26), calendar=weekdays(), seed=1)
    assert found.outcome == Outcome.FORECAST
    assert found.pace_date == date(2025, 5, 26)
    assert (found.p50, found.p85, found.chance) == (date(2025, 5, 26), date(2025, 5, 26), 1.0)
    assert (found.own_gains, found.borrowed, found.setbacks) == (3, Borrowed.NONE, 0)
    day_before = forecast(
        history, start=START, deadline=date(2025, 5, 23), calendar=weekdays(), seed=1
    )
    assert day_before.chance == 0.0 and day_before.p50 == date(2025, 5, 26)


def test_fortnightly_reports_give_weekly_gains_from_the_line_between_them() -> None:
    points = [(0, 0), (10, 20), (20, 30)]  # 20 points in two weeks, then 10 in two weeks
    assert weekly_gains(points).weekly == (5.0, 5.0, 10.0, 10.0)


def test_setbacks_count_as_no_progress_and_are_reported() -> None:
    gains = weekly_gains([(0, 10), (5, 20), (10, 15), (15, 25)])
    assert gains.weekly == (10.0, 0.0, 10.0) and gains.setbacks == 1


def test_not_enough_updates() -> None:
    calendar = weekdays()
    two = weekly(10, 20)
    assert forecast(two, start=START, deadline=date(2025, 6, 1), calendar=calendar, seed=1) is (
        NOT_ENOUGH
    )
    same_week = [(date(2025, 1, 13), 5), (date(2025, 1, 14), 6), (date(2025, 1, 17), 8)]
    found = forecast(same_week, start=START, deadline=date(2025, 6, 1), calendar=calendar, seed=1)
    assert found.outcome == Outcome.NOT_ENOUGH and found.chance is None


def test_stalled_near_the_end_borrows_no_optimism() -> None:
    history = weekly(40, 60, 80, 90, 90, 90)
    found = forecast(history, start=START, deadline=date(2025, 12, 1), calendar=weekdays(), seed=1)
    assert found.outcome == Outcome.STALLED
    assert found.chance == 0.0 and found.p50 is None
    assert found.stalled_since == date(2025, 2, 3)  # the report that reached 90 %
    assert unlikely(found, 0.5)  # a stall is the item's own pace: the rule may judge it
    one_round = weekly(40, 60, 80, 90, 90)
    moving = forecast(
        one_round, start=START, deadline=date(2025, 12, 1), calendar=weekdays(), seed=1
    )
    assert moving.outcome == Outcome.FORECAST  # one round unchanged is not yet a stall
    below = forecast(
        weekly(50, 60, 79, 79, 79),
        start=START,
        deadline=date(2025, 12, 1),
        calendar=weekdays(),
        seed=1,
    )
    assert below.outcome != Outcome.STALLED  # under 80 % the flat rule speaks, not this guard


def test_no_finish_in_sight() -> None:
    flat = weekly(10, 10, 10, 10)
    found = forecast(flat, start=START, deadline=date(2025, 12, 1), calendar=weekdays(), seed=1)
    assert found.outcome == Outcome.NO_FINISH and found.chance == 0.0
    # 1 point in the last 7 weeks: 89 more take 623 weeks, past the two-year horizon; the
    # pace since start (11 % in 40 working days) still finishes after 364 working days.
    crawl = weekly(10, 10, 10, 10, 10, 10, 10, 11)
    slow = forecast(crawl, start=START, deadline=date(2025, 12, 1), calendar=weekdays(), seed=1)
    assert slow.outcome == Outcome.NO_FINISH and slow.p50 is None
    assert slow.pace_date == date(2026, 5, 29)  # 72 weeks and 4 working days after 6 Jan


def test_a_seeded_band_is_the_same_everywhere_and_within_its_gains() -> None:
    """Gains of 0 and 10 points a week: the band lies after 10 points every week (7 weeks for
    the 70 left: 14 April); the median is near the average pace of 5 a week (14 weeks: 2 June);
    the same seed gives the same band, another seed another one."""
    history = weekly(0, 10, 10, 20, 20, 30, 30)
    deadline = date(2025, 6, 30)
    runs = [
        forecast(history, start=START, deadline=deadline, calendar=weekdays(), seed="7|42")
        for _ in range(2)
    ]
    assert runs[0] == runs[1]
    found = runs[0]
    assert found.p50 is not None and found.p85 is not None and found.chance is not None
    fastest = date(2025, 2, 24) + timedelta(weeks=7)
    assert fastest <= found.p50 <= found.p85
    assert 0.0 < found.chance < 1.0
    # Pinned for this seed: a change of method shows here.
    assert (found.p50, found.p85, found.chance) == (
        date(2025, 6, 2),
        date(2025, 9, 22),
        0.67,
    )
    other = forecast(history, start=START, deadline=deadline, calendar=weekdays(), seed="7|43")
    assert other != found


def test_few_gains_borrow_from_the_department_then_from_everyone() -> None:
    own = (4.0, 6.0)
    assert make_pool(own, [1.0] * 5, [2.0] * 9).borrowed == Borrowed.DEPARTMENT
    assert make_pool(own, [1.0] * 4, [2.0] * 9).borrowed == Borrowed.ALL
    assert make_pool((1.0,) * 5, [1.0] * 5, []).borrowed == Borrowed.NONE
    table = _draw_table(Pool(own, (1.0, 2.0, 3.0), Borrowed.DEPARTMENT))
    # Own gains weigh 1/5 each (2/5 together), the department's share the other 3/5.
    assert len(table) == 15 and table.count(4.0) == 3 and table.count(6.0) == 3
    assert table.count(1.0) == table.count(2.0) == table.count(3.0) == 3


def test_the_rule_judges_only_the_items_own_pace_and_only_when_on() -> None:
    history = weekly(2, 4, 6, 8, 10, 12, 14)  # 2 points a week: 86 points in 43 weeks
    found = forecast(history, start=START, deadline=date(2025, 6, 2), calendar=weekdays(), seed=1)
    assert found.chance == 0.0 and found.own_gains == 6
    facts = ItemFacts(date(2025, 6, 2), START, "on_track", 14, date(2025, 2, 24), forecast=found)
    today = date(2025, 2, 25)
    assert RiskReason.FORECAST_LATE not in risk_reasons(facts, today, RiskThresholds())
    on = RiskThresholds(forecast_probability=0.5)
    assert RiskReason.FORECAST_LATE in risk_reasons(facts, today, on)
    few = forecast(history[:4], start=START, deadline=date(2025, 6, 2), calendar=weekdays(), seed=1)
    assert few.own_gains == 3 and not unlikely(few, 0.5)  # shown, not judged
    past = ItemFacts(date(2025, 2, 1), START, "on_track", 14, date(2025, 2, 24), forecast=found)
    assert RiskReason.FORECAST_LATE not in risk_reasons(past, today, on)  # overdue says it


progress_steps = st.lists(st.integers(min_value=0, max_value=12), min_size=3, max_size=10)


def _history(steps: list[int]) -> list[tuple[date, int]]:
    values, total = [], 0
    for step in steps:
        total = min(total + step, 78)
        values.append(total)
    return weekly(*values)


def _later(day: date | None) -> date:
    return day or date.max


@settings(max_examples=60, deadline=None)
@given(progress_steps, st.integers(min_value=1, max_value=20))
def test_more_progress_never_moves_the_p50_later(steps: list[int], extra: int) -> None:
    history = _history(steps)
    last_day, last = history[-1]
    more = [*history[:-1], (last_day, min(99, last + extra))]
    deadline = date(2025, 9, 1)
    before = forecast(history, start=START, deadline=deadline, calendar=weekdays(), seed="p")
    after = forecast(more, start=START, deadline=deadline, calendar=weekdays(), seed="p")
    assume(after.outcome != Outcome.STALLED)  # the guard: a stall is judged on its own
    assert _later(after.p50) <= _later(before.p50)
    assert (after.chance or 0.0) >= (before.chance or 0.0)


@settings(max_examples=60, deadline=None)
@given(progress_steps, st.integers(min_value=0, max_value=400), st.integers(1, 200))
def test_a_later_deadline_never_lowers_the_chance(steps: list[int], first: int, more: int) -> None:
    history = _history(steps)
    early = date(2025, 3, 1) + timedelta(days=first)
    late = early + timedelta(days=more)
    found = [
        forecast(history, start=START, deadline=day, calendar=weekdays(), seed="d")
        for day in (early, late)
    ]
    assert (found[1].chance or 0.0) >= (found[0].chance or 0.0)


@settings(max_examples=60, deadline=None)
@given(progress_steps, st.integers(min_value=0, max_value=300))
def test_the_screen_passes_every_forecast_that_may_be_unlikely(steps: list[int], days: int) -> None:
    """`may_be_unlikely` skips a simulation only where its answer is certain."""
    history = _history(steps)
    calendar = weekdays()
    deadline = history[-1][0] + timedelta(days=days)
    points = [(calendar.index(day), value) for day, value in history]
    found = forecast(history, start=START, deadline=deadline, calendar=calendar, seed="s")
    if not may_be_unlikely(points, calendar.last_index_by(deadline)):
        assert not unlikely(found, 1.0)


def test_the_screen_skips_an_item_sure_to_finish() -> None:
    history = weekly(10, 15, 20, 25, 30, 35, 40)  # 5 a week, never less: 60 in 12 weeks
    calendar = weekdays()
    points = [(calendar.index(day), value) for day, value in history]
    in_time = calendar.last_index_by(date(2025, 5, 19))  # 12 weeks after 24 February
    assert not may_be_unlikely(points, in_time)
    assert may_be_unlikely(points, in_time - 1)
    found = forecast(history, start=START, deadline=date(2025, 5, 19), calendar=calendar, seed=3)
    assert found.chance == 1.0
