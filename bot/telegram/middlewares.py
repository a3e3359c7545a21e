"""Middlewares: one database session per update, and the guards of role-only commands."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import CallbackQuery, Message, TelegramObject, Update
from aiogram.utils.i18n import gettext as _

from bot.core.clock import Clock
from bot.people import audit
from bot.people.service import mark_reachable
from db import queries
from db.engine import SessionMaker
from db.fsm_storage import DatabaseStorage
from db.models import Role

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]
ItemOfUpdate = Callable[[TelegramObject, dict[str, Any]], Awaitable[int | None]]


class DbSessionMiddleware(BaseMiddleware):
    """Opens a session for the update and loads the active person who sent it.

    Runs at update level, before the i18n middleware, so the person's saved language is known
    when texts are rendered. Services commit; whatever they leave uncommitted is rolled back.
    The dialog's storage joins the session, so a service's commit also stores the dialog row
    as the handler has set it so far: a report and the dialog's next step in one commit.

    `item_of_update` names the item an update is about (a dialog button, a typed answer in a
    dialog): it is read in the same statement as the person and handed on as `item_snapshot`,
    fresh for every update, so each step still checks the item as it is now.
    """

    def __init__(
        self, session_maker: SessionMaker, item_of_update: ItemOfUpdate | None = None
    ) -> None:
        self.session_maker = session_maker
        self.item_of_update = item_of_update

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        async with self.session_maker() as session:
            storage = data.get("fsm_storage")
            if isinstance(storage, DatabaseStorage):
                storage.join(session)
            user = data.get("event_from_user")
            item_id = (
                await self.item_of_update(event, data) if user and self.item_of_update else None
            )
            person, snapshot = None, None
            if user is not None and item_id is not None:
                person, snapshot = await queries.person_with_item(session, user.id, item_id)
            elif user is not None:
                person = await queries.person_by_telegram_id(session, user.id)
            if person is not None and event_is_from_person(event):
                await mark_reachable(session, person)
            active = person is not None and person.active
            data["session"] = session
            data["person"] = person if active else None
            # Read now: after a failed commit the person is expired and the session closed,
            # and the error's answer must still be in their language.
            data["person_locale"] = person.locale if person is not None and active else None
            data["item_snapshot"] = snapshot if active else None
            return await handler(event, data)


def event_is_from_person(update: TelegramObject) -> bool:
    """A message or a tap from the person (not a my_chat_member notice about blocking)."""
    return isinstance(update, Update) and bool(update.message or update.callback_query)


class RoleGuardMiddleware(BaseMiddleware):
    """Lets through only people with one of `roles`; anyone else is refused, politely and on
    the record (an AuditLog row with the command or the button pressed)."""

    def __init__(self, roles: Collection[str], refusal: Callable[[], str], action: str) -> None:
        self.roles = frozenset(roles)
        self.refusal = refusal
        self.action = action

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        person = data.get("person")
        if person is not None and person.role in self.roles:
            return await handler(event, data)
        clock: Clock = data["clock"]
        user = data.get("event_from_user")
        target = None
        if isinstance(event, Message) and event.text:
            target = event.text.split()[0][:64]
        elif isinstance(event, CallbackQuery):
            target = (event.data or "")[:64]
        await audit.refused(
            data["session"],
            person,
            self.action,
            target,
            now=clock.now(),
            telegram_id=user.id if user else None,
        )
        if isinstance(event, Message):
            await event.answer(self.refusal())
        elif isinstance(event, CallbackQuery):
            await event.answer(self.refusal(), show_alert=True)
        return None


def secretariat_only() -> RoleGuardMiddleware:
    return RoleGuardMiddleware(
        {Role.SECRETARIAT},
        lambda: _("This command is available to the secretariat only."),
        "refused.secretariat_command",
    )


def chair_and_secretariat_only() -> RoleGuardMiddleware:
    return RoleGuardMiddleware(
        {Role.CHAIR, Role.SECRETARIAT},
        lambda: _("This is available to the chair and the secretariat only."),
        "refused.summary_command",
    )
