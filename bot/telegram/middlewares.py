"""Middlewares: one database session per update, and the guards of role-only commands."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection
from typing import Any

from aiogram import BaseMiddleware, Router
from aiogram.types import CallbackQuery, Message, TelegramObject, Update
from aiogram.utils.i18n import gettext as _

from bot.core.clock import Clock
from bot.people import audit
from bot.people.service import mark_reachable
from db import queries
from db.engine import AsyncSession, SessionMaker
from db.fsm_storage import DatabaseStorage
from db.models import Person, Role

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]
PreRead = Callable[
    [TelegramObject, dict[str, Any], AsyncSession, int], Awaitable[tuple[Person | None, Any] | None]
]


class PreReadingRouter(Router):
    """A router whose updates are about one thing the handler will need (the dialog's item):
    `pre_read` loads the sender together with it in one statement, before the handler runs.
    It returns None for an update that is about nothing it knows, and otherwise the person and
    what it read, handed on as `item_snapshot`."""

    def __init__(self, *, name: str, pre_read: PreRead) -> None:
        super().__init__(name=name)
        self.pre_read = pre_read


def _pre_readers(dispatcher: Router | None) -> list[PreRead]:
    """The pre-readers of the dispatcher's routers, each once, in the routers' order."""
    found: list[PreRead] = []
    for router in dispatcher.chain_tail if dispatcher is not None else ():
        if isinstance(router, PreReadingRouter) and router.pre_read not in found:
            found.append(router.pre_read)
    return found


class DbSessionMiddleware(BaseMiddleware):
    """Opens a session for the update and loads the active person who sent it.

    Runs at update level, before the i18n middleware, so the person's saved language is known
    when texts are rendered. Services commit; whatever they leave uncommitted is rolled back.
    The dialog's storage joins the session, so a service's commit also stores the dialog row
    as the handler has set it so far: a report and the dialog's next step in one commit.

    A `PreReadingRouter` reads the person itself, with the item the update is about: one
    statement instead of three, fresh for every update, so each step still checks the item as
    it is now.
    """

    def __init__(self, session_maker: SessionMaker) -> None:
        self.session_maker = session_maker
        self.pre_readers: list[PreRead] | None = None  # found on the first update

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        if self.pre_readers is None:
            self.pre_readers = _pre_readers(data.get("dispatcher"))
        async with self.session_maker() as session:
            storage = data.get("fsm_storage")
            if isinstance(storage, DatabaseStorage):
                storage.join(session)
            person, snapshot = await self._read(event, data, session)
            if person is not None and event_is_from_person(event):
                await mark_reachable(session, person)
            active = person is not None and person.active
            data["session"] = session
            data["person"] = person if active else None
            # Read now: after a failed commit the person is expired and the session closed,
            # and the error's answer must still be in their language.
            data["person_locale"] = person.locale if person is not None and active else None
            data["item_snapshot"] = snapshot if active else None
            # The reads are done: end their transaction, so the connection goes back to the
            # pool while the handler runs. A use case opens a session of its own; holding this
            # one as well would take two connections per update, and a burst of updates as
            # large as the pool would wait on each other until the pool timed out.
            if session.in_transaction():
                await session.commit()
            return await handler(event, data)

    async def _read(
        self, event: TelegramObject, data: dict[str, Any], session: AsyncSession
    ) -> tuple[Person | None, Any]:
        user = data.get("event_from_user")
        if user is None:
            return None, None
        for pre_read in self.pre_readers or ():
            found = await pre_read(event, data, session, user.id)
            if found is not None:
                return found
        return await queries.person_by_telegram_id(session, user.id), None


class ContextMiddleware(BaseMiddleware):
    """Hands the handlers one object made from the handler data (`build`, None to skip)
    under `key`, instead of the several dependencies it gathers."""

    def __init__(self, key: str, build: Callable[[dict[str, Any]], object | None]) -> None:
        self.key = key
        self.build = build

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        built = self.build(data)
        if built is not None:
            data[self.key] = built
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
