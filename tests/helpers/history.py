"""A roadmap with a history of rounds and updates, for the statistics, export and report tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from bot.core.clock import FrozenClock
from db.engine import SessionMaker
from db.models import (
    Department,
    Person,
    RoadmapItem,
    Role,
    RoundRequest,
    StatusRound,
    StatusUpdate,
)

FORMULA_COMMENT = '=HYPERLINK("http://example.com/x","click")'


@dataclass
class History:
    departments: dict[str, int]
    items: dict[str, int]
    people: dict[str, int]


def _at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


async def seed_history(session_maker: SessionMaker, clock: FrozenClock) -> History:
    """Five departments, eight items, seven updates and ten weekly rounds (today: 3 March 2025).

    Over the last 8 requests: water never answers; health answers every other one after
    2 days; build was asked twice and answered once after 3 days; edu always answers, after
    3..10 hours; culture was never asked.
    """
    now = clock.now()
    async with session_maker() as session:
        departments = {}
        for code, kk, ru in (
            ("edu", "Білім басқармасы", "Управление образования"),
            ("health", "Денсаулық сақтау басқармасы", "Управление здравоохранения"),
            ("build", "Құрылыс басқармасы", "Управление строительства"),
            ("water", "Су ресурстары басқармасы", "Управление водных ресурсов"),
            ("culture", "Мәдениет басқармасы", "Управление культуры"),
        ):
            department = Department(code=code, name_kk=kk, name_ru=ru, created_at=now)
            session.add(department)
            await session.flush()
            departments[code] = department.id
        people = {}
        for telegram_id, name, department in (
            (901, "Айгүл Сейітова", "edu"),
            (902, "Иван Петров", "health"),
            (903, "=cmd|' /C calc'!A0", "build"),
        ):
            person = Person(
                telegram_id=telegram_id,
                display_name=name,
                role=Role.MEMBER,
                department_id=departments[department],
                locale="ru",
                created_at=now,
                updated_at=now,
            )
            session.add(person)
            await session.flush()
            people[department] = person.id
        items = {}
        for code, department, deadline, archived in (
            ("1.1", "edu", date(2025, 9, 1), False),
            ("1.2", "edu", date(2025, 2, 1), False),
            ("2.1", "health", date(2025, 12, 1), False),
            ("2.2", "health", date(2025, 1, 31), False),
            ("3.1", "build", date(2025, 6, 30), False),
            ("3.2", "build", date(2025, 2, 15), False),
            ("4.1", "water", date(2025, 5, 1), False),
            ("5.1", "culture", date(2025, 2, 28), True),
        ):
            item = RoadmapItem(
                code=code,
                title_kk=f"Тармақ {code}",
                title_ru=f"Пункт {code}",
                department_id=departments[department],
                deadline=deadline,
                year=2025,
                target="100%" if code == "1.1" else "",
                archived=archived,
                created_at=now,
            )
            session.add(item)
            await session.flush()
            items[code] = item.id
        for code, author, status, progress, comment, cause, day in (
            ("1.1", "edu", "on_track", 20, "Начали", None, date(2025, 2, 10)),
            ("1.1", "edu", "at_risk", 30, FORMULA_COMMENT, "contractor", date(2025, 2, 20)),
            ("1.2", "edu", "on_track", 50, None, None, date(2025, 1, 15)),
            ("2.1", "health", "done", 100, "Сдано", None, date(2025, 2, 25)),
            ("2.2", "health", "done", 100, None, None, date(2025, 1, 30)),
            ("3.1", "build", "on_track", 40, "Подрядчик выбран", None, date(2025, 2, 1)),
            ("3.1", "build", "blocked", 10, None, "funding", date(2025, 3, 1)),
        ):
            session.add(
                StatusUpdate(
                    item_id=items[code],
                    author_id=people[author],
                    status=status,
                    progress=progress,
                    comment=comment,
                    cause=cause,
                    created_at=_at(day),
                )
            )
        for number in range(1, 11):
            started = _at(date(2024, 12, 23) + timedelta(weeks=number - 1), 4)
            status_round = StatusRound(started_at=started, trigger="schedule")
            session.add(status_round)
            await session.flush()
            answers = {
                "edu": timedelta(hours=number),
                "health": timedelta(days=2) if number % 2 == 0 else None,
                "water": None,
            }
            if number >= 9:
                answers["build"] = timedelta(days=3) if number == 10 else None
            for code, delay in answers.items():
                session.add(
                    RoundRequest(
                        round_id=status_round.id,
                        department_id=departments[code],
                        item_count=2,
                        people_count=1,
                        requested_at=started,
                        answered_at=started + delay if delay is not None else None,
                    )
                )
        await session.commit()
    return History(departments, items, people)
