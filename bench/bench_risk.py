"""Digest and risk computation at 5,000 and 50,000 items with ten updates each.

Prints time and peak memory per size and backend, and the growth ratio. Not a test:
`python -m bench.bench_risk`. SQLite always; PostgreSQL when BENCH_DATABASE_URL is set
(a server URL: a scratch database is created and dropped).
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import sys
import tempfile
import time
import tracemalloc
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import insert, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.risk.assess import assess_items
from bot.risk.digest import summarize
from bot.risk.rules import RiskThresholds
from db.engine import create_engine, create_session_maker
from db.migrate import upgrade
from db.models import Department, Person, RoadmapItem, StatusUpdate

SIZES = (5_000, 50_000)
UPDATES_PER_ITEM = 10
DEPARTMENTS = 12
TODAY = date(2025, 9, 15)
TZ = ZoneInfo("Asia/Almaty")
THRESHOLDS = RiskThresholds()
STATUSES = ("on_track", "on_track", "on_track", "at_risk", "blocked", "done")


def _updates(n: int, deadline: date, now: datetime) -> list[dict[str, object]]:
    """Ten fortnightly reports ending in the last ten days, progress along the plan line;
    one item in ten declares a risk, one in twenty-five lags far behind the plan."""
    start = date(2025, 1, 1)
    rows = []
    for k in range(UPDATES_PER_ITEM):
        day = TODAY - timedelta(days=14 * (UPDATES_PER_ITEM - 1 - k) + n % 10)
        span = max((deadline - start).days, 1)
        planned = min(100, max(0, round(100 * (day - start).days / span)))
        status = "done" if planned >= 100 else "on_track"
        progress = planned if n % 25 else planned // 4
        if k == UPDATES_PER_ITEM - 1 and n % 10 == 0 and status != "done":
            status = "at_risk" if n % 20 else "blocked"
        rows.append(
            {
                "item_id": n,
                "author_id": 1,
                "status": status,
                "progress": 100 if status == "done" else min(progress, 99),
                "comment": "Жұмыс жүріп жатыр / Работы идут",
                "cause": "financing" if status in ("at_risk", "blocked") else None,
                "created_at": datetime.combine(day, datetime.min.time(), tzinfo=UTC)
                + timedelta(hours=5, minutes=n % 600),
            }
        )
    return rows


async def fill(engine: AsyncEngine, items: int) -> None:
    """Bulk rows through Core inserts: the point is to measure reading, not writing."""
    now = datetime(2025, 1, 1, tzinfo=UTC)
    async with engine.begin() as connection:
        await connection.execute(
            insert(Department),
            [
                {
                    "code": f"d{n}",
                    "name_kk": f"Басқарма {n}",
                    "name_ru": f"Управление {n}",
                    "created_at": now,
                }
                for n in range(1, DEPARTMENTS + 1)
            ],
        )
        await connection.execute(
            insert(Person),
            [
                {
                    "telegram_id": 1,
                    "display_name": "Bench",
                    "role": "member",
                    "department_id": 1,
                    "active": True,
                    "blocked_bot": False,
                    "created_at": now,
                    "updated_at": now,
                }
            ],
        )
        items_batch: list[dict[str, object]] = []
        updates_batch: list[dict[str, object]] = []
        for n in range(1, items + 1):
            deadline = date(2025, 3, 1) + timedelta(days=(n * 7) % 300)
            items_batch.append(
                {
                    "id": n,
                    "code": f"{n // 1000}.{n % 1000}.{n}",
                    "title_kk": f"Тармақ {n}",
                    "title_ru": f"Пункт {n}",
                    "department_id": n % DEPARTMENTS + 1,
                    "deadline": deadline,
                    "year": 2025,
                    "target": "",
                    "archived": False,
                    "created_at": now,
                }
            )
            updates_batch.extend(_updates(n, deadline, now))
            if len(items_batch) == 2_000:
                await connection.execute(insert(RoadmapItem), items_batch)
                await connection.execute(insert(StatusUpdate), updates_batch)
                items_batch, updates_batch = [], []
        if items_batch:
            await connection.execute(insert(RoadmapItem), items_batch)
            await connection.execute(insert(StatusUpdate), updates_batch)
    async with engine.connect() as connection:
        await connection.execute(text("ANALYZE"))
        await connection.commit()


async def measure(url: str) -> dict[str, float]:
    """Best-of-three seconds, then peak memory in a separate traced run (tracing slows Python).

    Runs in a fresh process (see `main`), so the peak RSS belongs to reading, not to filling.
    """
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    engine = create_engine(url)
    session_maker = create_session_maker(engine)
    try:
        async with session_maker() as session:  # warm the connection and the caches
            await assess_items(session, today=TODAY, year=2025, thresholds=THRESHOLDS, tz=TZ)
        best = float("inf")
        at_risk = 0
        for _attempt in range(3):
            started = time.perf_counter()
            async with session_maker() as session:
                summary = summarize(
                    await assess_items(
                        session, today=TODAY, year=2025, thresholds=THRESHOLDS, tz=TZ
                    )
                )
            best = min(best, time.perf_counter() - started)
            at_risk = summary.at_risk
        tracemalloc.start()
        async with session_maker() as session:
            summarize(
                await assess_items(session, today=TODAY, year=2025, thresholds=THRESHOLDS, tz=TZ)
            )
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    finally:
        await engine.dispose()
    return {
        "seconds": best,
        "traced_mib": peak / 2**20,
        "rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "rss_at_start_mib": rss_before,
        "at_risk": at_risk,
    }


async def measure_in_child(url: str) -> dict[str, float]:
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.bench_risk", "--measure", url, stdout=asyncio.subprocess.PIPE
    )
    output, _ = await child.communicate()
    if child.returncode:
        raise RuntimeError("measurement failed")
    return json.loads(output.decode().strip().splitlines()[-1])  # type: ignore[no-any-return]


async def run_backend(name: str, make_url_for: object) -> None:
    times: dict[int, float] = {}
    for size in SIZES:
        url, cleanup = await make_url_for()  # type: ignore[operator]
        engine = create_engine(url)
        try:
            await upgrade(engine)
            started = time.perf_counter()
            await fill(engine, size)
            filled = time.perf_counter() - started
            figures = await measure_in_child(url)
            times[size] = figures["seconds"]
            print(
                f"{name:10} {size:>6} items x {UPDATES_PER_ITEM} updates: "
                f"{figures['seconds'] * 1000:7.1f} ms, "
                f"Python heap peak {figures['traced_mib']:5.1f} MiB, "
                f"process peak RSS {figures['rss_mib']:5.0f} MiB "
                f"(after imports {figures['rss_at_start_mib']:.0f}), "
                f"{figures['at_risk']} at risk [filled in {filled:.1f} s]",
                flush=True,
            )
        finally:
            await engine.dispose()
            await cleanup()
    ratio = times[SIZES[1]] / times[SIZES[0]]
    print(f"{name:10} time({SIZES[1]}) / time({SIZES[0]}) = {ratio:.1f}")


async def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="bench_risk_"))

    async def sqlite_url() -> tuple[str, object]:
        path = folder / f"{uuid.uuid4().hex}.db"

        async def cleanup() -> None:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)  # noqa: ASYNC240 - a benchmark

        return f"sqlite+aiosqlite:///{path}", cleanup

    await run_backend("sqlite", sqlite_url)
    server = os.environ.get("BENCH_DATABASE_URL")
    if not server:
        print("postgresql skipped: set BENCH_DATABASE_URL=postgresql+asyncpg://user@host/db")
        return
    base = make_url(server)

    async def postgres_url() -> tuple[str, object]:
        name = f"bench_{uuid.uuid4().hex[:10]}"
        admin = create_engine(
            base.render_as_string(hide_password=False), isolation_level="AUTOCOMMIT"
        )
        async with admin.connect() as connection:
            await connection.execute(text(f'CREATE DATABASE "{name}"'))

        async def cleanup() -> None:
            async with admin.connect() as connection:
                await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            await admin.dispose()

        return base.set(database=name).render_as_string(hide_password=False), cleanup

    await run_backend("postgresql", postgres_url)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--measure":
        print(json.dumps(asyncio.run(measure(sys.argv[2]))))
    else:
        asyncio.run(main())
