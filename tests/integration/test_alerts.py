"""Chair alerts: enter, stay quiet, worsen, recover and re-enter; one per chair; the outbox."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from aiogram.utils.i18n import I18n
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.reporting.service import Draft, record_draft_correction
from bot.risk.alerts import enqueue_chair_alerts
from bot.telegram.callbacks import AskUpdate, ChairItem
from bot.telegram.i18n import format_day, in_locale
from db.models import ItemRiskState, Notification, Person, RiskEvent, Role
from tests.helpers.risk_world import NOW, THRESHOLDS, TODAY, TZ, World, build_world

LATER = NOW + timedelta(hours=3)


@pytest.fixture
async def world(session: AsyncSession) -> World:
    world = await build_world(session)
    for telegram_id, locale, active in (
        (5001, "ru", True),
        (5002, "kk", True),
        (5003, "ru", False),
    ):
        session.add(
            Person(
                telegram_id=telegram_id,
                display_name=f"Chair {telegram_id}",
                role=Role.CHAIR,
                locale=locale,
                active=active,
                created_at=NOW,
                updated_at=NOW,
            )
        )
    await session.commit()
    return world


async def run(
    session: AsyncSession,
    i18n: I18n,
    days: int = 0,
    hours: int = 0,
    cap: int = 100,
    not_before: datetime | None = None,
) -> int:
    return await enqueue_chair_alerts(
        session,
        i18n=i18n,
        today=TODAY + timedelta(days=days),
        now=NOW + timedelta(days=days, hours=hours),
        not_before=not_before or LATER + timedelta(days=days),
        thresholds=THRESHOLDS,
        tz=TZ,
        hourly_cap=cap,
    )


async def alerts(session: AsyncSession) -> list[Notification]:
    statement = select(Notification).where(Notification.kind == "alert")
    return list((await session.exec(statement.order_by(Notification.id))).all())


async def test_entering_a_risk_state_alerts_each_active_chair_once(
    world: World, session: AsyncSession, i18n: I18n
) -> None:
    # Six items at risk at once: ONE grouped message for each of the two active chairs.
    assert await run(session, i18n) == 2
    rows = await alerts(session)
    assert {row.chat_id for row in rows} == {5001, 5002}
    assert all(row.not_before == LATER and row.state == "pending" for row in rows)
    payloads = {row.chat_id: json.loads(row.payload) for row in rows}
    ru = payloads[5001]["params"]
    assert payloads[5001]["method"] == "sendMessage" and ru["parse_mode"] == "HTML"
    headline = i18n.gettext(
        "{count} item newly at risk", "{count} items newly at risk", 6, locale="ru"
    ).format(count=6)
    assert ru["text"].startswith(f"⚠️ <b>{headline}</b>")
    for code in ("1.2", "1.3", "2.1", "2.2", "2.3", "2.4"):
        assert f"<b>{code}</b>" in ru["text"]
    assert "<b>Управление build</b> — 4" in ru["text"] and "<b>Управление edu</b> — 2" in ru["text"]
    assert ru["text"] != payloads[5002]["params"]["text"]  # each chair in their language
    assert "Edu басқармасы" in payloads[5002]["params"]["text"]  # the short name (B11)
    buttons = [b["callback_data"] for row in ru["reply_markup"]["inline_keyboard"] for b in row]
    assert sorted(buttons) == sorted(
        ChairItem(item_id=world.items[code].id).pack()
        for code in ("1.2", "1.3", "2.1", "2.2", "2.3", "2.4")
    )

    # Same state the next hour and the next day: nothing new.
    assert await run(session, i18n) == 0
    assert await run(session, i18n, days=1) == 0
    assert len(await alerts(session)) == 2


async def test_one_transition_is_one_alert_naming_who_reported_and_when(
    world: World, session: AsyncSession, i18n: I18n
) -> None:
    await run(session, i18n)
    await world.update("1.1", TODAY, "blocked", 45, "Нет <денег> & всё", "financing")
    await session.commit()
    assert await run(session, i18n) == 2
    item_id = world.items["1.1"].id
    rows = [row for row in await alerts(session) if row.idempotency_key.startswith("alert:")]
    assert sorted(row.idempotency_key for row in rows) == [
        f"alert:{item_id}:1:blocked:{person}" for person in sorted({r.person_id for r in rows})
    ]
    payloads = {row.chat_id: json.loads(row.payload) for row in rows}
    ru = payloads[5001]["params"]["text"]
    assert "<b>1.1</b>" in ru and "Управление edu" in ru
    assert "Нет &lt;денег&gt; &amp; всё" in ru
    cause = i18n.gettext("financing", locale="ru")
    assert ru.count(cause) == 1  # the cause is stated once
    reported = i18n.gettext("Reported by {author} on {date}", locale="ru")
    with in_locale(i18n, "ru"):
        assert reported.format(author="Author", date=format_day(TODAY)) in ru
    buttons = [
        b["callback_data"]
        for row in payloads[5001]["params"]["reply_markup"]["inline_keyboard"]
        for b in row
    ]
    assert buttons == [ChairItem(item_id=item_id).pack(), AskUpdate(item_id=item_id).pack()]


async def test_an_hourly_cap_holds_back_further_alerts(
    world: World, session: AsyncSession, i18n: I18n
) -> None:
    # In working time an alert goes out at once (`not_before` is now).
    assert await run(session, i18n, cap=1, not_before=NOW) == 2  # grouped, one per chair
    await world.update("1.1", TODAY, "blocked", 45, "Дожди", "other")
    await session.commit()
    assert await run(session, i18n, cap=1, not_before=NOW) == 0  # the cap is reached this hour
    state = await session.get(ItemRiskState, world.items["1.1"].id)
    assert state is not None and state.state == "blocked"  # recorded: no alert later either
    await world.update("1.4", TODAY, "blocked", 10, "Дожди", "other")
    await session.commit()
    two_hours_on = NOW + timedelta(hours=2)
    assert await run(session, i18n, hours=2, cap=1, not_before=two_hours_on) == 2  # room again


async def test_alerts_held_overnight_count_against_the_hour_they_go_out_in(
    world: World, session: AsyncSession, i18n: I18n
) -> None:
    """An evening of changes, each scan's alert held to the next working morning: the chair
    gets at most `cap` of them at 09:00, not one per scan."""
    morning = NOW + timedelta(hours=15)
    assert await run(session, i18n, cap=2, not_before=morning) == 2  # one per chair
    for hour, code in enumerate(("1.1", "1.4"), start=1):
        await world.update(code, TODAY, "blocked", 10, "Дожди", "other")
        await session.commit()
        added = await run(session, i18n, hours=hour * 2, cap=2, not_before=morning)
        assert added == (2 if hour == 1 else 0)  # the second evening change: the cap is full
    due = [row.not_before for row in await alerts(session)]
    assert due == [morning] * 4  # two per chair at 09:00, none dropped on the way
    # An hour and more after the morning's alerts went out, a new one is sent again.
    await world.update("2.5", TODAY, "blocked", 10, "Дожди", "other")
    await session.commit()
    later = morning + timedelta(hours=1, minutes=1)
    assert await run(session, i18n, hours=16, cap=2, not_before=later) == 2


async def test_worsening_alerts_again_and_improving_does_not(
    world: World, session: AsyncSession, i18n: I18n
) -> None:
    await run(session, i18n)
    item = world.items["2.4"]  # at risk: its deadline was postponed
    await world.update("2.4", TODAY, "blocked", 50, "Нет подрядчика", "contractor")
    await session.commit()
    assert await run(session, i18n) == 2
    await world.update("2.4", TODAY, "at_risk", 55, "Подрядчик найден", "contractor")
    await session.commit()
    assert await run(session, i18n) == 0  # better, still at risk: no news for the chair
    await world.update("1.2", TODAY, "at_risk", 45, "Деньги нашлись частично", "financing")
    await session.commit()
    assert await run(session, i18n) == 0  # blocked → at risk: better, so no alert either
    state = await session.get(ItemRiskState, item.id)
    assert state is not None and state.state == "at_risk"
    item.deadline = TODAY - timedelta(days=1)
    session.add(item)
    await session.commit()
    assert await run(session, i18n) == 2  # becomes overdue
    keys = [
        row.idempotency_key
        for row in await alerts(session)
        if f":{item.id}:" in row.idempotency_key
    ]
    # Entering "at risk" was part of the first, grouped message; then one alert per step.
    assert sorted(key.split(":")[3] for key in keys) == ["blocked"] * 2 + ["overdue"] * 2


async def test_recovery_then_a_new_risk_is_a_new_alert(
    world: World, session: AsyncSession, i18n: I18n
) -> None:
    await run(session, i18n)
    item = world.items["2.2"]  # behind plan
    await world.update("2.2", TODAY, "on_track", 70)
    await session.commit()
    assert await run(session, i18n) == 0
    state = await session.get(ItemRiskState, item.id)
    assert state is not None and (state.state, state.episode) == ("none", 1)
    await world.update("2.2", TODAY, "at_risk", 70, "Задержка поставки", "procurement")
    await session.commit()
    assert await run(session, i18n) == 2
    state = await session.get(ItemRiskState, item.id)
    assert state is not None and (state.state, state.episode) == ("at_risk", 2)


async def test_no_chairs_no_alerts_but_state_and_events_are_kept(
    world: World, session: AsyncSession, i18n: I18n
) -> None:
    for person in (await session.exec(select(Person).where(Person.role == Role.CHAIR))).all():
        person.active = False
        session.add(person)
    update = await world.update("1.1", TODAY, "at_risk", 45, "Дожди", "other")
    session.add(
        RiskEvent(
            item_id=world.items["1.1"].id,  # type: ignore[arg-type]
            status_update_id=update.id,  # type: ignore[arg-type]
            kind="declared_at_risk",
            created_at=NOW,
        )
    )
    await session.commit()
    assert await run(session, i18n) == 0
    (event,) = (await session.exec(select(RiskEvent))).all()
    assert event.handled_at == NOW
    states = (await session.exec(select(ItemRiskState))).all()
    assert len([s for s in states if s.state != "none"]) == 7


async def test_a_correction_into_a_risk_alerts_once_and_says_corrected(
    world: World, session: AsyncSession, i18n: I18n
) -> None:
    """Issue 22: "Edit my last update" that turns an on-track report into a declared risk is
    a risk event of its own; the chair's alert says the report was corrected. Correcting it
    again without a new risk raises no second event."""
    await run(session, i18n)
    original = await world.update("1.1", TODAY, "on_track", 45)
    await session.commit()
    assert world.author is not None
    draft = Draft(
        item_id=original.item_id, status="at_risk", progress=40, cause="contractor", comment="Ой"
    )
    saved = await record_draft_correction(
        session, person=world.author, original=original, draft=draft, now=NOW + timedelta(hours=1)
    )
    await session.commit()
    assert saved.risk_event is not None and saved.risk_event.kind == "declared_at_risk"
    assert original.corrected and saved.update.corrects_id == original.id

    assert await run(session, i18n, hours=2) == 2
    (ru,) = [
        json.loads(row.payload)["params"]["text"]
        for row in await alerts(session)
        if row.idempotency_key.startswith("alert:") and row.chat_id == 5001
    ]
    corrected = i18n.gettext("Corrected: the department changed its earlier report.", locale="ru")
    assert "<b>1.1</b>" in ru and corrected in ru

    again = Draft(
        item_id=original.item_id, status="at_risk", progress=40, cause="contractor", comment="Ой!"
    )
    resaved = await record_draft_correction(
        session,
        person=world.author,
        original=saved.update,
        draft=again,
        now=NOW + timedelta(hours=3),
    )
    assert resaved.risk_event is None  # the chair has heard of this risk already
