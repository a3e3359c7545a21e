"""The bot's clockwork: status rounds, the daily scan and the weekly digest (APScheduler 3).

Jobs are plain coroutines on `Jobs`; they read the time from the injected clock, so tests call
them directly while moving a FrozenClock, and production runs them from AsyncIOScheduler in
the council's time zone. Everything they produce goes through the idempotent outbox.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import time, timedelta
from functools import partial
from typing import TYPE_CHECKING, Protocol
from zoneinfo import ZoneInfo

from aiogram.utils.i18n import I18n
from sqlalchemy import func
from sqlmodel import select

from bot.core.clock import Clock
from bot.delivery.notices import enqueue_failure_notices, enqueue_unreachable_notice
from bot.delivery.worker import DeliveryWorker
from bot.reporting.rounds import resume_rounds
from bot.risk.alerts import enqueue_chair_alerts
from bot.risk.digest import enqueue_weekly_digest
from bot.risk.rules import RiskThresholds
from bot.scheduling.reminders import (
    ScanResult,
    enqueue_deadline_reminders,
    enqueue_escalations,
    enqueue_nudges,
)
from bot.scheduling.schedule import WeeklyTime, previous_fire_time, round_schedule
from bot.usecases.caller import Refused
from bot.usecases.ports import UseCaseContext
from bot.usecases.rounds import request_round
from bot.workdays.calendar import WorkCalendar, load_calendar
from db.engine import SessionMaker
from db.models import Department, Person, StatusRound

if TYPE_CHECKING:
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

logger = logging.getLogger(__name__)

# The full alert scan of each new day: early, so a day's overdue and stale items are known
# (and their alerts wait in the outbox for 09:00) before the first Save of the morning.
NIGHTLY_ALERTS = time(0, 5)


@dataclass
class DailyReport:
    scan: ScanResult = field(default_factory=ScanResult)
    nudges: int = 0
    escalations: int = 0
    failure_notices: int = 0
    alerts: int = 0


class JobSettings(Protocol):
    """The configured values the jobs read (the composition root passes its Settings, which
    has them all; the scheduling package does not import the settings class)."""

    @property
    def tz(self) -> ZoneInfo: ...
    @property
    def round_schedule(self) -> WeeklyTime: ...
    @property
    def digest_schedule(self) -> WeeklyTime: ...
    @property
    def reminder_time(self) -> time: ...
    @property
    def alert_check_minutes(self) -> int: ...
    @property
    def alert_hourly_cap(self) -> int: ...
    @property
    def risk_thresholds(self) -> RiskThresholds: ...


class Jobs:
    def __init__(
        self,
        *,
        session_maker: SessionMaker,
        i18n: I18n,
        settings: JobSettings,
        clock: Clock,
        outbox: DeliveryWorker | None = None,
    ) -> None:
        self.session_maker = session_maker
        self.i18n = i18n
        self.settings = settings
        self.clock = clock
        self.outbox = outbox
        self._background: set[asyncio.Task[None]] = set()
        self._alert_lock = asyncio.Lock()

    def alert_soon(self) -> None:
        """Scan for chair alerts in the background: a head's Save answers without waiting."""
        task = asyncio.get_running_loop().create_task(self._alert_quietly(), name="chair-alerts")
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def settle(self) -> None:
        """Wait for the background scans started so far (at shutdown, and in tests)."""
        while self._background:
            await asyncio.gather(*self._background, return_exceptions=True)

    async def _alert_quietly(self) -> None:
        try:
            await self.chair_alerts()
        except Exception:  # a background task has nobody to raise to
            logger.exception("The background alert scan failed; the next scan retries")

    def wake_outbox(self) -> None:
        """New notifications were committed: the outbox delivers them now."""
        if self.outbox is not None:
            self.outbox.wake()

    async def notify_unreachable(self, person_id: int, notification_id: int) -> None:
        async with self.session_maker() as session:
            person = await session.get(Person, person_id)
            if person is not None:
                await enqueue_unreachable_notice(
                    session,
                    i18n=self.i18n,
                    person=person,
                    now=self.clock.now(),
                    cause_id=notification_id,
                )
        self.wake_outbox()

    async def calendar(self) -> WorkCalendar:
        async with self.session_maker() as session:
            return await load_calendar(session, self.settings.tz)

    async def scheduled_round(self) -> int:
        """The weekly round; on a day off its messages wait for the next working morning."""
        usecases = UseCaseContext(
            session_maker=self.session_maker,
            clock=self.clock,
            tz=self.settings.tz,
            i18n=self.i18n,
            signals=self,
        )
        outcome = await request_round(usecases, actor=None, trigger="schedule")
        assert not isinstance(outcome, Refused)  # only a department code can be refused
        return len(outcome.requests)

    @property
    def thresholds(self) -> RiskThresholds:
        return self.settings.risk_thresholds

    async def chair_alerts(self, *, full: bool = False) -> int:
        """Alerts for items that entered or worsened a risk state; one scan at a time.

        Re-assesses only the items whose data changed since the last scan, unless `full` (or
        no full scan has run today: the rules also read the day).
        """
        async with self._alert_lock:
            return await self._risk_notices(
                partial(
                    enqueue_chair_alerts,
                    hourly_cap=self.settings.alert_hourly_cap,
                    only_changed=not full,
                )
            )

    async def nightly_alerts(self) -> int:
        """Every item against the new day, before anyone is at work; the alerts it finds wait
        for the working morning, like any other."""
        return await self.chair_alerts(full=True)

    async def weekly_digest(self) -> int:
        return await self._risk_notices(enqueue_weekly_digest)

    async def _risk_notices(self, enqueue_notices: Callable[..., Awaitable[int]]) -> int:
        """Run a risk-based notice (alerts, digest) for now, delivered in working time."""
        now = self.clock.now()
        async with self.session_maker() as session:
            calendar = await load_calendar(session, self.settings.tz)
            count = await enqueue_notices(
                session,
                i18n=self.i18n,
                today=now.astimezone(self.settings.tz).date(),
                now=now,
                not_before=calendar.next_working_moment(now),
                thresholds=self.thresholds,
                tz=self.settings.tz,
            )
        if count:
            self.wake_outbox()
        return count

    async def daily_scan(self) -> DailyReport:
        now = self.clock.now()
        report = DailyReport()
        async with self.session_maker() as session:
            calendar = await load_calendar(session, self.settings.tz)
            if not calendar.is_working_day(now.astimezone(self.settings.tz).date()):
                return report
            report.scan = await enqueue_deadline_reminders(
                session, i18n=self.i18n, calendar=calendar, now=now
            )
            report.nudges = await enqueue_nudges(
                session, i18n=self.i18n, calendar=calendar, now=now
            )
            report.escalations = await enqueue_escalations(
                session, i18n=self.i18n, calendar=calendar, now=now
            )
            report.failure_notices = await enqueue_failure_notices(
                session, i18n=self.i18n, calendar=calendar, now=now
            )
        report.alerts = await self.chair_alerts()
        self.wake_outbox()
        return report

    async def catch_up(self) -> None:
        """At start: run what was missed while the bot was down, once."""
        now = self.clock.now()
        async with self.session_maker() as session:
            # A round recorded (and confirmed) just before a stop, whose requests were not queued.
            if await resume_rounds(session, i18n=self.i18n, tz=self.settings.tz, now=now):
                self.wake_outbox()
        async with self.session_maker() as session:
            schedule = await round_schedule(session, self.settings.round_schedule)
            last_fire = previous_fire_time(
                schedule.trigger(self.settings.tz), now, timedelta(days=7)
            )
            last_round = (
                await session.exec(
                    select(func.max(StatusRound.started_at)).where(
                        StatusRound.trigger == "schedule"
                    )
                )
            ).one()
            roadmap_since = (await session.exec(select(func.min(Department.created_at)))).one()
        # Missed only if the roadmap was in the bot when the round was due: a fresh install
        # (or one loaded after the last due time) has nothing to catch up.
        was_due = last_fire is not None and roadmap_since is not None and roadmap_since < last_fire
        if was_due and last_fire is not None and (last_round is None or last_round < last_fire):
            logger.info("Catching up the status round due at %s", last_fire)
            await self.scheduled_round()
        digest = self.settings.digest_schedule
        last_digest = previous_fire_time(digest.trigger(self.settings.tz), now, timedelta(days=7))
        local_week = now.astimezone(self.settings.tz).isocalendar()[:2]
        if last_digest is not None and last_digest.isocalendar()[:2] == local_week:
            await self.weekly_digest()  # keyed by ISO week: a digest already sent stays alone
        if now.astimezone(self.settings.tz).time() >= self.settings.reminder_time:
            await self.daily_scan()
        await self.chair_alerts()  # changes saved before a crash, or today's first full scan


def build_scheduler(jobs: Jobs, schedule: WeeklyTime) -> AsyncIOScheduler:
    """Created inside the running loop, never at import time."""
    from apscheduler.schedulers.asyncio import AsyncIOScheduler
    from apscheduler.triggers.cron import CronTrigger
    from apscheduler.triggers.interval import IntervalTrigger

    settings = jobs.settings
    tz = settings.tz
    scheduler = AsyncIOScheduler(
        timezone=tz,
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600},
    )
    scheduler.add_job(jobs.scheduled_round, schedule.trigger(tz), id="round")
    reminder_time = settings.reminder_time
    scheduler.add_job(
        jobs.daily_scan,
        CronTrigger(hour=reminder_time.hour, minute=reminder_time.minute, timezone=tz),
        id="daily_scan",
    )
    scheduler.add_job(jobs.weekly_digest, settings.digest_schedule.trigger(tz), id="digest")
    scheduler.add_job(
        jobs.chair_alerts,
        IntervalTrigger(minutes=settings.alert_check_minutes, timezone=tz),
        id="alerts",
    )
    scheduler.add_job(
        jobs.nightly_alerts,
        CronTrigger(hour=NIGHTLY_ALERTS.hour, minute=NIGHTLY_ALERTS.minute, timezone=tz),
        id="alerts_nightly",
    )
    return scheduler


class LateScheduler:
    """The scheduler, started once the bot listens. Importing and building APScheduler is
    about 40 ms that no update needs (its first job is minutes away at the earliest, and a
    missed one runs within the misfire grace), so the first getUpdates does not wait for it.
    `/schedule` in the meantime waits for the start, then moves the round job."""

    def __init__(self, jobs: Jobs) -> None:
        self.jobs = jobs
        self.scheduler: AsyncIOScheduler | None = None
        self._starting: asyncio.Task[None] | None = None

    def start_after(self, signal: asyncio.Event) -> asyncio.Task[None]:
        self._starting = asyncio.create_task(self._start_after(signal), name="scheduler")
        return self._starting

    async def _start_after(self, signal: asyncio.Event) -> None:
        await signal.wait()
        async with self.jobs.session_maker() as session:
            schedule = await round_schedule(session, self.jobs.settings.round_schedule)
        try:
            self.scheduler = build_scheduler(self.jobs, schedule)
            self.scheduler.start()
        except Exception:
            # In a background task: unlogged, it would surface only at shutdown, if at all.
            logger.exception("The scheduler did not start: no rounds, reminders or digests")
            raise
        logger.info("Scheduler started; status rounds: %s", schedule)

    async def started(self) -> AsyncIOScheduler | None:
        """The running scheduler once its start is over; None if it was never asked to start
        or failed to. (The sandbox pauses it and fires its jobs on its own clock.)"""
        if self._starting is not None:
            await asyncio.wait({self._starting})
        return self.scheduler

    async def reschedule_rounds(self, schedule: WeeklyTime) -> None:
        """Moves the round job to a new schedule. Never asked to start (a test's dispatcher,
        a command-line run): nothing to move, a later start reads the stored schedule."""
        if self._starting is not None:
            await asyncio.wait({self._starting})
        if self.scheduler is not None:
            self.scheduler.reschedule_job("round", trigger=schedule.trigger(self.jobs.settings.tz))

    def shutdown(self) -> None:
        if self._starting is not None:
            self._starting.cancel()
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=False)
