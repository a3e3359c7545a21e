"""Working days in Kazakhstan and the deadline reminder ladder: pure rules, no database."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.scheduling.reminders import due_step, ladder
from bot.scheduling.schedule import WeeklyTime, parse_daily, parse_weekly, previous_fire_time
from bot.workdays.calendar import WorkCalendar

ALMATY = ZoneInfo("Asia/Almaty")


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=ALMATY)


def test_public_holidays_and_weekends() -> None:
    calendar = WorkCalendar(ALMATY)
    assert calendar.is_working_day(date(2025, 3, 20))
    for nauryz in range(21, 26):  # Nauryz 21–23 March and the observed days after it
        assert not calendar.is_working_day(date(2025, 3, nauryz))
    assert not calendar.is_working_day(date(2025, 3, 29))  # Saturday
    assert not calendar.is_working_day(date(2025, 12, 16))  # Independence Day


def test_secretariat_overrides_the_calendar() -> None:
    calendar = WorkCalendar(ALMATY, {date(2025, 4, 2): True, date(2025, 3, 29): False})
    assert not calendar.is_working_day(date(2025, 4, 2))
    assert calendar.is_working_day(date(2025, 3, 29))  # a transferred working Saturday


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (at(date(2025, 3, 4), 10), at(date(2025, 3, 4), 10)),  # working time: at once
        (at(date(2025, 3, 4), 7, 30), at(date(2025, 3, 4), 9)),  # early: this morning
        (at(date(2025, 3, 4), 18), at(date(2025, 3, 5), 9)),  # evening: next morning
        (at(date(2025, 3, 7), 19), at(date(2025, 3, 11), 9)),  # Fri night; Mon 10 Mar is off
        (at(date(2025, 3, 20), 20), at(date(2025, 3, 26), 9)),  # over Nauryz
    ],
)
def test_next_working_moment(moment: datetime, expected: datetime) -> None:
    assert WorkCalendar(ALMATY).next_working_moment(moment) == expected


def test_nine_in_almaty_is_four_utc() -> None:
    morning = WorkCalendar(ALMATY).next_working_moment(datetime(2025, 3, 4, 0, 0, tzinfo=UTC))
    assert morning.astimezone(UTC) == datetime(2025, 3, 4, 4, 0, tzinfo=UTC)


def test_add_working_days_skips_weekends_and_holidays() -> None:
    calendar = WorkCalendar(ALMATY)
    assert calendar.add_working_days(at(date(2025, 3, 6), 10), 2) == at(date(2025, 3, 11), 10)
    assert calendar.add_working_days(at(date(2025, 3, 19), 11), 2) == at(date(2025, 3, 26), 11)


def test_ladder_steps_up_to_today() -> None:
    deadline = date(2025, 9, 1)
    names = [step.name for step in ladder(deadline, date(2025, 9, 20))]
    assert names == [
        "before30",
        "before14",
        "before7",
        "before3",
        "before1",
        "day",
        "overdue1",
        "overdue8",
        "overdue15",
    ]
    assert ladder(deadline, date(2025, 8, 1)) == []


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (date(2025, 8, 1), None),
        (date(2025, 8, 2), "before30"),
        (date(2025, 8, 10), "before30"),  # still the newest step that has come
        (date(2025, 8, 18), "before14"),
        (date(2025, 8, 29), "before3"),
        (date(2025, 9, 1), "day"),
        (date(2025, 9, 2), "overdue1"),
        (date(2025, 9, 8), "overdue1"),
        (date(2025, 9, 9), "overdue8"),
        (date(2025, 12, 31), "overdue120"),
    ],
)
def test_due_step(today: date, expected: str | None) -> None:
    step = due_step(date(2025, 9, 1), today)
    assert (step.name if step else None) == expected


def test_weekly_schedule_parsing_and_firing() -> None:
    schedule = parse_weekly("Thu, mon 10:00")
    assert schedule == WeeklyTime(("mon", "thu"), time(10, 0))
    assert str(schedule) == "mon,thu 10:00"
    for bad in ("monday 10:00", "mon 25:00", "mon", "10:00", "mon 10:60"):
        assert parse_weekly(bad) is None
    assert parse_daily("9:30") == time(9, 30) and parse_daily("24:00") is None
    trigger = WeeklyTime(("mon",), time(10)).trigger(ALMATY)
    first = trigger.get_next_fire_time(None, datetime(2025, 3, 3, 0, 0, tzinfo=UTC))
    assert first is not None
    assert first.astimezone(UTC) == datetime(2025, 3, 3, 5, 0, tzinfo=UTC)  # 10:00 UTC+5
    now = datetime(2025, 3, 5, 12, 0, tzinfo=UTC)
    previous = previous_fire_time(trigger, now, timedelta(days=7))
    assert previous is not None and previous.astimezone(UTC) == datetime(2025, 3, 3, 5, tzinfo=UTC)
