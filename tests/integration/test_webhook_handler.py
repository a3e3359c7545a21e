"""The webhook's request handler, the per-chat Redis lock and the operations endpoints on a
real aiohttp server and a real Redis, around a small dispatcher: what each kind of failure
answers Telegram (500 and the claim released for a handler's error, 503 for a lock Redis
cannot give), that two replicas' locks serialise one chat and leave others alone, and what
/readyz says when a dependency fails or hangs."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiogram import Dispatcher, Router
from aiogram.filters import Command
from aiogram.fsm.storage.base import StorageKey
from aiogram.types import Message
from aiohttp import ClientSession, web
from redis.asyncio import Redis

from bot.core.faults import CoordinationUnavailableError
from bot.core.metrics import Registry
from bot.telegram.replica_isolation import ReplicaIsolation
from bot.telegram.update_claims import Claim, UpdateClaims
from bot.web.operations import Probe, add_operations
from bot.web.server import WebServer
from bot.web.webhook import add_webhook
from tests.helpers.mocked_bot import MockedBot
from tests.helpers.redis import ScratchRedis
from tests.helpers.tcp_proxy import free_port

SECRET = "s3cret"
PATH = "/telegram/webhook"


def message_update(update_id: int, text: str, chat_id: int = 42) -> dict[str, Any]:
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": 1_700_000_000,
            "chat": {"id": chat_id, "type": "private"},
            "from": {"id": chat_id, "is_bot": False, "first_name": "Test"},
            "text": text,
        },
    }


class Served:
    def __init__(self, web_server: WebServer, claims: UpdateClaims, handled: list[str]) -> None:
        self.web, self.claims, self.handled = web_server, claims, handled

    async def post(self, update: dict[str, Any], secret: str = SECRET) -> int:
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret}
        url = self.web.base_url + PATH
        async with ClientSession() as http, http.post(url, json=update, headers=headers) as r:
            return r.status


async def serve(dispatcher: Dispatcher, claims: UpdateClaims) -> WebServer:
    app = web.Application()
    add_webhook(
        app, path=PATH, dispatcher=dispatcher, bot=MockedBot(), secret_token=SECRET, claims=claims
    )
    server = WebServer(app, "127.0.0.1", 0)
    await server.start()
    return server


@pytest.fixture
async def served(redis_scratch: ScratchRedis) -> AsyncIterator[Served]:
    handled: list[str] = []
    router = Router()

    @router.message(Command("boom"))
    async def boom(message: Message) -> None:
        raise RuntimeError("a bug")

    @router.message()
    async def echo(message: Message) -> None:
        handled.append(message.text or "")

    dispatcher = Dispatcher()
    dispatcher.include_router(router)
    claims = UpdateClaims(redis_scratch.client, prefix=f"{redis_scratch.prefix}:update:")
    server = await serve(dispatcher, claims)
    try:
        yield Served(server, claims, handled)
    finally:
        await server.stop()


async def test_handled_once_whatever_telegram_repeats(served: Served) -> None:
    update = message_update(1, "hello")
    assert await served.post(update) == 200
    assert await served.post(update) == 200  # a duplicate: answered, dropped
    assert await served.post(update, secret="wrong") == 401
    assert served.handled == ["hello"]


async def test_a_long_update_is_accepted_and_an_oversized_one_refused(served: Served) -> None:
    long_text = "Жол жөндеу жұмыстары " * 4000  # about 170 KB: beyond the dashboard's limit
    assert await served.post(message_update(11, long_text)) == 200
    assert served.handled == [long_text]
    huge = message_update(12, "x" * (1024 * 1024))
    assert await served.post(huge) == 413


async def test_a_failed_update_is_released_for_telegrams_retry(served: Served) -> None:
    update = message_update(2, "/boom")
    assert await served.post(update) == 500
    assert await served.claims.claim(2) is Claim.NEW  # released: the retry will run it
    await served.claims.release(2)
    assert await served.post(update) == 500  # and it did run again


async def test_a_chat_lock_redis_cannot_give_is_a_503(redis_scratch: ScratchRedis) -> None:
    unreachable = Redis(host="127.0.0.1", port=free_port(), socket_connect_timeout=1)
    dispatcher = Dispatcher(events_isolation=ReplicaIsolation(unreachable))

    async def ignore(message: Message) -> None:
        pass

    dispatcher.message.register(ignore)
    claims = UpdateClaims(redis_scratch.client, prefix=f"{redis_scratch.prefix}:update:")
    server = await serve(dispatcher, claims)
    try:
        served = Served(server, claims, [])
        assert await served.post(message_update(3, "hi")) == 503
        assert await claims.claim(3) is Claim.NEW  # released: Telegram's retry will run it
    finally:
        await server.stop()
        await unreachable.aclose()


async def test_replica_locks_serialise_one_chat_and_not_the_others(
    redis_scratch: ScratchRedis,
) -> None:
    replicas = [ReplicaIsolation(redis_scratch.client, prefix=redis_scratch.prefix) for _ in "ab"]
    key = StorageKey(bot_id=1, chat_id=42, user_id=42)
    other = StorageKey(bot_id=1, chat_id=43, user_id=43)
    order: list[str] = []
    first_in = asyncio.Event()
    release_first = asyncio.Event()

    async def first() -> None:
        async with replicas[0].lock(key):
            order.append("first in")
            first_in.set()
            await release_first.wait()
            order.append("first out")

    async def second() -> None:
        await first_in.wait()
        async with replicas[1].lock(key):
            order.append("second in")

    async def elsewhere() -> None:
        await first_in.wait()
        async with replicas[1].lock(other):
            order.append("other chat")
        release_first.set()

    await asyncio.gather(first(), second(), elsewhere())
    assert order == ["first in", "other chat", "first out", "second in"]


async def test_a_handlers_error_passes_through_the_lock(redis_scratch: ScratchRedis) -> None:
    isolation = ReplicaIsolation(redis_scratch.client, prefix=redis_scratch.prefix)
    key = StorageKey(bot_id=1, chat_id=44, user_id=44)
    with pytest.raises(ZeroDivisionError):
        async with isolation.lock(key):
            raise ZeroDivisionError
    async with asyncio.timeout(2), isolation.lock(key):  # released
        pass


async def test_an_unreachable_redis_refuses_the_lock() -> None:
    unreachable = Redis(host="127.0.0.1", port=free_port(), socket_connect_timeout=1)
    try:
        with pytest.raises(CoordinationUnavailableError):
            async with ReplicaIsolation(unreachable).lock(StorageKey(1, 1, 1)):
                pass
    finally:
        await unreachable.aclose()


async def test_readiness_names_what_fails_and_metrics_survive_a_failed_collector() -> None:
    async def fine() -> str | None:
        return None

    async def behind() -> str | None:
        return "schema at 0016, this version needs 0017"

    async def broken() -> str | None:
        raise ConnectionRefusedError("connection refused")

    async def failing_collector() -> None:
        raise OSError("database gone")

    registry = Registry()
    registry.counter("t_total", "A counter.").inc()
    app = web.Application()
    probes: dict[str, Probe] = {"a": fine, "b": behind, "c": broken}
    add_operations(app, probes, (failing_collector,), registry)
    server = WebServer(app, "127.0.0.1", 0)
    await server.start()
    try:
        async with ClientSession() as http:
            async with http.get(server.base_url + "/readyz") as response:
                assert response.status == 503
                assert await response.json() == {
                    "status": "unavailable",
                    "reasons": {
                        "b": "schema at 0016, this version needs 0017",
                        "c": "ConnectionRefusedError: connection refused",
                    },
                }
            async with http.get(server.base_url + "/healthz") as response:
                assert response.status == 200
            async with http.get(server.base_url + "/metrics") as response:
                assert response.status == 200
                assert "t_total 1" in (await response.text()).splitlines()
    finally:
        await server.stop()


async def test_a_hung_probe_is_a_failed_one(monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.web import operations

    monkeypatch.setattr(operations, "PROBE_TIMEOUT", 0.05)
    never = asyncio.Event()

    async def hung() -> str | None:
        await never.wait()
        return None

    assert await operations._run(hung) == "no answer within 0.05 s"


async def test_the_errors_router_lets_a_redis_fault_through_and_apologises_for_the_rest(
    i18n: object,
) -> None:
    """The last-line error handler answers a bug with an apology (the update counts as
    handled), but lets an unavailable Redis escape, so the webhook answers 503 and Telegram
    sends the update again instead of the person being told to retry."""
    from aiogram.types import Update
    from aiogram.utils.i18n import I18n

    from bot.telegram.i18n import PersonI18nMiddleware
    from handlers import errors

    assert isinstance(i18n, I18n)
    dispatcher = Dispatcher()
    PersonI18nMiddleware(i18n).setup(dispatcher)
    dispatcher.include_router(errors.create_router())

    @dispatcher.message(Command("redis"))
    async def redis_down(message: Message) -> None:
        raise CoordinationUnavailableError("connection refused")

    @dispatcher.message()
    async def bug(message: Message) -> None:
        raise RuntimeError("a bug")

    bot = MockedBot()
    update = Update.model_validate(message_update(7, "/redis"), context={"bot": bot})
    with pytest.raises(CoordinationUnavailableError):
        await dispatcher.feed_update(bot, update)
    assert bot.recording.requests == []

    update = Update.model_validate(message_update(8, "hello"), context={"bot": bot})
    await dispatcher.feed_update(bot, update)
    (apology,) = bot.recording.requests
    assert apology.__api_method__ == "sendMessage"
