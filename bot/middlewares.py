"""Middlewares: one database session per update, and the secretariat guard."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import Message, TelegramObject, Update
from aiogram.utils.i18n import gettext as _

from bot.clock import Clock
from db import queries
from db.engine import SessionMaker
from db.models import Role

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class DbSessionMiddleware(BaseMiddleware):
    """Opens a session for the update and loads the active person who sent it.

    Runs at update level, before the i18n middleware, so the person's saved language is known
    when texts are rendered. Services commit; whatever they leave uncommitted is rolled back.
    """

    def __init__(self, session_maker: SessionMaker) -> None:
        self.session_maker = session_maker

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        async with self.session_maker() as session:
            user = data.get("event_from_user")
            person = await queries.person_by_telegram_id(session, user.id) if user else None
            if person is not None and person.blocked_bot and event_is_from_person(event):
                person.blocked_bot = False  # they wrote to us: the chat works again
                session.add(person)
                await session.commit()
            data["session"] = session
            data["person"] = person if person is not None and person.active else None
            return await handler(event, data)


def event_is_from_person(update: TelegramObject) -> bool:
    """A message or a tap from the person (not a my_chat_member notice about blocking)."""
    return isinstance(update, Update) and bool(update.message or update.callback_query)


class SecretariatOnlyMiddleware(BaseMiddleware):
    """Refuses a secretariat command to anyone else, politely and on the record."""

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        person = data.get("person")
        if person is not None and person.role == Role.SECRETARIAT:
            return await handler(event, data)
        clock: Clock = data["clock"]
        user = data.get("event_from_user")
        command = event.text.split()[0][:64] if isinstance(event, Message) and event.text else None
        await queries.add_audit(
            data["session"],
            at=clock.now(),
            action="refused.secretariat_command",
            actor=person,
            actor_telegram_id=user.id if user else None,
            target=command,
        )
        await data["session"].commit()
        if isinstance(event, Message):
            await event.answer(_("This command is available to the secretariat only."))
        return None
