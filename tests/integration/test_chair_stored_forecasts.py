"""The chair's screens (totals, a department, an item card: the chat's /summary, /dept and
card and the dashboard's) read the forecasts the alert scan stored, and answer exactly what a
fresh computation does: before the scan, after it, and after a new report not yet scanned.
One item's card shows the same assessment as its department's view."""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime, timedelta

import pytest
from aiogram.utils.i18n import I18n
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.app.config import Settings
from bot.core.clock import FrozenClock
from bot.risk import assess, forecast_cache
from bot.risk.digest import DigestData
from bot.risk.forecast import Borrowed, Forecast
from bot.risk.forecast_data import forecasts_for
from bot.risk.rules import ItemRisk
from bot.usecases.items import ItemCardShown, item_card
from bot.usecases.overview import DepartmentView, department_view, summary
from bot.usecases.ports import UseCaseContext
from db import queries
from db.engine import SessionMaker
from db.models import Department, Person, RoadmapItem, StatusUpdate
from tests.helpers.webapp import CHAIR, demo_context

LOAD = datetime(2025, 6, 10, 6, 0, tzinfo=UTC)  # Tuesday 10 June 2025, 11:00 in Almaty

Screens = tuple[DigestData, dict[int, list[ItemRisk]], dict[int, ItemRisk | None]]


@pytest.fixture
async def ctx(
    session_maker: SessionMaker, clock: FrozenClock, i18n: I18n, settings: Settings
) -> UseCaseContext:
    return await demo_context(session_maker, clock, i18n, settings.tz, LOAD)


async def _screens(ctx: UseCaseContext) -> Screens:
    """The totals, every department's items and every item's assessment on its card."""
    async with ctx.session_maker() as session:
        departments = (await session.exec(select(Department.id))).all()
        items = (await session.exec(select(RoadmapItem.id).order_by(col(RoadmapItem.id)))).all()
        chair = (await session.exec(select(Person).where(Person.telegram_id == CHAIR))).one()
    views: dict[int, list[ItemRisk]] = {}
    for department_id in departments:
        assert department_id is not None
        view = await department_view(ctx, department_id)
        assert isinstance(view, DepartmentView)
        views[department_id] = view.items
    cards: dict[int, ItemRisk | None] = {}
    for item_id in items:
        assert item_id is not None
        card = await item_card(ctx, chair, item_id)
        assert isinstance(card, ItemCardShown)
        cards[item_id] = card.risk
    return await summary(ctx), views, cards


async def _scan(ctx: UseCaseContext) -> None:
    """What the day's first alert scan does with the forecasts: store them all."""
    async with ctx.session_maker() as session:
        marks = await queries.risk_marks(session)
        await forecast_cache.refresh_forecasts(
            session, tz=ctx.tz, today=ctx.today(), changed=marks.item_ids, every_stale=True
        )
        await queries.consume_risk_marks(session, marks)
        await session.commit()


def _fresh_forecasts(monkeypatch: pytest.MonkeyPatch) -> None:
    """The assessment as before the store: every forecast simulated from the reports."""

    async def fresh(
        session: AsyncSession, *, year: int | None, tz: object, only: Collection[int] | None
    ) -> dict[int, Forecast]:
        return await forecasts_for(session, year=year, tz=tz, only=only)  # type: ignore[arg-type]

    monkeypatch.setattr(assess, "every_forecast", fresh)


def _refuse_fresh_forecasts(monkeypatch: pytest.MonkeyPatch) -> None:
    async def refuse(*_args: object, **_kwargs: object) -> dict[int, Forecast]:
        raise AssertionError("simulated every forecast instead of reading the stored ones")

    monkeypatch.setattr(assess, "forecasts_for", refuse)
    monkeypatch.setattr(forecast_cache, "forecasts_for", refuse)


async def test_the_chairs_screens_read_stored_forecasts_and_equal_fresh_ones(
    ctx: UseCaseContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    with monkeypatch.context() as patched:
        _fresh_forecasts(patched)
        fresh = await _screens(ctx)
    totals, views, cards = fresh
    assert totals.summary.total == 93
    shown = [risk for risk in cards.values() if risk is not None and risk.facts.forecast]
    assert shown, "the demo's cards show forecasts"
    for items in views.values():
        for risk in items:
            assert cards[risk.item_id] == risk  # the card and /dept: one assessment

    assert await _screens(ctx) == fresh  # nothing stored yet: computed as they are read
    await _scan(ctx)
    simulated: list[int] = []
    simulate = forecast_cache.item_forecast

    def counted(item_id: int, *args: object) -> Forecast:
        simulated.append(item_id)
        return simulate(item_id, *args)  # type: ignore[arg-type]

    with monkeypatch.context() as patched:
        _refuse_fresh_forecasts(patched)
        patched.setattr(forecast_cache, "item_forecast", counted)
        assert await _screens(ctx) == fresh
    borrowing = {
        risk.item_id
        for risk in shown
        if risk.facts.forecast is not None and risk.facts.forecast.borrowed != Borrowed.NONE
    }
    assert set(simulated) <= borrowing  # only the items a pool lends to are simulated again


async def test_a_report_not_yet_scanned_shows_at_once(
    ctx: UseCaseContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _scan(ctx)
    async with ctx.session_maker() as session:
        newest = (
            await session.exec(
                select(StatusUpdate)
                .where(StatusUpdate.progress > 0, StatusUpdate.progress < 60)
                .order_by(col(StatusUpdate.created_at).desc(), col(StatusUpdate.id).desc())
            )
        ).first()
        assert newest is not None
        session.add(
            StatusUpdate(
                item_id=newest.item_id,
                author_id=newest.author_id,
                status=newest.status,
                progress=newest.progress + 30,
                created_at=LOAD - timedelta(hours=1),
            )
        )
        await queries.mark_risk_dirty(session, now=LOAD, item_ids=[newest.item_id])
        await session.commit()
    with monkeypatch.context() as patched:
        _fresh_forecasts(patched)
        fresh = await _screens(ctx)
    assert await _screens(ctx) == fresh
