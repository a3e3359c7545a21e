"""The one per-router context: a `Caller` built once per update, after the role guard.

Handlers take `caller` instead of the session, the settings, the clock and the person one by
one: what a handler needs from the bot is what its use case needs, and use cases take these.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware, Router
from aiogram.types import TelegramObject

from bot.telegram.middlewares import secretariat_only
from bot.usecases.caller import Caller as Caller
from bot.usecases.caller import Refused as Refused


class CallerMiddleware(BaseMiddleware):
    """Puts `caller` into the handler's data: the composition root's use-case context and
    policy, and the person who sent the update (None when the bot does not know them)."""

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        data["caller"] = Caller(ctx=data["usecases"], policy=data["policy"], person=data["person"])
        return await handler(event, data)


def open_router(name: str) -> Router:
    """A router whose handlers get `caller`, for anyone (the person may be None)."""
    router = Router(name=name)
    router.message.middleware(CallerMiddleware())
    router.callback_query.middleware(CallerMiddleware())
    return router


def secretariat_router(name: str) -> Router:
    """A router for the secretariat only: anyone else is refused (and audited) before the
    context is built."""
    router = Router(name=name)
    for observer in (router.message, router.callback_query):
        observer.middleware(secretariat_only())
        observer.middleware(CallerMiddleware())
    return router
