"""`/risk_report` with about a thousand items at risk: seconds and the worst loop stall.

bench_risk's roadmap (one item in ten declares a risk, others lag or are overdue), sized so
that about 1,000 items are at risk, its forecasts stored as the day's first alert scan stores
them. The project: `build_risk_report_apart` as the use case calls it (read, judged and drawn
on a loop of its own in a worker thread). The baseline, same process and database: the same
report drawn inline, as before (`collect_risk_rows`, then `render_risk_report` on the loop).
The worst stall is the event-loop watchdog's (tests/helpers/watchdog.py); "idle" is the loop
doing nothing for two seconds.

Run by hand: `.venv/bin/python -m bench.bench_risk_report [--items 5000] [--runs 3]`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bench_risk import THRESHOLDS, TODAY, TZ, fill
from bench.scratch import scratch_database
from bot.app.factory import freeze_startup_heap
from bot.risk.forecast_cache import refresh_forecasts
from bot.spreadsheets.risk_report import (
    build_risk_report_apart,
    collect_risk_rows,
    render_risk_report,
)
from bot.telegram.i18n import build_i18n, compile_catalogs, in_locale
from db.engine import SessionMaker, create_engine, create_session_maker
from db.migrate import upgrade
from tests.helpers.watchdog import LoopWatchdog


async def timed(work: Callable[[], Awaitable[object]], runs: int) -> tuple[float, float, float]:
    """Best seconds, the CPU seconds of that run (all threads) and the worst stall."""
    best, best_cpu, stall = float("inf"), 0.0, 0.0
    for _ in range(runs):
        async with LoopWatchdog() as watchdog:
            started, cpu = time.perf_counter(), time.process_time()
            await work()
            if time.perf_counter() - started < best:
                best, best_cpu = time.perf_counter() - started, time.process_time() - cpu
        stall = max(stall, watchdog.worst)
    return best, best_cpu, stall


async def main(args: argparse.Namespace) -> None:
    compile_catalogs()
    i18n = build_i18n("ru")
    async with scratch_database(os.environ.get("BENCH_DATABASE_URL")) as url:
        engine = create_engine(url)
        await upgrade(engine)
        await fill(engine, args.items)
        session_maker: SessionMaker = create_session_maker(engine)
        async with session_maker() as session:
            await refresh_forecasts(session, tz=TZ, today=TODAY, changed=(), every_stale=True)
            await session.commit()
        freeze_startup_heap()

        async def project() -> object:
            with in_locale(i18n, "ru"):
                return await build_risk_report_apart(
                    engine, today=TODAY, tz=TZ, thresholds=THRESHOLDS
                )

        async def inline() -> object:
            async with session_maker() as session:
                with in_locale(i18n, "ru"):
                    totals, rows = await collect_risk_rows(
                        session, today=TODAY, year=TODAY.year, tz=TZ, thresholds=THRESHOLDS
                    )
                    return render_risk_report(totals, rows, today=TODAY, year=TODAY.year)

        async with session_maker() as session:
            with in_locale(i18n, "ru"):
                _totals, rows = await collect_risk_rows(
                    session, today=TODAY, year=TODAY.year, tz=TZ, thresholds=THRESHOLDS
                )
        async with LoopWatchdog() as idle:
            await asyncio.sleep(2)
        await project()  # python-docx's first import and template read
        baseline = await timed(inline, args.runs)
        measured = await timed(project, args.runs)
        await engine.dispose()
    backend = "PostgreSQL" if os.environ.get("BENCH_DATABASE_URL") else "SQLite"
    print(f"{backend}, {args.items} items, {len(rows)} at risk; load {os.getloadavg()[0]:.1f}")
    print(f"{'':<34}{'best s':>8}{'CPU s':>8}{'worst stall ms':>16}")
    print(f"{'idle loop (2 s)':<34}{'':>8}{'':>8}{idle.worst * 1000:>16.1f}")
    for label, (best, cpu, stall) in (
        ("baseline: drawn on the loop", baseline),
        ("project: apart, in a worker", measured),
    ):
        print(f"{label:<34}{best:>8.2f}{cpu:>8.2f}{stall * 1000:>16.1f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=5_000)
    parser.add_argument("--runs", type=int, default=3)
    asyncio.run(main(parser.parse_args()))
