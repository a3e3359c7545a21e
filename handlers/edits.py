"""What a member says outside the dialog's steps: Telegram's *Edit* of a sent message, the
answer to "correct the saved update?", and stickers.

Each handler calls one use case (bot/usecases/reporting.py) and shows its outcome the way the
dialog does (handlers/reporting.py).
"""

from __future__ import annotations

from contextlib import suppress

from aiogram import F, Router
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery, Message

from bot.reporting import views
from bot.reporting.dialog import REPORT_DIALOG
from bot.telegram import callbacks, dialogs
from bot.usecases import reporting
from bot.usecases.reporting import Member, UseCaseContext
from handlers.reporting import button_may_be_used, step_screen


async def edited_message(
    message: Message, usecases: UseCaseContext, member: Member | None = None
) -> None:
    """Telegram's *Edit* of a sent message: the draft's comment follows it, a saved comment is
    offered for correction; an edit of anything else needs no answer."""
    if member is None:
        return
    text = message.text if message.text is not None else message.caption
    outcome = await reporting.edit_message(usecases, member, message.message_id, text)
    if isinstance(outcome, reporting.DraftCommentEdited):
        screen = step_screen(outcome.step, usecases)
        assert message.bot is not None
        chat_id, in_place = member.person.telegram_id, outcome.card_message
        await dialogs.show(message.bot, chat_id, screen, edit=None, in_place=in_place)
        await message.reply(views.comment_edited_text())
    elif isinstance(outcome, reporting.CorrectionOffered):
        text, keyboard = views.correction_offer(outcome.item, outcome.update, outcome.comment)
        await message.reply(text, reply_markup=keyboard)
    elif isinstance(outcome, reporting.EditNotKept):
        superseded = outcome == reporting.EditNotKept.SUPERSEDED
        await message.reply(views.edit_not_kept_text(superseded))


async def correct_saved(
    query: CallbackQuery,
    callback_data: callbacks.CorrectSaved,
    usecases: UseCaseContext,
    member: Member | None = None,
) -> None:
    """The answer to "correct the saved update?"."""
    if not await button_may_be_used(query, member):
        return
    assert member is not None and isinstance(query.message, Message)
    accept = callback_data.accept
    outcome = await reporting.correct_saved(
        usecases, member, callback_data.update_id, accept=accept
    )
    await query.answer()
    if isinstance(outcome, reporting.CorrectionSaved):
        text = views.corrected_text(outcome.item, outcome.correction)
    elif isinstance(outcome, reporting.Refused):
        text = views.refusal_text(outcome.reason)
    else:
        text = views.correction_closed_text(outcome.declined)
    with suppress(TelegramBadRequest):
        await query.message.edit_text(text, reply_markup=None)


async def edit_last_update(
    query: CallbackQuery,
    callback_data: callbacks.EditUpdate,
    usecases: UseCaseContext,
    member: Member | None = None,
) -> None:
    """ "Edit my last update" on the item's card: the saved update as a draft to correct."""
    if not await button_may_be_used(query, member):
        return
    assert member is not None and isinstance(query.message, Message)
    outcome = await reporting.edit_last_update(
        usecases, member, callback_data.update_id, shown_in=query.message.message_id
    )
    if isinstance(outcome, reporting.EditClosed):
        await query.answer(views.edit_closed_text(outcome), show_alert=True)
        return
    if isinstance(outcome, reporting.Refused):
        await query.answer(views.refusal_text(outcome.reason), show_alert=True)
        return
    await query.answer()
    screen = step_screen(outcome, usecases)
    assert query.bot is not None
    chat_id = member.person.telegram_id
    await dialogs.show(query.bot, chat_id, screen, edit=query.message, remember=member.dialog)


async def sticker(message: Message, member: Member | None = None) -> None:
    """A sticker gets a short friendly answer (strangers get the fallback's)."""
    if member is None:
        raise SkipHandler
    await message.answer(views.sticker_reply())


def create_router() -> Router:
    """Before the dialog's own routers: a sticker mid-dialog gets its answer, not the step's."""
    router = REPORT_DIALOG.router(__name__, context=("member", Member.of_update))
    router.callback_query.register(correct_saved, callbacks.CorrectSaved.filter())
    router.callback_query.register(edit_last_update, callbacks.EditUpdate.filter())
    router.message.register(sticker, F.sticker)
    router.edited_message.register(edited_message, F.text | F.caption)
    return router
