"""Weekly and daily times as typed values, parsed once: `ROUND_SCHEDULE`, `DIGEST_SCHEDULE`,
`REMINDER_TIME` at settings load and `/schedule` in a chat use the same functions.

Kept in the kernel so that reading settings imports no feature and no framework;
APScheduler and Babel load only when a trigger or a description is asked for.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import time
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from apscheduler.triggers.cron import CronTrigger

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_WEEKLY = re.compile(r"^\s*([a-z]{3}(?:\s*,\s*[a-z]{3})*)\s+(\d{1,2}):(\d{2})\s*$")
_DAILY = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*$")


@dataclass(frozen=True)
class WeeklyTime:
    """Days of the week and a local time, e.g. `mon,thu 10:00`."""

    days: tuple[str, ...]
    at: time

    def trigger(self, tz: ZoneInfo) -> CronTrigger:
        from apscheduler.triggers.cron import CronTrigger

        return CronTrigger(
            day_of_week=",".join(self.days), hour=self.at.hour, minute=self.at.minute, timezone=tz
        )

    def __str__(self) -> str:
        return f"{','.join(self.days)} {self.at:%H:%M}"

    def describe(self, locale: str) -> str:
        """In the reader's language: «понедельник, четверг 10:00»."""
        from babel.dates import get_day_names

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
