"""PostgreSQL "restarted" in the middle of a round: every connection is cut and the server
refuses new ones for a while (a TCP forwarder in front of a database of the test's own is
stopped and started). The running outbox worker logs the outage in a line or two and sends
every message, once the server is back, within 30 s."""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy.engine import make_url

from bot.core.clock import FrozenClock
from db.engine import create_engine, create_session_maker
from db.migrate import upgrade
from tests.helpers.chat import START_MOMENT, VirtualTimer
from tests.helpers.databases import throwaway_postgres_database
from tests.helpers.tcp_proxy import TcpProxy
from tests.integration.test_outbox_faults import FIRST_CHAT, RecordingBot, fill, make_worker

pytestmark = pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL"), reason="TEST_DATABASE_URL is not set"
)
CHATS = 300


@pytest.fixture
async def proxied_url() -> AsyncIterator[tuple[str, TcpProxy]]:
    async with throwaway_postgres_database(os.environ["TEST_DATABASE_URL"], "restart") as url:
        target = make_url(url)
        proxy = TcpProxy(target.host or "127.0.0.1", target.port or 5432)
        await proxy.start()
        try:
            yield target.set(port=proxy.port).render_as_string(False), proxy
        finally:
            await proxy.stop()


async def test_a_round_survives_a_postgresql_restart(
    proxied_url: tuple[str, TcpProxy], caplog: pytest.LogCaptureFixture
) -> None:
    url, proxy = proxied_url
    engine = create_engine(url)
    await upgrade(engine)
    session_maker = create_session_maker(engine)
    clock = FrozenClock(START_MOMENT)
    await fill(session_maker, clock, chats=CHATS, per_chat=1)
    outage_started = asyncio.Event()

    def cut_after_a_third(_chat_id: int) -> None:
        if sum(len(t) for t in bot.sent.values()) == CHATS // 3:
            outage_started.set()

    bot = RecordingBot(cut_after_a_third)
    bot.expected = CHATS
    worker = make_worker(session_maker, bot, clock, VirtualTimer(), "round")
    task = asyncio.create_task(worker.run(idle_interval=0.5))
    try:
        with caplog.at_level(logging.INFO):
            await asyncio.wait_for(outage_started.wait(), timeout=120)
            await proxy.stop()  # connections cut, new ones refused
            await asyncio.sleep(3)
            clock.advance(timedelta(seconds=20))  # the leases of the cut pass have run out
            await proxy.start()
            back = time.monotonic()
            await asyncio.wait_for(bot.all_sent.wait(), timeout=60)
            recovery = time.monotonic() - back
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await engine.dispose()
    # Everyone got the message; only one in flight at the cut may have gone twice.
    assert all(set(bot.sent[FIRST_CHAT + n]) == {"0"} for n in range(CHATS))
    assert sum(len(texts) for texts in bot.sent.values()) <= CHATS + worker.concurrency
    assert recovery < 30
    lines = [r for r in caplog.records if r.name == "bot.delivery.worker"]
    assert 1 <= len(lines) <= 4, [r.getMessage() for r in lines]
