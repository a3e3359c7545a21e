"""Putting a message for one person into the outbox: the one way every feature does it."""

from __future__ import annotations

import base64
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from aiogram.types import InlineKeyboardMarkup
from sqlmodel.ext.asyncio.session import AsyncSession

from db.models import Person
from db.outbox import Outgoing, enqueue, enqueue_many


@dataclass(frozen=True)
class PersonMessage:
    """An HTML text (and buttons) for one person, under an idempotency key."""

    key: str
    kind: str
    person: Person
    text: str
    not_before: datetime | None = None
    keyboard: InlineKeyboardMarkup | None = None

    def outgoing(self, markup: dict[str, object] | None = None) -> Outgoing:
        """The stored call; `markup` is the keyboard already dumped, when the caller has it."""
        params: dict[str, object] = {"text": self.text, "parse_mode": "HTML"}
        if self.keyboard is not None:
            params["reply_markup"] = markup or self.keyboard.model_dump(
                mode="json", exclude_none=True
            )
        return Outgoing(
            key=self.key,
            kind=self.kind,
            chat_id=self.person.telegram_id,
            method="sendMessage",
            params=params,
            not_before=self.not_before,
            person_id=self.person.id,
        )


async def enqueue_messages(
    session: AsyncSession, messages: Iterable[PersonMessage], *, now: datetime
) -> int:
    """Many messages in a few multi-row INSERTs (a round for 1,000 people); how many keys
    were new. In the caller's transaction; the caller commits, then wakes the worker.

    A round gives one keyboard object to everyone of a department who reads the same
    language: it is dumped once, not once per person.
    """
    # By identity; each keyboard is kept here beside its dump, so no id is ever reused.
    markups: dict[int, tuple[InlineKeyboardMarkup, dict[str, object]]] = {}

    def outgoing(message: PersonMessage) -> Outgoing:
        keyboard = message.keyboard
        if keyboard is None:
            return message.outgoing()
        if id(keyboard) not in markups:
            markups[id(keyboard)] = (keyboard, keyboard.model_dump(mode="json", exclude_none=True))
        return message.outgoing(markups[id(keyboard)][1])

    return await enqueue_many(session, (outgoing(message) for message in messages), now=now)


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
    message = PersonMessage(key, kind, person, text, not_before, keyboard)
    return await enqueue_messages(session, [message], now=now) == 1


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


async def enqueue_document(
    session: AsyncSession,
    *,
    key: str,
    kind: str,
    person: Person,
    data: bytes,
    filename: str,
    caption: str,
    now: datetime,
) -> bool:
    """A file (kept as base64 until it is sent) with an HTML caption for `person`: how the
    dashboard hands over an export, since downloads inside a Telegram web view are unreliable."""
    params: dict[str, object] = {
        "document": {"base64": base64.b64encode(data).decode("ascii"), "filename": filename},
        "caption": caption,
        "parse_mode": "HTML",
    }
    return await enqueue(
        session,
        key=key,
        kind=kind,
        chat_id=person.telegram_id,
        person_id=person.id,
        method="sendDocument",
        params=params,
        now=now,
    )
