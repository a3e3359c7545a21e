"""Editing the Road Map by hand: departments, items, who owns an item, its deadline.

One home per change: each goes through `bot.roadmap.service`, which writes its audit entry
and marks the item's risk for a new look (the spreadsheet import writes through the same
functions).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TypeVar

from aiogram.fsm.state import State, StatesGroup
from aiogram.utils.i18n import I18n

from bot.core.errors import UnchangedError, UnknownDepartmentError, UnknownItemError
from bot.core.parsing import MAX_DEADLINE_REASON, NewDepartment, NewItem
from bot.core.text import split_message
from bot.delivery.enqueue import enqueue_message
from bot.people import recipients
from bot.roadmap import service
from bot.roadmap.views import deadline_moved_notice
from bot.telegram.i18n import in_locale
from bot.telegram.texts import (
    NamedItem,
    items_assigned_notice,
    items_moved_away_notice,
    new_items_notice,
)
from bot.usecases.caller import Caller, Refused, refused_or
from bot.usecases.ports import DialogStore, Person, UseCaseContext
from bot.workdays.calendar import load_calendar
from db import queries
from db.engine import AsyncSession
from db.ids import row_id
from db.models import DeadlineChange, Department, RoadmapItem

Change = TypeVar("Change")  # what one notice lists: a reassignment, a new item


@dataclass(frozen=True)
class ItemOwned:
    """An item and the department it belongs to (after /additem or /assign)."""

    item: RoadmapItem
    department: Department
    # /assign: nobody in the receiving department can be asked for the item's status yet.
    nobody_registered: bool = False


@dataclass(frozen=True)
class Reassignment:
    """An item given from one department (`previous`, None if unknown) to another."""

    item: RoadmapItem
    previous: Department | None
    department: Department


@dataclass(frozen=True)
class CoExecutorsSet:
    item: RoadmapItem
    departments: list[Department]


@dataclass(frozen=True)
class DeadlineMoved:
    """The move, with the secretariat's reason in `change.reason`; `told` members of the
    item's department were told (through the outbox, in their language)."""

    item: RoadmapItem
    change: DeadlineChange
    told: int = 0


Departments = list[Department]
DepartmentAdded = Department | Refused


async def departments(ctx: UseCaseContext) -> Departments:
    async with ctx.session_maker() as session:
        return list(await queries.all_departments(session))


async def add_department(caller: Caller, new: NewDepartment) -> DepartmentAdded:
    async with caller.ctx.session_maker() as session:
        return await refused_or(
            service.add_department(session, actor=caller.actor, new=new, now=caller.ctx.clock.now())
        )


async def add_item(caller: Caller, new: NewItem) -> ItemOwned | Refused:
    """A new item (audited); the members of its department are told, in their language."""
    ctx = caller.ctx
    async with ctx.session_maker() as session:
        added = await refused_or(
            service.add_item(session, actor=caller.actor, new=new, now=ctx.clock.now())
        )
        if isinstance(added, Refused):
            return added
        item = added[0]
        told = await tell_of_new_items(
            session, ctx.i18n, {item.department_id: [item]}, ctx.clock.now()
        )
        await session.commit()
    if told:
        ctx.signals.wake_outbox()
    return ItemOwned(*added)


async def assign_item(caller: Caller, item_code: str, department_code: str) -> ItemOwned | Refused:
    """Give the item to another department (audited as "item.assign"); the members of both
    departments are told, each in their language, and the answer says when nobody in the
    receiving department is registered to answer for it."""
    ctx = caller.ctx
    async with ctx.session_maker() as session:
        item = await queries.item_by_code(session, item_code)
        previous_id = item.department_id if item is not None else None
        assigned = await refused_or(
            service.assign_item(
                session,
                actor=caller.actor,
                item_code=item_code,
                department_code=department_code,
                now=ctx.clock.now(),
            )
        )
        if isinstance(assigned, Refused):
            return assigned
        item, department = assigned
        previous = await queries.department_by_id(session, previous_id) if previous_id else None
        told = await tell_of_reassignments(
            session, ctx.i18n, [Reassignment(item, previous, department)], ctx.clock.now()
        )
        receivers = await recipients.department_members(session, row_id(department))
        await session.commit()
    if told:
        ctx.signals.wake_outbox()
    return ItemOwned(item, department, nobody_registered=not receivers)


async def tell_of_reassignments(
    session: AsyncSession, i18n: I18n, moves: Sequence[Reassignment], now: datetime
) -> int:
    """Queue, for each member of a department that gained or lost items, one notice in his
    language (a single item named in full, several listed); how many were queued. Shared by
    /assign and the import, whose moves are one message per person; the caller commits."""
    gained: dict[int, list[Reassignment]] = {}
    lost: dict[int, list[Reassignment]] = {}
    for move in moves:
        gained.setdefault(row_id(move.department), []).append(move)
        if move.previous is not None:
            lost.setdefault(row_id(move.previous), []).append(move)
    queued = await _tell_members(
        session, i18n, gained, items_assigned_notice, key="assign:{}:gained", now=now
    )
    queued += await _tell_members(
        session, i18n, lost, items_moved_away_notice, key="assign:{}:lost", now=now
    )
    return queued


async def tell_of_new_items(
    session: AsyncSession, i18n: I18n, added: dict[int, list[NamedItem]], now: datetime
) -> int:
    """Queue, for each member of a department that got new items (by department id: one
    from /additem, an import's new rows), one notice in his language listing them; how many
    were queued. The caller commits."""
    queued = await _tell_members(
        session, i18n, added, new_items_notice, key="item_new:{}", now=now, kind="item_new"
    )
    return queued


async def _tell_members(
    session: AsyncSession,
    i18n: I18n,
    grouped: dict[int, list[Change]],
    notice: Callable[[list[Change]], str],
    *,
    key: str,
    now: datetime,
    kind: str = "item_assign",
) -> int:
    """One notice per member of each department in `grouped`, written in his language;
    `key` (with the department id for {}), the time and the text's fingerprint keep one
    notice per person per change (two changes at one instant are two notices)."""
    queued = 0
    stamp = f"{now:%Y%m%d%H%M%S%f}"
    for department_id, changes in grouped.items():
        for person in await recipients.department_members(session, department_id):
            with in_locale(i18n, person.locale):
                text = notice(changes)
            queued += await enqueue_message(
                session,
                key=f"{key.format(department_id)}:{person.id}:{stamp}:{_fingerprint(text)}",
                kind=kind,
                person=person,
                text=text,
                now=now,
            )
    return queued


async def move_deadline(
    caller: Caller, item_code: str, deadline: date, *, reason: str | None = None
) -> DeadlineMoved | Refused:
    """Move the item's deadline, keeping the old one and the secretariat's `reason` in its
    history (audited); the item's department is told, with the reason, in the same
    transaction (delivered from the next working moment)."""
    ctx = caller.ctx
    now = ctx.clock.now()
    async with ctx.session_maker() as session:
        item = await refused_or(service.movable_item(session, item_code, deadline))
        if isinstance(item, Refused):
            return item
        change = await service.record_deadline_change(
            session, item=item, deadline=deadline, actor=caller.actor, now=now, reason=reason
        )
        await session.flush()
        told = await _tell_the_department(ctx, session, item, change, caller.actor)
        await session.commit()
    if told:
        ctx.signals.wake_outbox()
    return DeadlineMoved(item, change, told)


async def _tell_the_department(
    ctx: UseCaseContext,
    session: AsyncSession,
    item: RoadmapItem,
    change: DeadlineChange,
    actor: Person,
) -> int:
    return await tell_departments_of_moves(ctx, session, [(item, change)], actor)


async def tell_departments_of_moves(
    ctx: UseCaseContext,
    session: AsyncSession,
    moves: Sequence[tuple[RoadmapItem, DeadlineChange]],
    actor: Person | None,
) -> int:
    """ℹ️ to each reachable member of each moved item's department, in his language: who
    moved the deadline, old → new, and why; a department's moves in as few messages as fit
    (an import may move many). Delivered from the next working moment; the caller commits.
    Returns the number of messages."""
    if not moves:
        return 0
    calendar = await load_calendar(session, ctx.tz)
    now = ctx.clock.now()
    not_before = calendar.next_working_moment(now)
    by_department: dict[int, list[tuple[RoadmapItem, DeadlineChange]]] = {}
    for item, change in moves:
        by_department.setdefault(item.department_id, []).append((item, change))
    told = 0
    for department_id, moved in by_department.items():
        first = moved[0][1].id
        for member in await recipients.department_members(session, department_id):
            with in_locale(ctx.i18n, member.locale):
                blocks = [
                    deadline_moved_notice(item, change, actor, ctx.tz) for item, change in moved
                ]
            for part, text in enumerate(split_message(blocks)):
                told += await enqueue_message(
                    session,
                    key=f"deadline:{first}:{member.id}:{part}",
                    kind="deadline",
                    person=member,
                    text=text,
                    now=now,
                    not_before=not_before,
                )
    return told


class DeadlineDialog(StatesGroup):
    """/deadline without a reason: nothing moves yet; the next message is the reason."""

    reason = State()


REASON_WINDOW = timedelta(minutes=30)  # a message later than this is not the reason


@dataclass(frozen=True)
class ReasonAsked:
    """The move waits for its reason (or [Move without a reason])."""

    item: RoadmapItem
    deadline: date


@dataclass(frozen=True)
class ReasonInvalid:
    """Empty, or longer than MAX_DEADLINE_REASON characters: say so, and wait again."""


@dataclass(frozen=True)
class ReasonLate:
    """Too long after /deadline (or nothing was waiting): the deadline was not moved."""


async def ask_deadline_reason(
    caller: Caller, dialog: DialogStore, item_code: str, deadline: date
) -> ReasonAsked | Refused:
    """/deadline CODE DATE with no reason: the move is checked, then waits for one step."""
    async with caller.ctx.session_maker() as session:
        item = await refused_or(service.movable_item(session, item_code, deadline))
    if isinstance(item, Refused):
        return item
    await dialog.set_state(DeadlineDialog.reason)
    await dialog.set_data(
        {
            "item_code": item.code,
            "deadline": deadline.isoformat(),
            "asked_at": caller.ctx.clock.now().isoformat(),
        }
    )
    return ReasonAsked(item, deadline)


async def give_deadline_reason(
    caller: Caller, dialog: DialogStore, reason: str | None
) -> DeadlineMoved | Refused | ReasonInvalid | ReasonLate:
    """The waiting move, made with the typed `reason` (None: [Move without a reason])."""
    if reason is not None:
        reason = " ".join(reason.split())
        if not reason or len(reason) > MAX_DEADLINE_REASON:
            return ReasonInvalid()
    if await dialog.get_state() != DeadlineDialog.reason.state:
        return ReasonLate()  # a late [Move without a reason]: another dialog may be on
    data = await dialog.get_data()
    await dialog.clear()
    asked_at = datetime.fromisoformat(str(data.get("asked_at", "1970-01-01T00:00:00+00:00")))
    if caller.ctx.clock.now() - asked_at > REASON_WINDOW:
        return ReasonLate()
    deadline = date.fromisoformat(str(data["deadline"]))
    return await move_deadline(caller, str(data["item_code"]), deadline, reason=reason)


async def set_co_executors(
    caller: Caller, item_code: str, department_codes: Sequence[str]
) -> CoExecutorsSet | Refused:
    """The departments that share an item with its lead department, replaced as a whole
    (audited as "item.co_executors", as the spreadsheet import does)."""
    ctx = caller.ctx
    async with ctx.session_maker() as session:
        item = await queries.item_by_code(session, item_code)
        if item is None:
            return Refused(UnknownItemError(item_code))
        chosen = []
        for code in dict.fromkeys(department_codes):
            department = await queries.department_by_code(session, code)
            if department is None:
                return Refused(UnknownDepartmentError(code))
            chosen.append(department)
        chosen = [department for department in chosen if department.id != item.department_id]
        before = await queries.item_co_executors(session, row_id(item))
        old = ",".join(sorted(department.code for department in before))
        new = ",".join(sorted(department.code for department in chosen))
        if old == new:
            return Refused(UnchangedError())
        await queries.replace_co_executors(session, row_id(item), [row_id(d) for d in chosen])
        await queries.add_audit(
            session,
            at=ctx.clock.now(),
            action="item.co_executors",
            actor=caller.actor,
            target=item.code,
            details=f"{old or '-'} -> {new or '-'}",
        )
        await queries.mark_risk_dirty(session, now=ctx.clock.now(), item_ids=[item.id])
        await session.commit()
    return CoExecutorsSet(item, chosen)


def _fingerprint(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:12]
