"""The whole weekly digest as the chair gets it, at 5,000 and 50,000 items x 10 updates.

"Whole" means everything the chair's digest needs: `collect_digest` (one assessment, and the
chart's earlier weeks read from `risk_snapshot`), the text rendered in both languages and the
chart PNG rendered in both languages. Not included: the outbox rows and the sending.

Seeded with bench_risk's data (12 departments, ten fortnightly reports per item). Each size is
measured twice, each time in a fresh child process (so memory belongs to the digest, not to
the filling): first with no snapshots stored (the first week after installing: the chart has
no week-by-week panel), then after storing the seven earlier weeks' snapshots the way the
weekly job writes them (`save_snapshot` of what was known on each of those days), which is
what a running bot has. Before both, the forecasts of the digest's "likely late" section are
stored the way the alert scan stores them (once per item and report; its time is printed).

Times are wall clock with the process's CPU time in brackets (it includes the SQLite thread,
not the PostgreSQL server; on a shared machine it moves less than the wall clock). "cold" is
the process's first digest (matplotlib imported and its fonts loaded, the database's pages
not yet cached), "warm" the best of three after it; "charts" is the chart in both languages
(the first drawing, with matplotlib's import, and then warm); "SQL" counts the statements
of one digest. The baseline, measured in the same process on the same data, is one full
assessment and its summary (`assess_items` + `summarize`, what bench_risk times and what the
digest ran before).

Memory: "Python peak" is tracemalloc's peak during one warm digest (in brackets, during the
baseline); "RSS after imports" is the process before its first digest (aiogram, SQLAlchemy
and the bot's modules; matplotlib comes with the first chart); "peak RSS" is the process's
peak over the digests (before the baseline runs); "growth" is peak RSS minus RSS after
imports: the digest's own memory, matplotlib included. The 200 MiB target is judged on the
growth; the absolute peak is printed beside it.

Run by hand: `.venv/bin/python -m bench.bench_digest [--sizes 5000,50000]`. SQLite always;
BENCH_DATABASE_URL (a PostgreSQL server URL) adds PostgreSQL in a scratch database.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import sys
import time
import tracemalloc
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from datetime import time as clock_time
from typing import Any

from sqlalchemy import event

from bench.bench_risk import THRESHOLDS, TODAY, TZ, UPDATES_PER_ITEM, fill
from bench.scratch import scratch_database
from bot.risk import digest as digest_module
from bot.risk.assess import assess_items
from bot.risk.digest import (
    DigestData,
    chart_days,
    collect_digest,
    render_digest,
    save_snapshot,
    summarize,
)
from bot.risk.forecast_cache import refresh_forecasts
from bot.telegram.i18n import build_i18n, compile_catalogs, in_locale
from db.engine import create_engine, create_session_maker
from db.migrate import upgrade

YEAR = TODAY.year
WARM_RUNS = 3


def current_rss_mib() -> float:
    with open("/proc/self/statm") as statm:  # Linux only
        resident = int(statm.read().split()[1])
    return resident * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Charts:
    """Times each drawing of the chart in both languages through `render_chart_pngs` (the
    digest module's own name, what the weekly job calls)."""

    def __init__(self) -> None:
        self.seconds: list[float] = []
        self._draw = digest_module.render_chart_pngs

    def __enter__(self) -> Charts:
        def timed(data: DigestData, i18n: Any, locales: Sequence[str]) -> dict[str, bytes]:
            started = time.perf_counter()
            try:
                return self._draw(data, i18n, locales)
            finally:
                self.seconds.append(time.perf_counter() - started)

        digest_module.render_chart_pngs = timed  # type: ignore[assignment]
        return self

    def __exit__(self, *_exc: object) -> None:
        digest_module.render_chart_pngs = self._draw  # type: ignore[assignment]


LOCALES = ("kk", "ru")


async def whole_digest(session_maker: Any, i18n: Any) -> tuple[int, int, int]:
    """What the weekly job computes and renders: messages, chart bytes, weeks charted."""
    async with session_maker() as session:
        data = await collect_digest(session, today=TODAY, year=YEAR, thresholds=THRESHOLDS, tz=TZ)
    messages = 0
    for locale in LOCALES:
        with in_locale(i18n, locale):
            messages += len(render_digest(data.summary, data.departments, year=YEAR, today=TODAY))
    charts = digest_module.render_chart_pngs(data, i18n, LOCALES)
    return messages, sum(len(png) for png in charts.values()), len(data.weekly)


async def one_assessment(session_maker: Any) -> int:
    async with session_maker() as session:
        risks = await assess_items(session, today=TODAY, year=YEAR, thresholds=THRESHOLDS, tz=TZ)
        return summarize(risks).at_risk


async def best_of(runs: int, work: Callable[[], Awaitable[object]]) -> tuple[float, float]:
    """The best wall time and the best CPU time of the process (the SQLite thread included,
    the PostgreSQL server not) over a few runs."""
    wall = cpu = float("inf")
    for _run in range(runs):
        started, used = time.perf_counter(), time.process_time()
        await work()
        wall = min(wall, time.perf_counter() - started)
        cpu = min(cpu, time.process_time() - used)
    return wall, cpu


async def measure(url: str) -> dict[str, float]:
    """In a fresh process: the cold digest first, then warm ones, then the baseline."""
    compile_catalogs()
    i18n = build_i18n("kk")
    engine = create_engine(url)
    statements = [0]

    def count(*_args: object) -> None:
        statements[0] += 1

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    session_maker = create_session_maker(engine)
    try:
        rss_start = current_rss_mib()
        with Charts() as cold_charts:
            started, used = time.perf_counter(), time.process_time()
            messages, chart_bytes, weeks = await whole_digest(session_maker, i18n)
            cold, cold_cpu = time.perf_counter() - started, time.process_time() - used
        digest_statements = statements[0]
        digest_peak = peak_rss_mib()
        with Charts() as warm_charts:
            warm, warm_cpu = await best_of(WARM_RUNS, lambda: whole_digest(session_maker, i18n))
        digest_peak = max(digest_peak, peak_rss_mib())
        tracemalloc.start()
        await whole_digest(session_maker, i18n)
        _, traced = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        baseline, baseline_cpu = await best_of(WARM_RUNS, lambda: one_assessment(session_maker))
        tracemalloc.start()
        await one_assessment(session_maker)
        _, baseline_traced = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    finally:
        await engine.dispose()
    return {
        "cold": cold,
        "cold_cpu": cold_cpu,
        "warm": warm,
        "warm_cpu": warm_cpu,
        "baseline_cpu": baseline_cpu,
        "chart_first": cold_charts.seconds[0],
        "chart_warm": min(warm_charts.seconds),
        "baseline": baseline,
        "statements": digest_statements,
        "traced_mib": traced / 2**20,
        "baseline_traced_mib": baseline_traced / 2**20,
        "rss_start_mib": rss_start,
        "rss_peak_mib": digest_peak,
        "messages": messages,
        "chart_kib": chart_bytes / 1024,
        "weeks": weeks,
    }


async def measure_in_child(url: str) -> dict[str, float]:
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.bench_digest", "--measure", url, stdout=asyncio.subprocess.PIPE
    )
    output, _ = await child.communicate()
    if child.returncode:
        raise RuntimeError("measurement failed")
    return json.loads(output.decode().strip().splitlines()[-1])  # type: ignore[no-any-return]


async def store_forecasts(url: str) -> tuple[int, float, float]:
    """The forecasts as the day's first alert scan stores them (`refresh_forecasts` of every
    item without a current row): simulated, wall and CPU seconds. Once per item and report."""
    engine = create_engine(url)
    session_maker = create_session_maker(engine)
    started, used = time.perf_counter(), time.process_time()
    try:
        async with session_maker() as session:
            simulated = await refresh_forecasts(
                session, tz=TZ, today=TODAY, changed=(), every_stale=True
            )
            await session.commit()
    finally:
        await engine.dispose()
    return simulated, time.perf_counter() - started, time.process_time() - used


async def seed_snapshots(url: str) -> int:
    """The seven earlier weeks' snapshots as the weekly job stored them on each of those days:
    `save_snapshot` of the summary of what was known then."""
    engine = create_engine(url)
    session_maker = create_session_maker(engine)
    days = chart_days(TODAY, YEAR)[:-1]
    try:
        async with session_maker() as session:
            for day in days:
                risks = await assess_items(
                    session, today=day, year=YEAR, thresholds=THRESHOLDS, tz=TZ, as_of_history=True
                )
                data = DigestData(YEAR, day, summarize(risks), {}, [])
                moment = datetime.combine(day, clock_time(9), tzinfo=TZ).astimezone(UTC)
                await save_snapshot(session, data, moment)
            await session.commit()
    finally:
        await engine.dispose()
    return len(days)


HEADER = (
    "| backend | items | snapshots | digest cold (CPU) | digest warm (CPU) "
    "| baseline: one assessment (CPU) "
    "| charts kk+ru first / warm | SQL | Python peak (baseline) | RSS after imports | peak RSS "
    "| growth |\n|---|---|---|---|---|---|---|---|---|---|---|---|"
)


def row(backend: str, size: int, snapshots: int, figures: dict[str, float]) -> str:
    return (
        f"| {backend} | {size:,} x {UPDATES_PER_ITEM} | {snapshots} "
        f"| {figures['cold'] * 1000:.0f} ({figures['cold_cpu'] * 1000:.0f}) ms "
        f"| {figures['warm'] * 1000:.0f} ({figures['warm_cpu'] * 1000:.0f}) ms "
        f"| {figures['baseline'] * 1000:.0f} ({figures['baseline_cpu'] * 1000:.0f}) ms "
        f"| {figures['chart_first'] * 1000:.0f} / {figures['chart_warm'] * 1000:.0f} ms "
        f"| {figures['statements']:.0f} "
        f"| {figures['traced_mib']:.1f} MiB ({figures['baseline_traced_mib']:.1f}) "
        f"| {figures['rss_start_mib']:.0f} MiB | {figures['rss_peak_mib']:.0f} MiB "
        f"| {figures['rss_peak_mib'] - figures['rss_start_mib']:.0f} MiB |"
    )


async def run(backend: str, server: str | None, sizes: list[int]) -> None:
    warm: dict[int, tuple[float, float]] = {}
    baseline: dict[int, tuple[float, float]] = {}
    for size in sizes:
        async with scratch_database(server) as url:
            engine = create_engine(url)
            await upgrade(engine)
            await fill(engine, size)
            await engine.dispose()
            simulated, wall, cpu = await store_forecasts(url)
            print(
                f"| ({size:,} items: the scan stored {simulated:,} forecasts in {wall:.1f} s, "
                f"{cpu:.1f} s CPU, once) |",
                flush=True,
            )
            print(row(backend, size, 0, await measure_in_child(url)), flush=True)
            seeded = await seed_snapshots(url)
            figures = await measure_in_child(url)
            print(row(backend, size, seeded, figures), flush=True)
        warm[size] = figures["warm"], figures["warm_cpu"]
        baseline[size] = figures["baseline"], figures["baseline_cpu"]
    if len(sizes) == 2:
        small, large = sizes

        def ratio(times: dict[int, tuple[float, float]]) -> str:
            wall, cpu = (times[large][n] / times[small][n] for n in (0, 1))
            return f"{wall:.1f} (CPU {cpu:.1f})"

        print(
            f"\n{backend}: time({large}) / time({small}): digest warm {ratio(warm)}; "
            f"baseline, one assessment {ratio(baseline)}\n",
            flush=True,
        )


async def main(args: argparse.Namespace) -> None:
    load = os.getloadavg()
    print(f"load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} on {os.cpu_count()} CPUs\n")
    print(HEADER, flush=True)
    await run("SQLite", None, args.sizes)
    server = os.environ.get("BENCH_DATABASE_URL")
    if server:
        await run("PostgreSQL", server, args.sizes)
    else:
        print("PostgreSQL skipped: set BENCH_DATABASE_URL=postgresql+asyncpg://user@host/db")
    load = os.getloadavg()
    print(f"load average at the end {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--measure":
        print(json.dumps(asyncio.run(measure(sys.argv[2]))))
    else:
        parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
        parser.add_argument(
            "--sizes", type=lambda s: [int(x) for x in s.split(",") if x], default=[5_000, 50_000]
        )
        asyncio.run(main(parser.parse_args()))
