"""The Bot API emulator's webhook mode: Telegram's side of `setWebhook`.

`WebhookDeliverer` takes the updates users make in a `BotApiEmulator` (its update queue, the
one getUpdates serves) and POSTs them to the webhook the bot registered, the way Telegram
does: with the `X-Telegram-Bot-Api-Secret-Token` header, one update at a time per chat (a
chat's next update waits for the previous one's 2xx), and again after any other answer or a
timeout. An update leaves the queue only on a 2xx, so `emulator.wait_idle()` waits for
delivery as it waits for polling. Every attempt is recorded with its answer.

`start_webhook_bot` runs the production bot in webhook mode against it, on a random port.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from aiohttp import ClientError, ClientSession, ClientTimeout
from pydantic import SecretStr

from bot.app.config import Settings
from bot.app.factory import Application, create_application
from bot.app.webhook_commands import webhook_command
from bot.app.webhook_mode import start_webhook, stop_webhook
from bot.core.clock import Clock
from bot.sandbox.emulator import BotApiEmulator
from bot.web.server import WebServer
from tests.helpers.e2e import _fast_session

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
TIMEOUT = 0  # the status recorded for an attempt that got no answer in time


@dataclass(frozen=True)
class Attempt:
    update_id: int
    status: int  # TIMEOUT (0) when the bot did not answer in time or the connection failed
    seconds: float = 0.0  # from the POST to the answer: the bot handles before it answers
    started: float = 0.0  # time.monotonic() at the POST


def chat_of(update: dict[str, Any]) -> int:
    """The chat an update belongs to, for per-chat ordering (the sender when no chat)."""
    payload = next(value for key, value in update.items() if key != "update_id")
    message = payload.get("message") if isinstance(payload.get("message"), dict) else None
    for holder in (payload, message or {}):
        chat = holder.get("chat")
        if isinstance(chat, dict):
            return int(chat["id"])
    return int(payload.get("from", {}).get("id", 0))


@dataclass
class WebhookDeliverer:
    emulator: BotApiEmulator
    # Where the bot's replicas really listen (the webhook URL's path is kept): attempts go to
    # each in turn, so a retry reaches another replica, as behind a load balancer.
    base_urls: list[str]
    timeout: float = 10.0  # Telegram waits about a minute; tests have less patience
    retry_delay: float = 0.02
    attempts: list[Attempt] = field(default_factory=list)
    delivered: list[dict[str, Any]] = field(default_factory=list)
    _busy_chats: set[int] = field(default_factory=set)
    _in_flight: set[int] = field(default_factory=set)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)
    _runner: asyncio.Task[None] | None = None
    _stopping: bool = False
    _http: ClientSession | None = None

    _turn: int = 0

    @property
    def url(self) -> str:
        """The first replica's webhook address."""
        return self._url(0)

    def _url(self, replica: int) -> str:
        webhook = self.emulator.webhook
        if not webhook or not webhook.get("url"):
            raise RuntimeError("no webhook set: run `python -m bot webhook set` first")
        return self.base_urls[replica % len(self.base_urls)] + urlsplit(webhook["url"]).path

    @property
    def secret(self) -> str:
        return str((self.emulator.webhook or {}).get("secret_token", ""))

    async def start(self) -> None:
        self._http = ClientSession(timeout=ClientTimeout(total=self.timeout))
        self._runner = asyncio.create_task(self._run(), name="webhook-deliverer")

    async def stop(self) -> None:
        # A flag, not only cancel(): the emulator's wait (asyncio.wait_for on Python 3.11)
        # can swallow a cancellation that meets its timeout.
        self._stopping = True
        self.emulator._signal.notify()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(
            *self._tasks, *([self._runner] if self._runner else []), return_exceptions=True
        )
        if self._http is not None:
            await self._http.close()

    async def post(
        self, update: dict[str, Any], *, secret: str | None = None, replica: int | None = None
    ) -> int:
        """One POST of `update`, as Telegram makes it, to the given replica or the next in
        turn; the HTTP status (TIMEOUT for none)."""
        assert self._http is not None, "start() the deliverer first"
        headers = {SECRET_HEADER: self.secret if secret is None else secret}
        if replica is None:
            replica, self._turn = self._turn, self._turn + 1
        started = time.monotonic()
        try:
            async with self._http.post(
                self._url(replica), json=update, headers=headers
            ) as response:
                await response.read()
                status = response.status
        except (TimeoutError, ClientError, OSError):
            status = TIMEOUT
        self.attempts.append(Attempt(int(update["update_id"]), status, time.monotonic() - started))
        return status

    def statuses(self, update_id: int) -> list[int]:
        return [attempt.status for attempt in self.attempts if attempt.update_id == update_id]

    def _next_updates(self) -> list[dict[str, Any]]:
        """The oldest queued update of each chat that has none in flight."""
        self._apply_allowed_updates()
        chosen, seen = [], set()
        for update in self.emulator._updates:
            chat = chat_of(update)
            if chat in seen or chat in self._busy_chats:
                seen.add(chat)
                continue
            seen.add(chat)
            chosen.append(update)
        return chosen

    def _apply_allowed_updates(self) -> None:
        allowed = (self.emulator.webhook or {}).get("allowed_updates")
        if isinstance(allowed, list):
            self.emulator._allowed_updates = frozenset(allowed) or None
        self.emulator._drop_unwanted_updates()

    def _work_waiting(self) -> bool:
        return self._stopping or (bool(self.emulator.webhook) and bool(self._next_updates()))

    async def _run(self) -> None:
        while not self._stopping:
            await self.emulator._signal.wait_for(self._work_waiting, 1.0)
            if self._stopping or not self._work_waiting():
                continue
            for update in self._next_updates():
                chat = chat_of(update)
                self._busy_chats.add(chat)
                task = asyncio.create_task(self._deliver(chat, copy.deepcopy(update)))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)

    async def _deliver(self, chat: int, update: dict[str, Any]) -> None:
        try:
            while True:
                status = await self.post(update)
                self.emulator._signal.notify()  # a test may be waiting for this attempt
                if status // 100 == 2:
                    break
                await asyncio.sleep(self.retry_delay)  # Telegram backs off; the test need not
            self.delivered.append(update)
            self.emulator._updates = [
                queued
                for queued in self.emulator._updates
                if queued["update_id"] != update["update_id"]
            ]
        finally:
            self._busy_chats.discard(chat)
            self.emulator._signal.notify()


WEBHOOK_PUBLIC_URL = "https://bot.example.kz"
WEBHOOK_SECRET = "test-webhook-secret_0123456789"


def webhook_settings(
    settings: Settings, emulator: BotApiEmulator, redis_url: str, redis_prefix: str
) -> Settings:
    """`settings` in webhook mode against the emulator, served on a free local port; people
    type at machine speed, so the per-chat pacing is lifted as in tests/helpers/e2e.py."""
    return settings.model_copy(
        update={
            "telegram_api_url": emulator.base_url,
            "bot_mode": "webhook",
            "public_url": WEBHOOK_PUBLIC_URL,
            "webhook_secret": SecretStr(WEBHOOK_SECRET),
            "redis_url": redis_url,
            "redis_prefix": redis_prefix,  # the emulator's update ids repeat from test to test
            "web_host": "127.0.0.1",
            "web_port": 0,
            "chat_rate_per_second": 1000.0,
        }
    )


@dataclass
class Replica:
    application: Application
    web: WebServer


@dataclass
class WebhookBot:
    replicas: list[Replica]
    deliverer: WebhookDeliverer

    @property
    def application(self) -> Application:
        return self.replicas[0].application

    @property
    def web(self) -> WebServer:
        return self.replicas[0].web


@contextlib.asynccontextmanager
async def webhook_bot(
    settings: Settings, clock: Clock, emulator: BotApiEmulator, *, replicas: int = 1
) -> AsyncIterator[WebhookBot]:
    """The production bot in webhook mode (`replicas` of it on one database and Redis, each
    with its own port), the webhook registered by the deploy command as an operator runs it,
    and Telegram's deliveries from the emulator."""
    assert await webhook_command(settings, "set", out=lambda _line: None) == 0
    running: list[Replica] = []
    try:
        for _ in range(replicas):
            application = await create_application(settings, clock=clock)
            application.bot.session = _fast_session(application.bot.session)
            running.append(Replica(application, await start_webhook(application)))
        deliverer = WebhookDeliverer(emulator, [replica.web.base_url for replica in running])
        await deliverer.start()
        try:
            yield WebhookBot(running, deliverer)
        finally:
            await deliverer.stop()
    finally:
        for replica in running:
            await stop_webhook(replica.application, replica.web)
            await replica.application.close()
