"""When things run: weekly and daily times as typed values, parsed once, and the stored
round schedule that `/schedule` changes.

Settings parse `ROUND_SCHEDULE`, `DIGEST_SCHEDULE` and `REMINDER_TIME` with the same
functions `/schedule` uses, so a value the bot accepts at start is one it accepts in a chat.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger
from babel.dates import get_day_names
from sqlmodel.ext.asyncio.session import AsyncSession

from db import queries
from db.models import AppSetting, Person

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_WEEKLY = re.compile(r"^\s*([a-z]{3}(?:\s*,\s*[a-z]{3})*)\s+(\d{1,2}):(\d{2})\s*$")
_DAILY = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*$")
ROUND_SCHEDULE_KEY = "round_schedule"


@dataclass(frozen=True)
class WeeklyTime:
    """Days of the week and a local time, e.g. `mon,thu 10:00`."""

    days: tuple[str, ...]
    at: time

    def trigger(self, tz: ZoneInfo) -> CronTrigger:
        return CronTrigger(
            day_of_week=",".join(self.days), hour=self.at.hour, minute=self.at.minute, timezone=tz
        )

    def __str__(self) -> str:
        return f"{','.join(self.days)} {self.at:%H:%M}"

    def describe(self, locale: str) -> str:
        """In the reader's language: «понедельник, четверг 10:00»."""
        names = get_day_names("wide", locale=locale)
        return ", ".join(names[DAYS.index(day)] for day in self.days) + f" {self.at:%H:%M}"


def parse_weekly(text: str) -> WeeklyTime | None:
    match = _WEEKLY.fullmatch(text.lower())
    if match is None:
        return None
    days = tuple(day.strip() for day in match.group(1).split(","))
    hour, minute = int(match.group(2)), int(match.group(3))
    if any(day not in DAYS for day in days) or hour > 23 or minute > 59:
        return None
    ordered = tuple(day for day in DAYS if day in days)
    return WeeklyTime(ordered, time(hour, minute))


def parse_daily(text: str) -> time | None:
    match = _DAILY.fullmatch(text)
    if match is None or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        return None
    return time(int(match.group(1)), int(match.group(2)))


def previous_fire_time(trigger: CronTrigger, now: datetime, lookback: timedelta) -> datetime | None:
    """When the trigger last fired at or before `now`, looking back at most `lookback`."""
    fire = trigger.get_next_fire_time(None, now - lookback)
    last = None
    while fire is not None and fire <= now:
        last = fire
        fire = trigger.get_next_fire_time(fire, fire + timedelta(seconds=1))
    return last


async def round_schedule(session: AsyncSession, configured: WeeklyTime) -> WeeklyTime:
    """The schedule set with /schedule, else the configured one (`ROUND_SCHEDULE`)."""
    stored = await session.get(AppSetting, ROUND_SCHEDULE_KEY)
    parsed = parse_weekly(stored.value) if stored else None
    return parsed or configured


async def save_round_schedule(
    session: AsyncSession, schedule: WeeklyTime, actor: Person, now: datetime
) -> None:
    stored = await session.get(AppSetting, ROUND_SCHEDULE_KEY)
    previous = stored.value if stored else None
    if stored is None:
        stored = AppSetting(key=ROUND_SCHEDULE_KEY, value=str(schedule), updated_at=now)
    stored.value, stored.updated_at = str(schedule), now
    session.add(stored)
    await queries.add_audit(
        session,
        at=now,
        action="schedule.rounds",
        actor=actor,
        target=str(schedule),
        details=f"was {previous or 'default'}",
    )
    await session.commit()
