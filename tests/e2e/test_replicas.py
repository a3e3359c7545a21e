"""Three replicas of the bot, each a real process, on one PostgreSQL database: the scheduled
work runs once (the leader runs it, the fence stops a second run), a killed leader is
replaced within one lease and a stalled one causes no duplicates when it wakes.

The replicas run on the machine's clock: the round, the daily scan and the digest are planned
for a minute shortly ahead (tests.helpers.replicas.plan_ahead), so each test takes a minute or
two; they are `slow`.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.helpers.chat import ADMIN_ID
from tests.helpers.databases import throwaway_postgres_database
from tests.helpers.replicas import CHAIR_ID, Plan, Replicas, plan_ahead, seed

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not os.environ.get("TEST_DATABASE_URL"), reason="TEST_DATABASE_URL is not set"
    ),
]

# Three processes start on a busy machine (each migrates, builds aiogram, polls) before the
# planned minute comes.
START_MARGIN = 50.0


@pytest.fixture
async def database(postgres_template: str) -> AsyncIterator[str]:
    async with throwaway_postgres_database(
        os.environ["TEST_DATABASE_URL"], "roadmap_replicas", postgres_template
    ) as url:
        yield url


async def until(condition: Callable[[], object], timeout: float, what: str) -> None:
    """Wait for processes of their own (the replicas) to make `condition` true."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout:.0f} s")
        await asyncio.sleep(0.2)


async def start(
    tmp_path: Path, database: str, *, members: int, send_rate: float
) -> tuple[Replicas, Plan]:
    plan = plan_ahead(START_MARGIN)
    local_now = datetime.now(UTC).astimezone(plan.at.tzinfo)
    chats = await seed(
        database, members=members, day=plan.at.date(), at=local_now - timedelta(minutes=1)
    )
    replicas = Replicas(
        root=tmp_path,
        url=database,
        count=3,
        settings={
            "TIMEZONE": plan.zone,
            "ROUND_SCHEDULE": plan.weekly,
            "DIGEST_SCHEDULE": plan.weekly,
            "REMINDER_TIME": plan.daily,
            "SEND_RATE_PER_SECOND": str(send_rate),
        },
        chats=chats,
    )
    await replicas.start()
    return replicas, plan


async def test_the_scheduled_round_scan_and_digest_run_once_across_three_replicas(
    tmp_path: Path, database: str
) -> None:
    replicas, plan = await start(tmp_path, database, members=12, send_rate=29)
    try:
        await replicas.wait_polling()
        assert await replicas.wait_leader() in {p.pid for p in replicas.processes if p}
        seconds_to_go = (plan.utc - datetime.now(UTC)).total_seconds()
        await until(
            lambda: all(replicas.received(chat) >= 1 for chat in replicas.chats),
            seconds_to_go + 60,
            "every member's round request",
        )
        await until(lambda: _no_pending(replicas), 60, "the outbox drained")
        await asyncio.sleep(3)  # a duplicate, if any, would come now
        runs = await replicas.count_rows(
            "SELECT count(*) FROM job_run WHERE job IN ('round', 'daily_scan', 'digest')"
        )
        assert runs == 3, replicas.logs()
        assert await replicas.count_rows("SELECT count(*) FROM status_round") == 1
        assert all(replicas.received(chat) == 1 for chat in replicas.chats), replicas.sends()
        # The digest (a chart and its text) reached the chair and the secretariat once.
        digest_rows = await replicas.count_rows(
            f"SELECT count(*) FROM notification WHERE kind LIKE 'digest%' AND chat_id = {CHAIR_ID}"
        )
        assert digest_rows >= 1
        for reader in (CHAIR_ID, ADMIN_ID):
            sent_rows = await replicas.count_rows(
                f"SELECT count(*) FROM notification WHERE chat_id = {reader} AND state = 'sent'"
            )
            assert replicas.received(reader) == sent_rows
    finally:
        await replicas.stop()


async def _no_pending(replicas: Replicas) -> bool:
    pending = await replicas.count_rows("SELECT count(*) FROM notification WHERE state = 'pending'")
    return pending == 0


async def test_a_killed_leader_and_a_stalled_one_cost_no_duplicates(
    tmp_path: Path, database: str
) -> None:
    """The round goes out at 3 messages/s. The leader is killed (kill -9) after a few sends:
    another replica resumes within 15 s. Then the new leader is stopped (SIGSTOP) for longer
    than a lease: the third replica takes over, and the stalled one, woken, sends nothing
    again. At most the message in flight at each fault may go out twice."""
    replicas, plan = await start(tmp_path, database, members=60, send_rate=3)
    try:
        await replicas.wait_polling()
        first = await replicas.wait_leader()
        seconds_to_go = (plan.utc - datetime.now(UTC)).total_seconds()
        await until(
            lambda: sum(replicas.received(chat) for chat in replicas.chats) >= 6,
            seconds_to_go + 60,
            "the round started",
        )
        replicas.kill(first)
        killed_at = time.monotonic()
        second = await replicas.wait_leader(timeout=15, other_than=first)
        took_over = time.monotonic() - killed_at
        sent_before = len(replicas.send_times())
        await until(lambda: len(replicas.send_times()) > sent_before, 15, "sends resumed")
        resumed = replicas.send_times()[sent_before] - killed_at
        assert resumed <= 15, f"resumed {resumed:.1f} s after the kill"

        await until(lambda: len(replicas.send_times()) >= sent_before + 10, 30, "the new leader")
        os.kill(second, signal.SIGSTOP)
        stopped_at = time.monotonic()
        try:
            third = await replicas.wait_leader(timeout=25, other_than=second)
            stall_takeover = time.monotonic() - stopped_at
            assert third != first
            assert stall_takeover <= 15, f"a new leader {stall_takeover:.1f} s after the stall"
            await asyncio.sleep(max(0.0, 20 - (time.monotonic() - stopped_at)))
        finally:
            os.kill(second, signal.SIGCONT)
        await until(
            lambda: all(replicas.received(chat) >= 1 for chat in replicas.chats),
            90,
            "every member's request",
        )
        await asyncio.sleep(5)  # the woken replica would send its duplicates now
        counts = [replicas.received(chat) for chat in replicas.chats]
        duplicates = sum(count - 1 for count in counts)
        assert all(count >= 1 for count in counts)
        assert duplicates <= 2, (duplicates, replicas.logs())  # one in flight per fault
        assert await replicas.count_rows("SELECT count(*) FROM status_round") == 1
        print(
            f"new leader {took_over:.1f} s after the kill, sends resumed after {resumed:.1f} s; "
            f"new leader {stall_takeover:.1f} s after the stall; {duplicates} duplicates"
        )
    finally:
        await replicas.stop()
