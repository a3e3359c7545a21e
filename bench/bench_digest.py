"""The whole weekly digest as the chair gets it, at 5,000 and 50,000 items x 10 updates.

"Whole" means everything the chair's digest needs: `collect_digest` (the assessment and the
at-risk counts of the chart's earlier weeks), the text rendered in both languages and the
chart PNG rendered in both languages. The baseline, measured in the same process on the same
data, is what bench/bench_risk.py times: one assessment and its summary. Seeded with
bench_risk's own data (12 departments, ten fortnightly reports per item); each size runs in
a fresh child process, so memory figures belong to the digest, not to the filling.

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
from typing import Any

from bench.bench_risk import TODAY, UPDATES_PER_ITEM, fill
from bot.risk.assess import assess_items
from bot.risk.digest import collect_digest, render_chart_png, render_digest, summarize
from bot.telegram.i18n import build_i18n, compile_catalogs, in_locale
from db.engine import create_engine, create_session_maker
from db.migrate import upgrade

YEAR = TODAY.year


async def whole_digest(session_maker: Any, i18n: Any) -> tuple[int, int]:
    """What the weekly job computes and renders for the chair: messages and chart bytes."""
    async with session_maker() as session:
        data = await collect_digest(session, today=TODAY, year=YEAR)
    messages = 0
    chart_bytes = 0
    for locale in ("kk", "ru"):
        with in_locale(i18n, locale):
            messages += len(render_digest(data.summary, data.departments, year=YEAR, today=TODAY))
            chart_bytes += len(render_chart_png(data))
    return messages, chart_bytes


async def one_assessment(session_maker: Any) -> int:
    async with session_maker() as session:
        return summarize(await assess_items(session, today=TODAY, year=YEAR)).at_risk


async def measure(url: str) -> dict[str, float]:
    compile_catalogs()
    i18n = build_i18n("kk")
    engine = create_engine(url)
    session_maker = create_session_maker(engine)
    try:
        await one_assessment(session_maker)  # warm connection, caches, matplotlib import
        await whole_digest(session_maker, i18n)
        started = time.perf_counter()
        await one_assessment(session_maker)
        baseline = time.perf_counter() - started
        started = time.perf_counter()
        messages, chart_bytes = await whole_digest(session_maker, i18n)
        whole = time.perf_counter() - started
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        tracemalloc.start()
        await whole_digest(session_maker, i18n)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    finally:
        await engine.dispose()
    return {
        "baseline": baseline,
        "whole": whole,
        "traced_mib": peak / 2**20,
        "rss_mib": rss,
        "messages": messages,
        "chart_kib": chart_bytes / 1024,
    }


async def run(backend: str, sizes: list[int]) -> None:
    from bench.bench_delivery import scratch_database  # SQLite temp file or PostgreSQL scratch

    times: dict[int, float] = {}
    for size in sizes:
        async with scratch_database() as url:
            engine = create_engine(url)
            await upgrade(engine)
            await fill(engine, size)
            await engine.dispose()
            child = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bench.bench_digest",
                "--measure",
                url,
                stdout=asyncio.subprocess.PIPE,
            )
            output, _ = await child.communicate()
            figures = json.loads(output.decode().strip().splitlines()[-1])
        times[size] = figures["whole"]
        print(
            f"{backend:<10} {size:>6,} items x {UPDATES_PER_ITEM}: whole digest "
            f"{figures['whole'] * 1000:7.0f} ms (baseline, one assessment: "
            f"{figures['baseline'] * 1000:6.0f} ms)  Python peak {figures['traced_mib']:5.0f} MiB"
            f"  process peak RSS {figures['rss_mib']:5.0f} MiB  "
            f"{figures['messages']:.0f} messages, chart {figures['chart_kib']:.0f} KiB (kk+ru)",
            flush=True,
        )
    if len(sizes) == 2:
        ratio = times[sizes[1]] / times[sizes[0]]
        print(f"{backend:<10} time({sizes[1]}) / time({sizes[0]}) = {ratio:.1f}")


async def main(args: argparse.Namespace) -> None:
    await run("SQLite", args.sizes)
    if os.environ.get("BENCH_DATABASE_URL"):
        await run("PostgreSQL", args.sizes)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--measure":
        print(json.dumps(asyncio.run(measure(sys.argv[2]))))
    else:
        parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
        parser.add_argument(
            "--sizes", type=lambda s: [int(x) for x in s.split(",") if x], default=[5_000, 50_000]
        )
        asyncio.run(main(parser.parse_args()))
