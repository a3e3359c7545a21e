"""Writing an import plan: one transaction, every change in the audit log.

All of it or none of it, and short: every row to write is prepared in Python first (the items'
current values read with one statement, outside any write), then the transaction is a handful
of bulk statements, one per table and kind of change, and the commit. On SQLite the write lock
is therefore held for the bulk statements only (about 0.1 s for 5,000 rows), not for 20,000
per-row ORM statements (9 s, during which every other writer failed with "database is
locked"); a Save that arrives meanwhile waits for it within SQLite's busy timeout.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.errors import UnknownItemError
from bot.spreadsheets.parse import Column
from bot.spreadsheets.plan import ImportPlan, PlannedUpdate
from db import queries
from db.models import AuditLog, DeadlineChange, ItemCoExecutor, Person, RiskDirty, RoadmapItem

# Plain text fields an import may change, written as they come (change.new).
_TEXT_FIELDS = frozenset(
    {
        Column.TITLE_KK,
        Column.TITLE_RU,
        Column.TARGET,
        Column.DEADLINE_TEXT,
        Column.COMPLETION_FORM,
        Column.COSTS,
        Column.FUNDING,
    }
)
_UPDATED_FIELDS = (
    "title_kk",
    "title_ru",
    "target",
    "deadline_text",
    "completion_form",
    "costs",
    "funding",
    "department_id",
    "deadline",
)


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int
    told: int = 0  # notices queued with the changes


# Queues the notices of the changes just written, in the same transaction; how many.
Notices = Callable[[AsyncSession], Awaitable[int]]


@dataclass
class _Writes:
    """Everything the transaction writes, prepared before it begins."""

    new_items: list[dict[str, Any]] = field(default_factory=list)
    new_co_executors: dict[str, tuple[int, ...]] = field(default_factory=dict)  # by code
    item_updates: list[dict[str, Any]] = field(default_factory=list)
    deadline_changes: list[dict[str, Any]] = field(default_factory=list)
    replaced_co_executors: dict[int, tuple[int, ...]] = field(default_factory=dict)
    audit: list[dict[str, Any]] = field(default_factory=list)
    dirty: list[int] = field(default_factory=list)


async def apply_import(
    session: AsyncSession,
    plan: ImportPlan,
    *,
    actor: Person | None,
    now: datetime,
    source: str = "",
    notices: Notices | None = None,
) -> ImportResult:
    """Writes the plan in one transaction: all of it, or on any failure none of it.

    `notices` queues the word of the changes (to the departments concerned) after the writes
    and before the commit: the changes and their notices are committed together, so a failure
    or a stop between them can neither apply an import nobody is told of nor tell of one that
    did not happen."""
    try:
        writes = await _prepare(session, plan, actor=actor, now=now, source=source)
        await _write(session, writes, now=now)
        told = await notices(session) if notices is not None else 0
        await session.commit()
    except BaseException:
        await session.rollback()
        raise
    return ImportResult(created=len(plan.new), updated=len(plan.updated), told=told)


async def _prepare(
    session: AsyncSession, plan: ImportPlan, *, actor: Person | None, now: datetime, source: str
) -> _Writes:
    departments = {d.id: d for d in await queries.all_departments(session)}
    writes = _Writes()

    def audit(action: str, target: str | None, details: str) -> None:
        writes.audit.append(
            {
                "actor_telegram_id": actor.telegram_id if actor else None,
                "actor_person_id": actor.id if actor else None,
                "action": action,
                "target": target[:200] if target else None,
                "details": details,
                "created_at": now,
            }
        )

    for planned in plan.new:
        row = planned.row
        department = departments[planned.department_id]
        writes.new_items.append(
            {
                "code": row.code,
                "title_kk": row.title_kk,
                "title_ru": row.title_ru,
                "department_id": planned.department_id,
                "deadline": row.deadline,
                "year": row.deadline.year,
                "target": row.target,
                "deadline_text": row.deadline_text,
                "completion_form": row.completion_form,
                "costs": row.costs,
                "funding": row.funding,
                "archived": False,
                "awaiting_answer": False,
                "created_at": now,
            }
        )
        writes.new_co_executors[row.code] = planned.co_executor_ids
        audit("item.add", row.code, f"{department.code} {row.deadline.isoformat()} (import)")

    current = await _current_items(session, [update.item_id for update in plan.updated])
    for update in plan.updated:
        item = current.get(update.item_id)
        if item is None:  # deleted since the plan was made; the digest check should prevent this
            raise UnknownItemError(update.row.code)
        _prepare_update(writes, update, item, actor=actor, now=now, audit=audit)
    audit(
        "import.apply",
        source or None,
        f"new={len(plan.new)} updated={len(plan.updated)} "
        f"unchanged={len(plan.unchanged)} errors={len(plan.errors)}",
    )
    return writes


async def _current_items(session: AsyncSession, item_ids: Sequence[int]) -> dict[int, Any]:
    """The items an import updates, as plain rows (id, code and the fields it may change)."""
    if not item_ids:
        return {}
    table = RoadmapItem.__table__  # type: ignore[attr-defined]
    statement = sa.select(table.c.id, table.c.code, *(table.c[name] for name in _UPDATED_FIELDS))
    wanted = set(item_ids)
    rows = (await (await session.connection()).execute(statement)).all()
    return {row.id: row for row in rows if row.id in wanted}


def _prepare_update(
    writes: _Writes,
    update: PlannedUpdate,
    item: Any,
    *,
    actor: Person | None,
    now: datetime,
    audit: Any,
) -> None:
    values = {name: getattr(item, name) for name in _UPDATED_FIELDS}
    edits: list[str] = []
    for change in update.changes:
        if change.name == Column.DEADLINE:
            deadline: date = update.row.deadline
            writes.deadline_changes.append(
                {
                    "item_id": item.id,
                    "old_deadline": item.deadline,
                    "new_deadline": deadline,
                    "changed_by_id": actor.id if actor else None,
                    "changed_at": now,
                    "via": "import",
                    "reason": update.row.deadline_reason or None,
                }
            )
            values["deadline"] = deadline
            audit("item.deadline", item.code, f"{item.deadline.isoformat()} -> {deadline}")
        elif change.name == Column.CO_EXECUTORS:
            writes.replaced_co_executors[item.id] = update.co_executor_ids
            audit("item.co_executors", item.code, f"{change.old} -> {change.new}")
        elif change.name == Column.DEPARTMENT:
            values["department_id"] = update.department_id
            audit("item.assign", item.code, f"{change.old} -> {change.new}")
        elif change.name in _TEXT_FIELDS:
            values[str(change.name)] = change.new
            edits.append(f"{change.name}: {change.old!r} -> {change.new!r}")
        else:
            raise ValueError(f"an import cannot change {change.name}")
    writes.item_updates.append({"item_key": item.id, **values})
    writes.dirty.append(item.id)
    if edits:
        audit("item.edit", item.code, "\n".join(edits))


_STAGING = sa.MetaData()


def _staging(name: str, *columns: sa.Column[Any]) -> sa.Table:
    """A temporary table of this connection (dropped at commit on PostgreSQL)."""
    return sa.Table(name, _STAGING, *columns, prefixes=["TEMPORARY"], postgresql_on_commit="DROP")


def _copy(table: sa.Table, *, without: tuple[str, ...] = ("id",)) -> list[sa.Column[Any]]:
    return [sa.Column(c.name, c.type) for c in table.columns if c.name not in without]


_ITEMS: sa.Table = RoadmapItem.__table__  # type: ignore[attr-defined]
_LINKS: sa.Table = ItemCoExecutor.__table__  # type: ignore[attr-defined]
_DEADLINES: sa.Table = DeadlineChange.__table__  # type: ignore[attr-defined]
_AUDIT: sa.Table = AuditLog.__table__  # type: ignore[attr-defined]
_RISK_DIRTY: sa.Table = RiskDirty.__table__  # type: ignore[attr-defined]
# New items have no update yet: the newest-update columns keep their defaults (migration 0014).
_NEWEST_UPDATE = ("last_update_id", "last_update_at", "last_update_done")
_STAGED_ITEMS = _staging("import_item", *_copy(_ITEMS, without=("id", *_NEWEST_UPDATE)))
_STAGED_NEW_LINKS = _staging(
    "import_new_link", sa.Column("code", sa.String(32)), sa.Column("department_id", sa.Integer)
)
_STAGED_UPDATES = _staging(
    "import_update",
    sa.Column("item_key", sa.Integer),
    *(sa.Column(name, _ITEMS.c[name].type) for name in _UPDATED_FIELDS),
)
_STAGED_DEADLINES = _staging("import_deadline", *_copy(_DEADLINES))
_STAGED_REPLACED = _staging("import_replaced", sa.Column("item_id", sa.Integer))
_STAGED_LINKS = _staging("import_link", *_copy(_LINKS, without=()))
_STAGED_AUDIT = _staging("import_audit", *_copy(_AUDIT))


async def _write(session: AsyncSession, writes: _Writes, *, now: datetime) -> None:
    """The writing, in two parts. First every row goes into this connection's temporary
    tables, which on SQLite live in a database of their own: no lock on the Road Map's file
    is taken, however long the rows take. Then each table is filled from its staging table by
    one INSERT ... SELECT (or UPDATE ... FROM), run inside the database without a trip back
    to Python per row: only this part holds the write lock, and it is the one transaction
    that changes the Road Map (on PostgreSQL both parts are one transaction)."""
    connection = await session.connection()
    staged = await _stage(connection, writes)
    if connection.dialect.name == "sqlite":
        # The staging is this connection's own: end its transaction here (it wrote nothing of
        # the Road Map), then take the write lock at once. A deferred transaction that had
        # read the schema would fail outright, not wait, if another writer committed meanwhile.
        await connection.exec_driver_sql("COMMIT")
        await connection.exec_driver_sql("BEGIN IMMEDIATE")
    if _STAGED_ITEMS in staged:
        names = [c.name for c in _STAGED_ITEMS.columns]
        await connection.execute(
            sa.insert(_ITEMS).from_select(names, sa.select(*_STAGED_ITEMS.columns))
        )
    if _STAGED_NEW_LINKS in staged:
        await connection.execute(
            sa.insert(_LINKS).from_select(
                ["item_id", "department_id"],
                sa.select(_ITEMS.c.id, _STAGED_NEW_LINKS.c.department_id).join(
                    _STAGED_NEW_LINKS, _STAGED_NEW_LINKS.c.code == _ITEMS.c.code
                ),
            )
        )
    if _STAGED_UPDATES in staged:
        await connection.execute(
            sa.update(_ITEMS)
            .values({name: _STAGED_UPDATES.c[name] for name in _UPDATED_FIELDS})
            .where(_ITEMS.c.id == _STAGED_UPDATES.c.item_key)
        )
    if _STAGED_DEADLINES in staged:
        await _copy_in(connection, _DEADLINES, _STAGED_DEADLINES)
    if _STAGED_REPLACED in staged:
        await connection.execute(
            sa.delete(_LINKS).where(_LINKS.c.item_id.in_(sa.select(_STAGED_REPLACED.c.item_id)))
        )
    if _STAGED_LINKS in staged:
        await _copy_in(connection, _LINKS, _STAGED_LINKS)
    await _copy_in(connection, _AUDIT, _STAGED_AUDIT)
    if _STAGED_ITEMS in staged:  # the new items' risk marks, found by code
        await connection.execute(
            sa.insert(_RISK_DIRTY).from_select(
                ["item_id", "department_id", "created_at"],
                sa.select(
                    _ITEMS.c.id, sa.null(), sa.literal(now, _RISK_DIRTY.c.created_at.type)
                ).join(_STAGED_ITEMS, _STAGED_ITEMS.c.code == _ITEMS.c.code),
            )
        )
    await queries.mark_risk_dirty(session, now=now, item_ids=writes.dirty)


async def _stage(connection: Any, writes: _Writes) -> set[sa.Table]:
    """Fills the staging tables that have rows; returns them."""
    rows: dict[sa.Table, list[dict[str, Any]]] = {
        _STAGED_ITEMS: writes.new_items,
        _STAGED_NEW_LINKS: [
            {"code": code, "department_id": department_id}
            for code, departments in writes.new_co_executors.items()
            for department_id in departments
        ],
        _STAGED_UPDATES: writes.item_updates,
        _STAGED_DEADLINES: writes.deadline_changes,
        _STAGED_REPLACED: [{"item_id": item_id} for item_id in writes.replaced_co_executors],
        _STAGED_LINKS: [
            {"item_id": item_id, "department_id": department_id}
            for item_id, departments in writes.replaced_co_executors.items()
            for department_id in departments
        ],
        _STAGED_AUDIT: writes.audit,
    }
    staged = set()
    for table, values in rows.items():
        if values:
            await connection.execute(sa.schema.DropTable(table, if_exists=True))
            await connection.execute(sa.schema.CreateTable(table))
            await connection.execute(sa.insert(table), values)
            staged.add(table)
    return staged


async def _copy_in(connection: Any, table: sa.Table, staged: sa.Table) -> None:
    names = [c.name for c in staged.columns]
    await connection.execute(sa.insert(table).from_select(names, sa.select(*staged.columns)))
