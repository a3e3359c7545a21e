"""`python -m bot webhook set|info|delete`: Telegram's webhook, registered at deploy time.

The replicas never register or delete the webhook themselves: one stopping for a rolling
update would otherwise take the webhook away from the others. `set` is run once per
deployment (and again when PUBLIC_URL, WEBHOOK_PATH or WEBHOOK_SECRET change); `delete`
returns the bot to polling.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import UTC

from aiogram import Bot, Dispatcher
from aiogram.exceptions import AiogramError, TelegramAPIError
from aiogram.types import WebhookInfo

from bot.app.config import Settings
from bot.app.factory import create_bot
from bot.core.faults import first_line
from handlers import get_routers

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_NOT_CONFIGURED = 2
MAX_CONNECTIONS = 40  # Telegram's default; each replica handles updates concurrently anyway

Print = Callable[[str], None]


def used_update_types() -> list[str]:
    """The update types the routers handle, as polling asks for them."""
    dispatcher = Dispatcher()
    dispatcher.include_routers(*get_routers())
    return dispatcher.resolve_used_update_types()


def describe(info: WebhookInfo) -> list[str]:
    lines = [f"URL: {info.url or '(none: the bot polls)'}"]
    lines.append(f"Updates waiting at Telegram: {info.pending_update_count}")
    if info.max_connections:
        lines.append(f"Max connections: {info.max_connections}")
    if info.ip_address:
        lines.append(f"Resolved IP: {info.ip_address}")
    if info.allowed_updates:
        lines.append(f"Update types: {', '.join(info.allowed_updates)}")
    if info.last_error_date is not None:
        when = info.last_error_date.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        lines.append(f"Last delivery error: {when}: {info.last_error_message or '?'}")
    else:
        lines.append("Last delivery error: none")
    return lines


async def webhook_set(bot: Bot, settings: Settings, out: Print) -> int:
    url, secret = settings.webhook_url, settings.webhook_secret
    if url is None or secret is None:
        out("webhook set needs PUBLIC_URL and WEBHOOK_SECRET in .env")
        return EXIT_NOT_CONFIGURED
    await bot.set_webhook(
        url=url,
        secret_token=secret.get_secret_value(),
        allowed_updates=used_update_types(),
        max_connections=MAX_CONNECTIONS,
        drop_pending_updates=False,  # updates sent while the bot was polling or down are kept
    )
    out(f"Webhook set: Telegram sends updates to {url}")
    if settings.bot_mode != "webhook":
        out("Note: BOT_MODE is not webhook; start the replicas with BOT_MODE=webhook.")
    return EXIT_OK


async def webhook_info(bot: Bot, settings: Settings, out: Print) -> int:
    info = await bot.get_webhook_info()
    for line in describe(info):
        out(line)
    expected = settings.webhook_url
    if settings.bot_mode == "webhook" and info.url != expected:
        out(f"Expected {expected}: run python -m bot webhook set")
        return EXIT_FAILED
    return EXIT_OK


async def webhook_delete(bot: Bot, settings: Settings, out: Print) -> int:
    await bot.delete_webhook(drop_pending_updates=False)
    out("Webhook deleted: the waiting updates stay for the next getUpdates.")
    if settings.bot_mode == "webhook":
        out("Note: BOT_MODE is webhook; until it is polling, no replica receives updates.")
    return EXIT_OK


ACTIONS = {"set": webhook_set, "info": webhook_info, "delete": webhook_delete}


async def webhook_command(settings: Settings, action: str, out: Print = print) -> int:
    bot = create_bot(settings)
    try:
        return await ACTIONS[action](bot, settings, out)
    except (TelegramAPIError, AiogramError, OSError, TimeoutError) as error:
        print(f"Telegram refused or could not be reached: {first_line(error)}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        await bot.session.close()
