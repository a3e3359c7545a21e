"""The emulator's webhook delivery against a stand-in bot server that answers as told: the
secret header on every POST, a chat's next update held back until its previous one is
answered while other chats go on, and an update sent again after a 5xx and after a timeout,
leaving the queue only on a 2xx."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from bot.sandbox.emulator import BotApiEmulator
from bot.web.server import WebServer
from tests.helpers.webhook_delivery import SECRET_HEADER, TIMEOUT, WebhookDeliverer

A, B = 5101, 5102


class StandIn:
    """Records each POST (update id, chat, secret) and answers from a script per update."""

    def __init__(self) -> None:
        self.posts: list[tuple[int, int, str]] = []
        self.script: dict[int, list[int | asyncio.Event]] = {}
        self.changed = asyncio.Event()

    async def handle(self, request: web.Request) -> web.Response:
        update: dict[str, Any] = await request.json()
        update_id = update["update_id"]
        chat = update["message"]["chat"]["id"]
        self.posts.append((update_id, chat, request.headers.get(SECRET_HEADER, "")))
        self.changed.set()
        planned = self.script.get(update_id, [])
        answer = planned.pop(0) if planned else 200
        if isinstance(answer, asyncio.Event):
            await answer.wait()  # held: the client times out, or the test lets it go
            answer = 200
        return web.json_response({}, status=answer)


async def test_secret_order_per_chat_and_retries(emulator: BotApiEmulator) -> None:
    stand_in = StandIn()
    app = web.Application()
    app.router.add_post("/hook", stand_in.handle)
    server = WebServer(app, "127.0.0.1", 0)
    await server.start()
    emulator.webhook = {"url": "https://bot.example.kz/hook", "secret_token": "s3"}
    deliverer = WebhookDeliverer(emulator, [server.base_url], timeout=0.3, retry_delay=0)
    await deliverer.start()
    try:
        first_a = emulator.send_text(A, "a1")
        held = asyncio.Event()
        ids = [u["update_id"] for u in emulator.queued_updates()]
        stand_in.script[ids[0]] = [500, held]  # a 5xx, then no answer until released
        emulator.send_text(A, "a2")
        emulator.send_text(B, "b1")
        ids = [u["update_id"] for u in emulator.queued_updates()]
        a1, a2, b1 = ids

        async def posted(predicate: Any) -> None:
            async with asyncio.timeout(5):
                while not predicate():
                    stand_in.changed.clear()
                    await stand_in.changed.wait()

        await posted(
            lambda: (
                [p[0] for p in stand_in.posts].count(a1) >= 2
                and b1 in [p[0] for p in stand_in.posts]
            )
        )
        # a1 is being retried and held; b1 (another chat) went on; a2 waits for a1.
        assert a2 not in [p[0] for p in stand_in.posts]
        await posted(lambda: [p[0] for p in stand_in.posts].count(a1) >= 3)  # after the timeout
        assert deliverer.statuses(a1)[:2] == [500, TIMEOUT]
        await emulator.wait_idle(timeout=5)
        assert [p[0] for p in stand_in.posts if p[1] == A][-2:] == [a1, a2]
        assert {p[2] for p in stand_in.posts} == {"s3"}
        assert emulator.pending_updates == 0
        assert [u["update_id"] for u in deliverer.delivered] == [b1, a1, a2]
        assert first_a.text == "a1"
        held.set()
    finally:
        await deliverer.stop()
        await server.stop()
