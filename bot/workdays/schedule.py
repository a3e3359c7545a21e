"""The stored round schedule: when the weekly status round runs, as `/schedule` set it.

Below the use cases, so `/schedule` (bot/usecases/rounds.py) reads and stores it; the
scheduler (bot/scheduling) reads it to place the round job.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.weekly import WeeklyTime, parse_weekly
from db import queries
from db.models import AppSetting, Person

ROUND_SCHEDULE_KEY = "round_schedule"


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
