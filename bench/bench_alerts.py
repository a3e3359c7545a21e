"""The chair-alert scan at 50,000 items x 10 updates: incremental after a change, full as the
baseline, in the same run on the same data.

Seeded with bench_risk's `fill` (12 departments, ten fortnightly reports per item), plus one
active chair; the states are set by one full scan first. Then, five times over, through the
bot's own services (so the marks are the ones production writes):

- a round for one department (a request mark: its ~4,200 items), then the incremental scan;
- the round's first Save (the item, and the department: its request is now answered);
- a risk-declaring Save on a department whose request is already answered (the item only);
- another such Save, then the FULL scan (the baseline: what every scan cost before);
- a round for a department that missed the previous one as well: the requests now count
  toward staleness, so every item of that department (~4,200) is re-assessed (the worst
  single-department case; the first time its items become stale, one grouped alert).

Each Save declares an on-track item blocked, so each scan has one transition and enqueues
one alert. Printed: median and best time, SQL statements (SQLAlchemy's before_cursor_execute
event) and items assessed per scan. Run by hand:
`.venv/bin/python -m bench.bench_alerts [--items 50000]`; SQLite always, PostgreSQL as well
when BENCH_DATABASE_URL is a server URL (a scratch database is created and dropped).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import event
from sqlmodel import col, select

import bot.risk.alerts as alerts
from bench.bench_risk import THRESHOLDS, TODAY, TZ, UPDATES_PER_ITEM, fill
from bench.scratch import scratch_database, server_for
from bot.reporting.service import Draft, save_update, start_round
from bot.risk.alerts import enqueue_chair_alerts
from bot.telegram.i18n import build_i18n, compile_catalogs
from db.engine import SessionMaker, create_engine, create_session_maker
from db.migrate import upgrade
from db.models import Department, ItemRiskState, Person, RoadmapItem, Role

REPEATS = 5
MORNING = datetime(TODAY.year, TODAY.month, TODAY.day, 10, tzinfo=TZ)


class Meter:
    """Statements run on the engine, and items the scan assessed, while `measuring`."""

    def __init__(self, engine: Any) -> None:
        self.statements = 0
        self.assessed = 0
        self.active = False
        event.listen(engine.sync_engine, "before_cursor_execute", self._count)
        real = alerts.assess_items

        async def counted(*args: Any, **kwargs: Any) -> Any:
            risks = await real(*args, **kwargs)
            self.assessed += len(risks)
            return risks

        alerts.assess_items = counted  # type: ignore[assignment]

    def _count(self, *_args: Any) -> None:
        if self.active:
            self.statements += 1


class Bench:
    def __init__(self, session_maker: SessionMaker, meter: Meter, i18n: Any) -> None:
        self.session_maker = session_maker
        self.meter = meter
        self.i18n = i18n
        self.now = MORNING
        self.figures: dict[str, list[tuple[float, int, int, int]]] = {}

    def tick(self) -> datetime:
        self.now += timedelta(minutes=1)
        return self.now

    async def scan(self, label: str | None, *, only_changed: bool) -> None:
        meter = self.meter
        meter.statements = meter.assessed = 0
        async with self.session_maker() as session:
            meter.active = True
            started = time.perf_counter()
            added = await enqueue_chair_alerts(
                session,
                i18n=self.i18n,
                today=TODAY,
                now=self.tick(),
                not_before=self.now,
                thresholds=THRESHOLDS,
                tz=TZ,
                hourly_cap=1_000,
                only_changed=only_changed,
            )
            elapsed = time.perf_counter() - started
            meter.active = False
        if label is not None:
            self.figures.setdefault(label, []).append(
                (elapsed, meter.statements, meter.assessed, added)
            )

    async def round_for(self, department_id: int) -> None:
        async with self.session_maker() as session:
            department = await session.get(Department, department_id)
            await start_round(
                session, actor=None, department=department, now=self.tick(), today=TODAY
            )
            await session.commit()

    async def declare_blocked(self, member_id: int, item_id: int) -> None:
        async with self.session_maker() as session:
            member = await session.get(Person, member_id)
            assert member is not None
            draft = Draft(
                item_id=item_id,
                status="blocked",
                progress=40,
                cause="contractor",
                comment="Мердігер кетті / Подрядчик ушёл",
            )
            await save_update(session, person=member, draft=draft, now=self.tick())


async def healthy_items(session_maker: SessionMaker, department_id: int, count: int) -> list[int]:
    """Items of the department not at risk after the first scan: a Save can make them so."""
    async with session_maker() as session:
        at_risk = select(ItemRiskState.item_id).where(ItemRiskState.state != "none")
        statement = (
            select(RoadmapItem.id)
            .where(
                RoadmapItem.department_id == department_id,
                col(RoadmapItem.id).not_in(at_risk),
                RoadmapItem.deadline > TODAY,
            )
            .order_by(col(RoadmapItem.id))
            .limit(count)
        )
        return [item_id for item_id in (await session.exec(statement)).all() if item_id]


async def run(backend: str, items: int, i18n: Any) -> dict[str, list[tuple[float, int, int, int]]]:
    async with scratch_database(server_for(backend)) as url:
        engine = create_engine(url)
        try:
            await upgrade(engine)
            started = time.perf_counter()
            await fill(engine, items)
            filled = time.perf_counter() - started
            session_maker = create_session_maker(engine)
            async with session_maker() as session:
                member = (await session.exec(select(Person))).one()  # fill's member, department 1
                for telegram_id, role, department in (
                    (5001, Role.CHAIR, None),
                    (2, Role.MEMBER, 2),
                ):
                    session.add(
                        Person(
                            telegram_id=telegram_id,
                            display_name=f"Person {telegram_id}",
                            role=role,
                            department_id=department,
                            locale="ru",
                            created_at=MORNING,
                            updated_at=MORNING,
                        )
                    )
                await session.commit()
                member_id, department_id = member.id, member.department_id
            assert member_id is not None and department_id is not None
            bench = Bench(session_maker, Meter(engine), i18n)
            await bench.scan("first full scan (states written)", only_changed=False)
            targets = await healthy_items(session_maker, department_id, 3 * REPEATS)
            silent = 2  # a department whose member never answers
            await bench.round_for(silent)
            await bench.scan(None, only_changed=True)
            for repeat in range(REPEATS):
                first, second, third = targets[3 * repeat : 3 * repeat + 3]
                await bench.round_for(department_id)
                await bench.scan("incremental: a round for one department", only_changed=True)
                await bench.declare_blocked(member_id, first)
                await bench.scan("incremental: the round's first Save", only_changed=True)
                await bench.declare_blocked(member_id, second)
                await bench.scan("incremental: one risk-declaring Save", only_changed=True)
                await bench.declare_blocked(member_id, third)
                await bench.scan("full scan after one Save (baseline)", only_changed=False)
                await bench.round_for(silent)
                await bench.scan("incremental: a round, the last one missed too", only_changed=True)
            print(f"[{backend}: filled {items:,} items in {filled:.0f} s]", file=sys.stderr)
            return bench.figures
        finally:
            await engine.dispose()


def report(backend: str, items: int, figures: dict[str, list[tuple[float, int, int, int]]]) -> None:
    baseline = statistics.median(t for t, *_ in figures["full scan after one Save (baseline)"])
    print(f"\n{backend}, {items:,} items x {UPDATES_PER_ITEM} updates, {REPEATS} runs each")
    print(
        f"{'scan':<46} {'median':>9} {'best':>9} {'vs full':>8} {'SQL':>5} {'assessed':>9} "
        f"{'alerts':>6}"
    )
    for label, runs in figures.items():
        times = [t for t, *_ in runs]
        median = statistics.median(times)
        _t, statements, assessed, added = runs[-1]
        print(
            f"{label:<46} {median * 1000:7.1f}ms {min(times) * 1000:7.1f}ms "
            f"{median / baseline:8.3f} {statements:>5} {assessed:>9,} {added:>6}"
        )


async def main(args: argparse.Namespace) -> None:
    compile_catalogs()
    i18n = build_i18n("kk")
    backends = ["sqlite"] + (["postgresql"] if os.environ.get("BENCH_DATABASE_URL") else [])
    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    for backend in backends:
        figures = await run(backend, args.items, i18n)
        report(backend, args.items, figures)
    print(f"\nload average after: {os.getloadavg()[0]:.1f}")
    if len(backends) == 1:
        print("postgresql skipped: set BENCH_DATABASE_URL=postgresql+asyncpg://user@host/db")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--items", type=int, default=50_000)
    asyncio.run(main(parser.parse_args()))
