"""Each update the dispatcher runs, counted by type and outcome and timed, for /metrics.

The middleware sits inside aiogram's error handling: an update whose handler raised counts as
failed even though the errors router then apologises in the chat. Updates the webhook refuses
before dispatch (duplicates, Redis unavailable) are counted by the webhook itself.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, Update

from bot.core.metrics import UPDATE_SECONDS, UPDATES

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class UpdateMetricsMiddleware(BaseMiddleware):
    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        kind = event.event_type if isinstance(event, Update) else type(event).__name__
        started = time.perf_counter()
        try:
            result = await handler(event, data)
        except Exception:
            UPDATES.inc(type=kind, outcome="failed")
            raise
        finally:
            UPDATE_SECONDS.observe(time.perf_counter() - started)
        UPDATES.inc(type=kind, outcome="handled")
        return result
