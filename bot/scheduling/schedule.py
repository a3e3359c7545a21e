"""When things run: the stored round schedule that `/schedule` changes (the weekly and daily
value types live in `bot.core.weekly`).

Settings parse `ROUND_SCHEDULE`, `DIGEST_SCHEDULE` and `REMINDER_TIME` with the same
functions `/schedule` uses, so a value the bot accepts at start is one it accepts in a chat.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.weekly import DAYS as DAYS
from bot.core.weekly import WeeklyTime as WeeklyTime
from bot.core.weekly import parse_daily as parse_daily
from bot.core.weekly import parse_weekly as parse_weekly
from db import queries
from db.models import AppSetting, Person

if TYPE_CHECKING:
    from apscheduler.triggers.cron import CronTrigger

ROUND_SCHEDULE_KEY = "round_schedule"


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
