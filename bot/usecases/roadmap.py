"""Editing the Road Map by hand: departments, items, who owns an item, its deadline.

One home per change: each goes through `bot.roadmap.service`, which writes its audit entry
and marks the item's risk for a new look (the spreadsheet import writes through the same
functions).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from aiogram.utils.i18n import I18n
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.parsing import NewDepartment, NewItem
from bot.delivery.enqueue import enqueue_message
from bot.people import recipients
from bot.roadmap import service
from bot.telegram.i18n import in_locale
from bot.telegram.texts import items_assigned_notice, items_moved_away_notice
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
    # /assign: nobody in the receiving department can be asked for the item's status yet.
    nobody_registered: bool = False


@dataclass(frozen=True)
class Reassignment:
    """An item given from one department (`previous`, None if unknown) to another."""

    item: RoadmapItem
    previous: Department | None
    department: Department


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
    if told:
        ctx.signals.wake_outbox()
    return ItemOwned(item, department, nobody_registered=not receivers)


async def tell_of_reassignments(
    session: AsyncSession, i18n: I18n, moves: Sequence[Reassignment], now: datetime
) -> int:
    """Queue, for each member of a department that gained or lost items, one notice in his
    language (a single item named in full, several listed), and commit; how many were
    queued. Shared by /assign and the import, whose moves are one message per person."""
    gained: dict[int, list[Reassignment]] = {}
    lost: dict[int, list[Reassignment]] = {}
    departments: dict[int, Department] = {}
    for move in moves:
        departments[row_id(move.department)] = move.department
        gained.setdefault(row_id(move.department), []).append(move)
        if move.previous is not None:
            departments[row_id(move.previous)] = move.previous
            lost.setdefault(row_id(move.previous), []).append(move)
    queued = 0
    stamp = f"{now:%Y%m%d%H%M%S%f}"
    for change, grouped in (("gained", gained), ("lost", lost)):
        for department_id, changes in grouped.items():
            for person in await recipients.department_members(session, department_id):
                with in_locale(i18n, person.locale):
                    text = (
                        items_assigned_notice(changes)
                        if change == "gained"
                        else items_moved_away_notice(changes)
                    )
                queued += await enqueue_message(
                    session,
                    key=f"assign:{department_id}:{change}:{person.id}:{stamp}",
                    kind="item_assign",
                    person=person,
                    text=text,
                    now=now,
                )
    await session.commit()
    return queued


async def move_deadline(caller: Caller, item_code: str, deadline: date) -> DeadlineMoved | Refused:
    """Move the item's deadline, keeping the old one in its history (audited)."""
    async with caller.ctx.session_maker() as session:
        moved = await refused_or(
            service.change_deadline(
                session,
                actor=caller.actor,
                item_code=item_code,
                deadline=deadline,
                now=caller.ctx.clock.now(),
            )
        )
    return moved if isinstance(moved, Refused) else DeadlineMoved(*moved)
