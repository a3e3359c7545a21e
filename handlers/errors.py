"""The last line: an unexpected error is logged and the person still gets an answer."""

from __future__ import annotations

import logging
from contextlib import suppress

from aiogram import Bot, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.types import ErrorEvent
from aiogram.utils.i18n import gettext as _

logger = logging.getLogger(__name__)


async def unexpected_error(event: ErrorEvent, bot: Bot) -> None:
    logger.exception(
        "Unhandled error in update %s", event.update.update_id, exc_info=event.exception
    )
    text = _(
        "Sorry, something went wrong on our side. "
        "Please try again; if it happens again, tell the secretariat."
    )
    update = event.update
    with suppress(TelegramAPIError):
        if update.callback_query is not None:
            await update.callback_query.answer(text, show_alert=True)
        elif update.message is not None:
            await bot.send_message(update.message.chat.id, text)


def create_router() -> Router:
    router = Router(name=__name__)
    router.error.register(unexpected_error)
    return router
