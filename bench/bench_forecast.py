"""The completion forecast, calibrated before trusted: a backtest on generated histories, and
the 50,000-item assessment with forecasts beside the digest's.

Backtest. Items with a known true course (so the day each really reaches 100 % is known) are
reported on weekly or fortnightly Mondays, as rounded whole percentages; then, on every working
day from the item's third report to its deadline, each rule is asked what it would say from
the reports known that day:
- "forecast: late": the forecast from those reports (`bot.risk.forecast`, pools from the same
  department's items as of that Monday) gives less than 50 % to meet the deadline;
- "behind plan": the newest report is more than 25 points under the straight plan line.
Shapes: the year simulation's items (tests/test_year_simulation.py: weekly reports of
min(95, day-of-year %)), steady, late start, stall at 90 %, regress and burst before the
deadline, each with random pace and noise (seeded: the same figures every run).

Printed per shape and overall: P85 and P50 coverage (the share of forecasts, one per item and
report, whose item really was done by that date; targets 80–90 % and 40–60 %); for the items
that really missed, the median weeks before the deadline each rule first fired (0 when it never
did) and how many it warned at all; for the items that made it, the share each rule ever
flagged (false alarms).

Timing (`--timing`, SQLite, bench_risk's 50,000 items × 10 updates): `assess_tally` (the
digest's assessment, the baseline), the digest's assessment with the "likely late" forecasts
before any is stored (computed from the reports, as before the forecast cache), the alert
scan storing them (`refresh_forecasts`, once per item and report), the same digest assessment
reading them, and `forecasts_for` over the year; best of three where it says so.

Run: `.venv/bin/python -m bench.bench_forecast [--items-per-shape 100] [--timing]`.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # `tests` is not installed

from bot.risk.forecast import Forecast, WorkingDays, daily_progress, forecast, weekly_gains
from bot.risk.rules import ItemFacts, RiskThresholds, is_behind_plan, is_forecast_late
from bot.workdays.calendar import WorkCalendar

YEAR = 2025
TZ = ZoneInfo("Asia/Almaty")
THRESHOLDS = RiskThresholds()
CALENDAR = WorkCalendar(TZ)
DAYS = WorkingDays(CALENDAR.is_working_day, date(YEAR - 1, 1, 1))
DEPARTMENTS = 8
Course = Callable[[date], float]  # the true progress on a day, 0..100


@dataclass
class Item:
    shape: str
    department: int
    start: date
    deadline: date
    reports: list[tuple[date, int]]
    finished: date | None  # the true day it reached 100 %, None: not within two years

    @property
    def missed(self) -> bool:
        return self.finished is None or self.finished > self.deadline


def report_days(start: date, until: date, every: int, rng: random.Random) -> list[date]:
    """Mondays (or the next working day) every `every` weeks, from the first after `start`."""
    day = start + timedelta(days=(7 - start.weekday()) % 7 or 7)
    days = []
    while day <= until:
        moved = day
        while not CALENDAR.is_working_day(moved):
            moved += timedelta(days=1)
        if rng.random() > 0.05:  # one report in twenty is skipped
            days.append(moved)
        day += timedelta(weeks=every)
    return days


def true_finish(course: Course, start: date, limit: date) -> date | None:
    day = start
    while day <= limit:
        if course(day) >= 100:
            return day
        day += timedelta(days=1)
    return None


def make_item(
    shape: str, department: int, start: date, deadline: date, course: Course, rng: random.Random
) -> Item:
    finished = true_finish(course, start, start + timedelta(days=730))
    last = min(finished or deadline + timedelta(days=120), deadline + timedelta(days=120))
    every = rng.choice((1, 1, 2))
    reports = []
    for day in report_days(start, last, every, rng):
        value = min(100, max(0, round(course(day))))
        reports.append((day, value))
        if value >= 100:
            break
    return Item(shape, department, start, deadline, reports, finished)


def steady_from(begin: date, rate: float, wobble: list[float]) -> Course:
    """`rate` points a day from `begin`, each week's pace scaled by its wobble factor."""

    def course(day: date) -> float:
        if day <= begin:
            return 0.0
        weeks, rest = divmod((day - begin).days, 7)
        week = min(weeks, len(wobble) - 1)
        return rate * (sum(wobble[:week]) * 7 + wobble[week] * rest)

    return course


def stalled_at_90(base: Course, start: date, pause: timedelta) -> Course:
    """`base` until 90 %, then 90 % for `pause`, then `base` again, that much later."""

    def course(day: date) -> float:
        if base(day) < 90:
            return base(day)
        hit = next(d for d in _days(start, day) if base(d) >= 90)
        return 90.0 if day < hit + pause else min(100.0, base(day - pause))

    return course


def with_setbacks(base: Course, start: date, setbacks: list[int]) -> Course:
    """`base`, less 8 points after each setback day (counted from `start`)."""

    def course(day: date) -> float:
        lost = sum(8 for at in setbacks if (day - start).days >= at)
        return max(0.0, base(day) - lost)

    return course


def bursting(slow: Course, turn: date, deadline: date, factor: float) -> Course:
    """`slow` until `turn`, then the pace that would just meet the deadline, times `factor`."""

    def course(day: date) -> float:
        if day <= turn:
            return slow(day)
        at_turn = slow(turn)
        need = (100 - at_turn) / max(1, (deadline - turn).days)
        return at_turn + need * factor * (day - turn).days

    return course


def shaped(shape: str, rng: random.Random) -> tuple[date, date, Course]:
    """One item of a shape: its start, deadline and true course (random pace and noise)."""
    start = date(YEAR, 1, 1) + timedelta(days=rng.randint(0, 60))
    length = rng.randint(120, 300)
    deadline = start + timedelta(days=length)
    pace = rng.uniform(0.7, 1.35)  # > 1: faster than the plan line
    wobble = [rng.uniform(0.6, 1.4) for _ in range(120)]  # per-week pace factors
    rate = 100 / length * pace
    steady = steady_from(start, rate, wobble)
    if shape == "steady":
        return start, deadline, steady
    if shape == "late start":
        begin = start + timedelta(days=int(length * rng.uniform(0.2, 0.45)))
        return start, deadline, steady_from(begin, 100 / (deadline - begin).days * pace, wobble)
    if shape == "stall at 90%":
        pause = timedelta(days=rng.choice((21, 42, 70, 400)))
        return start, deadline, stalled_at_90(steady, start, pause)
    if shape == "regress":
        return (
            start,
            deadline,
            with_setbacks(steady, start, sorted(rng.sample(range(20, length), 2))),
        )
    if shape == "burst":
        turn = start + timedelta(days=int(length * rng.uniform(0.6, 0.8)))
        slow = steady_from(start, rate * rng.uniform(0.2, 0.5), wobble)
        return start, deadline, bursting(slow, turn, deadline, rng.uniform(0.7, 1.4))
    raise ValueError(shape)


def _days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=n) for n in range((end - start).days + 1)]


def year_simulation_items() -> list[Item]:
    """The items of tests/integration/test_year_simulation.py as its departments report them."""
    from tests.integration.test_year_simulation import DEADLINES, DONE

    items = []
    for number, (code, (department, deadline)) in enumerate(sorted(DEADLINES.items())):
        if department == "silent":
            continue  # never reports: nothing to forecast
        start = date(YEAR, 1, 1)

        def course(day: date, code: str = code) -> float:
            if code in DONE and day >= DONE[code]:
                return 100.0
            return float(min(95, (day.timetuple().tm_yday * 100) // 365))

        finished = DONE.get(code)
        reports = []
        for day in report_days(start, date(YEAR, 12, 31), 1, random.Random(number)):
            reports.append((day, round(course(day))))
            if reports[-1][1] >= 100:
                break
        items.append(Item("year simulation", number, start, deadline, reports, finished))
    return items


SHAPES = ("steady", "late start", "stall at 90%", "regress", "burst")


def generate(per_shape: int, seed: int = 26) -> list[Item]:
    rng = random.Random(seed)
    items = year_simulation_items()
    for shape in SHAPES:
        for _ in range(per_shape):
            start, deadline, course = shaped(shape, rng)
            items.append(make_item(shape, rng.randrange(DEPARTMENTS), start, deadline, course, rng))
    return items


Pools = Callable[[int, date], tuple[list[float], list[float]]]


def department_pools(items: list[Item]) -> Pools:
    """The department's and everyone's recent gains from the reports known on a day (cached
    per Monday: the pools move with the rounds)."""
    cache: dict[date, tuple[dict[int, list[float]], list[float]]] = {}

    def pools(department: int, day: date) -> tuple[list[float], list[float]]:
        monday = day - timedelta(days=day.weekday())
        if monday not in cache:
            by_department: dict[int, list[float]] = defaultdict(list)
            everyone: list[float] = []
            for item in items:
                known = [(d, p) for d, p in item.reports if d <= day]
                points = [(DAYS.index(d), p) for d, p in daily_progress(known)]
                if len(points) >= 3 and points[-1][0] - points[0][0] >= 5:
                    gains = weekly_gains(points).weekly
                    by_department[item.department].extend(gains)
                    everyone.extend(gains)
            cache[monday] = (by_department, everyone)
        by_department, everyone = cache[monday]
        return by_department.get(department, []), everyone

    return pools


@dataclass
class Tally:
    p85_hits: int = 0
    p50_hits: int = 0
    forecasts: int = 0
    missed: int = 0
    made: int = 0
    warned: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    false_alarms: dict[str, int] = field(default_factory=lambda: defaultdict(int))


def fires(item: Item, found: Forecast | None, day: date, probability: float) -> bool:
    """The rule as the assessment applies it (`is_forecast_late`)."""
    facts = ItemFacts(item.deadline, item.start, forecast=found)
    return is_forecast_late(facts, day, RiskThresholds(forecast_probability=probability))


def replay(
    number: int, item: Item, pools: Pools, probability: float, tally: Callable[[Forecast], None]
) -> dict[str, date]:
    """Day by day from the item's start to its deadline (or its true finish): the forecast
    from the reports known that day (each counted by `tally`), and the day each rule first
    fired."""
    fired: dict[str, date] = {}
    latest: Forecast | None = None
    known: list[tuple[date, int]] = []
    pending = list(item.reports)
    day = item.start
    while day <= min(item.deadline, item.finished or item.deadline):
        arrived = False
        while pending and pending[0][0] <= day:
            known.append(pending.pop(0))
            arrived = True
        if arrived and known[-1][1] < 100:
            department, everyone = pools(item.department, day)
            latest = forecast(
                known,
                start=item.start,
                deadline=item.deadline,
                calendar=DAYS,
                seed=f"{number}|{len(known)}",
                department_gains=department,
                all_gains=everyone,
            )
            tally(latest)
        if known and known[-1][1] < 100 and CALENDAR.is_working_day(day):
            facts = ItemFacts(item.deadline, item.start, "on_track", known[-1][1], known[-1][0])
            if is_behind_plan(facts, day, THRESHOLDS):
                fired.setdefault("behind plan", day)
            if fires(item, latest, day, probability):
                fired.setdefault("forecast", day)
        day += timedelta(days=1)
    return fired


def backtest(items: list[Item], probability: float) -> dict[str, Tally]:
    pools = department_pools(items)
    tallies: dict[str, Tally] = defaultdict(Tally)
    for number, item in enumerate(items):
        counted = (tallies[item.shape], tallies["all"])
        finished = item.finished or date.max

        def count(
            found: Forecast, counted: tuple[Tally, ...] = counted, finished: date = finished
        ) -> None:
            if not found.judged:
                return
            for tally in counted:
                tally.forecasts += 1
                tally.p85_hits += finished <= (found.p85 or date.max)
                tally.p50_hits += finished <= (found.p50 or date.max)

        fired = replay(number, item, pools, probability, count)
        for tally in counted:
            tally.missed += item.missed
            tally.made += not item.missed
            for rule in ("forecast", "behind plan"):
                if item.missed:
                    first = fired.get(rule)
                    tally.warned[rule].append((item.deadline - first).days / 7 if first else 0.0)
                elif rule in fired:
                    tally.false_alarms[rule] += 1
    return tallies


def share(part: int, whole: int) -> str:
    return f"{100 * part / whole:5.1f}%" if whole else "    —"


def print_backtest(tallies: dict[str, Tally], probability: float) -> None:
    print(f'"forecast: late" below {probability:.0%}; "behind plan" over 25 points')
    print(
        f"{'shape':16} {'items':>5} {'missed':>6} {'forecasts':>9} {'P85 cov':>8} "
        f"{'P50 cov':>8} | {'warned fc':>9} {'wk fc':>6} {'warned bp':>9} {'wk bp':>6} | "
        f"{'false fc':>8} {'false bp':>8}"
    )
    for shape in ("year simulation", *SHAPES, "all"):
        tally = tallies.get(shape)
        if tally is None:
            continue
        warned = {
            rule: (sum(1 for weeks in tally.warned[rule] if weeks > 0), tally.warned[rule])
            for rule in ("forecast", "behind plan")
        }
        print(
            f"{shape:16} {tally.missed + tally.made:>5} {tally.missed:>6} {tally.forecasts:>9} "
            f"{share(tally.p85_hits, tally.forecasts):>8} "
            f"{share(tally.p50_hits, tally.forecasts):>8} | "
            f"{warned['forecast'][0]:>9} {_median(warned['forecast'][1]):>6} "
            f"{warned['behind plan'][0]:>9} {_median(warned['behind plan'][1]):>6} | "
            f"{share(tally.false_alarms['forecast'], tally.made):>8} "
            f"{share(tally.false_alarms['behind plan'], tally.made):>8}"
        )
    print(
        "wk: median weeks of warning before the deadline over the missed items (0: never "
        "fired); warned: missed items warned at all; false: items that made it but were flagged"
    )


def _median(values: list[float]) -> str:
    return f"{statistics.median(values):.1f}" if values else "—"


async def timing() -> None:
    """The 50,000-item rows: the digest's assessment alone, with the "likely late" forecasts
    (screened: only what may be unlikely is simulated), and every forecast of the year."""
    from bench.bench_risk import TODAY, fill
    from bench.scratch import scratch_database
    from bot.risk.assess import assess_tally
    from bot.risk.digest import likely_late
    from bot.risk.forecast_cache import refresh_forecasts
    from bot.risk.forecast_data import forecasts_for
    from db.engine import create_engine, create_session_maker
    from db.migrate import upgrade

    async with scratch_database(None) as url:
        engine = create_engine(url)
        try:
            await upgrade(engine)
            await fill(engine, 50_000)
            maker = create_session_maker(engine)
            off = RiskThresholds(forecast_probability=0)

            async def best(label: str, run: Callable[[Any], Awaitable[str]], runs: int) -> None:
                times, found = [], ""
                for _ in range(runs):
                    started = time.perf_counter()
                    async with maker() as session:
                        found = await run(session)
                    times.append(time.perf_counter() - started)
                print(f"{label:62} {min(times) * 1000:8.0f} ms  {found}", flush=True)

            async def tally_only(session: Any) -> str:
                tally = await assess_tally(session, today=TODAY, year=YEAR, thresholds=off, tz=TZ)
                return f"{len(tally.at_risk)} at risk"

            async def with_warning(session: Any) -> str:
                tally = await assess_tally(session, today=TODAY, year=YEAR, thresholds=off, tz=TZ)
                late = await likely_late(session, tally, today=TODAY, year=YEAR, tz=TZ, below=0.5)
                return f"{len(tally.at_risk)} at risk, {len(late)} likely late"

            async def every_forecast(session: Any) -> str:
                found = await forecasts_for(session, year=YEAR, tz=TZ, since_deadline=TODAY)
                return f"{len(found)} forecasts"

            await best("assess_tally: the digest's assessment (baseline)", tally_only, 3)
            await best(
                "assess_tally + likely-late, none stored yet (computed, as before)",
                with_warning,
                1,
            )

            async def store(session: Any) -> str:
                simulated = await refresh_forecasts(
                    session, tz=TZ, today=TODAY, changed=(), every_stale=True
                )
                await session.commit()
                return f"{simulated} simulated and stored (the day's first scan, once)"

            await best("refresh_forecasts: the alert scan stores them", store, 1)
            await best("assess_tally + likely-late, stored (what the digest runs)", with_warning, 3)
            await best(
                "forecasts_for: every not-done item with its deadline ahead", every_forecast, 1
            )
        finally:
            await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items-per-shape", type=int, default=100)
    parser.add_argument("--probability", type=float, default=0.5)
    parser.add_argument("--timing", action="store_true")
    arguments = parser.parse_args()
    started = time.perf_counter()
    items = generate(arguments.items_per_shape)
    tallies = backtest(items, arguments.probability)
    print_backtest(tallies, arguments.probability)
    print(f"[{len(items)} items in {time.perf_counter() - started:.0f} s]")
    if arguments.timing:
        asyncio.run(timing())


if __name__ == "__main__":
    main()
