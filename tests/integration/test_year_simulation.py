"""A simulated year of the bot's clockwork over a small roadmap, with a restart in July.

Time moves by setting a FrozenClock; jobs are called at the hours the scheduler would call
them; the outbox is drained through a recording bot. Nothing sleeps.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from aiogram.methods import SendMessage
from aiogram.utils.i18n import I18n
from sqlmodel import col, select

from bot.app.config import Settings
from bot.core.clock import FrozenClock
from bot.core.ratelimit import RateLimiter
from bot.delivery.worker import DeliveryWorker
from bot.reporting.service import Draft, open_items, save_update
from bot.scheduling.jobs import Jobs
from bot.scheduling.reminders import ladder
from bot.workdays.calendar import WorkCalendar
from db.engine import SessionMaker
from db.models import (
    Department,
    Notification,
    Person,
    ReminderLog,
    RoadmapItem,
    Role,
    RoundRequest,
    StatusUpdate,
)
from tests.helpers.chat import VirtualTimer
from tests.helpers.mocked_bot import MockedBot

ALMATY = ZoneInfo("Asia/Almaty")
YEAR_START = date(2025, 1, 1)
YEAR_END = date(2025, 12, 31)
RESTART = date(2025, 7, 1)
DEADLINES = {
    "A": ("edu", date(2025, 4, 15)),  # done on 21 April: its overdue reminders stop
    "B": ("edu", date(2025, 7, 6)),  # a Sunday, Capital Day weekend
    "C": ("build", date(2025, 9, 1)),  # Constitution Day (observed)
    "D": ("build", date(2025, 12, 31)),
    "E": ("silent", date(2025, 6, 1)),  # a Sunday; its department never answers
}
DONE = {"A": date(2025, 4, 21)}


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=ALMATY).astimezone(UTC)


async def build_roadmap(session_maker: SessionMaker) -> dict[str, Person]:
    created = datetime(2024, 12, 20, tzinfo=UTC)
    async with session_maker() as session:
        departments = {}
        for code in ("edu", "build", "silent"):
            department = Department(code=code, name_kk=code, name_ru=code, created_at=created)
            session.add(department)
            departments[code] = department
        await session.flush()
        for code, (department, deadline) in DEADLINES.items():
            session.add(
                RoadmapItem(
                    code=code,
                    title_kk=f"Тармақ {code}",
                    title_ru=f"Пункт {code}",
                    department_id=departments[department].id,
                    deadline=deadline,
                    year=2025,
                    created_at=created,
                )
            )
        people = {}
        for telegram_id, (name, role, department, locale) in enumerate(
            [
                ("edu", Role.MEMBER, "edu", "kk"),
                ("build", Role.MEMBER, "build", "ru"),
                ("silent", Role.MEMBER, "silent", "ru"),
                ("chair", Role.CHAIR, None, "ru"),
            ],
            start=9001,
        ):
            person = Person(
                telegram_id=telegram_id,
                display_name=name,
                locale=locale,
                role=role,
                department_id=departments[department].id if department else None,
                created_at=created,
                updated_at=created,
            )
            session.add(person)
            people[name] = person
        await session.commit()
    return people


async def answer_round(session_maker: SessionMaker, person: Person, now: datetime) -> None:
    """Answer the department's newest request, if it is still unanswered."""
    async with session_maker() as session:
        newest = (
            await session.exec(
                select(RoundRequest)
                .where(RoundRequest.department_id == person.department_id)
                .order_by(col(RoundRequest.requested_at).desc())
                .limit(1)
            )
        ).first()
        if newest is None or newest.answered_at is not None:
            return
        for item in await open_items(session, person.department_id):  # type: ignore[arg-type]
            progress = min(95, (now.timetuple().tm_yday * 100) // 365)
            draft = Draft(item_id=item.id, status="on_track", progress=progress)  # type: ignore[arg-type]
            await save_update(session, person=person, draft=draft, now=now)


async def mark_done(session_maker: SessionMaker, person: Person, code: str, now: datetime) -> None:
    async with session_maker() as session:
        item = (await session.exec(select(RoadmapItem).where(RoadmapItem.code == code))).one()
        draft = Draft(item_id=item.id, status="done", progress=100)  # type: ignore[arg-type]
        await save_update(session, person=person, draft=draft, now=now)


def make_jobs(
    session_maker: SessionMaker, settings: Settings, i18n: I18n, clock: FrozenClock, bot: MockedBot
) -> tuple[Jobs, DeliveryWorker]:
    """A fresh process: new worker, new jobs, nothing carried over in memory."""
    timer = VirtualTimer()
    outbox = DeliveryWorker(
        session_maker=session_maker,
        bot=bot,
        clock=clock,
        limiter=RateLimiter(clock=timer.monotonic, sleep=timer.sleep),
    )
    jobs = Jobs(
        session_maker=session_maker, i18n=i18n, settings=settings, clock=clock, outbox=outbox
    )
    return jobs, outbox


@pytest.mark.slow
async def test_a_year_of_reminders_rounds_nudges_and_escalations(  # noqa: C901 - every kind of day
    session_maker: SessionMaker, settings: Settings, i18n: I18n, clock: FrozenClock
) -> None:
    people = await build_roadmap(session_maker)
    bot = MockedBot()
    jobs, outbox = make_jobs(session_maker, settings, i18n, clock, bot)
    calendar = WorkCalendar(ALMATY)
    sends: list[tuple[datetime, SendMessage]] = []

    async def drain_at(moment: datetime) -> None:
        clock.set(moment)
        await outbox.drain_all()
        sends.extend(
            (moment, request) for request in bot.take() if isinstance(request, SendMessage)
        )

    day = YEAR_START
    while day <= YEAR_END:
        if day == RESTART:
            jobs, outbox = make_jobs(session_maker, settings, i18n, clock, bot)
            clock.set(local(day, 8))
            await jobs.catch_up()  # before the reminder time: nothing to catch up yet
        if day.weekday() == 0:
            clock.set(local(day, 10))
            await jobs.scheduled_round()
        clock.set(local(day, 9, 30))
        await jobs.daily_scan()
        if day == RESTART:
            await jobs.daily_scan()  # an overlapping second scan sends nothing twice
        await drain_at(local(day, 9, 30))
        await drain_at(local(day, 10, 5))
        if calendar.is_working_day(day):  # they answer on the day the request reaches them
            for name in ("edu", "build"):
                await answer_round(session_maker, people[name], local(day, 11))
        for code, done_on in DONE.items():
            if day == done_on:
                await mark_done(session_maker, people["edu"], code, local(day, 12))
        await drain_at(local(day, 23))
        day += timedelta(days=1)

    async with session_maker() as session:
        notifications = (await session.exec(select(Notification))).all()
        logs = (await session.exec(select(ReminderLog))).all()
        items = {i.id: i for i in (await session.exec(select(RoadmapItem))).all()}
        updates = (await session.exec(select(StatusUpdate))).all()

    # Every notification went out exactly once, and only in working time.
    assert all(n.state == "sent" for n in notifications)
    assert len(sends) == len(notifications)
    for moment, _request in sends:
        assert calendar.is_working_time(moment), moment.astimezone(ALMATY)

    # The ladder: each step once; a step on a day off goes out on the next working day
    # unless a newer step has come by then.
    sent_steps = Counter((items[log.item_id].code, log.step, log.step_date) for log in logs)
    assert all(count == 1 for count in sent_steps.values())
    sent_on = {
        (items[log.item_id].code, log.step, log.step_date): log.created_at.astimezone(ALMATY).date()
        for log in logs
    }
    for code, (_department, deadline) in DEADLINES.items():
        last_open_day = DONE.get(code, YEAR_END)
        steps = ladder(deadline, last_open_day)
        for position, step in enumerate(steps):
            if step.on < YEAR_START:
                continue
            first_working = step.on
            while not calendar.is_working_day(first_working):
                first_working += timedelta(days=1)
            superseded = any(later.on <= first_working for later in steps[position + 1 :])
            key = (code, step.name, step.on)
            if superseded or first_working > last_open_day:
                assert key not in sent_on, key
            else:
                assert sent_on.get(key) == first_working, key
    overdue_c = sorted(step for code, step, _on in sent_steps if code == "C" and "overdue" in step)
    assert len(overdue_c) >= 15  # every 7 days from September to December
    assert not any(
        code == "A" and "overdue" in step and on > DONE["A"] for code, step, on in sent_steps
    )

    # Nudges and escalation for the silent department; none for those who answer.
    kinds = Counter(n.kind for n in notifications)
    silent_id, chair_id = people["silent"].id, people["chair"].id
    nudges = [n for n in notifications if n.kind == "nudge"]
    assert nudges and all(n.person_id == silent_id for n in nudges)
    assert len({n.idempotency_key for n in nudges}) == len(nudges) >= 40
    escalations = [n for n in notifications if n.kind == "escalation"]
    assert [n.person_id for n in escalations] == [chair_id]
    mondays = sum(1 for offset in range(365) if (YEAR_START + timedelta(offset)).weekday() == 0)
    assert kinds["round"] == 3 * mondays  # one request per person and week, none repeated
    assert len(updates) > 100
