"""Roadmap administration: departments, items, assignment and deadlines, each change audited."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.errors import (
    DuplicateDepartmentError,
    DuplicateItemError,
    UnchangedError,
    UnknownDepartmentError,
    UnknownItemError,
)
from bot.core.parsing import NewDepartment, NewItem
from db import queries
from db.ids import row_id
from db.models import (
    DeadlineChange,
    Department,
    Person,
    RiskDismissal,
    RoadmapItem,
    StatusUpdate,
)


async def add_department(
    session: AsyncSession, *, actor: Person, new: NewDepartment, now: datetime
) -> Department:
    if await queries.department_by_code(session, new.code) is not None:
        raise DuplicateDepartmentError(new.code)
    department = Department(code=new.code, name_kk=new.name_kk, name_ru=new.name_ru, created_at=now)
    try:
        async with session.begin_nested():  # only the savepoint is undone, not the request
            session.add(department)
            await session.flush()
    except IntegrityError as error:  # a concurrent /adddept with the same code won the race
        raise DuplicateDepartmentError(new.code) from error
    await queries.add_audit(
        session,
        at=now,
        action="department.add",
        actor=actor,
        target=department.code,
        details=f"{new.name_kk} | {new.name_ru}",
    )
    await session.commit()
    return department


async def _require_department(session: AsyncSession, code: str) -> Department:
    department = await queries.department_by_code(session, code)
    if department is None:
        raise UnknownDepartmentError(code)
    return department


async def _require_item(session: AsyncSession, code: str) -> RoadmapItem:
    item = await queries.item_by_code(session, code)
    if item is None:
        raise UnknownItemError(code)
    return item


async def record_new_item(
    session: AsyncSession,
    *,
    code: str,
    title_kk: str,
    title_ru: str,
    department: Department,
    deadline: date,
    actor: Person | None,
    now: datetime,
    target: str = "",
    note: str = "",
) -> RoadmapItem:
    """Add an item of the deadline's year with its audit entry; the caller commits.

    Shared by /additem and the spreadsheet import, whose rows form one transaction. The
    audit entry flushes, so a duplicate code surfaces here as an IntegrityError.
    """
    item = RoadmapItem(
        code=code,
        title_kk=title_kk,
        title_ru=title_ru,
        department_id=row_id(department),
        deadline=deadline,
        year=deadline.year,
        target=target,
        created_at=now,
    )
    session.add(item)
    await queries.add_audit(
        session,
        at=now,
        action="item.add",
        actor=actor,
        target=code,
        details=f"{department.code} {deadline.isoformat()}" + (f" ({note})" if note else ""),
    )
    await queries.mark_risk_dirty(session, now=now, item_ids=[item.id])  # flushed: it has an id
    return item


async def add_item(
    session: AsyncSession, *, actor: Person, new: NewItem, now: datetime
) -> tuple[RoadmapItem, Department]:
    """/additem: the item with its audit entry; the caller commits, with the department's
    notices in the same transaction."""
    department = await _require_department(session, new.department_code)
    if await queries.item_by_code(session, new.code) is not None:
        raise DuplicateItemError(new.code)
    try:
        async with session.begin_nested():  # only the savepoint is undone, not the request
            item = await record_new_item(
                session,
                code=new.code,
                title_kk=new.title_kk,
                title_ru=new.title_ru,
                department=department,
                deadline=new.deadline,
                actor=actor,
                now=now,
            )
    except IntegrityError as error:  # a concurrent /additem with the same code won the race
        raise DuplicateItemError(new.code) from error
    return item, department


async def assign_item(
    session: AsyncSession, *, actor: Person, item_code: str, department_code: str, now: datetime
) -> tuple[RoadmapItem, Department]:
    """/assign: the item to another department, audited; the caller commits, with both
    departments' notices in the same transaction."""
    item = await _require_item(session, item_code)
    department = await _require_department(session, department_code)
    if item.department_id == department.id:
        raise UnchangedError
    previous = await queries.department_by_id(session, item.department_id)
    await record_assignment(
        session,
        item=item,
        department_id=row_id(department),
        codes=(previous.code if previous else "?", department.code),
        actor=actor,
        now=now,
    )
    return item, department


async def record_assignment(
    session: AsyncSession,
    *,
    item: RoadmapItem,
    department_id: int,
    codes: tuple[str, str],
    actor: Person | None,
    now: datetime,
) -> None:
    """Give the item to another department, with its "item.assign" audit entry naming the
    old and the new department's `codes`; the caller commits.

    Shared by /assign and the spreadsheet import, whose changes form one transaction.
    """
    item.department_id = department_id
    session.add(item)
    await queries.add_audit(
        session,
        at=now,
        action="item.assign",
        actor=actor,
        target=item.code,
        details=f"{codes[0]} -> {codes[1]}",
    )
    await queries.mark_risk_dirty(session, now=now, item_ids=[item.id])


async def record_deadline_change(
    session: AsyncSession,
    *,
    item: RoadmapItem,
    deadline: date,
    actor: Person | None,
    now: datetime,
    via: str = "command",
    reason: str | None = None,
) -> DeadlineChange:
    """Move a deadline, keeping its history row (who moved it, `via` /deadline's "command" or
    an "import") and an audit entry; the caller commits.

    Shared by /deadline and the spreadsheet import, whose changes form one transaction. The
    secretariat's `reason` for the move, when given, is kept in the audit entry's details.
    """
    change = DeadlineChange(
        item_id=row_id(item),
        old_deadline=item.deadline,
        new_deadline=deadline,
        changed_by_id=actor.id if actor else None,
        changed_at=now,
        via=via,
        reason=reason or None,
    )
    item.deadline = deadline
    session.add_all([item, change])
    await queries.add_audit(
        session,
        at=now,
        action="item.deadline",
        actor=actor,
        target=item.code,
        details=f"{change.old_deadline.isoformat()} -> {change.new_deadline.isoformat()}"
        + (f": {reason}" if reason else ""),
    )
    await queries.mark_risk_dirty(session, now=now, item_ids=[item.id])
    return change


async def change_deadline(
    session: AsyncSession,
    *,
    actor: Person,
    item_code: str,
    deadline: date,
    now: datetime,
    reason: str | None = None,
) -> tuple[RoadmapItem, DeadlineChange]:
    """A move by the secretariat's command, committed."""
    item = await movable_item(session, item_code, deadline)
    change = await record_deadline_change(
        session, item=item, deadline=deadline, actor=actor, now=now, reason=reason
    )
    await session.commit()
    return item, change


async def movable_item(session: AsyncSession, item_code: str, deadline: date) -> RoadmapItem:
    """The item whose deadline would move to `deadline`: UnknownItemError when there is no
    such item, UnchangedError when it already has that deadline."""
    item = await _require_item(session, item_code)
    if item.deadline == deadline:
        raise UnchangedError
    return item


@dataclass(frozen=True)
class ItemCard:
    """Everything an item card shows, read in one place."""

    item: RoadmapItem
    department: Department | None
    history: list[tuple[StatusUpdate, Person | None]]
    co_executors: Sequence[Department] = ()
    # The secretariat's moves of the deadline, newest first, with who made them.
    moves: Sequence[tuple[DeadlineChange, Person | None]] = ()
    # The secretariat's dismissed risk reasons, newest first, with who dismissed them (each
    # holds only while the item's data match its fingerprint: the views check).
    dismissals: Sequence[tuple[RiskDismissal, Person | None]] = ()

    @property
    def latest(self) -> StatusUpdate | None:
        return self.history[0][0] if self.history else None

    @property
    def latest_author(self) -> Person | None:
        return self.history[0][1] if self.history else None


async def item_card(session: AsyncSession, code: str, history: int = 10) -> ItemCard:
    return await card_of(session, await _require_item(session, code), history)


async def card_of(session: AsyncSession, item: RoadmapItem, history: int = 10) -> ItemCard:
    """The card of an item already read (by code or by a button's id)."""
    department = await queries.department_by_id(session, item.department_id)
    updates = await queries.recent_updates(session, row_id(item), history)
    co_executors = await queries.item_co_executors(session, row_id(item))
    moves = await queries.deadline_moves(session, [row_id(item)])
    return ItemCard(
        item=item,
        department=department,
        history=updates,
        co_executors=co_executors,
        moves=moves.get(row_id(item), []),
        dismissals=await queries.risk_dismissals(session, row_id(item)),
    )


SHORT_NAME_LENGTH = 80


async def set_short_names(
    session: AsyncSession, *, actor: Person, code: str, kk: str, ru: str, now: datetime
) -> Department:
    """The names buttons, summaries and the chart show for a department; audited."""
    department = await queries.department_by_code(session, code)
    if department is None:
        raise UnknownDepartmentError(code)
    before = f"{department.short_name_kk or ''} | {department.short_name_ru or ''}"
    department.short_name_kk, department.short_name_ru = kk, ru
    session.add(department)
    await queries.add_audit(
        session,
        at=now,
        action="department.short_name",
        actor=actor,
        target=department.code,
        details=f"was {before}",
    )
    await session.commit()
    return department
