"""Outbox claim latency with many pending rows, with the project's indexes and without.

Fills the outbox with N pending notifications (three per chat, in the order a round and its
reminders would be enqueued) and times the worker's real `claim()` (100 rows a claim, the
default) ten times in a row, marking each claimed batch sent before the next claim, as the
drain does. Each size runs in the same process with the schema as migrated (the per-chat
ordering index and the due index of 0007) and, as the baselines: on PostgreSQL, the same
claim with JIT compilation left to the server (as it was before the claim turned it off),
and with the per-chat index dropped and the due index as it was in 0004. On PostgreSQL
every case also runs on a fresh table before ANALYZE (autovacuum off for that table, so the
statistics stay absent) and after ANALYZE.

Run by hand: `.venv/bin/python bench/bench_outbox.py [--sizes 1000,10000,30000]`.
SQLite in a temp dir always; BENCH_DATABASE_URL (a PostgreSQL server URL) adds PostgreSQL,
in a scratch database per case, created and dropped. A baseline claim slower than
--baseline-limit seconds stops the baseline at the larger sizes (it is quadratic).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiogram import Bot
from sqlalchemy import event, text, update
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.scratch import scratch_database, server_for
from bot.core.clock import FrozenClock
from bot.core.ratelimit import RateLimiter
from bot.delivery import worker as worker_module
from bot.delivery.worker import DeliveryWorker
from db.engine import SessionMaker, create_engine, create_session_maker
from db.migrate import upgrade
from db.models import Notification
from db.outbox import Outgoing, enqueue_many

TOKEN = "7000000001:BENCH_token_abcdefghijklmnopqrstuvwxyz012"
PER_CHAT = 3
CLAIMS = 10


@dataclass
class Case:
    backend: str
    schema: str  # "0007", "0007 JIT on" or "0004" (the last two: baselines)
    statistics: str
    size: int
    median_ms: float
    max_ms: float
    claimed: int
    server: str = ""  # PostgreSQL's own account of one more claim (EXPLAIN ANALYZE)

    def show(self) -> None:
        print(
            f"{self.backend:<10} {self.schema:<16} {self.statistics:<14} {self.size:>7,} pending  "
            f"claim p50 {self.median_ms:8.2f} ms  max {self.max_ms:8.2f} ms  "
            f"({self.claimed} rows in {CLAIMS} claims){self.server}"
        )


async def server_side(engine: AsyncEngine, claim: tuple[str, Any]) -> str:
    """One more claim as PostgreSQL accounts for it, rolled back: execution, JIT and
    buffers are the server's own figures, steadier than wall time on a loaded machine."""
    statement, parameters = claim
    async with engine.connect() as connection:
        transaction = await connection.begin()
        await connection.execute(worker_module._PLANNER_SETTINGS)
        explained = await connection.exec_driver_sql(
            f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {statement}", parameters
        )
        raw = explained.scalar()
        await transaction.rollback()
    (plan,) = json.loads(raw) if isinstance(raw, str) else raw
    jit = plan.get("JIT", {}).get("Timing", {}).get("Total", 0.0)
    return (
        f"\n{'':<10} server: execution {plan['Execution Time']:.2f} ms (JIT {jit:.2f} ms), "
        f"planning {plan['Planning Time']:.2f} ms, {plan['Plan']['Shared Hit Blocks']} buffers"
    )


async def use_0004_indexes(session_maker: SessionMaker) -> None:
    async with session_maker() as session:
        await session.exec(text("DROP INDEX ix_notification_chat_order"))  # type: ignore[call-overload]
        await session.exec(text("DROP INDEX ix_notification_due"))  # type: ignore[call-overload]
        await session.exec(
            text("CREATE INDEX ix_notification_due ON notification (state, not_before)")  # type: ignore[call-overload]
        )
        await session.commit()


async def fill(session_maker: SessionMaker, clock: FrozenClock, size: int) -> None:
    chats = size // PER_CHAT
    messages = [
        Outgoing(
            key=f"bench:{turn}:{chat}",
            kind="bench",
            chat_id=1_000_001 + chat,
            method="sendMessage",
            params={"text": f"Notification {turn} for {chat}"},
            not_before=clock.now() + timedelta(microseconds=turn * chats + chat),
        )
        for turn in range(PER_CHAT)
        for chat in range(chats)
    ]
    async with session_maker() as session:
        await enqueue_many(session, messages, now=clock.now())
        await session.commit()


# The claim's planner settings before JIT was turned off for it (baseline "0007 JIT on").
JIT_ON = text("SET LOCAL enable_sort = off")


@contextlib.contextmanager
def claim_settings(variant: str) -> Iterator[None]:
    settings = worker_module._PLANNER_SETTINGS
    if variant == "0007 JIT on":
        worker_module._PLANNER_SETTINGS = JIT_ON
    try:
        yield
    finally:
        worker_module._PLANNER_SETTINGS = settings


async def run_case(backend: str, size: int, *, variant: str, analysed: bool) -> Case:
    baseline = variant == "0004"
    with claim_settings(variant):
        return await _run_case(backend, size, baseline=baseline, analysed=analysed, label=variant)


async def _run_case(backend: str, size: int, *, baseline: bool, analysed: bool, label: str) -> Case:
    async with scratch_database(server_for(backend)) as url:
        engine = create_engine(url)
        try:
            await upgrade(engine)
            session_maker = create_session_maker(engine)
            if baseline:
                await use_0004_indexes(session_maker)
            if backend == "PostgreSQL" and not analysed:
                async with session_maker() as session:
                    await session.exec(
                        text("ALTER TABLE notification SET (autovacuum_enabled = false)")  # type: ignore[call-overload]
                    )
                    await session.commit()
            clock = FrozenClock(datetime(2025, 3, 3, 4, 0, tzinfo=UTC))
            await fill(session_maker, clock, size)
            if analysed:
                async with session_maker() as session:
                    await session.exec(text("ANALYZE"))  # type: ignore[call-overload]
                    await session.commit()
            clock.advance(timedelta(seconds=1))
            worker = DeliveryWorker(
                session_maker=session_maker,
                bot=Bot(TOKEN),
                clock=clock,
                limiter=RateLimiter(),
                worker_id="bench",
            )
            times: list[float] = []
            claimed = 0
            captured: list[tuple[str, Any]] = []

            def capture(_conn: Any, _cursor: Any, sql: str, parameters: Any, *_: Any) -> None:
                if sql.lstrip().upper().startswith("UPDATE") and not captured:
                    captured.append((sql, parameters))

            event.listen(engine.sync_engine, "before_cursor_execute", capture)
            for _claim in range(CLAIMS):
                start = time.perf_counter()
                rows = await worker.claim()
                times.append(time.perf_counter() - start)
                claimed += len(rows)
                async with session_maker() as session:
                    await session.exec(
                        update(Notification)
                        .where(col(Notification.id).in_([row.id for row in rows]))
                        .values(state="sent", claimed_by=None, claimed_until=None)
                    )
                    await session.commit()
            event.remove(engine.sync_engine, "before_cursor_execute", capture)
            server = await server_side(engine, captured[0]) if backend == "PostgreSQL" else ""
        finally:
            await engine.dispose()
    return Case(
        backend=backend,
        schema=label,
        statistics="analysed" if analysed else "no statistics",
        size=size,
        median_ms=statistics.median(times) * 1000,
        max_ms=max(times) * 1000,
        claimed=claimed,
        server=server,
    )


async def main(args: argparse.Namespace) -> None:
    backends = ["SQLite"] + (["PostgreSQL"] if os.environ.get("BENCH_DATABASE_URL") else [])
    print(
        f"claim latency: {PER_CHAT} pending per chat, batch 100, {CLAIMS} consecutive claims; "
        "0007 = the project's claim and indexes; baselines: 0007 JIT on = the same claim with "
        "JIT left to the server (before), 0004 = without the per-chat index"
    )
    for backend in backends:
        variants = ["0007", "0007 JIT on", "0004"] if backend == "PostgreSQL" else ["0007", "0004"]
        for analysed in (False, True):
            if backend == "SQLite" and analysed:
                continue  # SQLite plans without statistics unless ANALYZE ran; see below
            for variant in variants:
                for size in args.sizes:
                    case = await run_case(backend, size, variant=variant, analysed=analysed)
                    case.show()
                    if variant == "0004" and case.max_ms / 1000 > args.baseline_limit:
                        print(
                            f"{'':<10} baseline stopped: a claim took over {args.baseline_limit}s"
                        )
                        break
        if backend == "SQLite":
            for size in args.sizes:
                (await run_case(backend, size, variant="0007", analysed=True)).show()


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes",
        type=lambda s: [int(x) for x in s.split(",") if x],
        default=[1_000, 10_000, 30_000],
    )
    parser.add_argument("--baseline-limit", type=float, default=5.0)
    return parser.parse_args()


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
