"""Editing the Road Map by hand: departments, items, who owns an item, its deadline.

One home per change: each goes through `bot.roadmap.service`, which writes its audit entry
and marks the item's risk for a new look (the spreadsheet import writes through the same
functions).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.errors import UnchangedError, UnknownDepartmentError, UnknownItemError
from bot.core.parsing import NewDepartment, NewItem
from bot.delivery.enqueue import PersonMessage, enqueue_messages
from bot.people import recipients
from bot.roadmap import service, views
from bot.telegram.i18n import in_locale
from bot.usecases.caller import Caller, Refused, refused_or
from bot.usecases.ports import UseCaseContext
from db import queries
from db.ids import row_id
from db.models import DeadlineChange, Department, RoadmapItem


@dataclass(frozen=True)
class ItemOwned:
    """An item and the department it belongs to (after /additem or /assign)."""

    item: RoadmapItem
    department: Department


@dataclass(frozen=True)
class CoExecutorsSet:
    item: RoadmapItem
    departments: list[Department]


@dataclass(frozen=True)
class DeadlineMoved:
    item: RoadmapItem
    change: DeadlineChange


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
    async with caller.ctx.session_maker() as session:
        added = await refused_or(
            service.add_item(session, actor=caller.actor, new=new, now=caller.ctx.clock.now())
        )
    return added if isinstance(added, Refused) else ItemOwned(*added)


async def assign_item(caller: Caller, item_code: str, department_code: str) -> ItemOwned | Refused:
    """Give the item to another department (audited as "item.assign")."""
    async with caller.ctx.session_maker() as session:
        assigned = await refused_or(
            service.assign_item(
                session,
                actor=caller.actor,
                item_code=item_code,
                department_code=department_code,
                now=caller.ctx.clock.now(),
            )
        )
    return assigned if isinstance(assigned, Refused) else ItemOwned(*assigned)


MAX_REASON_LENGTH = 500


async def move_deadline(
    caller: Caller, item_code: str, deadline: date, *, reason: str | None = None
) -> DeadlineMoved | Refused:
    """Move the item's deadline, keeping the old one in its history; audited with the
    secretariat's `reason` (optional, up to MAX_REASON_LENGTH characters), and the
    department's members are told through the outbox in the same transaction."""
    ctx = caller.ctx
    reason = " ".join((reason or "").split())[:MAX_REASON_LENGTH] or None
    now = ctx.clock.now()
    async with ctx.session_maker() as session:
        item = await queries.item_by_code(session, item_code)
        if item is None:
            return Refused(UnknownItemError(item_code))
        if item.deadline == deadline:
            return Refused(UnchangedError())
        change = await service.record_deadline_change(
            session, item=item, deadline=deadline, actor=caller.actor, now=now, reason=reason
        )
        await session.flush()
        told = await _tell_department(ctx, session, item, change, reason)
        await session.commit()
    if told:
        ctx.signals.wake_outbox()
    return DeadlineMoved(item, change)


async def _tell_department(
    ctx: UseCaseContext,
    session: AsyncSession,
    item: RoadmapItem,
    change: DeadlineChange,
    reason: str | None,
) -> int:
    """The moved deadline, to each reachable member of the item's department, in his language."""
    messages = []
    for member in await recipients.department_members(session, item.department_id):
        with in_locale(ctx.i18n, member.locale):
            text = views.deadline_moved_notice(item, change, reason)
        messages.append(
            PersonMessage(f"deadline:{change.id}:{member.id}", "deadline", member, text)
        )
    return await enqueue_messages(session, messages, now=ctx.clock.now())


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
