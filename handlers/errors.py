"""The last line: an unexpected error is logged and the person still gets one answer.

The database session of the update has been rolled back by then, so whatever the person had
saved before is intact and trying again is safe: the answer says so. When the disk or the
database failed (full, read-only, down, locked), the answer says the bot cannot save right
now, and the log gets one line per kind of fault, not a traceback per update.
"""

from __future__ import annotations

import logging

from aiogram import Bot, Router
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest
from aiogram.filters import ExceptionTypeFilter
from aiogram.types import ErrorEvent, Update
from aiogram.utils.i18n import gettext as _

from bot.core.faults import CoordinationUnavailableError, FaultLog, is_storage_fault
from bot.telegram.session import guard_of

logger = logging.getLogger(__name__)
_storage_faults = FaultLog(logger, "Saving an update's changes")


def error_text() -> str:
    return _(
        "Sorry, something went wrong on our side. Nothing was lost: please try again. "
        "If it happens again, tell the secretariat."
    )


def cannot_save_text() -> str:
    return _("The bot cannot save right now. Nothing was lost: please try again in a few minutes.")


async def unexpected_error(event: ErrorEvent, bot: Bot) -> None:
    update = event.update
    if is_storage_fault(event.exception):
        _storage_faults.failed(event.exception)
        try:
            await _tell_the_person(update, bot, cannot_save_text())
        except TelegramAPIError as error:
            logger.warning("Update %s: the answer failed too: %s", update.update_id, error)
        return
    # The update id and the exception only: no texts, names or ids of the person, and the
    # logging filter (bot/app/logs.py) hides the token should a library print it.
    logger.error(
        "Update %s (%s) failed: %s",
        update.update_id,
        update.event_type,
        type(event.exception).__name__,
        exc_info=event.exception,
    )
    try:
        await _tell_the_person(update, bot, error_text())
    except TelegramAPIError as error:
        logger.warning("Update %s: the apology failed too: %s", update.update_id, error)


async def _tell_the_person(update: Update, bot: Bot, text: str) -> None:
    """An alert on the button if it is still unanswered, else one message in the chat."""
    query = update.callback_query
    if query is not None:
        guard = guard_of(bot)
        if guard is None or not guard.answered(query.id):
            try:
                await query.answer(text, show_alert=True)
                return
            except TelegramBadRequest:  # too old, or answered after all: say it in the chat
                pass
        chat_id = query.message.chat.id if query.message is not None else query.from_user.id
        await bot.send_message(chat_id, text)
    elif update.message is not None:
        await bot.send_message(update.message.chat.id, text)


def create_router() -> Router:
    router = Router(name=__name__)
    # Redis unavailable (webhook mode) is not the person's problem to retry: the update
    # escapes, the webhook answers 503 and Telegram sends it again.
    router.error.register(unexpected_error, ~ExceptionTypeFilter(CoordinationUnavailableError))
    return router
