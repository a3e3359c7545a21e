"""`/export` at 93, 5,000 and 50,000 items with ten reports each: seconds, memory, loop stalls.

Each size is filled once (Core inserts, bench_risk's roadmap) and its forecasts stored as
the day's first alert scan stores them (`refresh_forecasts`, "store s": CPU, once per item and
report, not per export), then measured in a fresh process: the export as the handler builds
it (`build_export_apart`: its own loop and engine in a worker thread, Russian), its CPU time
(all threads), its peak RSS and its growth over the process after imports, and the worst
stall of the bot's event loop meanwhile (tests/helpers/watchdog.py). Baselines in the same
process: the rows alone (the two big statements read with `.all()`, no writing: what any
export must at least do) and openpyxl's write-only mode writing those rows (the writer the
project would use otherwise; skipped above 5,000 items, where it takes minutes), and the idle
loop's worst stall over two seconds (the machine's own noise, to read the export's stall
against). "forecast s": the CPU time of the forecast columns' data as the export reads it
(`every_forecast`: stored rows), "fresh s": the same forecasts computed afresh
(`forecasts_for`, what the export did before they were stored).

Run by hand: `.venv/bin/python -m bench.bench_export [--sizes 93 5000 50000]`
(BENCH_DATABASE_URL: PostgreSQL as well).
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy.ext.asyncio import AsyncEngine

from bench.bench_risk import THRESHOLDS, TODAY, TZ, UPDATES_PER_ITEM, fill
from bench.scratch import scratch_database
from db.engine import create_engine, create_session_maker
from db.migrate import upgrade

OPENPYXL_UP_TO = 5_000


def naive(value: object) -> object:
    return value.replace(tzinfo=None) if isinstance(value, datetime) else value


def _peak_rss_mib() -> float:
    """This process's own peak (VmHWM). Not `ru_maxrss`: a child started by vfork and exec
    inherits the parent's high-water mark, and the parent has just filled the database
    (about 315 MiB at 50,000 items, which every earlier figure here was)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM")


def _rss_mib() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


async def measure(url: str, items: int) -> dict[str, float]:
    from bot.spreadsheets import export
    from bot.telegram.i18n import build_i18n, in_locale
    from tests.helpers.watchdog import LoopWatchdog

    engine = create_engine(url)
    session_maker = create_session_maker(engine)
    from bot.app.factory import freeze_startup_heap
    from bot.risk.forecast_cache import every_forecast
    from bot.risk.forecast_data import forecasts_for

    i18n = build_i18n("ru")
    freeze_startup_heap()  # as the running bot does once it is built
    after_imports = _rss_mib()
    figures: dict[str, float] = {"rss_after_imports": after_imports}
    try:
        async with LoopWatchdog() as watchdog:  # the machine's own noise, nothing running
            await asyncio.sleep(2)
        figures["idle_stall_ms"] = watchdog.worst * 1000
        async with LoopWatchdog() as watchdog:
            started, cpu = time.perf_counter(), time.process_time()
            with in_locale(i18n, "ru"):
                data = await export.build_export_apart(
                    engine, today=TODAY, tz=TZ, thresholds=THRESHOLDS
                )
            figures["export_s"] = time.perf_counter() - started
            figures["export_cpu_s"] = time.process_time() - cpu
        figures["export_stall_ms"] = watchdog.worst * 1000
        figures["peak_rss"] = _peak_rss_mib()
        figures["bytes"] = len(data)
        async with LoopWatchdog() as watchdog:
            started = time.perf_counter()
            async with engine.connect() as connection:
                item_rows = (await connection.execute(export._items_statement())).all()
                history_rows = (await connection.execute(export._history_statement(0))).all()
            figures["rows_s"] = time.perf_counter() - started
        figures["rows_stall_ms"] = watchdog.worst * 1000
        started = time.process_time()  # the forecast columns' share of the export, alone
        async with session_maker() as session:
            stored = await every_forecast(session, year=None, tz=TZ)
        figures["forecast_cpu_s"] = time.process_time() - started
        started = time.process_time()
        async with session_maker() as session:
            fresh = await forecasts_for(session, year=None, tz=TZ)
        figures["fresh_cpu_s"] = time.process_time() - started
        if stored != fresh:
            raise RuntimeError("the stored forecasts differ from fresh ones")
        figures["rows"] = len(item_rows) + len(history_rows)
        if items <= OPENPYXL_UP_TO:
            from openpyxl import Workbook

            started = time.perf_counter()
            workbook = Workbook(write_only=True)
            for rows in (item_rows, history_rows):
                sheet = workbook.create_sheet()
                for row in rows:
                    sheet.append([naive(value) for value in row])
            workbook.save(io.BytesIO())
            figures["openpyxl_s"] = time.perf_counter() - started
    finally:
        await engine.dispose()
    return figures


async def store_forecasts(engine: AsyncEngine) -> float:
    """The forecasts as the day's first alert scan stores them; its CPU seconds."""
    from bot.risk.forecast_cache import refresh_forecasts

    started = time.process_time()
    async with create_session_maker(engine)() as session:
        await refresh_forecasts(session, tz=TZ, today=TODAY, changed=(), every_stale=True)
        await session.commit()
    return time.process_time() - started


async def measure_in_child(url: str, items: int) -> dict[str, Any]:
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.bench_export",
        "--measure",
        url,
        str(items),
        stdout=asyncio.subprocess.PIPE,
    )
    output, _ = await child.communicate()
    if child.returncode:
        raise RuntimeError("measurement failed")
    return json.loads(output.decode().strip().splitlines()[-1])  # type: ignore[no-any-return,unused-ignore]


async def run(backend: str, server: str | None, sizes: list[int]) -> None:
    for items in sizes:
        async with scratch_database(server) as url:
            engine = create_engine(url)
            await upgrade(engine)
            await fill(engine, items)
            store_cpu = await store_forecasts(engine)
            await engine.dispose()
            f = await measure_in_child(url, items)
        openpyxl = f"{f['openpyxl_s']:8.2f}" if "openpyxl_s" in f else f"{'–':>8}"
        print(
            f"{backend:<10} {items:>6} {items * UPDATES_PER_ITEM:>7} "
            f"{f['export_s']:8.2f} {f['export_cpu_s']:7.2f} {f['export_stall_ms']:8.1f} "
            f"{f['peak_rss']:7.0f} {f['peak_rss'] - f['rss_after_imports']:7.0f} "
            f"{f['bytes'] / 2**20:6.1f} | {f['idle_stall_ms']:8.1f} {f['rows_s']:7.2f} "
            f"{f['rows_stall_ms']:8.1f} {openpyxl} {f['forecast_cpu_s']:10.2f} "
            f"{f['fresh_cpu_s']:7.2f} {store_cpu:7.2f}",
            flush=True,
        )


async def main(args: argparse.Namespace) -> None:
    from bot.telegram.i18n import compile_catalogs

    compile_catalogs()
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(
        f"{'backend':<10} {'items':>6} {'reports':>7} {'export s':>8} {'CPU s':>7} "
        f"{'stall ms':>8} {'RSS MiB':>7} {'growth':>7} {'MiB':>6} | {'idle ms':>8} "
        f"{'rows s':>7} {'stall ms':>8} {'openpyxl':>8} {'forecast s':>10} {'fresh s':>7} "
        f"{'store s':>7}"
    )
    await run("SQLite", None, args.sizes)
    server = os.environ.get("BENCH_DATABASE_URL")
    if server:
        await run("PostgreSQL", server, args.sizes)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--measure":
        print(json.dumps(asyncio.run(measure(sys.argv[2], int(sys.argv[3])))))
    else:
        parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
        parser.add_argument("--sizes", type=int, nargs="+", default=[93, 5_000, 50_000])
        asyncio.run(main(parser.parse_args()))
