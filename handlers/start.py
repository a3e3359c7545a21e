"""First contact: /start (with or without an invitation), language choice and /help."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message, User
from aiogram.utils.i18n import I18n

from bot.telegram.callbacks import LanguageChoice, NameStep
from bot.usecases import people
from handlers.context import Caller, Refused, open_router
from handlers.views import start as views


def _newcomer(user: User) -> people.Newcomer:
    return people.Newcomer(telegram_id=user.id, display_name=user.full_name, username=user.username)


async def start_with_invite(
    message: Message, command: CommandObject, caller: Caller, i18n: I18n
) -> None:
    assert message.from_user is not None  # guaranteed by the F.from_user filter
    outcome = await people.redeem(caller.ctx, command.args or "", _newcomer(message.from_user))
    if isinstance(outcome, people.Welcome):  # his own link again: where he stands
        await message.answer(views.already_registered(outcome))
        return
    if isinstance(outcome, Refused):
        await message.answer(views.invite_refused(outcome))
        return
    text, keyboard = views.language_prompt(i18n)
    await message.answer(text, reply_markup=keyboard)


async def start(message: Message, caller: Caller, i18n: I18n) -> None:
    assert message.from_user is not None  # guaranteed by the F.from_user filter
    outcome = await people.start(caller, _newcomer(message.from_user))
    if isinstance(outcome, people.NoAccess):
        await message.answer(views.no_access_text(outcome.telegram_id))
    elif isinstance(outcome, people.Welcome):
        await message.answer(
            views.welcome_back(outcome),
            reply_markup=views.help_keyboard(outcome.person, outcome.state),
        )
    else:
        text, keyboard = views.language_prompt(i18n)
        await message.answer(text, reply_markup=keyboard)


async def choose_language(
    query: CallbackQuery,
    callback_data: LanguageChoice,
    caller: Caller,
    i18n: I18n,
    state: FSMContext,
) -> None:
    chosen = await people.choose_language(caller, callback_data.locale, state)
    bot = query.bot
    if chosen is None or bot is None:
        await query.answer(views.no_access(), show_alert=True)
        return
    person = chosen.person
    await views.set_menu(bot, i18n, chosen)
    with i18n.use_locale(callback_data.locale):
        await query.answer(views.language_saved())
        text = views.language_done(chosen)
        keyboard = views.language_done_keyboard(chosen)
        if isinstance(query.message, Message):
            try:  # a double tap is "not modified", which the request guard takes as success
                await query.message.edit_text(text, reply_markup=keyboard)
                return
            except TelegramBadRequest:  # older than 48 hours, or deleted: write anew
                pass
        await bot.send_message(person.telegram_id, text, reply_markup=keyboard)


async def name_message(message: Message, caller: Caller, state: FSMContext) -> None:
    """The one message after "your full name and position?" (asked once, on joining)."""
    saved = await people.set_own_name(caller, state, message.text or "")
    if isinstance(saved, people.NameLate | people.NotAName):
        raise SkipHandler  # not the answer: whoever takes such a message takes it
    if isinstance(saved, people.NameSaved):
        await message.answer(views.name_saved(saved.person))
    elif isinstance(saved, people.NameInvalid):
        await message.answer(views.name_invalid(), reply_markup=views.name_keyboard())


async def skip_name_button(query: CallbackQuery, state: FSMContext) -> None:
    await people.skip_own_name(state)
    await query.answer(views.name_skipped())
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)


async def language(message: Message, caller: Caller) -> None:
    if caller.person is None:
        await message.answer(views.no_access_text(message.chat.id))
        return
    text, keyboard = views.language_question()
    await message.answer(text, reply_markup=keyboard)


async def help_command(message: Message, caller: Caller) -> None:
    """Short for the secretariat (its next step, the everyday commands, [All commands])."""
    person = caller.person
    if person is None:
        await message.answer(views.no_access_text(message.chat.id))
        return
    state = await people.roadmap_state(caller.ctx) if views.is_secretariat(person) else None
    await message.answer(
        views.short_help(person, state), reply_markup=views.help_keyboard(person, state)
    )


async def full_help(query: CallbackQuery, caller: Caller) -> None:
    await query.answer()
    if caller.person is not None and isinstance(query.message, Message):
        await query.message.edit_text(views.help_text(caller.person), reply_markup=None)


def create_router() -> Router:
    router = open_router(__name__)
    router.message.register(start_with_invite, CommandStart(deep_link=True), F.from_user)
    router.message.register(start, CommandStart(), F.from_user)
    router.callback_query.register(
        choose_language, LanguageChoice.filter(F.locale.in_(views.SUPPORTED_LOCALES))
    )
    router.message.register(
        name_message, people.JoiningDialog.name, F.text, ~F.text.startswith("/")
    )
    router.callback_query.register(skip_name_button, NameStep.filter(F.action == "skip"))
    router.message.register(language, Command("language"))
    router.message.register(help_command, Command("help"))
    router.callback_query.register(full_help, views.FullHelp.filter())
    return router
