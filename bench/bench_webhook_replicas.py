"""Webhook mode with one replica and with three: a `/request_now` round while every member
answers it, Telegram's updates POSTed by the emulator's deliverer to the replicas in turn.

Each replica is `python -m bot` with BOT_MODE=webhook on a port of its own, all on one
PostgreSQL database and one Redis (a private `redis-server`); see tests/helpers/replicas.py.
Every member taps "everything else unchanged" on the request as soon as it arrives (the bot
answers with the list to confirm), and one member of each department confirms it. With three
replicas the leader is killed (kill -9) a third of the way through the round.

Printed for each setting: the round's requests each person got and whether every message of
the outbox reached Telegram once; the send rate (messages over the round's span and the
busiest second, which Telegram caps at 30); the update latency through the webhook (from the
POST to its answer: the bot handles an update before it answers) at p50 and p99; and with
three replicas the time from the kill to a new leader and to the next message.

Run by hand: `BENCH_DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/test
.venv/bin/python bench/bench_webhook_replicas.py [--members 300] [--send-rate 29]`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # `tests` is not installed

from bot.sandbox.emulator import Message
from tests.helpers.chat import ADMIN_ID
from tests.helpers.databases import (
    drop_postgres_database,
    migrated_postgres_template,
    throwaway_postgres_database,
)
from tests.helpers.redis import PrivateRedis
from tests.helpers.replicas import Replicas, busiest_second, plan_ahead, seed

DEPARTMENTS = 15  # odd: every department has Kazakh- and Russian-speaking members
UNCHANGED = {"kk": "Қалғаны өзгеріссіз", "ru": "Остальное без изменений"}
CONFIRM = {"kk": "Иә, өзгеріс жоқ", "ru": "Да, без изменений"}
STEP = 200.0  # seconds one answer may wait: a loaded machine, or a claim left by the kill


@dataclass
class Outcome:
    label: str
    requests: Counter[int]  # round requests per person -> people
    extra_sends: int  # messages that reached Telegram more often than the outbox sent them
    span: float
    sent: int
    busiest_second: int
    busiest_with_edits: int
    latencies: list[float]
    refused: int  # attempts answered other than 2xx (retried)
    slowest_update: float  # from an update's first POST to its 2xx, over its retries
    taps_without_answer: int
    new_leader_after: float | None = None
    resumed_after: float | None = None

    def print(self, members: int) -> None:
        shape = ", ".join(
            f"{people} got {count}" for count, people in sorted(self.requests.items())
        )
        print(f"{self.label}:")
        print(f"  round requests each person got: {shape} (of {members} members)")
        print(f"  messages sent more often than the outbox sent them: {self.extra_sends}")
        rate = (self.sent - 1) / self.span if self.span else float("nan")
        print(
            f"  send rate: {rate:.1f} messages/s (the round's {self.sent} requests in "
            f"{self.span:.1f} s), busiest second {self.busiest_second} messages "
            f"({self.busiest_with_edits} counting the answers' edits)"
        )
        ordered = sorted(self.latencies)
        p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
        print(
            f"  update latency through the webhook: p50 {statistics.median(ordered) * 1000:.0f} ms,"
            f" p99 {p99 * 1000:.0f} ms over {len(ordered)} updates; {self.refused} attempts"
            f" answered non-2xx and retried, the slowest update {self.slowest_update:.1f} s"
            " from its first POST to its 2xx"
        )
        print(f"  members whose tap got no answer (an apology instead): {self.taps_without_answer}")
        if self.new_leader_after is not None:
            print(f"  new leader {self.new_leader_after:.1f} s after kill -9 of the leader")
        if self.resumed_after is not None:
            print(f"  next message {self.resumed_after:.1f} s after the kill")


async def one_round(
    server: str, template: str, args: argparse.Namespace, *, count: int, kill: bool
) -> Outcome:
    async with throwaway_postgres_database(server, "roadmap_bench_webhook", template) as url:
        plan = plan_ahead(0)
        local_now = datetime.now(UTC).astimezone(plan.at.tzinfo)
        chats = await seed(
            url,
            members=args.members,
            day=local_now.date(),
            at=local_now - timedelta(minutes=1),
            departments=DEPARTMENTS,
            reported_at=local_now - timedelta(days=21),
        )
        with tempfile.TemporaryDirectory() as folder:
            async with PrivateRedis(Path(folder) / "redis") as redis:
                replicas = Replicas(
                    root=Path(folder),
                    url=url,
                    count=count,
                    settings={
                        "TIMEZONE": plan.zone,
                        "ROUND_SCHEDULE": "sun 23:59",
                        "DIGEST_SCHEDULE": "sun 23:59",
                        "REMINDER_TIME": "23:59",
                        "REQUEST_SKIP_HOURS": "0",
                        "SEND_RATE_PER_SECOND": str(args.send_rate),
                    },
                    chats=chats,
                    mode="webhook",
                    redis_url=redis.url,
                )
                try:
                    await replicas.start()
                    await replicas.wait_ready()
                    return await _measure(replicas, count=count, kill=kill)
                finally:
                    await replicas.stop()


async def _answer(replicas: Replicas, chat: int, confirms: bool) -> bool:
    """Tap "unchanged" on the request; a department's first member also confirms. False
    when a tap got no edit: one in hand on a killed replica is retried only once its claim
    expires (2 minutes), when its callback query is too old to answer."""
    emulator = replicas.emulator
    locale = "kk" if (chat - replicas.chats[0]) % 2 else "ru"
    request = await emulator.next_message(chat, timeout=STEP * 2)
    try:
        listing = await _press(replicas, chat, request, UNCHANGED[locale])
        if confirms:
            await _press(replicas, chat, listing, CONFIRM[locale])
    except TimeoutError:
        return False
    return True


async def _press(replicas: Replicas, chat: int, message: Message, label: str) -> Message:
    replicas.emulator.press_button(chat, message.message_id, message.button(label))
    while True:
        edited = await replicas.emulator.next_edit(chat, timeout=STEP)
        if edited.message_id == message.message_id:
            return edited


async def _measure(replicas: Replicas, *, count: int, kill: bool) -> Outcome:
    leader = await replicas.wait_leader()
    deliverer = replicas.deliverer
    assert deliverer is not None
    chats = replicas.chats
    new_leader_after = resumed_after = None
    replicas.emulator.send_text(ADMIN_ID, "/request_now")
    heads = set(chats[:DEPARTMENTS])
    answers = asyncio.gather(*(_answer(replicas, chat, chat in heads) for chat in chats))

    def delivered() -> int:
        return sum(1 for chat in chats if replicas.received(chat) >= 1)

    deadline = time.monotonic() + 300
    if kill:
        while delivered() < len(chats) // 3:
            assert time.monotonic() < deadline, replicas.logs()
            await asyncio.sleep(0.05)
        before = len(replicas.send_times())
        replicas.kill(leader)
        killed_at = time.monotonic()
        await replicas.wait_leader(timeout=30, other_than=leader)
        new_leader_after = time.monotonic() - killed_at
        while len(replicas.send_times()) <= before:
            assert time.monotonic() < deadline, replicas.logs()
            await asyncio.sleep(0.05)
        resumed_after = replicas.send_times()[before] - killed_at
    answered = await asyncio.wait_for(answers, timeout=max(1.0, deadline - time.monotonic()))
    while True:  # the outbox drained: nothing more can go out
        pending = await replicas.count_rows(
            "SELECT count(*) FROM notification WHERE state = 'pending'"
        )
        if pending == 0 and not replicas.emulator.queued_updates():
            break
        assert time.monotonic() < deadline, replicas.logs()
        await asyncio.sleep(0.2)
    requests = await replicas.counts_by(
        "SELECT chat_id, count(*) FROM notification WHERE kind = 'round' AND state = 'sent'"
        " GROUP BY chat_id"
    )
    sent_rows = await replicas.counts_by(
        "SELECT chat_id, count(*) FROM notification WHERE state = 'sent' GROUP BY chat_id"
    )
    extra = sum(max(0, replicas.received(chat) - sent_rows.get(chat, 0)) for chat in chats)
    sends = sorted(
        record.at
        for record in replicas.emulator.requests
        if record.method == "sendMessage" and record.ok
    )
    edits = sorted(
        record.at
        for record in replicas.emulator.requests
        if record.method in {"sendMessage", "editMessageText"} and record.ok
    )
    members = set(chats)
    first_message: dict[int, float] = {}
    for record in replicas.emulator.requests:
        chat = int(record.params.get("chat_id", 0))
        if record.method == "sendMessage" and record.ok and chat in members:
            first_message.setdefault(chat, record.at)
    round_times = sorted(first_message.values())
    reached: dict[int, float] = {}
    first_post: dict[int, float] = {}
    for attempt in deliverer.attempts:
        first_post.setdefault(attempt.update_id, attempt.started)
        if attempt.status // 100 == 2:
            reached[attempt.update_id] = attempt.started + attempt.seconds
    label = f"{count} replica{'s' if count > 1 else ''}" + (", leader killed" if kill else "")
    return Outcome(
        label=label,
        requests=Counter(requests.get(chat, 0) for chat in chats),
        extra_sends=extra,
        span=round_times[-1] - round_times[0],
        sent=len(round_times),
        busiest_second=busiest_second(sends),
        busiest_with_edits=busiest_second(edits),
        latencies=[a.seconds for a in deliverer.attempts if a.status // 100 == 2],
        refused=sum(1 for a in deliverer.attempts if a.status // 100 != 2),
        slowest_update=max(reached[u] - first_post[u] for u in reached),
        taps_without_answer=answered.count(False),
        new_leader_after=new_leader_after,
        resumed_after=resumed_after,
    )


async def main(args: argparse.Namespace) -> None:
    server = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    if not server:
        sys.exit("BENCH_DATABASE_URL (a PostgreSQL server URL) is needed: replicas share one")
    template = await migrated_postgres_template(server, "roadmap_bench_template")
    try:
        one = await one_round(server, template, args, count=1, kill=False)
        one.print(args.members)
        three = await one_round(server, template, args, count=3, kill=True)
        three.print(args.members)
    finally:
        await drop_postgres_database(server, template)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=300)
    parser.add_argument("--send-rate", type=float, default=29.0)
    return parser.parse_args()


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
