"""50 heads stepping through their cards while a 1,000-person round goes out: what a head waits.

Against the Bot API emulator over real HTTP, with Telegram's limits (30 messages/s overall,
1/s per chat, both sends and edits; 429 beyond). The outbox (the real DeliveryWorker, its
default rate) delivers 1,000 notifications to 1,000 chats. Meanwhile 50 heads each get their
card (one sendMessage) and then, every 1.5 s with a jitter, a dialog step's reply: an edit of
that card, through the bot's request guard as a handler's reply goes. Measured: each edit's
latency as the head sees it (from the call to its answer, 429 waits included), the 429s the
emulator answered (to heads and to the outbox), the heads' calls that failed after the guard's
retries, and how long the round took.

The project: the guard and the outbox share one global budget (replies first). The baseline,
same run: the guard without a budget, as before (each side took its own ~30/s).
The bot's own work (the dispatcher, the database) is not in these figures: bench_dialog has
it; this is about sharing Telegram's budget.

Run by hand: `.venv/bin/python -m bench.bench_concurrency [--heads 50] [--round 1000]`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import statistics
import sys
import time
from pathlib import Path

from aiogram import Bot
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramRetryAfter
from sqlmodel import func, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bench_delivery import DEFAULT_RATE, TELEGRAM_GLOBAL, TELEGRAM_PER_CHAT, fill_outbox
from bench.scratch import scratch_database
from bot.app.config import Settings
from bot.app.factory import create_outbox, protect
from bot.core.clock import SystemClock
from bot.sandbox.emulator import BotApiEmulator
from bot.telegram.session import guard_of
from db.engine import create_engine, create_session_maker
from db.migrate import upgrade
from db.models import Notification
from tests.helpers.chat import TEST_TOKEN
from tests.helpers.e2e import FastSession

FIRST_MEMBER = 1_000_001
FIRST_HEAD = 2_000_001
STEP_EVERY = 1.5


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def run(shared: bool, heads: int, members: int, steps: int) -> dict[str, float]:
    async with scratch_database(os.environ.get("BENCH_DATABASE_URL")) as url:
        engine = create_engine(url)
        await upgrade(engine)
        session_maker = create_session_maker(engine)
        await fill_outbox(session_maker, [FIRST_MEMBER + n for n in range(members)])
        emulator = BotApiEmulator(TEST_TOKEN)
        await emulator.start()
        bot = Bot(
            TEST_TOKEN, session=FastSession(api=TelegramAPIServer.from_base(emulator.base_url))
        )
        settings = Settings(_env_file=None, bot_token=TEST_TOKEN, database_url=url)  # type: ignore[call-arg]
        protect(bot, settings, clock=time.monotonic, sleep=asyncio.sleep)
        outbox = create_outbox(
            settings=settings, session_maker=session_maker, bot=bot, clock=SystemClock()
        )
        guard = guard_of(bot)
        assert guard is not None
        if not shared:
            guard.budget = None  # as before: the replies' guard paced per chat only
        for n in range(members):
            emulator.add_chat(FIRST_MEMBER + n)
        for n in range(heads):
            emulator.add_chat(FIRST_HEAD + n)
        emulator.faults.set_rate_limits(TELEGRAM_GLOBAL, TELEGRAM_PER_CHAT)
        latencies: list[float] = []
        gave_up = 0
        rng = random.Random(7)

        async def head(chat_id: int) -> None:
            nonlocal gave_up
            await asyncio.sleep(rng.random() * STEP_EVERY)
            try:
                card = await bot.send_message(chat_id, "Карточка пункта")
            except TelegramRetryAfter:  # the guard's retries ran out: this head got nothing
                gave_up += 1
                return
            for step in range(steps):
                await asyncio.sleep(STEP_EVERY + rng.uniform(-0.2, 0.2))
                started = time.monotonic()
                try:
                    await bot.edit_message_text(
                        f"Шаг {step}", chat_id=chat_id, message_id=card.message_id
                    )
                except TelegramRetryAfter:
                    gave_up += 1
                latencies.append(time.monotonic() - started)

        started = time.monotonic()
        worker = asyncio.create_task(outbox.run(idle_interval=0.02))
        try:
            await asyncio.gather(*(head(FIRST_HEAD + n) for n in range(heads)))
            while True:
                async with session_maker() as session:
                    left = (
                        await session.exec(
                            select(func.count())
                            .select_from(Notification)
                            .where(Notification.state == "pending")
                        )
                    ).one()
                if not left:
                    break
                await asyncio.sleep(0.1)
            round_seconds = time.monotonic() - started
        finally:
            worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await worker
            await bot.session.close()
            await emulator.stop()
            await engine.dispose()
    limited = [r for r in emulator.requests if not r.ok and r.status == 429]
    return {
        "p50": statistics.median(latencies),
        "p90": percentile(latencies, 0.9),
        "p99": percentile(latencies, 0.99),
        "max": max(latencies),
        "edits": len(latencies),
        "head_429": sum(1 for r in limited if int(r.params.get("chat_id", 0)) >= FIRST_HEAD),
        "outbox_429": sum(1 for r in limited if int(r.params.get("chat_id", 0)) < FIRST_HEAD),
        "gave_up": gave_up,
        "round_s": round_seconds,
    }


async def main(args: argparse.Namespace) -> None:
    print(
        f"{args.heads} heads, a step every {STEP_EVERY} s ({args.steps} each), during a round "
        f"of {args.round}; outbox at {DEFAULT_RATE:g}/s; emulator {TELEGRAM_GLOBAL:g}/s overall, "
        f"{TELEGRAM_PER_CHAT:g}/s per chat; load {os.getloadavg()[0]:.1f}"
    )
    print(
        f"{'':<36}{'p50 ms':>8}{'p90 ms':>8}{'p99 ms':>8}{'max ms':>8}{'edits':>7}"
        f"{'429 heads':>10}{'429 outbox':>11}{'failed':>7}{'round s':>9}"
    )
    for label, shared in (
        ("baseline: separate budgets", False),
        ("project: one budget, replies first", True),
    ):
        f = await run(shared, args.heads, args.round, args.steps)
        print(
            f"{label:<36}{f['p50'] * 1000:>8.0f}{f['p90'] * 1000:>8.0f}{f['p99'] * 1000:>8.0f}"
            f"{f['max'] * 1000:>8.0f}{f['edits']:>7.0f}{f['head_429']:>10.0f}"
            f"{f['outbox_429']:>11.0f}{f['gave_up']:>7.0f}{f['round_s']:>9.1f}",
            flush=True,
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--heads", type=int, default=50)
    parser.add_argument("--round", type=int, default=1_000)
    parser.add_argument("--steps", type=int, default=10)
    asyncio.run(main(parser.parse_args()))
