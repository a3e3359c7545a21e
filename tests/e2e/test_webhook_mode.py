"""The production bot in webhook mode (BOT_MODE=webhook) over real HTTP on a random port,
Telegram played by the Bot API emulator's webhook delivery: the webhook registered by the
deploy command, a head's two-tap confirmation, an update Telegram sends twice handled once, a
wrong secret refused, Redis down answered 503 and the same update handled once it is back,
and /healthz, /readyz and /metrics on the same server."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from aiohttp import ClientSession

from bot.app.config import Settings
from bot.core.clock import FrozenClock
from bot.core.metrics import UPDATES
from bot.sandbox.emulator import BotApiEmulator
from db.engine import SessionMaker
from tests.helpers.chat import ADMIN_ID
from tests.helpers.e2e import (
    EarlierReport,
    education_round,
    say,
    tap,
)
from tests.helpers.redis import ScratchRedis
from tests.helpers.tcp_proxy import TcpProxy
from tests.helpers.webhook_delivery import (
    WEBHOOK_PUBLIC_URL,
    webhook_bot,
    webhook_settings,
)

HEAD = 4301
REDIS_PORT = 6379


@pytest.fixture
def live_settings(
    settings: Settings, emulator: BotApiEmulator, redis_scratch: ScratchRedis
) -> Settings:
    return webhook_settings(settings, emulator, redis_scratch.url, redis_scratch.prefix)


async def test_a_head_confirms_in_two_taps_through_the_webhook(
    live_settings: Settings,
    clock: FrozenClock,
    emulator: BotApiEmulator,
    session_maker: SessionMaker,
) -> None:
    async with webhook_bot(live_settings, clock, emulator) as running:
        assert emulator.webhook is not None
        assert emulator.webhook["url"] == f"{WEBHOOK_PUBLIC_URL}/telegram/webhook"
        assert emulator.webhook["secret_token"] == "test-webhook-secret_0123456789"
        assert not any(request.method == "getUpdates" for request in emulator.requests)

        items = [
            "/additem 1.1 edu 2025-06-01 Мектеп салу | Строительство школы",
            "/additem 1.2 edu 2025-07-01 Балабақша | Детский сад",
        ]
        # The head's department reported three weeks ago: what "unchanged" repeats.
        earlier = dict.fromkeys(("1.1", "1.2"), EarlierReport("on_track", 40))
        request = await education_round(
            emulator,
            clock,
            session_maker,
            (HEAD, "Қазақша"),
            items,
            earlier=earlier,
            reported_ago=timedelta(days=21),
        )
        listing = await tap(emulator, HEAD, request, "Қалғаны өзгеріссіз")
        done = await tap(emulator, HEAD, listing, "Иә, өзгеріс жоқ")
        assert "2 тармақ: 2 — өзгеріссіз" in done.text

        await emulator.wait_idle()
        assert [failed.summary() for failed in emulator.errors] == []
        deliverer = running.deliverer
        assert all(attempt.status == 200 for attempt in deliverer.attempts)
        assert len(deliverer.delivered) == emulator.stats.updates_enqueued
    # Stopping a replica leaves the webhook to the others.
    assert emulator.webhook is not None
    assert not any(request.method == "deleteWebhook" for request in emulator.requests)


async def test_a_repeated_update_is_handled_once_and_a_wrong_secret_is_refused(
    live_settings: Settings, clock: FrozenClock, emulator: BotApiEmulator
) -> None:
    async with webhook_bot(live_settings, clock, emulator) as running:
        deliverer = running.deliverer
        emulator.send_text(ADMIN_ID, "/start")
        await emulator.next_message(ADMIN_ID)
        await emulator.wait_idle()
        update = deliverer.delivered[-1]
        sent = len(emulator.messages(ADMIN_ID))
        duplicates = UPDATES.value(type="message", outcome="duplicate")

        assert await deliverer.post(update) == 200  # Telegram did not see the first answer
        assert await deliverer.post(update, secret="not-the-secret") == 401
        assert await deliverer.post(update, secret="") == 401
        await emulator.wait_idle()
        assert len(emulator.messages(ADMIN_ID)) == sent  # no second answer
        assert UPDATES.value(type="message", outcome="duplicate") == duplicates + 1

        async with (
            ClientSession() as http,
            http.post(
                deliverer.url,
                data=b"{not json",
                headers={"X-Telegram-Bot-Api-Secret-Token": deliverer.secret},
            ) as response,
        ):
            assert response.status == 400


async def test_redis_down_is_a_503_and_the_update_is_handled_after_it_is_back(
    settings: Settings,
    clock: FrozenClock,
    emulator: BotApiEmulator,
    redis_scratch: ScratchRedis,
) -> None:
    proxy = TcpProxy("127.0.0.1", REDIS_PORT)
    await proxy.start()
    proxied = f"redis://127.0.0.1:{proxy.port}/0"
    live = webhook_settings(settings, emulator, proxied, redis_scratch.prefix)
    try:
        async with webhook_bot(live, clock, emulator) as running:
            deliverer = running.deliverer
            await tap(emulator, ADMIN_ID, await say(emulator, ADMIN_ID, "/start"), "Русский")
            await emulator.wait_idle()

            await proxy.stop()  # Redis goes away
            emulator.send_text(ADMIN_ID, "/help")
            update_id = emulator.queued_updates()[0]["update_id"]
            refused = await emulator._signal.wait_for(
                lambda: deliverer.statuses(update_id).count(503) >= 2, 5.0
            )
            assert refused, deliverer.attempts
            async with ClientSession() as http:
                async with http.get(f"{running.web.base_url}/readyz") as response:
                    assert response.status == 503
                    body = await response.json()
                    assert set(body["reasons"]) == {"redis"}
                async with http.get(f"{running.web.base_url}/healthz") as response:
                    assert response.status == 200  # alive: no reason to restart it

            await proxy.start()  # back, on the same port
            answer = await emulator.next_message(ADMIN_ID, timeout=10)
            assert "/" in answer.text
            await emulator.wait_idle()
            statuses = deliverer.statuses(update_id)
            assert statuses[-1] == 200 and set(statuses[:-1]) == {503}
            assert (
                len([m for m in emulator.messages(ADMIN_ID) if m.message_id >= answer.message_id])
                == 1
            )
    finally:
        await proxy.stop()


async def test_health_readiness_and_metrics_on_the_webhook_server(
    live_settings: Settings, clock: FrozenClock, emulator: BotApiEmulator
) -> None:
    async with webhook_bot(live_settings, clock, emulator) as running:
        await say(emulator, ADMIN_ID, "/start")
        await emulator.wait_idle()
        base = running.web.base_url
        async with ClientSession() as http:
            async with http.get(f"{base}/healthz") as response:
                assert response.status == 200
                assert (await response.json())["status"] == "alive"
            for path in ("/readyz", "/healthz?ready=1"):
                async with http.get(base + path) as response:
                    assert response.status == 200, await response.text()
                    body = await response.json()
                    assert body == {"status": "ready", "checked": ["database", "redis"]}
            async with http.get(f"{base}/metrics") as response:
                assert response.status == 200
                assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
                text = await response.text()
        lines = text.splitlines()
        handled = [
            line
            for line in lines
            if line.startswith('roadmap_updates_total{type="message",outcome="handled"}')
        ]
        assert handled and float(handled[0].split()[-1]) >= 1
        assert any(
            line.startswith('roadmap_outbox_notifications{state="pending"}') for line in lines
        )
        assert any(line.startswith("roadmap_update_handling_seconds_count") for line in lines)
        assert "# TYPE roadmap_leader gauge" in lines


async def test_two_replicas_one_chat_in_order_and_every_update_once(
    live_settings: Settings, clock: FrozenClock, emulator: BotApiEmulator
) -> None:
    """Two replicas on one database and Redis, Telegram's attempts alternating between them,
    and each update also sent to both at once (a load balancer's retry racing the first)."""
    async with webhook_bot(live_settings, clock, emulator, replicas=2) as running:
        deliverer = running.deliverer
        await tap(emulator, ADMIN_ID, await say(emulator, ADMIN_ID, "/start"), "Русский")
        await say(emulator, ADMIN_ID, "/adddept edu Білім басқармасы | Управление образования")
        await emulator.wait_idle()
        sent = len(emulator.messages(ADMIN_ID))

        emulator.send_text(ADMIN_ID, "/help")
        update = emulator.queued_updates()[0]
        both = await asyncio.gather(
            deliverer.post(update, replica=0), deliverer.post(update, replica=1)
        )
        assert 200 in both and set(both) <= {200, 503}  # the other: a duplicate, or busy
        await emulator.wait_idle()
        assert len(emulator.messages(ADMIN_ID)) == sent + 1  # answered once
        assert {url.rsplit(":", 1)[1] for url in deliverer.base_urls} == {
            str(replica.web.port) for replica in running.replicas
        }
        assert [failed.summary() for failed in emulator.errors] == []
