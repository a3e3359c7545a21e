"""One dialog step through the full dispatcher, beside bare aiogram in the same process.

The project: the production `create_dispatcher` (every middleware, the database FSM storage,
the real reporting routers) on a migrated SQLite file, with a seeded department, an item and a
member; the member walks the status dialog again and again: open the item, pick a status, pick
a progress, ask to add a comment, type it, ask to attach a file, skip it, save; then open, pick
a status and a progress and cancel. The baseline: a bare aiogram Dispatcher (memory storage)
with one handler that answers the button, fed the same kind of callback updates, before and
after the project (the machine is shared). Both use a recording bot (no network), so the
figures are the bot's own work. SQL statements and commits are counted with SQLAlchemy
events, per update; `--log` prints every statement of the first cycle.

Run by hand: `.venv/bin/python bench/bench_dialog.py [--steps 480] [--log] [--calls]`
(BENCH_DATABASE_URL: a PostgreSQL server URL, runs in a scratch database instead).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from aiogram import Dispatcher, F
from aiogram.types import CallbackQuery, Update
from sqlalchemy import event, insert
from sqlmodel import col, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.scratch import scratch_database
from bot.app.config import Settings
from bot.app.factory import create_dispatcher, freeze_startup_heap
from bot.core.clock import FrozenClock
from bot.core.ratelimit import RateLimiter
from bot.delivery.worker import DeliveryWorker
from bot.scheduling.jobs import Jobs
from bot.telegram.callbacks import DialogAction, OpenItem, PickProgress, PickStatus
from bot.telegram.i18n import build_i18n, compile_catalogs
from db.engine import create_engine, create_session_maker
from db.migrate import upgrade
from db.models import Person, RoadmapItem, StatusUpdate
from tests.helpers.chat import ADMIN_ID, START_MOMENT, TEST_TOKEN, Chatter, invite_token, only_text
from tests.helpers.mocked_bot import MockedBot

MEMBER = 2002
TYPED_COMMENT = "Фундамент готов, идут стены"
NAVIGATION = ("open", "status", "progress", "comment", "typed comment", "evidence", "skip")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


@dataclass
class Kind:
    times: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)  # the process's CPU time, all threads
    statements: int = 0
    commits: int = 0
    trips: int = 0  # PostgreSQL's round trips: statements, BEGIN, COMMIT and ROLLBACK
    calls: int = 0


class CallCounter:
    """Python function calls (and resumed coroutines) while on: the step's own work as a
    count, which the machine's load does not change; timings taken with it on are slower."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, _frame: Any, what: str, _arg: Any) -> None:
        if what in ("call", "c_call"):
            self.calls += 1


@dataclass
class GcPauses:
    """Collector pauses during the run: where a p99 outlier may come from."""

    count: int = 0
    total: float = 0.0
    longest: float = 0.0
    _started: float = 0.0

    def __call__(self, phase: str, _info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
            return
        pause = time.perf_counter() - self._started
        self.count += 1
        self.total += pause
        self.longest = max(self.longest, pause)


def count_transaction_trips(counts: dict[str, int]) -> None:
    """On PostgreSQL, every BEGIN, COMMIT and ROLLBACK asyncpg sends is one more server round
    trip beside the statements (counted at asyncpg's own transaction object: what SQLAlchemy
    skips, a read that opened no transaction, is not counted). On SQLite "trips" counts the
    statements only: BEGIN and COMMIT go with them to aiosqlite's thread."""
    from asyncpg.transaction import Transaction

    for name in ("start", "commit", "rollback"):
        original = getattr(Transaction, name)

        async def counted(self: Any, _original: Any = original) -> None:
            counts["trips"] += 1
            await _original(self)

        setattr(Transaction, name, counted)


async def add_items(engine: Any, department_id: int, count: int, reported: int) -> None:
    """More items in the member's department, waiting for a report: the Save then finds the
    next waiting one among them. The first `reported` of them in the worklist's order were
    already reported today, as after a head's long session: the next waiting item sorts
    after all of them (the case whose cost used to grow with the department)."""
    rows = [
        {
            "code": f"9.{n // 1000}.{n % 1000}",
            "title_kk": f"Тармақ {n}",
            "title_ru": f"Пункт {n}",
            "department_id": department_id,
            "deadline": date(2025, 6, 1) + timedelta(days=n % 300),
            "year": 2025,
            "target": "",
            "deadline_text": "",
            "archived": False,
            "created_at": START_MOMENT,
        }
        for n in range(count)
    ]
    if not rows:
        return
    async with engine.begin() as connection:
        await connection.execute(insert(RoadmapItem), rows)
        author = (
            await connection.execute(select(Person.id).where(Person.telegram_id == MEMBER))
        ).scalar_one()
        ordered = (
            (
                await connection.execute(
                    select(RoadmapItem.id)
                    .where(
                        RoadmapItem.department_id == department_id,
                        col(RoadmapItem.code).like("9.%"),
                    )
                    .order_by(col(RoadmapItem.deadline), col(RoadmapItem.code))
                    .limit(reported)
                )
            )
            .scalars()
            .all()
        )
        if ordered:
            reports = [
                {
                    "item_id": item_id,
                    "author_id": author,
                    "status": "on_track",
                    "progress": 50,
                    "confirmation": False,
                    "created_at": START_MOMENT,
                }
                for item_id in ordered
            ]
            await connection.execute(insert(StatusUpdate), reports)


async def project(
    steps: int, log: bool, count_calls: bool, department_items: int, reported: int
) -> tuple[dict[str, Kind], GcPauses]:
    async with scratch_database(os.environ.get("BENCH_DATABASE_URL")) as url:
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
        freeze_startup_heap()  # as run_polling does once the application is built
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
            (item,) = (await session.exec(select(RoadmapItem.id))).all()
            department = (await session.exec(select(RoadmapItem.department_id))).one()
        assert item is not None
        await add_items(engine, department, department_items - 1, reported)

        def press(data: str) -> Callable[[], Update]:
            return lambda: chatter.callback_update(MEMBER, data)

        def action(name: str) -> Callable[[], Update]:
            return press(DialogAction(item_id=item, action=name).pack())

        walk = [
            ("open", press(OpenItem(item_id=item).pack())),
            ("status", press(PickStatus(item_id=item, status="on_track").pack())),
            ("progress", press(PickProgress(item_id=item, value=50).pack())),
        ]
        cycle = [
            *walk,
            ("comment", action("comment")),
            (
                "typed comment",
                lambda: chatter.message_update(MEMBER, "Фундамент готов, идут стены"),
            ),
            ("evidence", action("file")),
            ("skip", action("back")),
            ("save", action("save")),
            *walk,
            ("cancel", action("cancel")),
        ]
        statements: list[str] = []
        counts = {"commits": 0, "trips": 0}

        def on_statement(_conn: Any, _cursor: Any, sql: str, *_: Any) -> None:
            statements.append(sql)
            counts["trips"] += 1

        def on_commit(*_: Any) -> None:
            counts["commits"] += 1

        event.listen(engine.sync_engine, "before_cursor_execute", on_statement)
        event.listen(engine.sync_engine, "commit", on_commit)
        count_transaction_trips(counts)
        kinds: dict[str, Kind] = defaultdict(Kind)
        pauses = GcPauses()
        gc.callbacks.append(pauses)
        try:
            for n in range(max(1, steps // len(cycle)) * len(cycle)):
                kind, step = cycle[n % len(cycle)]
                update = step()
                first_statement, first_commit = len(statements), counts["commits"]
                first_trip = counts["trips"]
                calls = CallCounter()
                if count_calls:
                    sys.setprofile(calls)
                start, cpu = time.perf_counter(), time.process_time()
                try:
                    await chatter.feed(update)
                finally:
                    sys.setprofile(None)
                kinds[kind].times.append(time.perf_counter() - start)
                kinds[kind].cpu.append(time.process_time() - cpu)
                kinds[kind].calls += calls.calls
                kinds[kind].statements += len(statements) - first_statement
                kinds[kind].commits += counts["commits"] - first_commit
                kinds[kind].trips += counts["trips"] - first_trip
                if log and n < len(cycle):
                    print(f"-- {kind}")
                    for sql in statements[first_statement:]:
                        print("   ", " ".join(sql.split())[:160])
        finally:
            gc.callbacks.remove(pauses)
        async with session_maker() as session:
            saved = len((await session.exec(select(StatusUpdate))).all())
        if saved != len(kinds["save"].times) + min(
            reported, department_items - 1
        ):  # a step that failed would make the figures lie
            raise SystemExit(f"{saved} updates saved in {len(kinds['save'].times)} cycles")
        await engine.dispose()
        return kinds, pauses


async def bare(steps: int, count_calls: bool = False) -> Kind:
    bot = MockedBot()
    dispatcher = Dispatcher()

    @dispatcher.callback_query(F.data)
    async def echo(query: CallbackQuery) -> None:
        await query.answer(query.data)

    chatter = Chatter(dispatcher, bot)
    baseline = Kind()
    for n in range(steps):
        calls = CallCounter()
        if count_calls:
            sys.setprofile(calls)
        update = chatter.callback_update(MEMBER, f"echo:{n}")  # built before, as the project's
        start, cpu = time.perf_counter(), time.process_time()
        try:
            await chatter.feed(update)
        finally:
            sys.setprofile(None)
        baseline.times.append(time.perf_counter() - start)
        baseline.cpu.append(time.process_time() - cpu)
        baseline.calls += calls.calls
    return baseline


def row(label: str, times: list[float], kind: Kind | None = None, *, sql: bool = True) -> None:
    counted = (
        f"{kind.statements / len(times):10.1f} {kind.commits / len(times):8.1f} "
        f"{kind.trips / len(times):6.1f}"
        if kind is not None and sql
        else f"{'–':>10} {'–':>8} {'–':>6}"
    )
    if kind is not None and kind.calls:
        counted += f" {kind.calls / len(times):8.0f}"
    print(
        f"{label:<30} {len(times):5} {statistics.median(times) * 1000:7.2f} "
        f"{percentile(times, 0.9) * 1000:7.2f} {percentile(times, 0.99) * 1000:7.2f} "
        f"{max(times) * 1000:7.2f} {len(times) / sum(times):8.0f} {counted}"
    )


def merged(kinds: dict[str, Kind], names: tuple[str, ...] | None = None) -> Kind:
    total = Kind()
    for name, kind in kinds.items():
        if names is None or name in names:
            total.times += kind.times
            total.cpu += kind.cpu
            total.statements += kind.statements
            total.commits += kind.commits
            total.trips += kind.trips
            total.calls += kind.calls
    return total


async def main(args: argparse.Namespace) -> None:
    compile_catalogs()
    load_before = os.getloadavg()[0]
    baseline = await bare(args.steps, args.calls)
    kinds, pauses = await project(
        args.steps, args.log, args.calls, args.department_items, args.reported
    )
    after = await bare(args.steps, args.calls)  # the machine is shared: bracket the project
    baseline.times += after.times
    baseline.cpu += after.cpu
    baseline.calls += after.calls
    load_after = os.getloadavg()[0]
    backend = "PostgreSQL" if os.environ.get("BENCH_DATABASE_URL") else "SQLite"
    print(
        f"{backend}, {args.department_items} items in the member's department, "
        f"{args.reported} of them reported before the first waiting one; "
        f"load average {load_before:.1f} before, {load_after:.1f} after, "
        f"on {os.cpu_count()} CPUs"
    )
    print(
        f"{'':<30} {'steps':>5} {'p50 ms':>7} {'p90 ms':>7} {'p99 ms':>7} {'max ms':>7} "
        f"{'steps/s':>8} "
        f"{'statements':>10} {'commits':>8} {'trips':>6}" + (f" {'calls':>8}" if args.calls else "")
    )
    if args.calls:
        print("(counting Python calls: the project's timings are those of a profiled run)")
    row("bare aiogram, echo handler", baseline.times, baseline, sql=False)
    for name, kind in kinds.items():
        row(f"  {name}", kind.times, kind)
    navigation = merged(kinds, NAVIGATION)
    row("project, navigation steps", navigation.times, navigation)
    everything = merged(kinds)
    row("project, all steps", everything.times, everything)
    bare_rate = len(baseline.times) / sum(baseline.times)
    print(
        f"ratio to bare aiogram (steps/s): navigation "
        f"{len(navigation.times) / sum(navigation.times) / bare_rate:.3f}, all steps "
        f"{len(everything.times) / sum(everything.times) / bare_rate:.3f}"
    )
    print(
        "CPU time per step (the process's, all threads; what the machine's other load changes "
        "least): "
        + "; ".join(
            f"{label} p50 {statistics.median(kind.cpu) * 1000:.2f} ms, "
            f"p99 {percentile(kind.cpu, 0.99) * 1000:.2f} ms"
            for label, kind in (("bare aiogram", baseline), ("navigation", navigation))
        )
        + f"; save p50 {statistics.median(kinds['save'].cpu) * 1000:.2f} ms"
    )
    print(
        f"garbage collections during the project: {pauses.count}, "
        f"{pauses.total * 1000:.1f} ms in all, the longest {pauses.longest * 1000:.2f} ms"
    )


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=480)
    parser.add_argument(
        "--department-items",
        type=int,
        default=50,
        help="items in the member's department (the Save looks for the next waiting one)",
    )
    parser.add_argument(
        "--reported",
        type=int,
        default=0,
        help="items already reported today that sort before the next waiting one",
    )
    parser.add_argument("--log", action="store_true", help="print the SQL of the first cycle")
    parser.add_argument(
        "--calls", action="store_true", help="count the Python calls of each step (slower)"
    )
    return parser.parse_args()


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
