"""The dashboard's button in the chat: the chair and the secretariat open it from the menu
button of their own chat with the bot (department heads keep the commands menu)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from contextlib import suppress

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError
from aiogram.types import MenuButtonWebApp, WebAppInfo
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.telegram.i18n import in_locale
from bot.usecases.ports import Person

logger = logging.getLogger(__name__)


def dashboard_button(i18n: I18n, person: Person, url: str) -> MenuButtonWebApp:
    with in_locale(i18n, person.locale):
        return MenuButtonWebApp(text=_("Dashboard"), web_app=WebAppInfo(url=url))


async def offer_dashboard(bot: Bot, i18n: I18n, readers: Sequence[Person], url: str) -> None:
    """setChatMenuButton for each reader's chat; a chat that is gone is skipped."""

    async def offer(person: Person) -> None:
        with suppress(TelegramBadRequest, TelegramForbiddenError):
            await bot.set_chat_menu_button(
                chat_id=person.telegram_id, menu_button=dashboard_button(i18n, person, url)
            )

    await asyncio.gather(*(offer(person) for person in readers))
    logger.info("Dashboard button offered to %d chats", len(readers))
