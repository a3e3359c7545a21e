"""Telegram's webhook: aiogram's `SimpleRequestHandler`, each update claimed before dispatch.

The update is handled before Telegram gets its answer (`handle_in_background=False`): a
replica that dies mid-update leaves Telegram without a 2xx, so the update is sent again
rather than lost, and a chat's updates keep their order. The answers:

- 401: the secret header is wrong (aiogram's check);
- 400: the body is not an update (nothing to retry);
- 200: handled, or a duplicate of one handled already (dropped);
- 503: Redis cannot claim the update or lock the chat, or another replica handles it now:
  Telegram retries later;
- 500: the update escaped every handler (the errors router failed too): its claim is
  released so Telegram's retry runs it again.
"""

from __future__ import annotations

import logging
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.methods import TelegramMethod
from aiogram.types import Update
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web
from pydantic import ValidationError

from bot.core.faults import CoordinationUnavailableError
from bot.core.metrics import UPDATES
from bot.telegram.update_claims import Claim, UpdateClaims

logger = logging.getLogger(__name__)

MAX_UPDATE_BYTES = 1024 * 1024  # an update is a few KiB; a long message with its reply ~50 KiB
RETRY_AFTER = "1"  # seconds, for a 503: Telegram retries on its own schedule anyway


def _update_type(payload: dict[str, Any]) -> str:
    return next((key for key in payload if key != "update_id"), "unknown")


class ClaimedUpdateHandler(SimpleRequestHandler):
    def __init__(
        self, dispatcher: Dispatcher, bot: Bot, *, secret_token: str, claims: UpdateClaims
    ) -> None:
        super().__init__(dispatcher, bot, handle_in_background=False, secret_token=secret_token)
        self.claims = claims

    async def close(self) -> None:
        """The application closes the bot's session when it stops, not the web server."""

    async def _handle_request(self, bot: Bot, request: web.Request) -> web.Response:
        # Read here, not with request.json(): the dashboard's 64 KiB body limit is for its
        # forms, and an update refused for its size would be resent by Telegram for ever.
        body = await _read_at_most(request, MAX_UPDATE_BYTES)
        if body is None:
            UPDATES.inc(type="unknown", outcome="malformed")
            return web.Response(status=413, text="update too large")
        try:
            payload = bot.session.json_loads(body)
            update = Update.model_validate(payload, context={"bot": bot})
        except (ValueError, TypeError, ValidationError):
            UPDATES.inc(type="unknown", outcome="malformed")
            return web.Response(status=400, text="not a Telegram update")
        outcome, response = await self._claimed(bot, update)
        if outcome is not None:  # dispatched updates are counted by UpdateMetricsMiddleware
            UPDATES.inc(type=_update_type(payload), outcome=outcome)
        return response

    async def _claimed(self, bot: Bot, update: Update) -> tuple[str | None, web.Response]:
        try:
            claim = await self.claims.claim(update.update_id)
        except CoordinationUnavailableError as error:
            logger.warning("Update %s refused, Redis unavailable: %s", update.update_id, error)
            return "unavailable", _unavailable()
        if claim is Claim.DONE:
            return "duplicate", web.json_response({})
        if claim is Claim.HANDLING:
            return "busy", _unavailable()
        try:
            async with self.claims.kept(update.update_id):
                result: TelegramMethod[Any] | None = await self.dispatcher.feed_webhook_update(
                    bot, update, **self.data
                )
        except CoordinationUnavailableError as error:
            await self.claims.release(update.update_id)
            logger.warning("Update %s refused, chat lock unavailable: %s", update.update_id, error)
            return "unavailable", _unavailable()
        except Exception:
            await self.claims.release(update.update_id)
            logger.exception("Update %s failed; Telegram will send it again", update.update_id)
            return None, web.Response(status=500, text="update failed")
        await self.claims.done(update.update_id)
        return None, web.Response(body=self._build_response_writer(bot=bot, result=result))


async def _read_at_most(request: web.Request, limit: int) -> bytes | None:
    """The whole body, or None once it is longer than `limit` bytes."""
    chunks: list[bytes] = []
    size = 0
    while chunk := await request.content.read(64 * 1024):
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _unavailable() -> web.Response:
    return web.Response(status=503, text="try again", headers={"Retry-After": RETRY_AFTER})


def add_webhook(
    app: web.Application,
    *,
    path: str,
    dispatcher: Dispatcher,
    bot: Bot,
    secret_token: str,
    claims: UpdateClaims,
) -> ClaimedUpdateHandler:
    handler = ClaimedUpdateHandler(dispatcher, bot, secret_token=secret_token, claims=claims)
    handler.register(app, path=path)
    return handler
