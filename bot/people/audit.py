"""Refusals on the record: the one way a guard, a handler or a service audits a "no"."""

from __future__ import annotations

from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from db import queries
from db.models import Person


async def refused(
    session: AsyncSession,
    actor: Person | None,
    action: str,
    target: str | None,
    *,
    now: datetime,
    telegram_id: int | None = None,
    details: str | None = None,
) -> None:
    """Record that `actor` (or the unknown `telegram_id`) was refused `action` on `target`.

    Written in a savepoint and committed at once, so the refusal stays on record whatever
    the update does next, and a failing write rolls back only itself: the request's Person
    and anything the caller loaded stay usable.
    """
    async with session.begin_nested():
        await queries.add_audit(
            session,
            at=now,
            action=action,
            actor=actor,
            actor_telegram_id=telegram_id,
            target=target,
            details=details,
        )
    await session.commit()
