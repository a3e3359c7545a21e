"""A small roadmap with one item per risk rule, for the risk, alert and digest tests."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.risk.rules import RiskThresholds
from db.models import (
    DeadlineChange,
    Department,
    Person,
    RoadmapItem,
    Role,
    RoundRequest,
    StatusRound,
    StatusUpdate,
)

TODAY = date(2025, 6, 2)


TZ = ZoneInfo("Asia/Almaty")


THRESHOLDS = RiskThresholds()


NOW = datetime.combine(TODAY, time(10), tzinfo=TZ).astimezone(UTC)


def at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=TZ).astimezone(UTC)


class World:
    """A small roadmap written straight into the tables, for tests of the risk engine."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.departments: dict[str, Department] = {}
        self.items: dict[str, RoadmapItem] = {}
        self.author: Person | None = None

    async def department(self, code: str, role_people: int = 0) -> Department:
        department = Department(
            code=code, name_kk=f"{code} басқармасы", name_ru=f"Управление {code}", created_at=NOW
        )
        self.session.add(department)
        await self.session.flush()
        self.departments[code] = department
        if self.author is None:
            self.author = Person(
                telegram_id=900,
                display_name="Author",
                role=Role.MEMBER,
                department_id=department.id,
                created_at=NOW,
                updated_at=NOW,
            )
            self.session.add(self.author)
            await self.session.flush()
        return department

    async def item(
        self,
        code: str,
        department: str,
        deadline: date,
        *,
        created: date = date(2025, 1, 1),
        year: int | None = None,
        title: str | None = None,
    ) -> RoadmapItem:
        item = RoadmapItem(
            code=code,
            title_kk=title or f"Тармақ {code}",
            title_ru=title or f"Пункт {code}",
            department_id=self.departments[department].id,  # type: ignore[arg-type]
            deadline=deadline,
            year=year or deadline.year,
            created_at=at(created),
        )
        self.session.add(item)
        await self.session.flush()
        self.items[code] = item
        return item

    async def update(
        self,
        code: str,
        day: date,
        status: str,
        progress: int,
        comment: str | None = None,
        cause: str | None = None,
    ) -> StatusUpdate:
        update = StatusUpdate(
            item_id=self.items[code].id,  # type: ignore[arg-type]
            author_id=self.author.id,  # type: ignore[union-attr]
            status=status,
            progress=progress,
            comment=comment,
            cause=cause,
            created_at=at(day),
        )
        self.session.add(update)
        await self.session.flush()
        return update

    async def postpone(self, code: str, day: date, new: date) -> None:
        item = self.items[code]
        self.session.add(
            DeadlineChange(
                item_id=item.id,  # type: ignore[arg-type]
                old_deadline=item.deadline,
                new_deadline=new,
                changed_at=at(day),
            )
        )
        item.deadline = new
        self.session.add(item)
        await self.session.flush()

    async def round_request(self, department: str, day: date, answered: bool) -> None:
        status_round = StatusRound(started_at=at(day))
        self.session.add(status_round)
        await self.session.flush()
        self.session.add(
            RoundRequest(
                round_id=status_round.id,  # type: ignore[arg-type]
                department_id=self.departments[department].id,  # type: ignore[arg-type]
                item_count=1,
                people_count=1,
                requested_at=at(day),
                answered_at=at(day, 15) if answered else None,
            )
        )
        await self.session.flush()


async def build_world(session: AsyncSession) -> World:
    """One item per rule, a healthy one, a done one, a fresh one and one of another year."""
    world = World(session)
    await world.department("edu")
    await world.department("build")
    d = TODAY
    # healthy: on track at a fair progress, reported this week
    await world.item("1.1", "edu", date(2025, 12, 31))
    await world.update("1.1", d - timedelta(days=20), "on_track", 30)
    await world.update("1.1", d - timedelta(days=3), "on_track", 45)
    # declared blocked, with a comment and a cause
    await world.item("1.2", "edu", date(2025, 12, 31))
    await world.update("1.2", d - timedelta(days=10), "on_track", 40)
    await world.update(
        "1.2", d - timedelta(days=2), "blocked", 40, "Нет <денег> & всё", "financing"
    )
    # overdue and not done
    await world.item("1.3", "edu", date(2025, 5, 30))
    await world.update("1.3", d - timedelta(days=1), "on_track", 90)
    # done long ago, deadline passed: not at risk
    await world.item("1.4", "edu", date(2025, 3, 1))
    await world.update("1.4", date(2025, 2, 20), "done", 100)
    # stale: last update 20 days ago
    await world.item("2.1", "build", date(2025, 12, 31))
    await world.update("2.1", d - timedelta(days=20), "on_track", 45)
    # behind plan: 5 % at 60 % of the time
    await world.item("2.2", "build", date(2025, 10, 1))
    await world.update("2.2", d - timedelta(days=1), "on_track", 5)
    # flat: three equal on-track reports, a sixth of the time left
    await world.item("2.3", "build", date(2025, 7, 1))
    for days_ago in (15, 8, 1):
        await world.update("2.3", d - timedelta(days=days_ago), "on_track", 70)
    # postponed deadline: twice, the rule's default (one move is information, issue 23)
    await world.item("2.4", "build", date(2025, 11, 1))
    await world.update("2.4", d - timedelta(days=1), "on_track", 50)
    await world.postpone("2.4", d - timedelta(days=60), date(2025, 11, 15))
    await world.postpone("2.4", d - timedelta(days=30), date(2025, 12, 1))
    # not reported yet, created last week: not at risk
    await world.item("2.5", "build", date(2025, 12, 1), created=d - timedelta(days=7))
    # another year: left out of a year's assessment
    await world.item("9.1", "build", date(2026, 6, 1))
    await world.session.commit()
    return world


# The digest's readers: a Russian-speaking chair, a Kazakh-speaking secretary, a member.
CHAIR = 4001
SECRETARY = 4002
MEMBER = 4003


async def readers(session: AsyncSession, world: World) -> None:
    for telegram_id, role, locale in (
        (CHAIR, Role.CHAIR, "ru"),
        (SECRETARY, Role.SECRETARIAT, "kk"),
        (MEMBER, Role.MEMBER, "ru"),
    ):
        session.add(
            Person(
                telegram_id=telegram_id,
                display_name=f"P{telegram_id}",
                role=role,
                locale=locale,
                department_id=world.departments["edu"].id if role == Role.MEMBER else None,
                created_at=NOW,
                updated_at=NOW,
            )
        )
    await session.commit()
