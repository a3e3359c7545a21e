"""Writing notifications into the durable outbox; delivery is bot/delivery/worker.py's job.

A notification is a Bot API call (method and parameters) addressed to one chat, stored with
an idempotency key: enqueueing the same key twice keeps the first row and changes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Table
from sqlmodel.ext.asyncio.session import AsyncSession

from db.engine import upsert_insert
from db.models import Notification

_TABLE: Table = Notification.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Outgoing:
    """One notification to store: a Bot API call for one chat, under an idempotency key."""

    key: str
    kind: str
    chat_id: int
    method: str
    params: dict[str, Any] = field(hash=False)
    not_before: datetime | None = None
    person_id: int | None = None


def _values(message: Outgoing, now: datetime) -> dict[str, Any]:
    return {
        "idempotency_key": message.key[:200],
        "kind": message.kind,
        "person_id": message.person_id,
        "chat_id": message.chat_id,
        "payload": json.dumps(
            {"method": message.method, "params": message.params}, ensure_ascii=False
        ),
        "state": "pending",
        "attempts": 0,
        "not_before": message.not_before or now,
        "created_at": now,
    }


async def enqueue_many(
    session: AsyncSession, messages: Iterable[Outgoing], *, now: datetime
) -> int:
    """Add every notification whose key is new; how many were added. A round for a thousand
    people is a couple of statements, not a thousand.

    One Core INSERT ... ON CONFLICT DO NOTHING RETURNING id, executed with every row as its
    parameters: SQLAlchemy batches the rows into multi-row VALUES itself and compiles the
    statement once, where building one `values()` statement per 500 rows through the ORM
    cost 0.6 s of CPU for 1,000 rows. The keys that were new are the ids returned.

    Runs inside the caller's transaction, so the notifications are stored together with the
    change that caused them, or not at all. The caller commits.
    """
    rows = [_values(message, now) for message in messages]
    if not rows:
        return 0
    statement = (
        upsert_insert(session)(_TABLE)
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
        .returning(_TABLE.c.id)
    )
    connection = await session.connection()
    result = await connection.execute(statement, rows)
    return len(result.all())


async def enqueue(
    session: AsyncSession,
    *,
    key: str,
    kind: str,
    chat_id: int,
    method: str,
    params: dict[str, Any],
    now: datetime,
    not_before: datetime | None = None,
    person_id: int | None = None,
) -> bool:
    """Add a notification unless one with this key exists; True when a row was added.

    Runs inside the caller's transaction (see `enqueue_many`). The caller commits.
    """
    message = Outgoing(key, kind, chat_id, method, params, not_before, person_id)
    return await enqueue_many(session, [message], now=now) == 1


async def outbox_counts(session: AsyncSession) -> dict[str, int]:
    """How many notifications are in each state (pending, sent, failed, dropped): the
    metrics' view of the outbox."""
    from sqlmodel import col, func, select

    statement = select(Notification.state, func.count()).group_by(col(Notification.state))
    rows = (await session.exec(statement)).all()
    return {str(state): int(count) for state, count in rows}
