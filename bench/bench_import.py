"""How long the import takes to read a workbook, and to apply 5,000 rows beside a working head.

Reading: the parser against openpyxl's own read in the same run.

The parser loads workbooks in openpyxl's full mode (merged cells, notes and number formats
need it) and reads formulas a second time only when a sheet has any. The baseline is what the
parser did before: a read-only load that only iterates the values of the first sheet.

Applying (`--apply`): a plan of 5,000 new items applied to a migrated SQLite file (or a
PostgreSQL scratch database with BENCH_DATABASE_URL) while a department head saves a report
every 20 ms in another session: the apply's seconds (with the notices the import queues in its
own transaction: here one department head told of the 5,000 new items), the longest time it
held the write lock (from its first INSERT/UPDATE/DELETE to its COMMIT), the heads' Save
latencies and errors, and the loop's worst stall. The baseline, same run and database: the
same 5,000 items written by one bare executemany INSERT in one transaction (the least any
import can do). The code before this round took 8.6-9.7 s holding the lock throughout, and
the head's Save failed.

Run by hand: `.venv/bin/python bench/bench_import.py [--rows 10000] [--repeat 3] [--apply]`.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # `tests` is not installed

import sqlalchemy as sa
from openpyxl import load_workbook
from sqlalchemy import event

from bot.spreadsheets.parse import parse_spreadsheet
from tests.helpers.office_workbooks import KK_LAYOUT, office_workbook, simple_workbook


def _baseline(data: bytes) -> int:
    workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        return sum(1 for sheet in workbook.worksheets for _row in sheet.iter_rows(values_only=True))
    finally:
        workbook.close()


def _timed(action: Callable[[], object], repeat: int) -> float:
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        runs.append(time.perf_counter() - started)
    return statistics.median(runs)


class LockClock:
    """Times each write transaction of one engine: from its first write statement to its end."""

    WRITES = ("INSERT", "UPDATE", "DELETE")

    def __init__(self, engine: Any) -> None:
        self.holds: list[float] = []
        self._since: dict[int, float] = {}
        event.listen(engine.sync_engine, "before_cursor_execute", self._statement)
        for name in ("commit", "rollback"):
            event.listen(engine.sync_engine, name, self._end)

    def _statement(self, connection: Any, _cursor: Any, sql: str, *_: Any) -> None:
        words = sql.split(None, 3)
        kind = " ".join(words[:3]).upper()
        if kind.startswith("COMMIT"):  # a COMMIT sent as SQL (the apply's staging ends so)
            self._end(connection)
        elif kind.startswith("BEGIN IMMEDIATE"):  # the write lock, taken at once
            self._since.setdefault(id(connection), time.perf_counter())
        elif kind.startswith(self.WRITES) and " IMPORT_" not in f" {kind} ":
            # the apply's staging tables are temporary: they take no lock on the database
            self._since.setdefault(id(connection), time.perf_counter())

    def _end(self, connection: Any) -> None:
        started = self._since.pop(id(connection), None)
        if started is not None:
            self.holds.append(time.perf_counter() - started)


async def apply_bench(rows: int) -> None:
    from bench.scratch import scratch_database
    from bot.app.factory import freeze_startup_heap
    from bot.core.clock import FrozenClock
    from bot.reporting.service import Draft, save_update
    from bot.spreadsheets.apply import apply_import
    from bot.spreadsheets.plan import plan_import
    from bot.telegram.i18n import build_i18n
    from bot.usecases.imports import import_notices
    from bot.usecases.ports import NoSignals, UseCaseContext
    from db.engine import create_engine, create_session_maker
    from db.migrate import upgrade
    from db.models import Department, Person, RoadmapItem, Role
    from tests.helpers.watchdog import LoopWatchdog

    now = datetime(2025, 3, 3, 9, tzinfo=UTC)
    data = simple_workbook(
        ["Код", "Атауы (қаз)", "Наименование (рус)", "Басқарма", "Мерзімі"],
        [
            [f"{n // 100 + 1}.{n % 100 + 1}", f"Атауы {n}", f"Название {n}", "edu", "28.12.2025"]
            for n in range(rows)
        ],
    )
    parsed = parse_spreadsheet(data, "bench.xlsx")
    figures: dict[str, Any] = {}
    async with scratch_database(os.environ.get("BENCH_DATABASE_URL")) as url:
        engine = create_engine(url)
        await upgrade(engine)
        session_maker = create_session_maker(engine)
        async with session_maker() as session:
            edu = Department(code="edu", name_kk="Білім", name_ru="Образование", created_at=now)
            other = Department(code="oth", name_kk="Басқа", name_ru="Другое", created_at=now)
            session.add_all([edu, other])
            await session.flush()
            # Told of the 5,000 new items: their notices are queued inside the import's
            # transaction (bot.usecases.imports.import_notices), so inside its write lock.
            receiver = Person(
                telegram_id=2,
                display_name="Edu head",
                role=Role.MEMBER,
                department_id=edu.id,
                active=True,
                locale="kk",
                created_at=now,
                updated_at=now,
            )
            head = Person(
                telegram_id=1,
                display_name="Head",
                role=Role.MEMBER,
                department_id=other.id,
                active=True,
                created_at=now,
                updated_at=now,
            )
            item = RoadmapItem(
                code="0.0.1",
                title_kk="т",
                title_ru="п",
                department_id=other.id,  # type: ignore[arg-type]
                deadline=date(2025, 12, 1),
                year=2025,
                created_at=now,
            )
            session.add_all([head, receiver, item])
            await session.commit()
        async with session_maker() as session:
            plan = await plan_import(session, parsed)
        freeze_startup_heap()
        clock = LockClock(engine)
        saves: list[float] = []
        errors: list[str] = []
        done = asyncio.Event()

        async def head_saves() -> None:
            while not done.is_set():
                started = time.perf_counter()
                try:
                    async with session_maker() as session:
                        person = await session.get(Person, head.id)
                        assert person is not None and item.id is not None
                        draft = Draft(item_id=item.id, status="on_track", progress=50)
                        await save_update(session, person=person, draft=draft, now=now)
                except Exception as error:
                    errors.append(type(error).__name__)
                saves.append(time.perf_counter() - started)
                await asyncio.sleep(0.02)

        async with LoopWatchdog() as watchdog:
            heads = asyncio.create_task(head_saves())
            await asyncio.sleep(0.1)
            clock.holds.clear()
            started = time.perf_counter()
            notices = import_notices(
                UseCaseContext(
                    session_maker=session_maker,
                    clock=FrozenClock(now),
                    tz=ZoneInfo("Asia/Almaty"),
                    i18n=build_i18n("ru"),
                    signals=NoSignals(),
                ),
                plan,
                None,
                now,
            )
            async with session_maker() as session:
                result = await apply_import(
                    session, plan, actor=None, now=now, source="b.xlsx", notices=notices
                )
            figures["apply_s"] = time.perf_counter() - started
            figures["import_hold_ms"] = max(clock.holds) * 1000  # the heads' own are tiny
            await asyncio.sleep(0.1)
            done.set()
            await heads
        figures["stall_ms"] = watchdog.worst * 1000
        assert result.created == rows and result.told >= 1, result
        async with engine.begin() as connection:  # the baseline: the same rows, one INSERT
            await connection.execute(sa.delete(RoadmapItem).where(RoadmapItem.code != "0.0.1"))
        rows_only = [
            {
                "code": f"b{n}",
                "title_kk": p.row.title_kk,
                "title_ru": p.row.title_ru,
                "department_id": p.department_id,
                "deadline": p.row.deadline,
                "year": 2025,
                "target": "",
                "deadline_text": "",
                "archived": False,
                "created_at": now,
            }
            for n, p in enumerate(plan.new)
        ]
        started = time.perf_counter()
        async with engine.begin() as connection:
            await connection.execute(sa.insert(RoadmapItem), rows_only)
        figures["baseline_s"] = time.perf_counter() - started
        await engine.dispose()
    backend = "PostgreSQL" if os.environ.get("BENCH_DATABASE_URL") else "SQLite"
    print(f"{backend}: apply of {rows} new items; load average {os.getloadavg()[0]:.1f}")
    print(
        f"apply {figures['apply_s']:.2f} s (baseline, one bare INSERT of the items: "
        f"{figures['baseline_s']:.2f} s); write lock held at most "
        f"{figures['import_hold_ms']:.0f} ms at a time; loop's worst stall "
        f"{figures['stall_ms']:.0f} ms"
    )
    print(
        f"a head saving meanwhile: {len(saves)} Saves, "
        f"p50 {statistics.median(saves) * 1000:.0f} ms, max {max(saves) * 1000:.0f} ms, "
        f"{len(errors)} errors {sorted(set(errors))}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--apply", action="store_true", help="apply 5,000 rows beside a head")
    args = parser.parse_args()
    if args.apply:
        asyncio.run(apply_bench(5_000))
        return
    office = office_workbook(KK_LAYOUT).data
    rows = [
        [f"{n // 100 + 1}.{n % 100 + 1}", f"Атауы {n}", f"Название {n}", "edu", "IV тоқсан 2025"]
        for n in range(args.rows)
    ]
    large = simple_workbook(
        ["Код", "Атауы (қаз)", "Наименование (рус)", "Басқарма", "Мерзімі"], rows
    )
    print(f"{'workbook':<28}{'size':>10}{'baseline s':>12}{'import s':>10}{'ratio':>8}")
    for name, data in (("office, 93 items", office), (f"plain, {args.rows} rows", large)):
        baseline = _timed(lambda data=data: _baseline(data), args.repeat)
        parsed = _timed(lambda data=data: parse_spreadsheet(data, "bench.xlsx"), args.repeat)
        print(f"{name:<28}{len(data):>10}{baseline:>12.3f}{parsed:>10.3f}{parsed / baseline:>8.2f}")


if __name__ == "__main__":
    main()
