"""Writing an import plan: all or nothing, every change in the audit log."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.errors import UnknownItemError
from bot.roadmap.service import record_assignment, record_deadline_change, record_new_item
from bot.spreadsheets.parse import Column
from bot.spreadsheets.plan import ImportPlan, PlannedUpdate
from db import queries
from db.models import ItemCoExecutor, Person, RoadmapItem


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int


async def apply_import(
    session: AsyncSession,
    plan: ImportPlan,
    *,
    actor: Person | None,
    now: datetime,
    source: str = "",
) -> ImportResult:
    """Writes the plan all or nothing, then commits.

    The writes go into a savepoint: on any failure only the savepoint is undone, never what
    the caller's session held before (the caller, a use case, owns the session).
    """
    departments = {d.id: d for d in await queries.all_departments(session)}
    async with session.begin_nested():
        for planned in plan.new:
            row = planned.row
            item = await record_new_item(
                session,
                code=row.code,
                title_kk=row.title_kk,
                title_ru=row.title_ru,
                department=departments[planned.department_id],
                deadline=row.deadline,
                target=row.target,
                actor=actor,
                now=now,
                note="import",
            )
            item.deadline_text = row.deadline_text
            session.add(item)
            await _set_co_executors(session, item, planned.co_executor_ids)
        for update in plan.updated:
            await _apply_update(session, update, actor=actor, now=now)
        await queries.add_audit(
            session,
            at=now,
            action="import.apply",
            actor=actor,
            target=source or None,
            details=(
                f"new={len(plan.new)} updated={len(plan.updated)} "
                f"unchanged={len(plan.unchanged)} errors={len(plan.errors)}"
            ),
        )
    await session.commit()
    return ImportResult(created=len(plan.new), updated=len(plan.updated))


async def _apply_update(
    session: AsyncSession,
    update: PlannedUpdate,
    *,
    actor: Person | None,
    now: datetime,
) -> None:
    item = await session.get(RoadmapItem, update.item_id)
    if item is None:  # deleted since the plan was made; the digest check should prevent this
        raise UnknownItemError(update.row.code)
    edits: list[str] = []
    for change in update.changes:
        if change.name == Column.DEADLINE:
            await record_deadline_change(
                session,
                item=item,
                deadline=update.row.deadline,
                actor=actor,
                now=now,
                via="import",
            )
        elif change.name == Column.CO_EXECUTORS:
            await _set_co_executors(session, item, update.co_executor_ids)
            await queries.add_audit(
                session,
                at=now,
                action="item.co_executors",
                actor=actor,
                target=item.code,
                details=f"{change.old} -> {change.new}",
            )
        elif change.name == Column.DEPARTMENT:
            await record_assignment(
                session,
                item=item,
                department_id=update.department_id,
                codes=(change.old, change.new),
                actor=actor,
                now=now,
            )
        else:
            setattr(item, str(change.name), change.new)
            edits.append(f"{change.name}: {change.old!r} -> {change.new!r}")
    session.add(item)
    await queries.mark_risk_dirty(session, now=now, item_ids=[item.id])
    if edits:
        await queries.add_audit(
            session,
            at=now,
            action="item.edit",
            actor=actor,
            target=item.code,
            details="\n".join(edits),
        )


async def _set_co_executors(
    session: AsyncSession, item: RoadmapItem, department_ids: tuple[int, ...]
) -> None:
    """Replaces the item's co-executors; flushes first so a new item has its id."""
    await session.flush()
    assert item.id is not None
    current = await session.exec(
        select(ItemCoExecutor).where(col(ItemCoExecutor.item_id) == item.id)
    )
    for link in current.all():
        await session.delete(link)
    await session.flush()
    for department_id in department_ids:
        session.add(ItemCoExecutor(item_id=item.id, department_id=department_id))
