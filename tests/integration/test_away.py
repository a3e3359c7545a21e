"""Deputies and time away: requests, reminders and nudges go to the deputy (or the other
members), the head gets none, an all-away round is not missed, and it ends by itself."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from aiogram.methods import SendMessage
from sqlmodel import select

from bot.core.clock import FrozenClock
from bot.delivery.worker import DeliveryWorker
from bot.people import recipients
from bot.risk.assess import _recent_requests
from bot.risk.rules import RiskThresholds
from bot.scheduling.jobs import Jobs
from bot.spreadsheets.stats import department_stats
from db.engine import SessionMaker
from db.models import Notification, Person, RoundRequest
from tests.helpers.chat import ADMIN_ID, rows
from tests.helpers.reporting_world import BUILD_HEAD, EDU_DEPUTY, EDU_HEAD, World


async def _chats(session_maker: SessionMaker, kind: str) -> set[int]:
    return {n.chat_id for n in await rows(session_maker, Notification) if n.kind == kind}


async def test_away_with_a_deputy_routes_the_round_to_the_deputy(
    world: World, session_maker: SessionMaker, clock: FrozenClock
) -> None:
    chatter = world.chatter
    answer = (await chatter.send(EDU_HEAD, f"/away 2025-03-10 {EDU_DEPUTY}"))[-1].text
    assert "оралатын күні — 2025\u202fж. 10 наурыз" in answer and f"User{EDU_DEPUTY}" in answer
    await chatter.send(ADMIN_ID, "/request_now edu")
    assert await _chats(session_maker, "round") == {EDU_DEPUTY}

    # The away window ends by itself: back on 10 March, the head is asked again.
    clock.set(datetime(2025, 3, 10, 5, 0, tzinfo=UTC))
    await chatter.send(ADMIN_ID, "/request_now edu")
    rounds = [n for n in await rows(session_maker, Notification) if n.kind == "round"]
    assert sorted(n.chat_id for n in rounds) == [EDU_HEAD, EDU_DEPUTY, EDU_DEPUTY]


async def test_everybody_away_is_not_a_missed_round(
    world: World, session_maker: SessionMaker, clock: FrozenClock, jobs: Jobs
) -> None:
    chatter = world.chatter
    await chatter.send(EDU_HEAD, "/away 2025-03-20")
    await chatter.send(EDU_DEPUTY, "/away 20.03.2025")
    for days in (0, 7):
        clock.set(datetime(2025, 3, 3, 5, 0, tzinfo=UTC) + timedelta(days=days))
        await chatter.send(ADMIN_ID, "/request_now edu")
    requests = await rows(session_maker, RoundRequest)
    assert [(r.people_count, r.excused) for r in requests] == [(0, True), (0, True)]
    async with session_maker() as session:
        recent = await _recent_requests(session, RiskThresholds().missed_rounds, None)
        stats = await department_stats(session, today=date(2025, 3, 10))
    assert recent.get(requests[0].department_id, []) == []  # excused requests never count
    edu = next(row for row in stats if row.department.code == "edu")
    assert (edu.requests, edu.answered) == (0, 0)  # not two unanswered requests
    clock.set(datetime(2025, 3, 14, 4, 30, tzinfo=UTC))
    report = await jobs.daily_scan()
    assert (report.nudges, report.escalations) == (0, 0)


async def test_away_without_a_deputy_goes_to_the_other_members(
    world: World, session_maker: SessionMaker, clock: FrozenClock
) -> None:
    async with session_maker() as session:
        head = (await session.exec(select(Person).where(Person.telegram_id == EDU_HEAD))).one()
        head.away_until = date(2025, 3, 20)
        session.add(head)
        await session.commit()
        assert head.department_id is not None
        today = date(2025, 3, 3)
        audience = await recipients.department_audience(session, head.department_id, today)
    assert [p.telegram_id for p in audience.people] == [EDU_DEPUTY]
    assert not audience.everybody_away


async def test_the_secretariat_sets_time_away_and_bad_input_is_explained(
    world: World, session_maker: SessionMaker
) -> None:
    chatter = world.chatter
    set_by_secretariat = (await chatter.send(ADMIN_ID, f"/setaway {EDU_HEAD} 15.03.2025"))[-1]
    assert "15 марта 2025" in set_by_secretariat.text.replace("\u202f", " ")
    assert "другие сотрудники управления" in set_by_secretariat.text
    for bad in ("/away 2025-03-01", f"/away 2025-03-20 {BUILD_HEAD}", "/away 2025-03-20 @nobody"):
        reply = (await chatter.send(EDU_DEPUTY, bad))[-1]
        assert isinstance(reply, SendMessage) and "отсутствует" not in reply.text
    assert "/away" in (await chatter.send(EDU_DEPUTY, "/away someday"))[-1].text
    back = (await chatter.send(EDU_HEAD, "/away off"))[-1].text
    assert "жұмысқа оралды" in back
    async with session_maker() as session:
        head = (await session.exec(select(Person).where(Person.telegram_id == EDU_HEAD))).one()
    assert head.away_until is None and head.deputy_id is None


async def test_reminders_and_nudges_skip_the_away_head(
    world: World,
    session_maker: SessionMaker,
    clock: FrozenClock,
    jobs: Jobs,
    outbox: DeliveryWorker,
) -> None:
    chatter = world.chatter
    await chatter.send(EDU_HEAD, f"/away 2025-04-30 {EDU_DEPUTY}")
    await chatter.send(ADMIN_ID, "/request_now edu")
    clock.set(datetime(2025, 3, 6, 4, 30, tzinfo=UTC))  # Thursday: silent 2 working days
    report = await jobs.daily_scan()
    assert report.nudges >= 1
    assert await _chats(session_maker, "nudge") == {EDU_DEPUTY}
    clock.set(datetime(2025, 3, 25, 4, 30, tzinfo=UTC))  # 1.2 is due 1 April: a reminder
    await jobs.daily_scan()
    assert EDU_HEAD not in await _chats(session_maker, "reminder")
    assert EDU_DEPUTY in await _chats(session_maker, "reminder")
