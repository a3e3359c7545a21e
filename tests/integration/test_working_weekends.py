"""Working Saturdays and Sundays: what the decrees and the `holidays` package say, and
`/holiday workday` for the rest; the daily scan runs on them like on any working day."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from bot.core.clock import FrozenClock
from bot.scheduling.jobs import Jobs
from bot.workdays.calendar import WorkCalendar
from bot.workdays.transfers import OFFICIAL_WORKING_WEEKENDS, working_weekends
from db.engine import SessionMaker
from db.models import CalendarOverride
from tests.helpers.chat import ADMIN_ID, Chatter, only_text, register_admin, rows

ALMATY = ZoneInfo("Asia/Almaty")


def test_weekend_days_given_in_exchange_for_a_moved_day_off_are_working_days() -> None:
    calendar = WorkCalendar(ALMATY)
    # 2025: the day off moved from Sunday 5 January to Friday 3 January.
    assert calendar.is_working_day(date(2025, 1, 5))
    assert not calendar.is_working_day(date(2025, 1, 3))
    # 2024: from Saturday 4 May to Wednesday 8 May.
    assert calendar.is_working_day(date(2024, 5, 4))
    assert not calendar.is_working_day(date(2024, 5, 8))
    # An ordinary weekend stays a weekend, and so do 2026's first days (no transfer).
    assert not calendar.is_working_day(date(2025, 1, 4))
    assert not calendar.is_working_day(date(2026, 1, 3))
    assert calendar.working_weekend_days(date(2024, 12, 30), days=14) == [date(2025, 1, 5)]


def test_the_shipped_decrees_are_weekend_days_and_agree_with_the_package() -> None:
    assert all(day.weekday() >= 5 for day in OFFICIAL_WORKING_WEEKENDS)
    for year in (2024, 2025, 2026):
        shipped = {day for day in OFFICIAL_WORKING_WEEKENDS if day.year == year}
        assert shipped <= working_weekends([year])


def test_an_override_wins_over_a_transfer() -> None:
    calendar = WorkCalendar(ALMATY, {date(2025, 1, 5): True, date(2025, 1, 11): False})
    assert not calendar.is_working_day(date(2025, 1, 5))
    assert calendar.is_working_day(date(2025, 1, 11))


async def test_holiday_workday_adds_a_working_saturday(
    chatter: Chatter, session_maker: SessionMaker, clock: FrozenClock
) -> None:
    await register_admin(chatter, "ru")
    answer = only_text(await chatter.send(ADMIN_ID, "/holiday workday 2025-03-29"))
    assert answer.startswith("29 марта 2025")
    assert "теперь рабочий день" in answer
    overrides = {o.day: o.day_off for o in await rows(session_maker, CalendarOverride)}
    assert overrides == {date(2025, 3, 29): False}
    listing = only_text(await chatter.send(ADMIN_ID, "/holiday"))
    assert "Рабочие субботы и воскресенья" in listing
    assert "29 марта 2025" in listing.replace("\u202f", " ")


async def test_the_daily_scan_runs_on_a_working_sunday_only(
    jobs: Jobs, clock: FrozenClock, session_maker: SessionMaker
) -> None:
    runs = []

    async def count(*_args: object, **_kwargs: object) -> int:
        runs.append(clock.now())
        return 0

    jobs.chair_alerts = count  # type: ignore[method-assign]
    clock.set(datetime(2025, 1, 5, 4, 30, tzinfo=UTC))  # Sunday 5 January 2025, 09:30
    await jobs.daily_scan()
    clock.set(datetime(2025, 1, 12, 4, 30, tzinfo=UTC))  # an ordinary Sunday
    await jobs.daily_scan()
    assert runs == [datetime(2025, 1, 5, 4, 30, tzinfo=UTC)]
