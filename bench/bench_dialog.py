"""One dialog step through the full dispatcher, beside bare aiogram in the same process.

The project: the production `create_dispatcher` (every middleware, the database FSM storage,
the real reporting routers) on a migrated SQLite file, with a seeded department, items and a
member; the member walks the status dialog by buttons (open the item, pick a status, pick a
progress, cancel) again and again. The baseline: a bare aiogram Dispatcher (memory storage)
with one handler that answers the button, fed the same kind of callback updates. Both use a
recording bot (no network), so the figures are the bot's own work. SQL statements and
commits are counted with SQLAlchemy events, per update.

Run by hand: `.venv/bin/python bench/bench_dialog.py [--steps 400]`
(BENCH_DATABASE_URL: a PostgreSQL server URL, runs in a scratch database instead).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from aiogram import Dispatcher, F
from aiogram.types import CallbackQuery
from sqlalchemy import event
from sqlmodel import select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bench_delivery import scratch_database
from bot.app.config import Settings
from bot.app.factory import create_dispatcher
from bot.core.clock import FrozenClock
from bot.core.ratelimit import RateLimiter
from bot.delivery.worker import DeliveryWorker
from bot.scheduling.jobs import Jobs
from bot.telegram.callbacks import DialogAction, OpenItem, PickProgress, PickStatus
from bot.telegram.i18n import build_i18n, compile_catalogs
from db.engine import create_engine, create_session_maker
from db.migrate import upgrade
from db.models import RoadmapItem
from tests.helpers.chat import ADMIN_ID, START_MOMENT, TEST_TOKEN, Chatter, invite_token, only_text
from tests.mocked_bot import MockedBot

MEMBER = 2002


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def project(steps: int) -> tuple[list[float], Counter[str], int]:
    async with scratch_database() as url:
        engine = create_engine(url)
        await upgrade(engine)
        session_maker = create_session_maker(engine)
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            bot_token=TEST_TOKEN,
            database_url=url,
            admin_ids=str(ADMIN_ID),
        )
        clock = FrozenClock(START_MOMENT)
        i18n = build_i18n("kk")
        bot = MockedBot()
        outbox = DeliveryWorker(
            session_maker=session_maker, bot=bot, clock=clock, limiter=RateLimiter()
        )
        jobs = Jobs(
            session_maker=session_maker, i18n=i18n, settings=settings, clock=clock, outbox=outbox
        )
        dispatcher = create_dispatcher(
            settings=settings, session_maker=session_maker, i18n=i18n, clock=clock, outbox=outbox
        )
        dispatcher["i18n"] = i18n
        dispatcher["jobs"] = jobs
        dispatcher["risk_thresholds"] = jobs.thresholds
        chatter = Chatter(dispatcher, bot)
        await chatter.send(ADMIN_ID, "/start")
        await chatter.press(ADMIN_ID, "lang:ru")
        await chatter.send(ADMIN_ID, "/adddept edu Білім басқармасы | Управление образования")
        await chatter.send(
            ADMIN_ID, "/additem 1.1 edu 2025-06-01 Мектеп салу | Строительство школы"
        )
        token = invite_token(only_text(await chatter.send(ADMIN_ID, "/invite edu")))
        await chatter.send(MEMBER, f"/start {token}")
        await chatter.press(MEMBER, "lang:ru")
        async with session_maker() as session:
            item = (await session.exec(select(RoadmapItem))).one().id
        assert item is not None
        cycle = [
            ("open item", OpenItem(item_id=item).pack()),
            ("pick status", PickStatus(item_id=item, status="on_track").pack()),
            ("pick progress", PickProgress(item_id=item, value=50).pack()),
            ("cancel", DialogAction(item_id=item, action="cancel").pack()),
        ]
        counts: Counter[str] = Counter()

        def on_statement(*_: Any) -> None:
            counts["statements"] += 1

        def on_commit(*_: Any) -> None:
            counts["commits"] += 1

        event.listen(engine.sync_engine, "before_cursor_execute", on_statement)
        event.listen(engine.sync_engine, "commit", on_commit)
        times: list[float] = []
        per_kind: Counter[str] = Counter()
        for n in range(steps):
            kind, data = cycle[n % len(cycle)]
            before = counts.copy()
            start = time.perf_counter()
            await chatter.press(MEMBER, data)
            times.append(time.perf_counter() - start)
            per_kind[f"{kind}: statements"] += counts["statements"] - before["statements"]
            per_kind[f"{kind}: commits"] += counts["commits"] - before["commits"]
        await engine.dispose()
        return times, per_kind, steps // len(cycle)


async def bare(steps: int) -> list[float]:
    bot = MockedBot()
    dispatcher = Dispatcher()

    @dispatcher.callback_query(F.data)
    async def echo(query: CallbackQuery) -> None:
        await query.answer(query.data)

    chatter = Chatter(dispatcher, bot)
    times = []
    for n in range(steps):
        start = time.perf_counter()
        await chatter.press(MEMBER, f"echo:{n}")
        times.append(time.perf_counter() - start)
    return times


def show(label: str, times: list[float]) -> None:
    print(
        f"{label:<34} p50 {statistics.median(times) * 1000:7.2f} ms  "
        f"p99 {percentile(times, 0.99) * 1000:7.2f} ms  {len(times) / sum(times):9.0f} steps/s"
    )


async def main(args: argparse.Namespace) -> None:
    compile_catalogs()
    baseline = await bare(args.steps)
    times, per_kind, cycles = await project(args.steps)
    baseline_again = await bare(args.steps)  # the machine is shared: bracket the project
    print(f"{args.steps} callback updates each; the project walks the dialog in {cycles} cycles")
    show("bare aiogram, echo handler", baseline + baseline_again)
    show("project, full dispatcher", times)
    steps_per_s = len(times) / sum(times)
    bare_per_s = (2 * args.steps) / (sum(baseline) + sum(baseline_again))
    print(f"ratio project/bare (steps/s): {steps_per_s / bare_per_s:.3f}")
    for kind in ("open item", "pick status", "pick progress", "cancel"):
        print(
            f"  {kind:<14} {per_kind[kind + ': statements'] / cycles:5.1f} SQL statements, "
            f"{per_kind[kind + ': commits'] / cycles:4.1f} commits per step"
        )
    total_statements = sum(v for k, v in per_kind.items() if k.endswith("statements"))
    total_commits = sum(v for k, v in per_kind.items() if k.endswith("commits"))
    print(
        f"  all steps      {total_statements / args.steps:5.1f} SQL statements, "
        f"{total_commits / args.steps:4.1f} commits per step"
    )


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=400)
    return parser.parse_args()


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
