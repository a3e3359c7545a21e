"""The chair's and the item use cases on a real database: one card wherever it is opened,
access decided in the use case, each outcome plain data, each signal sent once."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from aiogram.methods import SendMessage
from aiogram.utils.i18n import I18n
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.clock import FrozenClock
from bot.core.parsing import NewDepartment
from bot.risk import forecast_views, views
from bot.risk.alerts import alert_keyboard
from bot.risk.dismissals import DismissRefusal
from bot.risk.rules import RiskReason
from bot.telegram.callbacks import ChairDepartment, ChairItem
from bot.telegram.i18n import in_locale
from bot.usecases.departments import (
    ShortNamesSet,
    ShortNamesTooLong,
    UnknownDepartment,
    set_short_names,
)
from bot.usecases.items import (
    EvidenceFile,
    ItemCardShown,
    ItemHidden,
    ItemMissing,
    UpdateRequested,
    evidence_file,
    item_card,
    request_item_update,
)
from bot.usecases.overview import DepartmentChoice, department_view, summary
from bot.usecases.ports import UseCaseContext
from bot.usecases.risks import Dismissed, DismissInvalid, DismissRefused, dismiss_risk
from db.engine import SessionMaker
from db.models import AuditLog, Notification, Person, RiskDismissal, StatusUpdate
from tests.helpers.chat import Chatter
from tests.helpers.risk_world import (
    CHAIR,
    MEMBER,
    NOW,
    SECRETARY,
    THRESHOLDS,
    TZ,
    World,
    build_world,
    readers,
)


@dataclass
class RecordedSignals:
    sent: list[str] = field(default_factory=list)

    def alert_soon(self) -> None:
        self.sent.append("alert_soon")

    def wake_outbox(self) -> None:
        self.sent.append("wake_outbox")


@pytest.fixture
async def world(session: AsyncSession, clock: FrozenClock) -> World:
    world = await build_world(session)
    await readers(session, world)
    clock.set(NOW)
    return world


@pytest.fixture
def signals() -> RecordedSignals:
    return RecordedSignals()


@pytest.fixture
def ctx(
    session_maker: SessionMaker, clock: FrozenClock, i18n: I18n, signals: RecordedSignals
) -> UseCaseContext:
    return UseCaseContext(
        session_maker=session_maker,
        clock=clock,
        tz=TZ,
        i18n=i18n,
        signals=signals,
        thresholds=THRESHOLDS,
    )


async def person(session_maker: SessionMaker, telegram_id: int) -> Person:
    async with session_maker() as session:
        statement = select(Person).where(Person.telegram_id == telegram_id)
        return (await session.exec(statement)).one()


async def audit_actions(session_maker: SessionMaker) -> list[str]:
    async with session_maker() as session:
        return [row.action for row in (await session.exec(select(AuditLog))).all()]


def card_texts(requests: list[object]) -> list[str]:
    return [r.text for r in requests if isinstance(r, SendMessage)]


async def test_one_card_from_item_the_alert_the_department_and_the_summary(
    chatter: Chatter, world: World
) -> None:
    """/item, the alert's [History], a /dept item button and a summary's drill-down: the
    same card text, reasons and thresholds included."""
    for code in ("1.2", "2.1", "1.1"):
        item_id = world.items[code].id
        assert item_id is not None
        (typed,) = card_texts(await chatter.send(CHAIR, f"/item {code}"))
        with in_locale(chatter.dispatcher["i18n"], "ru"):
            history_button = alert_keyboard(item_id).inline_keyboard[0][0].callback_data
        assert history_button == ChairItem(item_id=item_id).pack()
        (from_alert,) = card_texts(await chatter.press(CHAIR, history_button))
        assert from_alert == typed
    (department,) = card_texts(await chatter.send(CHAIR, "/dept build"))
    assert "2.1" in department
    drilled = await chatter.press(
        CHAIR, ChairDepartment(department_id=world.departments["build"].id or 0, year=2025).pack()
    )
    (shown,) = [r for r in drilled if isinstance(r, SendMessage)]
    first = shown.reply_markup.inline_keyboard[0][0].callback_data
    (from_department,) = card_texts(await chatter.press(CHAIR, first))
    code = next(c for c, item in world.items.items() if item.id == ChairItem.unpack(first).item_id)
    (typed,) = card_texts(await chatter.send(CHAIR, f"/item {code}"))
    assert from_department == typed


async def test_the_card_by_code_and_by_button_is_the_same_outcome(
    ctx: UseCaseContext, world: World, session_maker: SessionMaker
) -> None:
    chair = await person(session_maker, CHAIR)
    by_code = await item_card(ctx, chair, "2.1")
    by_id = await item_card(ctx, chair, world.items["2.1"].id or 0)
    assert isinstance(by_code, ItemCardShown) and isinstance(by_id, ItemCardShown)
    assert by_code.risk is not None and by_code.risk.reasons == [RiskReason.STALE]
    assert by_code.risk == by_id.risk and by_code.today == by_id.today
    with in_locale(ctx.i18n, "ru"):
        assert views.card_text(by_code.card, by_code.risk, by_code.today, TZ) == views.card_text(
            by_id.card, by_id.risk, by_id.today, TZ
        )
    healthy = await item_card(ctx, chair, "1.1")
    assert isinstance(healthy, ItemCardShown)
    assert healthy.risk is None or not healthy.risk.reasons


async def test_who_sees_a_card_is_decided_by_the_use_case(
    ctx: UseCaseContext, world: World, session_maker: SessionMaker, signals: RecordedSignals
) -> None:
    chair, member = await person(session_maker, CHAIR), await person(session_maker, MEMBER)
    assert await item_card(ctx, chair, "9.9") == ItemMissing("9.9")
    assert await item_card(ctx, member, "9.9") == ItemHidden("9.9")  # the same as another's
    assert "refused.item" not in await audit_actions(session_maker)
    assert isinstance(await item_card(ctx, member, "1.2"), ItemCardShown)  # own department
    assert await item_card(ctx, member, "2.1") == ItemHidden("2.1")
    assert (await audit_actions(session_maker)).count("refused.item") == 1
    assert signals.sent == []  # reading signals nothing


async def test_asking_for_an_update_queues_the_request_and_wakes_the_outbox(
    ctx: UseCaseContext,
    world: World,
    session_maker: SessionMaker,
    signals: RecordedSignals,
) -> None:
    secretary, member = await person(session_maker, SECRETARY), await person(session_maker, MEMBER)
    item_id = world.items["1.2"].id or 0
    asked = await request_item_update(ctx, secretary, item_id)
    assert isinstance(asked, UpdateRequested)
    assert asked.item.code == "1.2" and asked.department.code == "edu"
    assert asked.people == 2  # the world's author and the member, both in edu
    assert signals.sent == ["wake_outbox"]
    async with session_maker() as session:
        queued = (await session.exec(select(Notification))).all()
    assert len(queued) == 2 and {n.kind for n in queued} == {"item_request"}
    assert "round.item_request" in await audit_actions(session_maker)

    assert await request_item_update(ctx, member, item_id) == ItemHidden(item_id)
    assert await request_item_update(ctx, secretary, 10**6) == ItemMissing(10**6)
    assert signals.sent == ["wake_outbox"]  # refusals signal nothing


async def test_evidence_only_for_those_who_may_see_the_item(
    ctx: UseCaseContext, world: World, session_maker: SessionMaker
) -> None:
    async with session_maker() as session:
        statement = select(StatusUpdate).where(StatusUpdate.item_id == world.items["2.1"].id)
        update = (await session.exec(statement)).one()
        update.evidence_file_id, update.evidence_kind = "photo-1", "photo"
        session.add(update)
        await session.commit()
    assert update.id is not None
    chair, member = await person(session_maker, CHAIR), await person(session_maker, MEMBER)
    found = await evidence_file(ctx, chair, update.id)
    assert isinstance(found, EvidenceFile)
    assert found.file_id == "photo-1" and found.is_photo and found.item.code == "2.1"
    assert await evidence_file(ctx, None, update.id) is None
    assert await evidence_file(ctx, member, update.id) is None  # build's item, edu's member
    assert "refused.evidence" in await audit_actions(session_maker)


async def test_department_view_and_summary(
    ctx: UseCaseContext, world: World, session_maker: SessionMaker
) -> None:
    shown = await department_view(ctx, "build")
    assert shown is not None and shown.year == 2025
    assert sorted(risk.code for risk in shown.items) == ["2.1", "2.2", "2.3", "2.4", "2.5"]
    chances = [forecast_views.by_chance(risk) for risk in shown.items]
    assert chances == sorted(chances)  # the least likely to be met first
    assert shown.summary.total == 5 and shown.summary.at_risk == 4
    by_id = await department_view(ctx, world.departments["build"].id or 0, 2026)
    assert by_id is not None and [risk.code for risk in by_id.items] == ["9.1"]
    # issue 23: words that fit no department offer them all as buttons (no dead end)
    nowhere = await department_view(ctx, "nowhere")
    assert isinstance(nowhere, DepartmentChoice) and nowhere.typed == "nowhere"
    assert not nowhere.several and len(nowhere.departments) == len(world.departments)

    year = await summary(ctx)
    assert year.year == 2025 and year.summary.total == 9 and year.summary.at_risk == 6
    assert year.weekly[-1] == (year.today, 6)  # the chart's last point: today
    assert (await summary(ctx, 2030)).summary.total == 0


async def test_dismiss_risk_outcomes(
    ctx: UseCaseContext, world: World, session_maker: SessionMaker
) -> None:
    secretary = await person(session_maker, SECRETARY)
    assert await dismiss_risk(ctx, secretary, "2.1", "nonsense", "why") == DismissInvalid()
    assert await dismiss_risk(ctx, secretary, "2.1", "stale", "  ") == DismissInvalid()
    assert await dismiss_risk(ctx, secretary, "2.1", "stale", "x" * 501) == DismissInvalid()
    assert await dismiss_risk(ctx, secretary, "2.1", "stale", "Подрядчик отчитается") == (
        Dismissed("2.1", RiskReason.STALE)
    )
    async with session_maker() as session:
        (dismissal,) = (await session.exec(select(RiskDismissal))).all()
    assert dismissal.reason == RiskReason.STALE and dismissal.text == "Подрядчик отчитается"
    assert await dismiss_risk(ctx, secretary, "2.1", "stale", "again") == DismissRefused(
        "2.1", DismissRefusal.NOT_APPLICABLE
    )
    assert await dismiss_risk(ctx, secretary, "1.2", "declared", "no") == DismissRefused(
        "1.2", DismissRefusal.NOT_DISMISSIBLE
    )
    assert await dismiss_risk(ctx, secretary, "9.9", "stale", "no") == DismissRefused(
        "9.9", DismissRefusal.UNKNOWN_ITEM
    )


async def test_short_names_outcomes(
    ctx: UseCaseContext, world: World, session_maker: SessionMaker
) -> None:
    secretary = await person(session_maker, SECRETARY)
    too_long = NewDepartment("build", "К" * 81, "С")
    assert isinstance(await set_short_names(ctx, secretary, too_long), ShortNamesTooLong)
    unknown = NewDepartment("nowhere", "К", "С")
    assert await set_short_names(ctx, secretary, unknown) == UnknownDepartment("nowhere")
    done = await set_short_names(ctx, secretary, NewDepartment("build", "Құрылыс", "Стройка"))
    assert isinstance(done, ShortNamesSet) and done.department.short_name_ru == "Стройка"
    assert "department.short_name" in await audit_actions(session_maker)
