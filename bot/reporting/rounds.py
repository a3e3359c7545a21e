"""A status round end to end: record it and put one request per person into the outbox."""

from __future__ import annotations

from datetime import datetime

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import I18n
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.delivery.enqueue import PersonMessage, enqueue_messages
from bot.reporting.service import RoundOutcome, start_round, worklist
from bot.reporting.views import worklist_keyboard, worklist_text
from bot.telegram.i18n import in_locale
from db.models import Department, Person


async def run_round(
    session: AsyncSession,
    *,
    i18n: I18n,
    actor: Person | None,
    department: Department | None,
    now: datetime,
    trigger: str = "manual",
    not_before: datetime | None = None,
) -> RoundOutcome:
    """Start a round and enqueue its requests in one transaction, then commit.

    Each member gets one message in their language: how many items wait for an update, and
    the first page of items as buttons. The idempotency key is the round and the person.
    """
    outcome = await start_round(
        session, actor=actor, department=department, now=now, trigger=trigger
    )
    messages: list[PersonMessage] = []
    for request in outcome.requests:
        work = await worklist(session, request.department.id, now)  # type: ignore[arg-type]
        rendered: dict[str | None, tuple[str, InlineKeyboardMarkup | None]] = {}  # per language
        for person in request.people:
            if person.locale not in rendered:
                with in_locale(i18n, person.locale):
                    rendered[person.locale] = (worklist_text(work, 0), worklist_keyboard(work, 0))
            text, keyboard = rendered[person.locale]
            key = f"round:{outcome.round.id}:{person.id}"
            messages.append(PersonMessage(key, "round", person, text, not_before, keyboard))
    await enqueue_messages(session, messages, now=now)
    await session.commit()
    return outcome
