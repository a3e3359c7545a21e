"""Kazakhstan working time: which days are working days and when a notification may go out.

Public holidays and transferred days off come from the bot's own table of them (`kazakhstan.py`,
generated from the `holidays` package), the weekend days made working days by those transfers
from `transfers.py`; the secretariat can declare any date a day off or a working day (`/holiday`).
Notifications are
delivered only between 09:00 and 18:00 on working days; anything else waits for the next
working morning.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.workdays.kazakhstan import holidays_of_year
from bot.workdays.transfers import working_weekends
from db import queries
from db.models import CalendarOverride, Person

WORKDAY_START = time(9, 0)
WORKDAY_END = time(18, 0)


class WorkCalendar:
    def __init__(
        self,
        tz: ZoneInfo,
        overrides: Mapping[date, bool] | None = None,
        start: time = WORKDAY_START,
        end: time = WORKDAY_END,
    ) -> None:
        self.tz = tz
        self.overrides = dict(overrides or {})  # date -> is a day off
        self.start = start
        self.end = end
        self._working_weekends: dict[int, frozenset[date]] = {}

    def _is_working_weekend(self, day: date) -> bool:
        if day.year not in self._working_weekends:
            self._working_weekends[day.year] = working_weekends([day.year])
        return day in self._working_weekends[day.year]

    def is_working_day(self, day: date) -> bool:
        """Overrides from /holiday first; then a weekend day a decree made a working day;
        then Monday to Friday except public holidays and moved days off."""
        if day in self.overrides:
            return not self.overrides[day]
        if day.weekday() >= 5:
            return self._is_working_weekend(day)
        return day not in holidays_of_year(day.year)

    def holiday_name(self, day: date) -> str | None:
        """The English name of a public holiday (`holiday_names` translates it), or None."""
        return holidays_of_year(day.year).get(day)

    def is_working_time(self, moment: datetime) -> bool:
        local = moment.astimezone(self.tz)
        return self.is_working_day(local.date()) and self.start <= local.time() < self.end

    def next_working_moment(self, moment: datetime) -> datetime:
        """`moment` itself if it is working time, otherwise the next working morning."""
        if self.is_working_time(moment):
            return moment
        local = moment.astimezone(self.tz)
        day = local.date()
        if self.is_working_day(day) and local.time() < self.start:
            return datetime.combine(day, self.start, tzinfo=self.tz)
        day += timedelta(days=1)
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return datetime.combine(day, self.start, tzinfo=self.tz)

    def weekdays_off(self, start: date, days: int) -> list[date]:
        """Monday-to-Friday dates that are days off, from `start` for `days` days."""
        ahead = (start + timedelta(days=offset) for offset in range(days))
        return [day for day in ahead if day.weekday() < 5 and not self.is_working_day(day)]

    def working_weekend_days(self, start: date, days: int) -> list[date]:
        """Saturdays and Sundays that are working days, from `start` for `days` days."""
        ahead = (start + timedelta(days=offset) for offset in range(days))
        return [day for day in ahead if day.weekday() >= 5 and self.is_working_day(day)]

    def add_working_days(self, moment: datetime, days: int) -> datetime:
        """The same local time `days` working days later (weekends and holidays skipped)."""
        local = moment.astimezone(self.tz)
        day = local.date()
        remaining = days
        while remaining > 0:
            day += timedelta(days=1)
            if self.is_working_day(day):
                remaining -= 1
        return datetime.combine(day, local.timetz().replace(tzinfo=None), tzinfo=self.tz)


async def load_calendar(session: AsyncSession, tz: ZoneInfo) -> WorkCalendar:
    overrides = (await session.exec(select(CalendarOverride))).all()
    return WorkCalendar(tz, {row.day: row.day_off for row in overrides})


async def set_calendar_day(
    session: AsyncSession, *, day: date, day_off: bool, actor: Person, now: datetime
) -> None:
    """Declare a date a day off or a working day (a transferred working Saturday, say)."""
    override = await session.get(CalendarOverride, day)
    if override is None:
        override = CalendarOverride(day=day, day_off=day_off, created_at=now)
    override.day_off, override.set_by_id, override.created_at = day_off, actor.id, now
    session.add(override)
    await queries.add_audit(
        session,
        at=now,
        action="calendar.day_off" if day_off else "calendar.working_day",
        actor=actor,
        target=day.isoformat(),
    )
    await session.commit()
