"""Deadline reminders, nudges and escalations: what the daily scan puts into the outbox.

Each rule is idempotent: a step, a nudge or an escalation is recorded (in the reminder log or
by the notification's idempotency key) in the same transaction that enqueues its message, so
a scan that runs twice, or two scans that overlap, send nothing twice.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.text import quote, shorten, split_message
from bot.delivery.enqueue import enqueue_message
from bot.people import recipients
from bot.reporting.service import open_items, worklist
from bot.reporting.views import worklist_keyboard
from bot.telegram.callbacks import OpenItem
from bot.telegram.i18n import format_day, in_locale, ngettext, pick_name
from bot.telegram.keyboards import BUTTON_TITLE_LENGTH
from bot.telegram.texts import days_left_text, department_name
from bot.workdays.calendar import WorkCalendar
from db import queries
from db.ids import row_id
from db.models import (
    Department,
    Person,
    ReminderLog,
    RoadmapItem,
    RoundRequest,
)

BEFORE_DEADLINE_DAYS = (30, 14, 7, 3, 1)
OVERDUE_REPEAT_DAYS = 7
NUDGE_AFTER_WORKING_DAYS = 2
ESCALATE_AFTER_MISSED = 2
MAX_ITEM_BUTTONS = 8


@dataclass(frozen=True, order=True)
class LadderStep:
    on: date
    name: str


def ladder(deadline: date, today: date) -> list[LadderStep]:
    """Every step of the reminder ladder up to today: before, on the day, then overdue."""
    steps = [LadderStep(deadline - timedelta(days=n), f"before{n}") for n in BEFORE_DEADLINE_DAYS]
    steps.append(LadderStep(deadline, "day"))
    overdue = deadline + timedelta(days=1)
    while overdue <= today:
        steps.append(LadderStep(overdue, f"overdue{(overdue - deadline).days}"))
        overdue += timedelta(days=OVERDUE_REPEAT_DAYS)
    return sorted(step for step in steps if step.on <= today)


def due_step(deadline: date, today: date) -> LadderStep | None:
    """The newest step that has come: older ones it supersedes are never sent late."""
    steps = ladder(deadline, today)
    return steps[-1] if steps else None


@dataclass
class ScanResult:
    reminders: int = 0
    nudges: int = 0
    escalations: int = 0
    steps: list[tuple[int, str, date]] = field(default_factory=list)


def _item_buttons(items: Sequence[RoadmapItem]) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for item in items[:MAX_ITEM_BUTTONS]:
        # At a word boundary and marked «…» where cut (a bare [:60] cut mid-word, B3).
        title = shorten(pick_name(item.title_kk, item.title_ru), BUTTON_TITLE_LENGTH)
        builder.button(text=f"{item.code} · {title}", callback_data=OpenItem(item_id=item.id))
    builder.adjust(1)
    return builder.as_markup()


def reminder_lines(items: Sequence[RoadmapItem], today: date) -> list[str]:
    lines = ["🔔 <b>" + _("Deadline reminder") + "</b>"]
    for item in items:
        title = quote(pick_name(item.title_kk, item.title_ru))
        when = days_left_text(item.deadline, today)
        lines.append(f"<b>{quote(item.code)}</b> {title} — {when} ({format_day(item.deadline)})")
    lines.append(_("Please update their status: tap an item below or send /myitems."))
    return lines


async def _enqueue_texts(
    session: AsyncSession,
    *,
    key: str,
    kind: str,
    person: Person,
    chunks: list[str],
    keyboard: InlineKeyboardMarkup | None,
    now: datetime,
    not_before: datetime,
) -> bool:
    """Enqueue a message (split if long); the keyboard rides on the last part."""
    added = False
    for number, chunk in enumerate(chunks):
        added |= await enqueue_message(
            session,
            key=f"{key}:{number}",
            kind=kind,
            person=person,
            text=chunk,
            keyboard=keyboard if number == len(chunks) - 1 else None,
            now=now,
            not_before=not_before,
        )
    return added


async def enqueue_deadline_reminders(
    session: AsyncSession, *, i18n: I18n, calendar: WorkCalendar, now: datetime
) -> ScanResult:
    """One combined reminder per person for the ladder steps that came due for their items."""
    result = ScanResult()
    today = now.astimezone(calendar.tz).date()
    if not calendar.is_working_day(today):
        return result
    horizon = today + timedelta(days=max(BEFORE_DEADLINE_DAYS))
    candidates = (
        await session.exec(
            select(RoadmapItem)
            .where(col(RoadmapItem.archived).is_(False), RoadmapItem.deadline <= horizon)
            .order_by(col(RoadmapItem.deadline), col(RoadmapItem.code))
        )
    ).all()
    by_department: dict[int, list[tuple[RoadmapItem, LadderStep]]] = defaultdict(list)
    open_ids = {
        item.id
        for department_id in {item.department_id for item in candidates}
        for item in await open_items(session, department_id)
    }
    for item in candidates:
        step = due_step(item.deadline, today)
        if step is None or item.id not in open_ids:
            continue
        logged = await session.exec(
            select(func.count())
            .select_from(ReminderLog)
            .where(
                ReminderLog.item_id == item.id,
                ReminderLog.step == step.name,
                ReminderLog.step_date == step.on,
            )
        )
        if logged.one():
            continue
        by_department[item.department_id].append((item, step))

    not_before = calendar.next_working_moment(now)
    for department_id, entries in by_department.items():
        items = [item for item, _step in entries]
        fingerprint = hashlib.sha256(
            ",".join(f"{item.id}:{step.name}:{step.on}" for item, step in entries).encode()
        ).hexdigest()[:16]
        for person in await recipients.request_recipients(session, department_id, today):
            with in_locale(i18n, person.locale):
                chunks = split_message(reminder_lines(items, today))
                keyboard = _item_buttons(items)
            if await _enqueue_texts(
                session,
                key=f"reminder:{person.id}:{today.isoformat()}:{fingerprint}",
                kind="reminder",
                person=person,
                chunks=chunks,
                keyboard=keyboard,
                now=now,
                not_before=not_before,
            ):
                result.reminders += 1
        for item, step in entries:
            session.add(
                ReminderLog(item_id=row_id(item), step=step.name, step_date=step.on, created_at=now)
            )
            result.steps.append((row_id(item), step.name, step.on))
    await session.commit()
    return result


async def _requests_newest_first(
    session: AsyncSession, department_id: int, limit: int
) -> list[RoundRequest]:
    statement = (
        select(RoundRequest)
        .where(RoundRequest.department_id == department_id)
        .order_by(col(RoundRequest.requested_at).desc(), col(RoundRequest.id).desc())
        .limit(limit)
    )
    return list((await session.exec(statement)).all())


async def _silent_streak(session: AsyncSession, department_id: int) -> list[RoundRequest]:
    """The requests since the department last answered one, newest first."""
    last_answered = (
        await session.exec(
            select(func.max(RoundRequest.requested_at)).where(
                RoundRequest.department_id == department_id,
                col(RoundRequest.answered_at).is_not(None),
            )
        )
    ).one()
    statement = select(RoundRequest).where(
        RoundRequest.department_id == department_id,
        col(RoundRequest.excused).is_(False),  # everybody was away: not a missed round
    )
    if last_answered is not None:
        statement = statement.where(RoundRequest.requested_at > last_answered)
    statement = statement.order_by(
        col(RoundRequest.requested_at).desc(), col(RoundRequest.id).desc()
    )
    return list((await session.exec(statement)).all())


async def enqueue_nudges(
    session: AsyncSession, *, i18n: I18n, calendar: WorkCalendar, now: datetime
) -> int:
    """One reminder to the members of a department silent 2 working days after a request."""
    count = 0
    not_before = calendar.next_working_moment(now)
    for department in await queries.all_departments(session):
        newest = await _requests_newest_first(session, row_id(department), 1)
        if not newest or newest[0].answered_at is not None or newest[0].excused:
            continue
        request = newest[0]
        if calendar.add_working_days(request.requested_at, NUDGE_AFTER_WORKING_DAYS) > now:
            continue
        work = await worklist(session, row_id(department), request.requested_at)
        waiting = len(work.waiting)
        if not waiting:
            continue
        today = now.astimezone(calendar.tz).date()
        audience = await recipients.request_recipients(session, row_id(department), today)
        for person in audience:
            with in_locale(i18n, person.locale):
                text = "🔔 " + ngettext(
                    "Reminder: {count} item of your department is still waiting for an update.",
                    "Reminder: {count} items of your department are still waiting for an update.",
                    waiting,
                ).format(count=waiting)
                keyboard = worklist_keyboard(work, 0)
            if await _enqueue_texts(
                session,
                key=f"nudge:{request.id}:{person.id}",
                kind="nudge",
                person=person,
                chunks=[text],
                keyboard=keyboard,
                now=now,
                not_before=not_before,
            ):
                count += 1
    await session.commit()
    return count


async def enqueue_escalations(
    session: AsyncSession, *, i18n: I18n, calendar: WorkCalendar, now: datetime
) -> int:
    """Tell the chair, once per silence, about a department that missed two rounds in a row."""
    count = 0
    not_before = calendar.next_working_moment(now)
    chairs = await recipients.chairs(session)
    if not chairs:
        return 0
    for department in await queries.all_departments(session):
        silent = await _silent_streak(session, row_id(department))
        if len(silent) < ESCALATE_AFTER_MISSED:
            continue
        if calendar.add_working_days(silent[0].requested_at, NUDGE_AFTER_WORKING_DAYS) > now:
            continue
        first_missed = silent[-1]
        items = await open_items(session, row_id(department))
        for chair in chairs:
            with in_locale(i18n, chair.locale):
                chunks = split_message(_escalation_lines(department, silent, items, calendar.tz))
            if await _enqueue_texts(
                session,
                key=f"escalation:{department.id}:{first_missed.id}:{chair.id}",
                kind="escalation",
                person=chair,
                chunks=chunks,
                keyboard=None,
                now=now,
                not_before=not_before,
            ):
                count += 1
    await session.commit()
    return count


def _escalation_lines(
    department: Department,
    silent: list[RoundRequest],
    items: Sequence[RoadmapItem],
    tz: tzinfo,
) -> list[str]:
    missed = len(silent)
    lines = [
        "⚠️ <b>"
        + ngettext(
            "{department} has not answered the last {count} status request.",
            "{department} has not answered the last {count} status requests.",
            missed,
        ).format(department=quote(department_name(department)), count=missed)
        + "</b>",
        _("Requests sent: {dates}").format(
            dates=", ".join(
                format_day(r.requested_at.astimezone(tz).date()) for r in reversed(silent)
            )
        ),
        ngettext("{count} open item:", "{count} open items:", len(items)).format(count=len(items)),
    ]
    for item in items:
        lines.append(
            f"<b>{quote(item.code)}</b> {quote(pick_name(item.title_kk, item.title_ru))} — "
            + format_day(item.deadline)
        )
    return lines
