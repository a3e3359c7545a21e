"""The sandbox's own time: a clock that runs like the wall clock from a moment the page can
move forward, and the time machine that moves it, firing the scheduler's jobs on the way.

The bot's scheduler (APScheduler) keeps its jobs and triggers but is paused: its triggers
count wall time, and the sandbox's time is not the wall's. A jump walks the same jobs'
triggers from the old moment to the new one and runs each due job at its own moment, in
order, as the scheduler would have over those days.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

logger = logging.getLogger(__name__)

MAX_JUMP = timedelta(days=120)
# The interval job re-checks alerts every few minutes: over a jump it runs once, at the end.
INTERVAL_JOBS = frozenset({"alerts"})


class SandboxClock:
    """The wall clock shifted by an offset that only grows: time never runs backwards."""

    def __init__(self, start: datetime | None = None) -> None:
        self._offset = timedelta(0)
        if start is not None:
            self.set(start)

    def now(self) -> datetime:
        return datetime.now(UTC) + self._offset

    def set(self, moment: datetime) -> None:
        if moment.tzinfo is None:
            raise ValueError("SandboxClock needs an aware datetime")
        self._offset = max(moment - datetime.now(UTC), self._offset)


@dataclass(frozen=True)
class Fired:
    """One job run by a jump: its scheduler id and the sandbox moment it ran at."""

    job: str
    at: datetime


class TooFarError(ValueError):
    """A jump past MAX_JUMP: each day's jobs run one by one, so the sandbox stays near."""


class TimeMachine:
    """Moves the sandbox clock forward and fires the paused scheduler's jobs that fall due."""

    def __init__(
        self,
        clock: SandboxClock,
        scheduler: AsyncIOScheduler,
        tz: ZoneInfo,
        after_each: Callable[[], None] = lambda: None,
    ) -> None:
        self.clock = clock
        self.scheduler = scheduler
        self.tz = tz
        self.after_each = after_each
        self._moving = asyncio.Lock()  # two jumps at once would interleave their moments

    def next_fire(self, job_id: str) -> datetime:
        """When the job would next run after the sandbox's now."""
        job = self.scheduler.get_job(job_id)
        if job is None:
            raise KeyError(job_id)
        now = self.clock.now()
        fire: datetime | None = job.trigger.get_next_fire_time(None, now + timedelta(seconds=1))
        if fire is None:
            raise KeyError(job_id)
        return fire.astimezone(UTC)

    def day_at(self, day: Any, at: time) -> datetime:
        """A local day and time (the council's zone) as a UTC moment."""
        return datetime.combine(day, at, tzinfo=self.tz).astimezone(UTC)

    async def jump_to(self, target: datetime) -> list[Fired]:
        """Every job due in (now, target], each at its moment, then the clock at target."""
        async with self._moving:
            return await self._jump_to(target)

    async def _jump_to(self, target: datetime) -> list[Fired]:
        start = self.clock.now()
        if target - start > MAX_JUMP:
            raise TooFarError(target)
        due: list[tuple[datetime, str, Callable[[], Awaitable[object]]]] = []
        for job in self.scheduler.get_jobs():
            if job.id in INTERVAL_JOBS:
                continue
            fire = job.trigger.get_next_fire_time(None, start + timedelta(seconds=1))
            while fire is not None and fire <= target:
                due.append((fire.astimezone(UTC), job.id, job.func))
                fire = job.trigger.get_next_fire_time(fire, fire + timedelta(seconds=1))
        fired = []
        for moment, job_id, run in sorted(due, key=lambda entry: (entry[0], entry[1])):
            self.clock.set(moment)
            logger.info("Sandbox time %s: running %s", moment.isoformat(), job_id)
            await run()
            self.after_each()
            fired.append(Fired(job_id, moment))
        self.clock.set(target)
        for job_id in INTERVAL_JOBS:
            job = self.scheduler.get_job(job_id)
            if job is not None:
                await job.func()
        self.after_each()
        return fired
