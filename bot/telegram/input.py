"""Incoming text cleaned before any handler sees it: what a person types (a message, a
caption) and their name, without bidi overrides or control characters (bot/core/text.py), so
nothing stored from the chat can garble what others are shown."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import Message, TelegramObject, Update, User

from bot.core.text import clean_input

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


def _clean_user(user: User | None) -> User | None:
    if user is None:
        return None
    first, last = clean_input(user.first_name), clean_input(user.last_name or "")
    if first == user.first_name and last == (user.last_name or ""):
        return user
    return user.model_copy(update={"first_name": first or "-", "last_name": last or None})


def _clean_message(message: Message | None) -> Message | None:
    if message is None:
        return None
    changes: dict[str, Any] = {}
    for name in ("text", "caption"):
        value = getattr(message, name)
        if value is not None and clean_input(value) != value:
            changes[name] = clean_input(value)
    user = _clean_user(message.from_user)
    if user is not message.from_user:
        changes["from_user"] = user
    return message.model_copy(update=changes) if changes else message


class CleanInputMiddleware(BaseMiddleware):
    """An update-level outer middleware: the handlers get the cleaned update (a copy: aiogram's
    objects are frozen), and `event_from_user` the cleaned sender."""

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        if not isinstance(event, Update):
            return await handler(event, data)
        changes: dict[str, Any] = {}
        for name in ("message", "edited_message"):
            message = getattr(event, name)
            cleaned = _clean_message(message)
            if cleaned is not message:
                changes[name] = cleaned
        query = event.callback_query
        if query is not None:
            user = _clean_user(query.from_user)
            if user is not query.from_user:
                changes["callback_query"] = query.model_copy(update={"from_user": user})
        if not changes:
            return await handler(event, data)
        cleaned_update = event.model_copy(update=changes)
        sender = data.get("event_from_user")
        if sender is not None:
            data["event_from_user"] = _clean_user(sender)
        return await handler(cleaned_update, data)
