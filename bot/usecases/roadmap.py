"""Editing the Road Map by hand: departments, items, who owns an item, its deadline.

One home per change: each goes through `bot.roadmap.service`, which writes its audit entry
and marks the item's risk for a new look (the spreadsheet import writes through the same
functions).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from bot.core.parsing import NewDepartment, NewItem
from bot.roadmap import service
from bot.usecases.caller import Caller, Refused, refused_or
from bot.usecases.ports import UseCaseContext
from db import queries
from db.models import DeadlineChange, Department, RoadmapItem


@dataclass(frozen=True)
class ItemOwned:
    """An item and the department it belongs to (after /additem or /assign)."""

    item: RoadmapItem
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
