"""Whatever no other router took: strangers learn how to get access, others get a hint."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.enums import ChatType
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot.telegram.texts import no_access_text
from bot.usecases.ports import Person


async def anything_else(message: Message, person: Person | None) -> None:
    if person is None:
        await message.answer(no_access_text(message.chat.id))
        return
    await message.answer(_("I did not understand that. Send /help to see what I can do."))


async def stale_button(query: CallbackQuery, person: Person | None) -> None:
    if person is None:
        await query.answer(_("You do not have access."), show_alert=True)
        return
    await query.answer(_("This button is no longer valid."), show_alert=True)


def create_router() -> Router:
    router = Router(name=__name__)
    # In a group the bot hears only what is meant for it; the rest of the talk needs no answer.
    router.message.register(anything_else, F.chat.type == ChatType.PRIVATE)
    router.callback_query.register(stale_button)
    return router
