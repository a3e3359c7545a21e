"""Words outside a dialog (issue 22, #14): what a person types is kept and offered as the
items it names or, with one tap, sent to the secretariat; a secretary's Telegram reply to the
copy goes back to the person. Before the fallback, which answers only what is left."""

from __future__ import annotations

from contextlib import suppress

from aiogram import F, Router
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.enums import ChatType
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import StateFilter
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot.reporting import questions as views
from bot.telegram.callbacks import SendQuestion
from bot.usecases import questions
from bot.usecases.ports import Person, UseCaseContext


async def free_text(message: Message, usecases: UseCaseContext, person: Person | None) -> None:
    """Text that is no command and no dialog's answer: kept, then offered."""
    if not questions.may_ask_secretariat(person) or message.text is None:
        raise SkipHandler  # strangers and the secretariat get the fallback's answer
    assert person is not None
    kept = await questions.keep_message(usecases, person, message.text, message.message_id)
    assert kept.question.id is not None
    keyboard = views.offer_keyboard(kept.question.id, kept.items, member=kept.member)
    await message.reply(views.offer_text(kept.items), reply_markup=keyboard)


async def free_voice(message: Message, usecases: UseCaseContext, person: Person | None) -> None:
    """A voice message or a video note outside a dialog: kept, and offered to the
    secretariat as it is."""
    spoken = message.voice or message.video_note
    if not questions.may_ask_secretariat(person) or spoken is None:
        raise SkipHandler
    assert person is not None
    kind = None if message.voice else views.VIDEO_NOTE
    kept = await questions.keep_message(
        usecases, person, "", message.message_id, voice_file_id=spoken.file_id, media_kind=kind
    )
    assert kept.question.id is not None
    keyboard = views.offer_keyboard(kept.question.id, [], member=kept.member)
    await message.reply(views.offer_text([], spoken=kept.question), reply_markup=keyboard)


async def send_question(
    query: CallbackQuery,
    callback_data: SendQuestion,
    usecases: UseCaseContext,
    person: Person | None,
) -> None:
    """[Send to the secretariat]: the kept message goes out; the offer says so in place."""
    if person is None:
        await query.answer(_("You do not have access."), show_alert=True)
        return
    sent = await questions.send_to_secretariat(usecases, person, callback_data.question_id)
    if isinstance(sent, questions.QuestionGone):
        await query.answer(_("This button is no longer valid."), show_alert=True)
        return
    await query.answer()
    if isinstance(query.message, Message):
        with suppress(TelegramBadRequest):
            await query.message.edit_text(views.sent_text(sent.question, sent.secretaries))


async def secretary_reply(
    message: Message, usecases: UseCaseContext, person: Person | None
) -> None:
    """A secretary's reply to a question's copy reaches the person who asked."""
    replied = message.reply_to_message
    if not questions.answers_questions(person) or replied is None or not message.text:
        raise SkipHandler
    assert person is not None
    outcome = await questions.reply_to_question(usecases, person, replied.message_id, message.text)
    if isinstance(outcome, questions.NotAQuestion):
        raise SkipHandler
    await message.reply(views.reply_passed_text(outcome.asker))


def create_router() -> Router:
    router = Router(name=__name__)
    private_text = (F.chat.type == ChatType.PRIVATE) & F.text & ~F.text.startswith("/")
    router.message.register(secretary_reply, private_text, F.reply_to_message)
    router.message.register(free_text, private_text, StateFilter(*questions.FREE_STATES))
    private_voice = (F.chat.type == ChatType.PRIVATE) & (F.voice | F.video_note)
    router.message.register(free_voice, private_voice, StateFilter(*questions.FREE_STATES))
    router.callback_query.register(send_question, SendQuestion.filter())
    return router
