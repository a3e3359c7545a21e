"""What the chair waits for on the dashboard: each page and API answer over real HTTP, on the
demo Road Map (93 items) and on 5,000 items (bench_risk's data: 12 departments, ten reports per
item), with the page weight: the chair's screens and the secretariat's (the roadmap table,
filtered, an item's edit screen, the audit log, people, aliases).

Each answer is timed from the request to the last byte on a local socket (the server in this
process, as in the bot): the median and the slowest of 20 after one warm-up. The baseline,
measured in the same run on the same data, is the use case alone (`summary`,
`department_view`, `item_card` without HTTP, initData or HTML): what the dashboard adds is the
difference. Page weight: the shell page, its style and script, and the largest API answer,
without the vendored telegram-web-app.js (its size is printed apart).

The forecasts are stored first, as the day's first alert scan stores them in the bot
(`refresh_forecasts` of every item, the marks consumed): the screens read them, as they do
after any scan.

Run by hand: `.venv/bin/python -m bench.bench_dashboard [--sizes demo,5000]`. SQLite.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import ClientSession
from sqlmodel import col, select

from bench.bench_risk import TODAY, TZ, fill
from bench.scratch import scratch_database
from bot.core.clock import FrozenClock
from bot.risk.digest import Category
from bot.risk.forecast_cache import refresh_forecasts
from bot.roadmap.demo import seed_demo
from bot.telegram.i18n import build_i18n
from bot.usecases.aliases import list_aliases
from bot.usecases.audit import AuditFilter, audit_log
from bot.usecases.items import item_card
from bot.usecases.overview import TableFilter, TableSort, department_view, roadmap_table, summary
from bot.usecases.people import people
from bot.usecases.ports import NoSignals, UseCaseContext
from bot.web.app import INIT_DATA_HEADER
from db import queries
from db.engine import create_engine, create_session_maker
from db.migrate import upgrade
from db.models import Person, RoadmapItem, Role
from tests.helpers.webapp import dashboard, signed_for

CHAIR = 9001
SECRETARY = 9002
RUNS = 20
PAGE_LIMIT = 100_000  # bytes a page may weigh without telegram-web-app.js


async def timed(work: Callable[[], Awaitable[object]]) -> tuple[float, float]:
    """Median and slowest of RUNS, in ms, after one warm-up."""
    await work()
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        await work()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), max(times)


async def prepare(url: str, size: str) -> tuple[UseCaseContext, datetime]:
    engine = create_engine(url)
    await upgrade(engine)
    session_maker = create_session_maker(engine)
    if size == "demo":
        now = datetime(2025, 6, 10, 6, 0, tzinfo=UTC)
        async with session_maker() as session:
            await seed_demo(session, now=now, tz=TZ)
    else:
        now = datetime.combine(TODAY, datetime.min.time(), tzinfo=TZ).astimezone(UTC)
        await fill(engine, int(size))
    async with session_maker() as session:
        marks = await queries.risk_marks(session)
        await refresh_forecasts(
            session,
            tz=TZ,
            today=now.astimezone(TZ).date(),
            changed=marks.item_ids,
            every_stale=True,
        )
        await queries.consume_risk_marks(session, marks)
        for telegram_id, role in ((CHAIR, Role.CHAIR), (SECRETARY, Role.SECRETARIAT)):
            session.add(
                Person(
                    telegram_id=telegram_id,
                    display_name=role.title(),
                    role=role,
                    locale="ru",
                    created_at=now,
                    updated_at=now,
                )
            )
        await session.commit()
    ctx = UseCaseContext(
        session_maker=session_maker,
        clock=FrozenClock(now),
        tz=TZ,
        i18n=build_i18n("ru"),
        signals=NoSignals(),
    )
    return ctx, now


async def run(size: str) -> None:
    async with scratch_database(None) as url:
        ctx, now = await prepare(url, size)
        async with ctx.session_maker() as session:
            items = (await session.exec(select(RoadmapItem).order_by(col(RoadmapItem.id)))).all()
            chair = (await session.exec(select(Person).where(Person.telegram_id == CHAIR))).one()
        count = len(items)
        department_id, item_id = items[0].department_id, items[0].id
        assert item_id is not None
        chair_headers = {INIT_DATA_HEADER: signed_for(CHAIR, now - timedelta(minutes=1))}
        secretary_headers = {INIT_DATA_HEADER: signed_for(SECRETARY, now - timedelta(minutes=1))}
        sizes: dict[str, int] = {}
        async with dashboard(ctx) as server, ClientSession() as http:

            def get(path: str, as_secretary: bool = False) -> Callable[[], Awaitable[bytes]]:
                headers = secretary_headers if as_secretary else chair_headers

                async def call() -> bytes:
                    async with http.get(server.base_url + path, headers=headers) as response:
                        assert response.status == 200, (path, response.status)
                        body = await response.read()
                    sizes[path] = len(body)
                    return body

                return call

            shell = await get("/app/")()
            assets = [part.split('"', 1)[0] for part in shell.decode().split('="/app/static/')[1:]]
            for asset in assets:
                await get(f"/app/static/{asset}")()
            pages: list[tuple[str, str, Callable[[], Awaitable[Any]], bool]] = [
                ("/app/ (shell)", "/app/", lambda: asyncio.sleep(0), False),
                ("totals", "/app/api/summary", lambda: summary(ctx), False),
                (
                    "department",
                    f"/app/api/department/{department_id}",
                    lambda: department_view(ctx, department_id),
                    False,
                ),
                (
                    "item card",
                    f"/app/api/item/{item_id}",
                    lambda: item_card(ctx, chair, item_id),
                    False,
                ),
                # The secretariat's screens.
                (
                    "table",
                    "/app/api/roadmap",
                    lambda: roadmap_table(ctx, TableFilter()),
                    True,
                ),
                (
                    "table filter",
                    f"/app/api/roadmap?department={department_id}&status=at_risk&sort=deadline",
                    lambda: roadmap_table(
                        ctx,
                        TableFilter(department_id, Category.AT_RISK, sort=TableSort.DEADLINE),
                    ),
                    True,
                ),
                (
                    "edit item",
                    f"/app/api/edit/{item_id}",
                    lambda: item_card(ctx, chair, item_id, history=0, assess=False),
                    True,
                ),
                ("audit log", "/app/api/audit", lambda: audit_log(ctx, AuditFilter()), True),
                ("people", "/app/api/people", lambda: people(ctx), True),
                ("aliases", "/app/api/aliases", lambda: list_aliases(ctx), True),
            ]
            print(f"\n{size} ({count} items)")
            print(f"{'answer':<14}{'median ms':>11}{'max ms':>9}{'use case ms':>13}{'bytes':>9}")
            for label, path, baseline, as_secretary in pages:
                median, slowest = await timed(get(path, as_secretary))
                base, _ = await timed(baseline)
                print(f"{label:<14}{median:>11.1f}{slowest:>9.1f}{base:>13.1f}{sizes[path]:>9}")
        vendored = sum(size for path, size in sizes.items() if "telegram-web-app" in path)
        own = sum(
            size
            for path, size in sizes.items()
            if "telegram-web-app" not in path and ("static" in path or path == "/app/")
        )
        largest = max(size for path, size in sizes.items() if "/api/" in path)
        verdict = "under" if own + largest < PAGE_LIMIT else "OVER"
        print(
            f"page weight: {own + largest} bytes (shell, style, script and the largest answer),"
            f" {verdict} {PAGE_LIMIT}; telegram-web-app.js {vendored} bytes apart"
        )


async def main(args: argparse.Namespace) -> None:
    for size in args.sizes.split(","):
        await run(size)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="demo,5000")
    asyncio.run(main(parser.parse_args()))
