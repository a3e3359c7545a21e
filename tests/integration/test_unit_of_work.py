"""Step 1 of the house: one recipients rule, one "request now", refusals that do not undo."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from aiogram.utils.i18n import I18n
from sqlmodel import select

from bot.core.errors import DuplicateDepartmentError
from bot.core.parsing import NewDepartment
from bot.people import audit, recipients
from bot.reporting.rounds import request_now
from bot.roadmap import service as roadmap
from bot.workdays.calendar import WorkCalendar
from db.engine import SessionMaker
from db.models import AuditLog, Department, Notification, Person, RoadmapItem, Role

ALMATY = ZoneInfo("Asia/Almaty")
NOW = datetime(2025, 3, 3, 5, 0, tzinfo=UTC)  # Monday 10:00 in Almaty


def _person(telegram_id: int, role: str, **fields: object) -> Person:
    return Person(
        telegram_id=telegram_id,
        display_name=f"P{telegram_id}",
        role=role,
        created_at=NOW,
        updated_at=NOW,
        **fields,
    )


async def _department_with_people(session_maker: SessionMaker) -> int:
    async with session_maker() as session:
        department = Department(code="edu", name_kk="Білім", name_ru="Образование", created_at=NOW)
        session.add(department)
        await session.flush()
        assert department.id is not None
        session.add_all(
            [
                _person(1, Role.MEMBER, department_id=department.id),
                _person(2, Role.MEMBER, department_id=department.id, blocked_bot=True),
                _person(3, Role.MEMBER, department_id=department.id, active=False),
                _person(4, Role.CHAIR),
                _person(5, Role.CHAIR, blocked_bot=True),
                _person(6, Role.SECRETARIAT),
                _person(7, Role.SECRETARIAT, active=False),
                RoadmapItem(
                    code="1.1",
                    title_kk="Мектеп",
                    title_ru="Школа",
                    department_id=department.id,
                    deadline=date(2025, 9, 1),
                    year=2025,
                    created_at=NOW,
                ),
            ]
        )
        await session.commit()
        return department.id


async def test_one_rule_decides_who_may_be_messaged(session_maker: SessionMaker) -> None:
    department_id = await _department_with_people(session_maker)
    async with session_maker() as session:
        members = await recipients.department_members(session, department_id)
        chairs = await recipients.chairs(session)
        secretariat = await recipients.secretariat(session)
        both = await recipients.chair_and_secretariat(session)
    assert [person.telegram_id for person in members] == [1]
    assert [person.telegram_id for person in chairs] == [4]
    assert [person.telegram_id for person in secretariat] == [6]
    assert [person.telegram_id for person in both] == [4, 6]


@pytest.mark.parametrize(
    ("now", "delivery_at"),
    [
        (NOW, NOW),  # Monday 10:00: at once
        (  # Saturday 12:00: Monday 09:00
            datetime(2025, 3, 15, 7, 0, tzinfo=UTC),
            datetime(2025, 3, 17, 9, 0, tzinfo=ALMATY),
        ),
        (  # Saturday 8 March, Women's Day: Monday 10 March is its day off, so Tuesday
            datetime(2025, 3, 8, 7, 0, tzinfo=UTC),
            datetime(2025, 3, 11, 9, 0, tzinfo=ALMATY),
        ),
        (  # Monday 20:00: Tuesday 09:00
            datetime(2025, 3, 3, 15, 0, tzinfo=UTC),
            datetime(2025, 3, 4, 9, 0, tzinfo=ALMATY),
        ),
    ],
)
async def test_request_now_is_delivered_in_working_time(
    session_maker: SessionMaker, i18n: I18n, now: datetime, delivery_at: datetime
) -> None:
    await _department_with_people(session_maker)
    async with session_maker() as session:
        outcome = await request_now(
            session, i18n=i18n, tz=ALMATY, actor=None, department=None, now=now
        )
    assert outcome.delivery_at == delivery_at
    assert outcome.people_count == 1
    async with session_maker() as session:
        rows = (await session.exec(select(Notification))).all()
    assert [row.chat_id for row in rows] == [1]
    assert rows[0].not_before is not None
    assert rows[0].not_before.replace(tzinfo=UTC) == delivery_at.astimezone(UTC)


def test_weekdays_off_lists_holidays_not_weekends() -> None:
    calendar = WorkCalendar(ALMATY, {date(2025, 3, 4): True})
    days = calendar.weekdays_off(date(2025, 3, 1), days=10)
    # 4 March by hand; 8 March (a Saturday) is not listed, its transfer (10 March) is.
    assert date(2025, 3, 4) in days and date(2025, 3, 10) in days
    assert all(day.weekday() < 5 for day in days)


async def test_a_refusal_keeps_the_callers_person_and_pending_work(
    session_maker: SessionMaker,
) -> None:
    await _department_with_people(session_maker)
    async with session_maker() as session:
        person = (await session.exec(select(Person).where(Person.telegram_id == 1))).one()
        person.display_name = "Renamed"
        session.add(person)
        await audit.refused(session, person, "refused.test", "x", now=NOW)
        assert person.locale is None or isinstance(person.locale, str)  # still loaded
    async with session_maker() as session:
        entries = (await session.exec(select(AuditLog))).all()
        again = (await session.exec(select(Person).where(Person.telegram_id == 1))).one()
    assert [(entry.action, entry.target) for entry in entries] == [("refused.test", "x")]
    assert again.display_name == "Renamed"


async def test_a_lost_race_for_a_department_code_leaves_the_person_usable(
    session_maker: SessionMaker, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _department_with_people(session_maker)

    async def nobody_has_it(*_args: object) -> None:
        return None  # as if the concurrent /adddept committed after our check

    monkeypatch.setattr(roadmap.queries, "department_by_code", nobody_has_it)
    async with session_maker() as session:
        person = (await session.exec(select(Person).where(Person.telegram_id == 6))).one()
        with pytest.raises(DuplicateDepartmentError):
            await roadmap.add_department(
                session, actor=person, new=NewDepartment("edu", "А", "Б"), now=NOW
            )
        assert person.display_name == "P6"  # not expired by a rollback of the whole session
        await audit.refused(session, person, "refused.test", "edu", now=NOW)
    async with session_maker() as session:
        departments = (await session.exec(select(Department))).all()
        entries = (await session.exec(select(AuditLog))).all()
    assert [row.code for row in departments] == ["edu"]
    assert [entry.action for entry in entries] == ["refused.test"]
