"""The stored forecasts answer exactly what a fresh computation does: before the scan stored
them, after it, after a new report (marked, not yet scanned, then scanned), after a deadline
and a calendar change; and once stored, the digest's read simulates nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.risk import forecast_cache
from bot.risk.forecast import Borrowed, Forecast
from bot.risk.forecast_cache import (
    decode,
    encode,
    every_forecast,
    refresh_forecasts,
    screened_forecasts,
)
from bot.risk.forecast_data import forecasts_for
from bot.roadmap.demo import seed_demo
from db import queries
from db.models import CalendarOverride, ForecastCache, RoadmapItem, StatusUpdate

LOAD = datetime(2025, 6, 10, 6, 0, tzinfo=UTC)
TODAY = date(2025, 6, 10)
TZ = ZoneInfo("Asia/Almaty")


async def _fresh(session: AsyncSession) -> dict[int, Forecast]:
    return await forecasts_for(session, year=TODAY.year, tz=TZ, since_deadline=TODAY, screened=True)


async def _cached(session: AsyncSession) -> dict[int, Forecast]:
    return await screened_forecasts(session, year=TODAY.year, tz=TZ, since_deadline=TODAY)


async def _scan(session: AsyncSession, *, full: bool) -> int:
    """What the alert scan does with the forecasts: store them, consume the marks."""
    marks = await queries.risk_marks(session)
    simulated = await refresh_forecasts(
        session, tz=TZ, today=TODAY, changed=marks.item_ids, every_stale=full
    )
    await queries.consume_risk_marks(session, marks)
    await session.commit()
    return simulated


def _no_fresh_computation(monkeypatch: pytest.MonkeyPatch) -> None:
    async def refuse(*_args: object, **_kwargs: object) -> dict[int, Forecast]:
        raise AssertionError("computed afresh instead of read")

    monkeypatch.setattr(forecast_cache, "forecasts_for", refuse)


async def test_stored_forecasts_equal_fresh_ones(
    session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    await seed_demo(session, now=LOAD, tz=TZ)
    await session.commit()
    fresh = await _fresh(session)
    assert fresh, "the demo has items the screen lets through"
    assert await _cached(session) == fresh  # nothing stored yet: all computed

    every = await forecasts_for(session, year=None, tz=TZ)
    assert await _scan(session, full=True) == len(every)  # each not-done item's own forecast
    rows = (await session.exec(select(ForecastCache))).all()
    assert {row.item_id for row in rows if row.forecast} == set(fresh)
    assert all(decode(row.forecast) == fresh[row.item_id] for row in rows if row.forecast)
    assert await _scan(session, full=True) == 0  # nothing changed: nothing simulated again
    with monkeypatch.context() as patched:
        _no_fresh_computation(patched)
        assert await _cached(session) == fresh


async def test_a_new_report_a_deadline_and_a_holiday_are_seen_at_once(
    session: AsyncSession,
) -> None:
    await seed_demo(session, now=LOAD, tz=TZ)
    await _scan(session, full=True)
    item_id = next(iter(await _fresh(session)))
    newest = (
        await session.exec(
            select(StatusUpdate)
            .where(StatusUpdate.item_id == item_id)
            .order_by(StatusUpdate.created_at.desc())  # type: ignore[attr-defined]
        )
    ).first()
    assert newest is not None
    session.add(
        StatusUpdate(
            item_id=item_id,
            author_id=newest.author_id,
            status=newest.status,
            progress=min(99, newest.progress + 5),
            created_at=LOAD - timedelta(days=1),
        )
    )
    await queries.mark_risk_dirty(session, now=LOAD, item_ids=[item_id])
    await session.commit()
    fresh = await _fresh(session)
    assert await _cached(session) == fresh  # marked, not yet scanned: computed afresh
    assert await _scan(session, full=False) == 1
    assert await _cached(session) == fresh

    item = await session.get(RoadmapItem, item_id)
    assert item is not None
    item.deadline = item.deadline + timedelta(days=60)  # no mark: the row's deadline differs
    session.add(item)
    session.add(CalendarOverride(day=date(2025, 6, 16), day_off=True, created_at=LOAD))
    await session.commit()
    changed = await _fresh(session)
    assert changed != fresh
    assert await _cached(session) == changed


async def _add_a_young_item(session: AsyncSession) -> None:
    """Three reports over two weeks: too few weeks of its own, its department lends it gains."""
    neighbour = (await session.exec(select(RoadmapItem).order_by(RoadmapItem.id))).first()
    assert neighbour is not None and neighbour.id is not None
    author = (
        await session.exec(select(StatusUpdate).where(StatusUpdate.item_id == neighbour.id))
    ).first()
    assert author is not None
    young = RoadmapItem(
        code="99.1",
        title_kk="Жаңа тармақ",
        title_ru="Новый пункт",
        department_id=neighbour.department_id,
        deadline=date(2025, 12, 1),
        year=2025,
        created_at=LOAD - timedelta(days=20),
    )
    session.add(young)
    await session.flush()
    assert young.id is not None
    for days_ago, progress in ((15, 10), (8, 15), (1, 22)):
        session.add(
            StatusUpdate(
                item_id=young.id,
                author_id=author.author_id,
                status="on_track",
                progress=progress,
                created_at=LOAD - timedelta(days=days_ago),
            )
        )
    await session.commit()


async def test_the_export_reads_every_forecast_stored(
    session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every item's forecast (the export's columns) equals `forecasts_for`'s: before a scan
    (all computed), after it (read; only the items a pool lends gains to are simulated, their
    pools rebuilt from the stored gains), after a new report (marked: computed afresh)."""
    await seed_demo(session, now=LOAD, tz=TZ)
    await _add_a_young_item(session)
    fresh = await forecasts_for(session, year=None, tz=TZ)
    borrowing = {i for i, found in fresh.items() if found.borrowed != Borrowed.NONE}
    assert borrowing and len(borrowing) < len(fresh), "the demo has both kinds"
    assert await every_forecast(session, year=None, tz=TZ) == fresh
    await _scan(session, full=True)

    simulated: list[int] = []
    simulate = forecast_cache.item_forecast

    def counted(item_id: int, *args: object) -> Forecast:
        simulated.append(item_id)
        return simulate(item_id, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(forecast_cache, "item_forecast", counted)
    assert await every_forecast(session, year=None, tz=TZ) == fresh
    assert borrowing <= set(simulated) and len(simulated) < len(fresh) / 2
    some = set(list(fresh)[:3]) | borrowing  # the risk report's: its at-risk items only
    assert await every_forecast(session, year=None, tz=TZ, only=some) == await forecasts_for(
        session, year=None, tz=TZ, only=some
    )

    item_id = min(set(fresh) - borrowing)
    newest = (
        await session.exec(
            select(StatusUpdate)
            .where(StatusUpdate.item_id == item_id)
            .order_by(StatusUpdate.created_at.desc())  # type: ignore[attr-defined]
        )
    ).first()
    assert newest is not None
    session.add(
        StatusUpdate(
            item_id=item_id,
            author_id=newest.author_id,
            status=newest.status,
            progress=min(99, newest.progress + 20),
            created_at=LOAD - timedelta(hours=1),
        )
    )
    await queries.mark_risk_dirty(session, now=LOAD, item_ids=[item_id])
    await session.commit()
    changed = await forecasts_for(session, year=None, tz=TZ)
    assert changed[item_id] != fresh[item_id]
    assert await every_forecast(session, year=None, tz=TZ) == changed
    assert await every_forecast(session, year=None, tz=TZ, only=borrowing) == {
        i: changed[i] for i in borrowing
    }
    await _scan(session, full=False)
    assert await every_forecast(session, year=None, tz=TZ) == changed


def test_a_forecast_round_trips_through_its_json() -> None:
    found = Forecast(
        outcome=forecast_cache.Outcome.FORECAST,
        progress=40,
        as_of=date(2025, 6, 2),
        deadline=date(2025, 12, 31),
        pace_date=date(2025, 11, 3),
        p50=date(2025, 10, 1),
        p85=date(2026, 1, 20),
        chance=0.735,
        own_gains=6,
        setbacks=1,
    )
    assert decode(encode(found)) == found
