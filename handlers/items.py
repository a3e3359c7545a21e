"""Road Map item cards: /item for everyone with access, the chair's buttons on alerts, the
digest and /dept (the card, "ask the department for an update"), and evidence files again."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from bot.core.parsing import parse_one_word
from bot.risk import views
from bot.telegram.callbacks import AskUpdate, ChairItem, ResendEvidence
from bot.telegram.middlewares import chair_and_secretariat_only
from bot.usecases.items import (
    AskDialog,
    ItemCardShown,
    ItemMissing,
    QuestionLate,
    QuestionSent,
    UpdateRequested,
    add_question,
    evidence_file,
    item_card,
    request_item_update,
)
from bot.usecases.ports import Person, UseCaseContext


async def item_command(
    message: Message, command: CommandObject, person: Person | None, usecases: UseCaseContext
) -> None:
    if person is None:
        await message.answer(views.stranger_text(message.chat.id))
        return
    code = parse_one_word(command.args)
    if code is None:
        await message.answer(views.item_usage())
        return
    shown = await item_card(usecases, person, code)
    if isinstance(shown, ItemCardShown):
        replies = views.card_replies(
            shown.card, shown.risk, shown.today, usecases.tz, ask=shown.may_ask, edit=shown.editable
        )
        await views.answer(message, replies)
    elif isinstance(shown, ItemMissing):
        await message.answer(views.missing_item_text(code))
    else:
        await message.answer(views.item_hidden_text(code))


async def item_button(
    query: CallbackQuery, callback_data: ChairItem, person: Person, usecases: UseCaseContext
) -> None:
    """The item's card with its latest updates and why it is at risk, from a chair's button."""
    chat = await views.button_chat(query)
    if chat is None:
        return
    shown = await item_card(usecases, person, callback_data.item_id)
    if not isinstance(shown, ItemCardShown):
        await query.answer(views.item_gone_text(), show_alert=True)
        return
    await query.answer()
    replies = views.card_replies(
        shown.card, shown.risk, shown.today, usecases.tz, ask=shown.may_ask
    )
    await views.answer(chat, replies)


async def ask_update_button(
    query: CallbackQuery,
    callback_data: AskUpdate,
    person: Person,
    usecases: UseCaseContext,
    state: FSMContext,
) -> None:
    chat = await views.button_chat(query)
    if chat is None:
        return
    asked = await request_item_update(usecases, person, callback_data.item_id, state)
    if not isinstance(asked, UpdateRequested):
        await query.answer(views.item_gone_text(), show_alert=True)
        return
    await query.answer()
    await chat.answer(views.update_requested_text(asked.department, asked.people))


async def question_message(
    message: Message, person: Person, usecases: UseCaseContext, state: FSMContext
) -> None:
    """The one message after [Ask for an update]: the question for the department."""
    sent = await add_question(usecases, person, state, message.text or "")
    if isinstance(sent, QuestionSent):
        await message.answer(views.question_sent_text(sent.item, sent.people))
    elif isinstance(sent, QuestionLate):
        await message.answer(views.question_late_text())
    else:
        await message.answer(views.question_invalid_text())


async def resend_evidence(
    query: CallbackQuery,
    callback_data: ResendEvidence,
    person: Person | None,
    usecases: UseCaseContext,
    bot: Bot,
) -> None:
    """The file of an update again, to whoever may see the item, as what it was: a voice note
    plays as one, a video note shows round (it takes no caption: the item's line goes first)."""
    found = await evidence_file(usecases, person, callback_data.update_id)
    if person is None or found is None:
        # the same answer as for a button that leads nowhere: a stranger learns nothing
        await query.answer(views.button_expired_text(), show_alert=True)
        return
    caption = views.evidence_caption(found.item)
    try:
        if found.kind == "photo":
            await bot.send_photo(person.telegram_id, found.file_id, caption=caption)
        elif found.kind == "voice":
            await bot.send_voice(person.telegram_id, found.file_id, caption=caption)
        elif found.kind == "video_note":
            await bot.send_message(person.telegram_id, caption)
            await bot.send_video_note(person.telegram_id, found.file_id)
        else:
            await bot.send_document(person.telegram_id, found.file_id, caption=caption)
    except TelegramBadRequest:
        await query.answer(views.file_gone_text(), show_alert=True)
        return
    await query.answer()


def create_router() -> Router:
    readers = Router(name=f"{__name__}.readers")
    readers.callback_query.middleware(chair_and_secretariat_only())
    readers.callback_query.register(item_button, ChairItem.filter())
    readers.callback_query.register(ask_update_button, AskUpdate.filter())
    readers.message.middleware(chair_and_secretariat_only())
    readers.message.register(question_message, AskDialog.question, F.text, ~F.text.startswith("/"))

    router = Router(name=__name__)
    router.message.register(item_command, Command("item"))
    router.callback_query.register(resend_evidence, ResendEvidence.filter())
    router.include_router(readers)
    return router
