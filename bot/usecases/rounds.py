"""Status rounds and when they run: /request_now, the weekly round, /schedule and /holiday."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Protocol

from bot.core.clock import local_today
from bot.core.errors import UnknownDepartmentError
from bot.core.weekly import WeeklyTime
from bot.reporting import rounds
from bot.reporting.service import RoundOutcome as RoundOutcome
from bot.usecases.caller import Caller, Refused
from bot.usecases.ports import UseCaseContext
from bot.workdays import calendar
from bot.workdays import schedule as stored_schedule
from db import queries
from db.models import Person

if TYPE_CHECKING:
    from db.engine import AsyncSession

CALENDAR_DAYS_SHOWN = 60


async def request_round(
    ctx: UseCaseContext,
    *,
    actor: Person | None,
    department_code: str | None = None,
    trigger: str = "manual",
    announce: Callable[[RoundOutcome], Awaitable[None]] | None = None,
    fence: Callable[[AsyncSession], Awaitable[None]] | None = None,
    skip_recent: timedelta | None = None,
) -> RoundOutcome | Refused:
    """Ask one department (by code) or all for status updates now; the one use case behind
    /request_now and the weekly schedule. With `skip_recent` (/request_now), items their
    department updated that recently are left out and reported as `skipped`.

    A scheduled round's `fence` adds its run's row to the round's own transaction, so the
    round is recorded together with its fence or not at all.

    The round is recorded and committed first, then `announce` hears of it, then the requests
    are queued (a stop in between is resumed at the next start: `rounds.resume_rounds`). The
    outbox is woken when the first batch is stored and again when all are.
    """
    async with ctx.session_maker() as session:
        department = None
        if department_code is not None:
            department = await queries.department_by_code(session, department_code)
            if department is None:
                return Refused(UnknownDepartmentError(department_code))
        now = ctx.clock.now()
        outcome = await rounds.request_now(
            session,
            i18n=ctx.i18n,
            tz=ctx.tz,
            actor=actor,
            department=department,
            now=now,
            trigger=trigger,
            announce=announce,
            wake=ctx.signals.wake_outbox,
            fence=fence,
            skip_since=now - skip_recent if skip_recent else None,
        )
    ctx.signals.wake_outbox()
    return outcome


class RoundRescheduler(Protocol):
    """The running scheduler, which moves the round job when /schedule changes it."""

    async def reschedule_rounds(self, schedule: WeeklyTime) -> None: ...


async def round_schedule(caller: Caller) -> WeeklyTime:
    """When rounds run: as /schedule stored it, else as configured."""
    async with caller.ctx.session_maker() as session:
        return await stored_schedule.round_schedule(session, caller.policy.round_schedule)


async def set_round_schedule(
    caller: Caller, schedule: WeeklyTime, scheduler: RoundRescheduler | None
) -> WeeklyTime:
    """Store a new round schedule (audited) and move the running round job to it."""
    async with caller.ctx.session_maker() as session:
        await stored_schedule.save_round_schedule(
            session, schedule, caller.actor, caller.ctx.clock.now()
        )
    if scheduler is not None:
        await scheduler.reschedule_rounds(schedule)
    return schedule


@dataclass(frozen=True)
class DaysAhead:
    """The exceptions of the coming days: weekdays off, and weekend days that are worked."""

    days_off: list[date]
    working_weekend_days: list[date]


async def days_ahead(ctx: UseCaseContext, days: int = CALENDAR_DAYS_SHOWN) -> DaysAhead:
    async with ctx.session_maker() as session:
        work = await calendar.load_calendar(session, ctx.tz)
    today = local_today(ctx.clock, ctx.tz)
    return DaysAhead(
        work.weekdays_off(today, days=days), work.working_weekend_days(today, days=days)
    )


async def set_calendar_day(caller: Caller, day: date, *, day_off: bool) -> date:
    """Declare a day off (nothing is sent that day) or a working day; audited."""
    async with caller.ctx.session_maker() as session:
        await calendar.set_calendar_day(
            session, day=day, day_off=day_off, actor=caller.actor, now=caller.ctx.clock.now()
        )
    return day
