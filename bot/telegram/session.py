"""One protection around every request the bot makes, whoever makes it.

Handlers reply directly, not through the outbox, so without this a 429 or a dropped connection
loses the reply and leaves the person mid-dialog with no buttons. The guard paces sends at the
per-chat limit, waits out `retry_after` (a bounded number of times), retries transient network
and server errors only for calls that are safe to repeat, and treats "message is not modified"
(a double tap) as the success it is. The clock and the sleep are injected for tests.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from aiogram import Bot
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.exceptions import (
    ClientDecodeError,
    RestartingTelegram,
    TelegramBadRequest,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods import AnswerCallbackQuery, Response, SendChatAction, TelegramMethod
from aiogram.methods.base import TelegramType

from bot.core.metrics import RATE_LIMITED
from bot.core.ratelimit import RateLimiter, Sleep

logger = logging.getLogger(__name__)

NOT_MODIFIED = "message is not modified"
# Calls whose repetition changes nothing: reading, setting, deleting and editing. A send
# repeated after a dropped connection may deliver the message twice, so sends are not retried.
_IDEMPOTENT_PREFIXES = ("get", "set", "delete", "edit", "unpin", "pin")
_TRANSIENT = (TelegramNetworkError, TelegramServerError, RestartingTelegram, ClientDecodeError)
FIRST_BACKOFF = 0.5
_REMEMBERED_ANSWERS = 1024


def _api_name(method: TelegramMethod[Any]) -> str:
    return str(method.__api_method__)


def is_idempotent(method: TelegramMethod[Any]) -> bool:
    return _api_name(method).startswith(_IDEMPOTENT_PREFIXES)


def _budgeted(method: TelegramMethod[Any]) -> bool:
    """Whether Telegram counts the call against the ~30 a second: a message sent or edited."""
    name = _api_name(method)
    return not isinstance(method, SendChatAction) and name.startswith(
        ("send", "copy", "forward", "edit")
    )


def _paced_chat(method: TelegramMethod[Any]) -> int | None:
    """The chat a new message goes to (edits, answers and chat actions are not paced)."""
    name = _api_name(method)
    if isinstance(method, SendChatAction) or not name.startswith(("send", "copy", "forward")):
        return None
    chat_id = getattr(method, "chat_id", None)
    return chat_id if isinstance(chat_id, int) else None


class ChatPacer:
    """Spaces new messages to one chat: `chat_per_second` in private chats, `group_per_minute`
    in groups. A multi-part reply (a long digest, an import report) thus never meets a 429."""

    def __init__(
        self,
        *,
        chat_per_second: float,
        group_per_minute: float,
        clock: Callable[[], float],
        sleep: Sleep,
    ) -> None:
        self.chat_interval = 1 / chat_per_second
        self.group_interval = 60 / group_per_minute
        self.clock = clock
        self.sleep = sleep
        self._next: dict[int, float] = {}

    async def wait(self, chat_id: int) -> None:
        now = self.clock()
        if len(self._next) > 10_000:  # forget chats that have been quiet
            self._next = {chat: at for chat, at in self._next.items() if at > now}
        interval = self.group_interval if chat_id < 0 else self.chat_interval
        slot = max(now, self._next.get(chat_id, now))
        self._next[chat_id] = slot + interval
        if slot > now:
            await self.sleep(slot - now)


class RequestGuard(BaseRequestMiddleware):
    def __init__(self, *, max_retries: int, max_wait: float, pacer: ChatPacer, sleep: Sleep):
        self.max_retries = max_retries
        self.max_wait = max_wait
        self.pacer = pacer
        self.sleep = sleep
        self._answered: OrderedDict[str, None] = OrderedDict()
        # The global send budget shared with the outbox (set when the outbox is built).
        self.budget: RateLimiter | None = None

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        await self._pace(method)
        attempt = 0
        while True:
            try:
                result = await make_request(bot, method)
            except TelegramRetryAfter as error:
                RATE_LIMITED.inc()  # every request passes here, the outbox's too
                if attempt >= self.max_retries or error.retry_after > self.max_wait:
                    raise
                delay: float = error.retry_after
            except TelegramBadRequest as error:
                if _api_name(method).startswith("edit") and NOT_MODIFIED in error.message.lower():
                    return True  # type: ignore[return-value]
                raise
            except _TRANSIENT as error:
                if attempt >= self.max_retries or not is_idempotent(method):
                    raise
                delay = FIRST_BACKOFF * 2**attempt
                logger.warning("%s failed (%s); retry in %.1f s", _api_name(method), error, delay)
            else:
                if isinstance(method, AnswerCallbackQuery):
                    self._remember_answer(method.callback_query_id)
                return result
            attempt += 1
            await self.sleep(delay)

    async def _pace(self, method: TelegramMethod[Any]) -> None:
        """The chat's spacing for a new message, then the shared global budget (unless the
        outbox already paid for this send), then the count of what leaves in any second."""
        chat_id = _paced_chat(method)
        if chat_id is not None:
            await self.pacer.wait(chat_id)
        if self.budget is not None and _budgeted(method):
            target = getattr(method, "chat_id", None)
            if not self.budget.granted(target if isinstance(target, int) else None):
                await self.budget.acquire_reply()
            await self.budget.admit()

    def _remember_answer(self, query_id: str) -> None:
        self._answered[query_id] = None
        while len(self._answered) > _REMEMBERED_ANSWERS:
            self._answered.popitem(last=False)

    def answered(self, query_id: str) -> bool:
        """Whether this callback query has already been answered (a second answer fails)."""
        return query_id in self._answered


def install_guard(
    bot: Bot,
    *,
    max_retries: int,
    max_wait: float,
    chat_per_second: float,
    group_per_minute: float,
    clock: Callable[[], float],
    sleep: Sleep,
) -> RequestGuard:
    pacer = ChatPacer(
        chat_per_second=chat_per_second,
        group_per_minute=group_per_minute,
        clock=clock,
        sleep=sleep,
    )
    guard = RequestGuard(max_retries=max_retries, max_wait=max_wait, pacer=pacer, sleep=sleep)
    bot.session.middleware(guard)
    return guard


def guard_of(bot: Bot) -> RequestGuard | None:
    return next((m for m in bot.session.middleware if isinstance(m, RequestGuard)), None)
