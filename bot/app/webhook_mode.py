"""`BOT_MODE=webhook`: the bot started, run and stopped around its web server instead of
long polling. Telegram's updates arrive on the dashboard's aiohttp application
(bot/web/webhook.py); the webhook itself is registered at deploy time
(bot/app/webhook_commands.py), never here."""

from __future__ import annotations

import asyncio
import logging
import signal
from typing import Any

from bot.app.config import Settings
from bot.app.factory import (
    Application,
    create_application,
    create_web_server,
    freeze_startup_heap,
    wait_for_telegram,
)
from bot.core.clock import SystemClock
from bot.usecases.dashboard import dashboard_readers
from bot.web.menu import offer_dashboard
from bot.web.server import WebServer

logger = logging.getLogger(__name__)


def _workflow(application: Application) -> dict[str, Any]:
    """What the dispatcher's start-up and shut-down handlers are given, as polling gives it."""
    dispatcher, bot = application.dispatcher, application.bot
    return {"bot": bot, "bots": [bot], "dispatcher": dispatcher, **dispatcher.workflow_data}


async def start_webhook(application: Application) -> WebServer:
    """The dispatcher's start-up (menus, outbox, scheduler), then the web server: Telegram's
    updates are accepted only once the bot is ready for them."""
    await application.dispatcher.emit_startup(**_workflow(application))
    me = await application.bot.me()  # cached by the start-up: the invitation links' bot name
    web = create_web_server(application, me.username or "")
    assert web is not None  # webhook mode requires PUBLIC_URL (Settings)
    await web.start()
    url = application.settings.dashboard_url
    if url is not None:
        readers = await dashboard_readers(application.dispatcher["usecases"])
        await offer_dashboard(application.bot, application.i18n, readers, url)
    return web


async def stop_webhook(application: Application, web: WebServer) -> None:
    """Stop taking updates (those being handled finish; Telegram sends the rest to another
    replica), then the dispatcher's shut-down. The webhook itself stays registered."""
    await web.stop()
    await application.dispatcher.emit_shutdown(**_workflow(application))


async def run_webhook(settings: Settings) -> None:
    """`python -m bot` in webhook mode: until SIGTERM or SIGINT."""
    application = await create_application(settings, SystemClock())
    freeze_startup_heap()
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signal_number in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signal_number, stopping.set)
    try:
        await wait_for_telegram(application.bot)
        web = await start_webhook(application)
        logger.info("Webhook mode: updates arrive at %s", settings.webhook_path)
        try:
            await stopping.wait()
        finally:
            await stop_webhook(application, web)
    finally:
        await application.close()
