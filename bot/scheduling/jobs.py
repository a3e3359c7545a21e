"""The bot's clockwork: status rounds, the daily scan and the weekly digest (APScheduler 3).

Jobs are plain coroutines on `Jobs`; they read the time from the injected clock, so tests call
them directly while moving a FrozenClock, and production runs them from AsyncIOScheduler in
the council's time zone. Everything they produce goes through the idempotent outbox.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from functools import partial
from zoneinfo import ZoneInfo

from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from babel.dates import get_day_names
from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.app.config import Settings
from bot.core.clock import Clock
from bot.core.text import quote
from bot.delivery.enqueue import enqueue_message
from bot.delivery.worker import DeliveryWorker
from bot.reporting.rounds import run_round
from bot.risk.alerts import enqueue_chair_alerts
from bot.risk.digest import enqueue_weekly_digest
from bot.risk.rules import RiskThresholds
from bot.scheduling.calendar import WorkCalendar, load_calendar
from bot.scheduling.reminders import (
    ScanResult,
    enqueue_deadline_reminders,
    enqueue_escalations,
    enqueue_nudges,
)
from bot.telegram.i18n import current_locale, in_locale, ngettext
from db import queries
from db.engine import SessionMaker
from db.models import AppSetting, Department, Notification, Person, Role, StatusRound

logger = logging.getLogger(__name__)

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_WEEKLY = re.compile(r"^\s*([a-z]{3}(?:\s*,\s*[a-z]{3})*)\s+(\d{1,2}):(\d{2})\s*$")
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

    def describe(self) -> str:
        """In the reader's language: «понедельник, четверг 10:00»."""
        names = get_day_names("wide", locale=current_locale())
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
    match = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*", text)
    if match is None or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        return None
    return time(int(match.group(1)), int(match.group(2)))


async def round_schedule(session: AsyncSession, settings: Settings) -> WeeklyTime:
    """The schedule set with /schedule, else the one from the environment."""
    stored = await session.get(AppSetting, ROUND_SCHEDULE_KEY)
    parsed = parse_weekly(stored.value) if stored else None
    return parsed or parse_weekly(settings.round_schedule) or WeeklyTime(("mon",), time(10))


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


def previous_fire_time(trigger: CronTrigger, now: datetime, lookback: timedelta) -> datetime | None:
    """When the trigger last fired at or before `now`, looking back at most `lookback`."""
    fire = trigger.get_next_fire_time(None, now - lookback)
    last = None
    while fire is not None and fire <= now:
        last = fire
        fire = trigger.get_next_fire_time(fire, fire + timedelta(seconds=1))
    return last


@dataclass
class DailyReport:
    scan: ScanResult = field(default_factory=ScanResult)
    nudges: int = 0
    escalations: int = 0
    failure_notices: int = 0
    alerts: int = 0


class Jobs:
    def __init__(
        self,
        *,
        session_maker: SessionMaker,
        i18n: I18n,
        settings: Settings,
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

    def _wake(self) -> None:
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
        self._wake()

    async def calendar(self) -> WorkCalendar:
        async with self.session_maker() as session:
            return await load_calendar(session, self.settings.tz)

    async def scheduled_round(self) -> int:
        """The weekly round; on a day off its messages wait for the next working morning."""
        now = self.clock.now()
        async with self.session_maker() as session:
            outcome = await run_round(
                session,
                i18n=self.i18n,
                actor=None,
                department=None,
                now=now,
                trigger="schedule",
                not_before=(await load_calendar(session, self.settings.tz)).next_working_moment(
                    now
                ),
            )
        self._wake()
        return len(outcome.requests)

    @property
    def thresholds(self) -> RiskThresholds:
        return self.settings.risk_thresholds

    async def chair_alerts(self) -> int:
        """Alerts for items that entered or worsened a risk state; one scan at a time."""
        async with self._alert_lock:
            return await self._risk_notices(
                partial(enqueue_chair_alerts, hourly_cap=self.settings.alert_hourly_cap)
            )

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
            self._wake()
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
        self._wake()
        return report

    async def catch_up(self) -> None:
        """At start: run what was missed while the bot was down, once."""
        now = self.clock.now()
        async with self.session_maker() as session:
            schedule = await round_schedule(session, self.settings)
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
        if was_due and (last_round is None or last_round < last_fire):
            logger.info("Catching up the status round due at %s", last_fire)
            await self.scheduled_round()
        digest = parse_weekly(self.settings.digest_schedule) or WeeklyTime(("fri",), time(17))
        last_digest = previous_fire_time(digest.trigger(self.settings.tz), now, timedelta(days=7))
        local_week = now.astimezone(self.settings.tz).isocalendar()[:2]
        if last_digest is not None and last_digest.isocalendar()[:2] == local_week:
            await self.weekly_digest()  # keyed by ISO week: a digest already sent stays alone
        reminder_time = parse_daily(self.settings.reminder_time) or time(9, 30)
        if now.astimezone(self.settings.tz).time() >= reminder_time:
            await self.daily_scan()


async def enqueue_failure_notices(
    session: AsyncSession, *, i18n: I18n, calendar: WorkCalendar, now: datetime
) -> int:
    """One line a day to the secretariat about notifications that could not be delivered."""
    since = now - timedelta(days=1)
    failed = (
        await session.exec(
            select(func.count())
            .select_from(Notification)
            .where(Notification.state == "failed", col(Notification.created_at) >= since)
        )
    ).one()
    if not failed:
        return 0
    today = now.astimezone(calendar.tz).date().isoformat()
    count = 0
    for person in await queries.active_people_with_role(session, Role.SECRETARIAT):
        with in_locale(i18n, person.locale):
            text = ngettext(
                "{count} notification could not be delivered in the last 24 hours.",
                "{count} notifications could not be delivered in the last 24 hours.",
                failed,
            ).format(count=failed)
        count += await enqueue_message(
            session,
            key=f"failures:{today}:{person.id}",
            kind="failures",
            person=person,
            text=text,
            now=now,
            not_before=calendar.next_working_moment(now),
        )
    await session.commit()
    return count


async def enqueue_unreachable_notice(
    session: AsyncSession, *, i18n: I18n, person: Person, now: datetime, cause_id: int
) -> None:
    """Tell the secretariat, once, that a person blocked the bot or their chat is gone."""
    for secretary in await queries.active_people_with_role(session, Role.SECRETARIAT):
        if secretary.id == person.id:
            continue
        with in_locale(i18n, secretary.locale):
            text = _(
                "{name} (<code>{id}</code>) cannot be reached: they blocked the bot or deleted "
                "the chat. They will get no more messages until they write to the bot again."
            ).format(name=quote(person.display_name), id=person.telegram_id)
        await enqueue_message(
            session,
            key=f"unreachable:{person.id}:{cause_id}:{secretary.id}",
            kind="unreachable",
            person=secretary,
            text=text,
            now=now,
        )
    await session.commit()


def build_scheduler(jobs: Jobs, schedule: WeeklyTime) -> AsyncIOScheduler:
    """Created inside the running loop (dp.startup), never at import time."""
    settings = jobs.settings
    tz = settings.tz
    scheduler = AsyncIOScheduler(
        timezone=tz,
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600},
    )
    scheduler.add_job(jobs.scheduled_round, schedule.trigger(tz), id="round")
    reminder_time = parse_daily(settings.reminder_time) or time(9, 30)
    scheduler.add_job(
        jobs.daily_scan,
        CronTrigger(hour=reminder_time.hour, minute=reminder_time.minute, timezone=tz),
        id="daily_scan",
    )
    digest = parse_weekly(settings.digest_schedule) or WeeklyTime(("fri",), time(17))
    scheduler.add_job(jobs.weekly_digest, digest.trigger(tz), id="digest")
    scheduler.add_job(
        jobs.chair_alerts,
        IntervalTrigger(minutes=settings.alert_check_minutes, timezone=tz),
        id="alerts",
    )
    return scheduler


def reschedule_rounds(scheduler: AsyncIOScheduler, schedule: WeeklyTime, tz: ZoneInfo) -> None:
    scheduler.reschedule_job("round", trigger=schedule.trigger(tz))
