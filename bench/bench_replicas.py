"""Three replicas of the bot on one PostgreSQL database, beside one process: a scheduled round
to every member, with the leader killed (kill -9) a third of the way through.

Each replica is `python -m bot` long-polling a Bot API emulator of its own
(tests/helpers/replicas.py); the round is planned for the next minute but one. Printed for each
setting: the messages each person got (how many people got 0, 1, 2… requests), the time from
the kill to a new leader and to the next message, and the send rate (the round's messages over
its span, and the busiest second, which Telegram caps at 30). The baseline is one process,
measured in the same run on the same machine.

Run by hand: `BENCH_DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/test
.venv/bin/python bench/bench_replicas.py [--members 120] [--send-rate 29]`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # `tests` is not installed

from tests.helpers.databases import (
    drop_postgres_database,
    migrated_postgres_template,
    throwaway_postgres_database,
)
from tests.helpers.replicas import Replicas, busiest_second, plan_ahead, seed

START_MARGIN = 45.0


@dataclass
class Outcome:
    label: str
    per_person: Counter[int]
    span: float
    busiest_second: int
    new_leader_after: float | None = None
    resumed_after: float | None = None

    def print(self, members: int) -> None:
        sent = sum(count * people for count, people in self.per_person.items())
        shape = ", ".join(
            f"{people} got {count}" for count, people in sorted(self.per_person.items())
        )
        print(f"{self.label}:")
        print(f"  messages each person got: {shape} (of {members} members)")
        rate = (sent - 1) / self.span if self.span else float("nan")
        print(
            f"  send rate: {rate:.1f} messages/s over the round ({sent} in {self.span:.1f} s), "
            f"busiest second {self.busiest_second}"
        )
        if self.new_leader_after is not None:
            print(f"  new leader {self.new_leader_after:.1f} s after kill -9 of the leader")
        if self.resumed_after is not None:
            print(f"  next message {self.resumed_after:.1f} s after the kill")


async def one_round(
    server: str, template: str, args: argparse.Namespace, *, count: int, kill: bool
) -> Outcome:
    async with throwaway_postgres_database(server, "roadmap_bench_replicas", template) as url:
        plan = plan_ahead(START_MARGIN)
        local_now = datetime.now(UTC).astimezone(plan.at.tzinfo)
        chats = await seed(
            url, members=args.members, day=plan.at.date(), at=local_now - timedelta(minutes=1)
        )
        with tempfile.TemporaryDirectory() as folder:
            replicas = Replicas(
                root=Path(folder),
                url=url,
                count=count,
                settings={
                    "TIMEZONE": plan.zone,
                    "ROUND_SCHEDULE": plan.weekly,
                    "DIGEST_SCHEDULE": "sun 03:00",
                    "REMINDER_TIME": "03:00",
                    "SEND_RATE_PER_SECOND": str(args.send_rate),
                },
                chats=chats,
            )
            await replicas.start()
            try:
                return await _measure(replicas, chats, count=count, kill=kill)
            finally:
                await replicas.stop()


async def _measure(replicas: Replicas, chats: list[int], *, count: int, kill: bool) -> Outcome:
    await replicas.wait_polling()
    leader = await replicas.wait_leader()
    new_leader_after = resumed_after = None
    members = set(chats)

    def delivered() -> int:
        return sum(1 for chat in chats if replicas.received(chat) >= 1)

    deadline = time.monotonic() + 180
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
    while delivered() < len(chats):
        assert time.monotonic() < deadline, replicas.logs()
        await asyncio.sleep(0.1)
    await asyncio.sleep(3)  # a duplicate would come now
    per_person = Counter(replicas.received(chat) for chat in chats)
    times = [
        record.at
        for emulator in replicas.emulators
        for record in emulator.requests
        if record.method == "sendMessage"
        and record.ok
        and int(record.params.get("chat_id", 0)) in members
    ]
    times.sort()
    label = f"{count} replica{'s' if count > 1 else ''}" + (", leader killed" if kill else "")
    return Outcome(
        label, per_person, times[-1] - times[0], busiest_second(times), new_leader_after,
        resumed_after,
    )  # fmt: skip


async def main(args: argparse.Namespace) -> None:
    server = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    if not server:
        sys.exit("BENCH_DATABASE_URL (a PostgreSQL server URL) is needed: replicas share one")
    template = await migrated_postgres_template(server, "roadmap_bench_template")
    try:
        baseline = await one_round(server, template, args, count=1, kill=False)
        baseline.print(args.members)
        replicas = await one_round(server, template, args, count=3, kill=True)
        replicas.print(args.members)
    finally:
        await drop_postgres_database(server, template)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=120)
    parser.add_argument("--send-rate", type=float, default=29.0)
    return parser.parse_args()


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
