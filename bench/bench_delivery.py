"""Outbox fan-out throughput against the Bot API emulator with Telegram-like rate limits.

1,000 notifications to 1,000 chats; the emulator enforces 30 messages/s overall and 1/s per
chat and answers 429 beyond that, like Telegram. The worker runs for real (`run()`, system
clock, real sleeps) over real HTTP. One clean run per limiter rate, then a run at the chosen
rate with 10% 5xx (half 500, half 502 HTML) and 5% dropped connections, injected by a seeded
RNG so the fault sequence is the same every time.

Run by hand: `.venv/bin/python bench/bench_delivery.py [--rates 29,30] [--fault-rate 29]`; by
default the clean runs use the bot's default SEND_RATE_PER_SECOND and 30, the fault run the
default.
SQLite in a temp dir by default; BENCH_DATABASE_URL (a PostgreSQL server URL) uses a scratch
database there, created and dropped per run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import os
import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiogram import Bot
from aiogram.client.telegram import TelegramAPIServer
from sqlmodel import func, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # `tests` is not installed

from bench.scratch import scratch_database
from bot.app.config import Settings
from bot.core.clock import SystemClock
from bot.core.ratelimit import RateLimiter
from bot.delivery.worker import DeliveryWorker
from bot.sandbox.emulator import BotApiEmulator, FaultPlan
from db.engine import SessionMaker, create_engine, create_session_maker
from db.migrate import upgrade
from db.models import Notification
from db.outbox import enqueue
from tests.helpers.e2e import FastSession

TOKEN = "7000000001:BENCH_token_abcdefghijklmnopqrstuvwxyz012"
TELEGRAM_GLOBAL = 30.0  # what the emulator enforces, as Telegram does
TELEGRAM_PER_CHAT = 1.0
FIRST_CHAT = 1_000_001
# What the bot sends at when SEND_RATE_PER_SECOND is not set.
DEFAULT_RATE = float(Settings.model_fields["send_rate_per_second"].default)


class RandomFaults(FaultPlan):
    """Fails each sendMessage with a fixed probability, drawn from a seeded RNG.

    Decided in `take()`, which the emulator calls synchronously before any side effect or
    rate-limit check, so a faulted request neither delivers nor spends a Telegram token.
    """

    def __init__(self, *, seed: int, server_error: float, drop: float) -> None:
        super().__init__()
        self.rng = random.Random(seed)
        self.server_error = server_error
        self.drop = drop

    def take(self, method: str) -> Any:
        rule = super().take(method)
        if rule is not None or method != "sendMessage":
            return rule
        draw = self.rng.random()
        if draw < self.server_error:
            kind = "500" if draw < self.server_error / 2 else "502"
        elif draw < self.server_error + self.drop:
            kind = "drop"
        else:
            return None
        self.fail_next(1, kind, method=method)
        return super().take(method)


class FaultyEmulator(BotApiEmulator):
    def __init__(self, token: str, faults: FaultPlan) -> None:
        super().__init__(token)
        self.faults = faults
        self.stats = faults.stats


@dataclass
class Result:
    label: str
    rate: float
    notifications: int
    elapsed: float  # start to the last successful send, emulator side
    elapsed_99: float  # start to the send that completed 99% of the chats
    settled: float  # start to every row final, as observed by polling the database
    sent: int
    lost: int
    duplicated: int
    throttled: int  # 429s from the emulator's rate limits
    retries: int  # requests beyond one per notification
    injected: dict[str, int]
    failed_rows: int

    @property
    def per_second(self) -> float:
        return self.sent / self.elapsed if self.elapsed else 0.0

    @property
    def per_second_99(self) -> float:
        """The rate up to 99% delivered: the fan-out proper, without the backoff tail."""
        return 0.99 * self.notifications / self.elapsed_99 if self.elapsed_99 else 0.0

    @property
    def efficiency(self) -> float:
        """Against the best any sender could do: Telegram's bucket starts full (30 at once),
        then 30 a second, so n messages need (n - 30) / 30 seconds at the very least."""
        best = max(self.sent - TELEGRAM_GLOBAL, 0) / TELEGRAM_GLOBAL
        return best / self.elapsed if self.elapsed else 0.0

    def show(self) -> None:
        faults = ", ".join(f"{k}={v}" for k, v in sorted(self.injected.items())) or "none"
        print(
            f"{self.label:<24} limiter {self.rate:>5g}/s  "
            f"{self.per_second:6.2f} msg/s = {self.per_second / TELEGRAM_GLOBAL:.3f} of 30 "
            f"({self.efficiency:.3f} of the best possible)  "
            f"lost {self.lost}  dup {self.duplicated}  429s {self.throttled}  "
            f"retries {self.retries}  elapsed {self.elapsed:.2f}s (settled {self.settled:.2f}s)\n"
            f"{'':<24} to 99% delivered: {self.elapsed_99:.2f}s, "
            f"{self.per_second_99 / TELEGRAM_GLOBAL:.3f} of 30  "
            f"injected: {faults}  failed/dropped rows {self.failed_rows}"
        )


async def fill_outbox(session_maker: SessionMaker, chats: list[int]) -> None:
    now = SystemClock().now()
    async with session_maker() as session:
        for chat_id in chats:
            await enqueue(
                session,
                key=f"bench:{chat_id}",
                kind="bench",
                chat_id=chat_id,
                method="sendMessage",
                params={"chat_id": chat_id, "text": f"Notification for {chat_id}"},
                now=now,
            )
        await session.commit()


async def pending(session_maker: SessionMaker) -> int:
    async with session_maker() as session:
        result = await session.exec(
            select(func.count()).select_from(Notification).where(Notification.state == "pending")
        )
        return int(result.one())


async def run_once(label: str, args: argparse.Namespace, rate: float, faults: FaultPlan) -> Result:
    chats = [FIRST_CHAT + n for n in range(args.n)]
    async with scratch_database(os.environ.get("BENCH_DATABASE_URL")) as url:
        engine = create_engine(url)
        await upgrade(engine)
        session_maker = create_session_maker(engine)
        await fill_outbox(session_maker, chats)
        emu = FaultyEmulator(TOKEN, faults)
        await emu.start()
        session = FastSession(api=TelegramAPIServer.from_base(emu.base_url))
        bot = Bot(TOKEN, session=session)
        try:
            for chat_id in chats:
                emu.add_chat(chat_id)
            emu.faults.set_rate_limits(TELEGRAM_GLOBAL, TELEGRAM_PER_CHAT)
            worker = DeliveryWorker(
                session_maker=session_maker,
                bot=bot,
                clock=SystemClock(),
                limiter=RateLimiter(global_per_second=rate),
                batch_size=args.batch_size,
                concurrency=args.concurrency,
            )
            start = time.monotonic()
            task = asyncio.create_task(worker.run(idle_interval=0.02))
            while True:  # poll the outbox like an operator would; the worker never returns
                if not await pending(session_maker):
                    break
                await asyncio.sleep(0.1)
            settled = time.monotonic() - start
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            async with session_maker() as db:
                states = dict(
                    (
                        await db.exec(
                            select(Notification.state, func.count()).group_by(Notification.state)
                        )
                    ).all()
                )
        finally:
            await session.close()
            await emu.stop()
            await engine.dispose()
    sends = [r for r in emu.requests if r.method == "sendMessage"]
    delivered = sorted(r.at for r in sends if r.ok)
    nearly_all = delivered[math.ceil(0.99 * args.n) - 1] if len(delivered) >= args.n else 0.0
    counts = emu.stats.sent_per_chat
    return Result(
        label=label,
        rate=rate,
        notifications=args.n,
        elapsed=(delivered[-1] - start) if delivered else 0.0,
        elapsed_99=(nearly_all - start) if nearly_all else 0.0,
        settled=settled,
        sent=sum(counts.values()),
        lost=sum(1 for chat_id in chats if counts[chat_id] == 0),
        duplicated=sum(max(0, n - 1) for n in counts.values()),
        throttled=emu.stats.rate_limited,
        retries=len(sends) - args.n,
        injected=dict(emu.stats.injected),
        failed_rows=int(states.get("failed", 0)) + int(states.get("dropped", 0)),
    )


async def main(args: argparse.Namespace) -> None:
    backend = "PostgreSQL" if os.environ.get("BENCH_DATABASE_URL") else "SQLite"
    print(
        f"{args.n} notifications to {args.n} chats, {backend}, emulator limits "
        f"{TELEGRAM_GLOBAL:g}/s global and {TELEGRAM_PER_CHAT:g}/s per chat, "
        f"batch {args.batch_size}, concurrency {args.concurrency}"
    )
    for rate in args.rates:
        faults = FaultPlan()
        (await run_once("clean", args, rate, faults)).show()
    faults = RandomFaults(seed=args.seed, server_error=0.10, drop=0.05)
    label = f"10% 5xx + 5% drop (seed {args.seed})"
    (await run_once(label, args, args.fault_rate, faults)).show()


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000, help="notifications (one chat each)")
    parser.add_argument(
        "--rates",
        type=lambda s: [float(x) for x in s.split(",") if x],
        default=[DEFAULT_RATE, 30.0],
        help="limiter rates for the clean runs, comma-separated (default: the bot's default)",
    )
    parser.add_argument(
        "--fault-rate", type=float, default=DEFAULT_RATE, help="limiter rate, fault run"
    )
    parser.add_argument("--seed", type=int, default=20250303)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=16)
    return parser.parse_args()


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
