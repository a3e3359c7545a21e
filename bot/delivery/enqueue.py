"""Putting a message for one person into the outbox: the one way every feature does it."""

from __future__ import annotations

from datetime import datetime

from aiogram.types import InlineKeyboardMarkup
from sqlmodel.ext.asyncio.session import AsyncSession

from db.models import Person
from db.outbox import enqueue


async def enqueue_message(
    session: AsyncSession,
    *,
    key: str,
    kind: str,
    person: Person,
    text: str,
    now: datetime,
    not_before: datetime | None = None,
    keyboard: InlineKeyboardMarkup | None = None,
) -> bool:
    """An HTML text (and buttons) for `person`; False when the key was enqueued before."""
    params: dict[str, object] = {"text": text, "parse_mode": "HTML"}
    if keyboard is not None:
        params["reply_markup"] = keyboard.model_dump(mode="json", exclude_none=True)
    return await enqueue(
        session,
        key=key,
        kind=kind,
        chat_id=person.telegram_id,
        person_id=person.id,
        method="sendMessage",
        params=params,
        now=now,
        not_before=not_before,
    )


async def enqueue_photo(
    session: AsyncSession,
    *,
    key: str,
    kind: str,
    person: Person,
    photo: str,
    filename: str,
    caption: str,
    now: datetime,
    not_before: datetime | None = None,
    keyboard: InlineKeyboardMarkup | None = None,
) -> bool:
    """A picture (base64 of the file) with an HTML caption for `person`."""
    params: dict[str, object] = {
        "photo": {"base64": photo, "filename": filename},
        "caption": caption,
        "parse_mode": "HTML",
    }
    if keyboard is not None:
        params["reply_markup"] = keyboard.model_dump(mode="json", exclude_none=True)
    return await enqueue(
        session,
        key=key,
        kind=kind,
        chat_id=person.telegram_id,
        person_id=person.id,
        method="sendPhoto",
        params=params,
        now=now,
        not_before=not_before,
    )
