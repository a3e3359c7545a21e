"""First contact: /start (with or without an invitation), language choice and /help."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.types import CallbackQuery, Message, User
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.app.config import SUPPORTED_LOCALES, Settings
from bot.core.clock import Clock
from bot.core.errors import InviteExpiredError, InviteInvalidError, InviteUsedError
from bot.core.text import quote
from bot.people.invites import Newcomer, redeem_invite
from bot.people.service import ensure_configured_admin, set_locale
from bot.telegram.callbacks import LanguageChoice
from bot.telegram.i18n import N_
from bot.telegram.keyboards import language_keyboard
from bot.telegram.menus import set_person_menu
from bot.telegram.texts import help_text, no_access_text
from db.engine import AsyncSession
from db.models import Person

CHOOSE_LANGUAGE = N_("Choose your language")


def _newcomer(user: User) -> Newcomer:
    return Newcomer(telegram_id=user.id, display_name=user.full_name, username=user.username)


def _language_prompt(i18n: I18n) -> str:
    """Shown before the person has chosen: the question in both languages."""
    return " / ".join(i18n.gettext(CHOOSE_LANGUAGE, locale=locale) for locale in SUPPORTED_LOCALES)


async def start_with_invite(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    clock: Clock,
    i18n: I18n,
) -> None:
    try:
        await redeem_invite(
            session,
            token=command.args or "",
            newcomer=_newcomer(message.from_user),  # type: ignore[arg-type]
            now=clock.now(),
        )
    except InviteInvalidError:
        await message.answer(
            _("This invitation link is not valid. Ask the secretariat for a new one.")
        )
        return
    except InviteUsedError:
        await message.answer(
            _("This invitation link has already been used. Ask the secretariat for a new one.")
        )
        return
    except InviteExpiredError:
        await message.answer(
            _("This invitation link has expired. Ask the secretariat for a new one.")
        )
        return
    await message.answer(_language_prompt(i18n), reply_markup=language_keyboard())


async def start(
    message: Message,
    person: Person | None,
    session: AsyncSession,
    settings: Settings,
    clock: Clock,
    i18n: I18n,
) -> None:
    if person is None:
        person = await ensure_configured_admin(
            session,
            newcomer=_newcomer(message.from_user),  # type: ignore[arg-type]
            admin_ids=settings.admin_ids,
            now=clock.now(),
        )
        if person is not None:
            await message.answer(_language_prompt(i18n), reply_markup=language_keyboard())
            return
        await message.answer(no_access_text(message.from_user.id))  # type: ignore[union-attr]
        return
    if person.locale is None:
        await message.answer(_language_prompt(i18n), reply_markup=language_keyboard())
        return
    await message.answer(
        _("Welcome back, {name}!").format(name=quote(person.display_name))
        + "\n\n"
        + help_text(person)
    )


async def choose_language(
    query: CallbackQuery,
    callback_data: LanguageChoice,
    person: Person | None,
    session: AsyncSession,
    clock: Clock,
    bot: Bot,
    i18n: I18n,
) -> None:
    if person is None:
        await query.answer(_("You do not have access."), show_alert=True)
        return
    await set_locale(session, person, callback_data.locale, clock.now())
    await set_person_menu(bot, i18n, person)
    with i18n.use_locale(callback_data.locale):
        await query.answer(_("Language saved."))
        text = _("Done! I will write to you in this language.") + "\n\n" + help_text(person)
        if isinstance(query.message, Message):
            try:  # a double tap is "not modified", which the request guard takes as success
                await query.message.edit_text(text, reply_markup=None)
                return
            except TelegramBadRequest:  # older than 48 hours, or deleted: write anew
                pass
        await bot.send_message(person.telegram_id, text)


async def language(message: Message, person: Person | None) -> None:
    if person is None:
        await message.answer(no_access_text(message.chat.id))
        return
    await message.answer(_("Choose your language"), reply_markup=language_keyboard())


async def help_command(message: Message, person: Person | None) -> None:
    if person is None:
        await message.answer(no_access_text(message.chat.id))
        return
    await message.answer(help_text(person))


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.register(start_with_invite, CommandStart(deep_link=True), F.from_user)
    router.message.register(start, CommandStart(), F.from_user)
    router.callback_query.register(
        choose_language, LanguageChoice.filter(F.locale.in_(SUPPORTED_LOCALES))
    )
    router.message.register(language, Command("language"))
    router.message.register(help_command, Command("help"))
    return router
