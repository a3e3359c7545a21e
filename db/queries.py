"""Query functions. They add and flush; the caller (a service) decides when to commit."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import bindparam, delete, func, insert
from sqlalchemy.orm import aliased
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from db.models import (
    AuditLog,
    DeadlineChange,
    Department,
    Invite,
    ItemCoExecutor,
    Person,
    RiskDirty,
    RiskDismissal,
    RoadmapItem,
    Role,
    StatusRound,
    StatusUpdate,
)


async def person_by_telegram_id(session: AsyncSession, telegram_id: int) -> Person | None:
    result = await session.exec(select(Person).where(Person.telegram_id == telegram_id))
    return result.first()


@cache
def person_with_item_statement() -> Any:
    """Built once: the aliases and the correlated subquery cost more to build than to run."""
    latest = aliased(StatusUpdate)
    author = aliased(Person)
    # Not correlated with the joined item: PostgreSQL then runs it once (an InitPlan) and
    # finds the update by its key, where a correlated one made it scan the table.
    newest_id = (
        select(StatusUpdate.id)
        .where(col(StatusUpdate.item_id) == bindparam("item_id"))
        .order_by(col(StatusUpdate.created_at).desc(), col(StatusUpdate.id).desc())
        .limit(1)
        .scalar_subquery()
    )
    return (
        select(Person, RoadmapItem, latest, author)
        .select_from(Person)
        .join(RoadmapItem, col(RoadmapItem.id) == bindparam("item_id"), isouter=True)
        .join(latest, col(latest.id) == newest_id, isouter=True)
        .join(author, col(author.id) == latest.author_id, isouter=True)
        .where(col(Person.telegram_id) == bindparam("telegram_id"))
    )


async def person_with_item(
    session: AsyncSession, telegram_id: int, item_id: int
) -> tuple[Person | None, tuple[RoadmapItem, StatusUpdate | None, Person | None] | None]:
    """The sender and the item their update is about, with its newest report and author, in
    one statement; the rows land in the session, so `session.get` finds them without SQL."""
    result = await session.exec(
        person_with_item_statement(), params={"telegram_id": telegram_id, "item_id": item_id}
    )
    found = result.first()
    if found is None:
        return None, None
    person, item, newest, newest_author = found
    return person, (item, newest, newest_author) if item is not None else None


async def department_by_code(session: AsyncSession, code: str) -> Department | None:
    statement = select(Department).where(func.lower(Department.code) == code.strip().lower())
    return (await session.exec(statement)).first()


async def department_by_id(session: AsyncSession, department_id: int | None) -> Department | None:
    if department_id is None:
        return None
    return await session.get(Department, department_id)


async def all_departments(session: AsyncSession) -> Sequence[Department]:
    return (await session.exec(select(Department).order_by(col(Department.code)))).all()


async def co_executor_ids(session: AsyncSession) -> dict[int, list[int]]:
    """Item id → its co-executor departments' ids."""
    links = await session.exec(
        select(ItemCoExecutor).order_by(
            col(ItemCoExecutor.item_id), col(ItemCoExecutor.department_id)
        )
    )
    found: dict[int, list[int]] = {}
    for link in links.all():
        found.setdefault(link.item_id, []).append(link.department_id)
    return found


async def item_co_executors(session: AsyncSession, item_id: int) -> Sequence[Department]:
    """The departments an item names beside its responsible one."""
    statement = (
        select(Department)
        .join(ItemCoExecutor, col(ItemCoExecutor.department_id) == Department.id)
        .where(ItemCoExecutor.item_id == item_id)
        .order_by(col(Department.code))
    )
    return (await session.exec(statement)).all()


async def replace_co_executors(
    session: AsyncSession, item_id: int, department_ids: Sequence[int]
) -> None:
    """The item's co-executors become exactly `department_ids`; the caller commits."""
    await session.exec(delete(ItemCoExecutor).where(col(ItemCoExecutor.item_id) == item_id))
    session.add_all(
        ItemCoExecutor(item_id=item_id, department_id=department_id)
        for department_id in department_ids
    )
    await session.flush()


@dataclass(frozen=True)
class AuditQuery:
    """Which audit entries to read: by whom (Telegram id), the action (or its prefix, e.g.
    "item."), the item or other target, and the period [since, until)."""

    actor_telegram_id: int | None = None
    action: str | None = None
    target: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def _audit_where(query: AuditQuery) -> list[Any]:
    where: list[Any] = []
    if query.actor_telegram_id is not None:
        where.append(col(AuditLog.actor_telegram_id) == query.actor_telegram_id)
    if query.action:
        if query.action.endswith("."):
            where.append(col(AuditLog.action).startswith(query.action, autoescape=True))
        else:
            where.append(col(AuditLog.action) == query.action)
    if query.target:
        where.append(col(AuditLog.target) == query.target)
    if query.since is not None:
        where.append(col(AuditLog.created_at) >= query.since)
    if query.until is not None:
        where.append(col(AuditLog.created_at) < query.until)
    return where


async def audit_entries(
    session: AsyncSession, query: AuditQuery, *, offset: int = 0, limit: int | None = None
) -> tuple[list[tuple[AuditLog, Person | None]], int]:
    """The matching entries, newest first, with the person who acted, and how many match."""
    where = _audit_where(query)
    total = (await session.exec(select(func.count()).select_from(AuditLog).where(*where))).one()
    statement = (
        select(AuditLog, Person)
        .join(Person, col(Person.id) == col(AuditLog.actor_person_id), isouter=True)
        .where(*where)
        .order_by(col(AuditLog.created_at).desc(), col(AuditLog.id).desc())
        .offset(offset)
    )
    if limit is not None:
        statement = statement.limit(limit)
    rows = (await session.exec(statement)).all()
    return [(entry, person) for entry, person in rows], int(total)


async def audit_actions(session: AsyncSession) -> list[str]:
    """Every action the audit log holds, for a filter's choices."""
    found = await session.exec(select(AuditLog.action).distinct().order_by(col(AuditLog.action)))
    return list(found.all())


async def item_by_id(session: AsyncSession, item_id: int) -> RoadmapItem | None:
    return await session.get(RoadmapItem, item_id)


async def person_by_id(session: AsyncSession, person_id: int) -> Person | None:
    return await session.get(Person, person_id)


async def item_by_code(session: AsyncSession, code: str) -> RoadmapItem | None:
    statement = select(RoadmapItem).where(func.lower(RoadmapItem.code) == code.strip().lower())
    return (await session.exec(statement)).first()


async def items_by_codes(session: AsyncSession, codes: Sequence[str]) -> list[RoadmapItem]:
    """The items with these codes, in the order of `codes` (unknown codes left out)."""
    if not codes:
        return []
    statement = select(RoadmapItem).where(col(RoadmapItem.code).in_(list(codes)))
    found = {item.code: item for item in (await session.exec(statement)).all()}
    return [found[code] for code in codes if code in found]


async def latest_update(session: AsyncSession, item_id: int) -> StatusUpdate | None:
    statement = (
        select(StatusUpdate)
        .where(StatusUpdate.item_id == item_id)
        .order_by(col(StatusUpdate.created_at).desc(), col(StatusUpdate.id).desc())
        .limit(1)
    )
    return (await session.exec(statement)).first()


async def recent_updates(
    session: AsyncSession, item_id: int, limit: int = 10
) -> list[tuple[StatusUpdate, Person | None]]:
    """The newest updates of an item with their authors, newest first."""
    statement = (
        select(StatusUpdate, Person)
        .join(Person, col(Person.id) == StatusUpdate.author_id, isouter=True)
        .where(StatusUpdate.item_id == item_id)
        .order_by(col(StatusUpdate.created_at).desc(), col(StatusUpdate.id).desc())
        .limit(limit)
    )
    return [(update, author) for update, author in (await session.exec(statement)).all()]


async def last_real_reports(session: AsyncSession, item_ids: Iterable[int]) -> dict[int, datetime]:
    """When each item's newest report that was not a "no change" confirmation was made: the
    day a department declared what it still confirms."""
    ids = list(item_ids)
    if not ids:
        return {}
    statement = (
        select(StatusUpdate.item_id, func.max(StatusUpdate.created_at))
        .where(col(StatusUpdate.item_id).in_(ids), col(StatusUpdate.confirmation).is_(False))
        .group_by(col(StatusUpdate.item_id))
    )
    return {item_id: moment for item_id, moment in (await session.exec(statement)).all()}


async def deadline_moves(
    session: AsyncSession, item_ids: Iterable[int]
) -> dict[int, list[tuple[DeadlineChange, Person | None]]]:
    """Each item's deadline changes with who made them, newest first."""
    ids = list(item_ids)
    if not ids:
        return {}
    statement = (
        select(DeadlineChange, Person)
        .join(Person, col(Person.id) == DeadlineChange.changed_by_id, isouter=True)
        .where(col(DeadlineChange.item_id).in_(ids))
        .order_by(col(DeadlineChange.changed_at).desc(), col(DeadlineChange.id).desc())
    )
    moves: dict[int, list[tuple[DeadlineChange, Person | None]]] = {}
    for change, person in (await session.exec(statement)).all():
        moves.setdefault(change.item_id, []).append((change, person))
    return moves


async def deadline_changes_at(
    session: AsyncSession, item_ids: Iterable[int], changed_at: datetime
) -> list[tuple[RoadmapItem, DeadlineChange]]:
    """The moves of these items' deadlines made at `changed_at` (one import), with the items."""
    statement = (
        select(RoadmapItem, DeadlineChange)
        .join(DeadlineChange, col(DeadlineChange.item_id) == RoadmapItem.id)
        .where(
            col(DeadlineChange.item_id).in_(list(item_ids)),
            DeadlineChange.changed_at == changed_at,
        )
        .order_by(col(RoadmapItem.code))
    )
    return [(item, change) for item, change in (await session.exec(statement)).all()]


async def risk_dismissals(
    session: AsyncSession, item_id: int
) -> list[tuple[RiskDismissal, Person | None]]:
    """The item's dismissed risk reasons with who dismissed them, newest first."""
    statement = (
        select(RiskDismissal, Person)
        .join(Person, col(Person.id) == RiskDismissal.actor_id, isouter=True)
        .where(RiskDismissal.item_id == item_id)
        .order_by(col(RiskDismissal.created_at).desc(), col(RiskDismissal.id).desc())
    )
    return [(dismissal, person) for dismissal, person in (await session.exec(statement)).all()]


async def all_people(session: AsyncSession) -> Sequence[Person]:
    statement = select(Person).order_by(
        col(Person.active).desc(), col(Person.role), col(Person.display_name)
    )
    return (await session.exec(statement)).all()


async def active_people_with_role(session: AsyncSession, role: str) -> Sequence[Person]:
    statement = select(Person).where(Person.role == role, col(Person.active).is_(True))
    return (await session.exec(statement)).all()


async def invite_by_token_hash(session: AsyncSession, token_hash: str) -> Invite | None:
    return (await session.exec(select(Invite).where(Invite.token_hash == token_hash))).first()


async def was_invited(session: AsyncSession, person: Person) -> bool:
    """Whether the person came in by an invitation link (not as a configured administrator)."""
    statement = select(Invite.id).where(Invite.used_by_id == person.id).limit(1)
    return (await session.exec(statement)).first() is not None


async def add_audit(
    session: AsyncSession,
    *,
    at: datetime,
    action: str,
    actor: Person | None = None,
    actor_telegram_id: int | None = None,
    target: str | None = None,
    details: str | None = None,
) -> AuditLog:
    entry = AuditLog(
        actor_telegram_id=actor.telegram_id if actor else actor_telegram_id,
        actor_person_id=actor.id if actor else None,
        action=action,
        target=target[:200] if target else None,
        details=details,
        created_at=at,
    )
    session.add(entry)
    await session.flush()
    return entry


async def person_by_handle(session: AsyncSession, handle: str) -> Person | None:
    """A person by Telegram ID (digits) or @username."""
    handle = handle.strip()
    if handle.isdigit() and len(handle) <= 19:
        return await person_by_telegram_id(session, int(handle))
    username = handle.removeprefix("@")
    if not username:
        return None
    statement = select(Person).where(func.lower(Person.username) == username.lower())
    return (await session.exec(statement)).first()


async def mark_risk_dirty(
    session: AsyncSession,
    *,
    now: datetime,
    item_ids: Iterable[int | None] = (),
    department_ids: Iterable[int] = (),
) -> None:
    """Note that these items (or every item of these departments) need re-assessing for chair
    alerts. Call it in the transaction that makes the change: the mark commits with it. One
    executemany, however many marks (a round marks every department it asked)."""
    marks: list[dict[str, object]] = [
        {"item_id": item_id, "department_id": None, "created_at": now}
        for item_id in item_ids
        if item_id
    ]
    marks += [
        {"item_id": None, "department_id": department_id, "created_at": now}
        for department_id in department_ids
    ]
    if marks:
        connection = await session.connection()
        await connection.execute(insert(RiskDirty), marks)


@dataclass(frozen=True)
class RiskMarks:
    """The marks one scan read: the rows to consume, the items and departments they name."""

    ids: tuple[int, ...]
    item_ids: frozenset[int]
    department_ids: frozenset[int]


async def risk_marks(session: AsyncSession) -> RiskMarks:
    rows = (
        await session.exec(select(RiskDirty.id, RiskDirty.item_id, RiskDirty.department_id))
    ).all()
    return RiskMarks(
        ids=tuple(mark_id for mark_id, _item, _department in rows if mark_id is not None),
        item_ids=frozenset(item for _id, item, _department in rows if item is not None),
        department_ids=frozenset(dept for _id, _item, dept in rows if dept is not None),
    )


_DELETE_CHUNK = 1000  # ids per DELETE: far below SQLite's and asyncpg's parameter limits


async def consume_risk_marks(session: AsyncSession, marks: RiskMarks) -> None:
    """Delete exactly the marks that were read; one written meanwhile stays for the next scan."""
    for start in range(0, len(marks.ids), _DELETE_CHUNK):
        chunk = list(marks.ids[start : start + _DELETE_CHUNK])
        await session.exec(delete(RiskDirty).where(col(RiskDirty.id).in_(chunk)))


async def department_item_ids(
    session: AsyncSession, department_ids: Iterable[int]
) -> frozenset[int]:
    """The non-archived items of these departments."""
    departments = list(department_ids)
    if not departments:
        return frozenset()
    statement = select(RoadmapItem.id).where(
        col(RoadmapItem.department_id).in_(departments), col(RoadmapItem.archived).is_(False)
    )
    return frozenset(item_id for item_id in (await session.exec(statement)).all() if item_id)


@dataclass(frozen=True)
class RoadmapState:
    """How far the Road Map is set up: what the secretariat's next step is."""

    departments: int
    items: int  # not archived
    departments_without_members: int  # no active member yet
    rounds: int  # status rounds ever recorded


async def roadmap_state(session: AsyncSession) -> RoadmapState:
    """Four counts in one statement, whatever the size of the Road Map."""
    with_members = (
        select(Person.department_id)
        .where(Person.role == Role.MEMBER, col(Person.active).is_(True))
        .where(col(Person.department_id).is_not(None))
    )
    departments = select(func.count()).select_from(Department).scalar_subquery()
    items = (
        select(func.count())
        .select_from(RoadmapItem)
        .where(col(RoadmapItem.archived).is_(False))
        .scalar_subquery()
    )
    without = (
        select(func.count())
        .select_from(Department)
        .where(col(Department.id).not_in(with_members))
        .scalar_subquery()
    )
    rounds = select(func.count()).select_from(StatusRound).scalar_subquery()
    row = (await session.exec(select(departments, items, without, rounds))).one()
    return RoadmapState(*row)
