"""Writing notifications into the durable outbox; delivery is bot/delivery/worker.py's job.

A notification is a Bot API call (method and parameters) addressed to one chat, stored with
an idempotency key: enqueueing the same key twice keeps the first row and changes nothing.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel.ext.asyncio.session import AsyncSession

from db.models import Notification


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

    Runs inside the caller's transaction, so a notification is stored together with the
    change that caused it, or not at all. The caller commits.
    """
    values = {
        "idempotency_key": key[:200],
        "kind": kind,
        "person_id": person_id,
        "chat_id": chat_id,
        "payload": json.dumps({"method": method, "params": params}, ensure_ascii=False),
        "state": "pending",
        "attempts": 0,
        "not_before": not_before or now,
        "created_at": now,
    }
    dialect = session.bind.dialect.name if session.bind else "sqlite"
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = (
        insert(Notification)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
    )
    result = await session.exec(statement)
    return bool(result.rowcount)
