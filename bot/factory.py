"""Composition root: builds the Bot, the Dispatcher and everything they depend on.

Nothing here runs at import time; production (`python -m bot`) and the tests call the same
factories with their own settings and clock.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.utils.i18n import I18n
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.clock import Clock, SystemClock
from bot.config import TELEGRAM_DEFAULT_API_URL, Settings
from bot.i18n import PersonI18nMiddleware, build_i18n
from bot.menus import set_default_menus
from bot.middlewares import DbSessionMiddleware
from db.engine import SessionMaker, create_engine, create_session_maker
from db.fsm_storage import DatabaseStorage
from db.migrate import upgrade
from handlers import get_routers

logger = logging.getLogger(__name__)


def create_bot(settings: Settings) -> Bot:
    session = AiohttpSession()
    if settings.telegram_api_url != TELEGRAM_DEFAULT_API_URL:
        session = AiohttpSession(api=TelegramAPIServer.from_base(settings.telegram_api_url))
    return Bot(
        token=settings.bot_token.get_secret_value(),
        session=session,
        default=DefaultBotProperties(parse_mode=ParseMode.HTML, link_preview_is_disabled=True),
    )


def create_dispatcher(
    *, settings: Settings, session_maker: SessionMaker, i18n: I18n, clock: Clock
) -> Dispatcher:
    dispatcher = Dispatcher(
        storage=DatabaseStorage(session_maker),
        settings=settings,
        clock=clock,
        session_maker=session_maker,
    )
    dispatcher.update.outer_middleware(DbSessionMiddleware(session_maker))
    PersonI18nMiddleware(i18n).setup(dispatcher)
    dispatcher.include_routers(*get_routers())
    dispatcher.startup.register(_on_startup)
    return dispatcher


async def _on_startup(bot: Bot, i18n: I18n) -> None:
    await bot.delete_webhook(drop_pending_updates=False)
    await set_default_menus(bot, i18n)
    me = await bot.me()
    logger.info("Bot @%s is up", me.username)


@dataclass
class Application:
    settings: Settings
    engine: AsyncEngine
    bot: Bot
    dispatcher: Dispatcher
    i18n: I18n

    async def close(self) -> None:
        await self.bot.session.close()
        await self.engine.dispose()


async def create_application(settings: Settings, clock: Clock | None = None) -> Application:
    """Everything the bot needs, with the database migrated to the latest schema."""
    engine = create_engine(settings.database_url)
    await upgrade(engine)
    i18n = build_i18n(settings.default_locale)
    dispatcher = create_dispatcher(
        settings=settings,
        session_maker=create_session_maker(engine),
        i18n=i18n,
        clock=clock or SystemClock(),
    )
    dispatcher["i18n"] = i18n
    return Application(settings, engine, create_bot(settings), dispatcher, i18n)


async def run_polling(settings: Settings) -> None:
    application = await create_application(settings)
    try:
        await application.dispatcher.start_polling(application.bot)
    finally:
        await application.close()
