"""assess_items against a real database (SQLite and PostgreSQL), and dismissals."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.risk.assess import assess_items, at_risk_counts
from bot.risk.dismissals import DismissRefusal, DismissRefusedError, dismiss_reason
from bot.risk.rules import RiskReason, RiskState, RiskThresholds
from db.models import (
    AuditLog,
    DeadlineChange,
    Department,
    Person,
    RiskDismissal,
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


@pytest.fixture
async def world(session: AsyncSession) -> World:
    return await build_world(session)


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
    # postponed deadline
    await world.item("2.4", "build", date(2025, 11, 1))
    await world.update("2.4", d - timedelta(days=1), "on_track", 50)
    await world.postpone("2.4", d - timedelta(days=30), date(2025, 12, 1))
    # not reported yet, created last week: not at risk
    await world.item("2.5", "build", date(2025, 12, 1), created=d - timedelta(days=7))
    # another year: left out of a year's assessment
    await world.item("9.1", "build", date(2026, 6, 1))
    await world.session.commit()
    return world


async def test_each_rule_through_the_database(world: World, session: AsyncSession) -> None:
    risks = await assess_items(session, today=TODAY, year=2025, thresholds=THRESHOLDS, tz=TZ)
    by_code = {risk.code: risk for risk in risks.values()}
    assert set(by_code) == {"1.1", "1.2", "1.3", "1.4", "2.1", "2.2", "2.3", "2.4", "2.5"}
    assert {code: risk.reasons for code, risk in by_code.items() if risk.reasons} == {
        "1.2": [RiskReason.DECLARED],
        "1.3": [RiskReason.OVERDUE],
        "2.1": [RiskReason.STALE],
        "2.2": [RiskReason.BEHIND_PLAN],
        "2.3": [RiskReason.FLAT],
        "2.4": [RiskReason.DEADLINE_MOVED],
    }
    blocked = by_code["1.2"]
    assert blocked.state == RiskState.BLOCKED
    assert (blocked.latest_status, blocked.latest_progress) == ("blocked", 40)
    assert (blocked.latest_comment, blocked.latest_cause) == ("Нет <денег> & всё", "financing")
    assert blocked.latest_at == at(TODAY - timedelta(days=2))
    assert by_code["1.3"].state == RiskState.OVERDUE
    assert not by_code["2.5"].reported and by_code["2.5"].state == RiskState.NONE
    assert by_code["1.1"].facts.flat_streak == 0  # far from its deadline: not even asked
    assert by_code["2.3"].facts.flat_streak == 3
    everything = await assess_items(session, today=TODAY, thresholds=THRESHOLDS, tz=TZ, year=None)
    assert len(everything) == 10


async def test_unanswered_rounds_make_a_department_stale(
    world: World, session: AsyncSession
) -> None:
    await world.round_request("edu", TODAY - timedelta(days=20), answered=False)
    await world.round_request("edu", TODAY - timedelta(days=13), answered=True)
    await world.round_request("edu", TODAY - timedelta(days=6), answered=False)
    await session.commit()
    risks = await assess_items(session, today=TODAY, year=2025, thresholds=THRESHOLDS, tz=TZ)
    assert RiskReason.STALE not in risks[world.items["1.1"].id].reasons  # one of two answered
    await world.round_request("edu", TODAY - timedelta(days=1), answered=False)
    await session.commit()
    risks = await assess_items(session, today=TODAY, year=2025, thresholds=THRESHOLDS, tz=TZ)
    assert RiskReason.STALE in risks[world.items["1.1"].id].reasons
    assert RiskReason.STALE not in risks[world.items["2.2"].id].reasons  # the other department


async def test_history_as_of_an_earlier_day(world: World, session: AsyncSession) -> None:
    earlier = TODAY - timedelta(days=8)
    risks = await assess_items(
        session, today=earlier, year=2025, as_of_history=True, thresholds=THRESHOLDS, tz=TZ
    )
    by_code = {risk.code: risk for risk in risks.values()}
    assert "2.5" not in by_code  # created later
    assert by_code["1.2"].reasons == []  # it was on track a week ago
    counts = await at_risk_counts(
        session, days=[earlier, TODAY], year=2025, thresholds=THRESHOLDS, tz=TZ
    )
    assert counts[1] == 6 and counts[0] < counts[1]


async def test_dismissal_holds_until_the_item_changes(world: World, session: AsyncSession) -> None:
    secretary = world.author
    assert secretary is not None
    item, dismissal = await dismiss_reason(
        session,
        actor=secretary,
        item_code="2.1",
        reason=RiskReason.STALE,
        text="Подрядчик в отпуске, отчёт будет в понедельник",
        today=TODAY,
        now=NOW,
        thresholds=THRESHOLDS,
        tz=TZ,
    )
    assert dismissal.actor_id == secretary.id
    risks = await assess_items(session, today=TODAY, year=2025, thresholds=THRESHOLDS, tz=TZ)
    assert risks[item.id].reasons == [] and risks[item.id].dismissed == [RiskReason.STALE]
    audit = (await session.exec(select(AuditLog).where(AuditLog.action == "risk.dismiss"))).all()
    assert [entry.target for entry in audit] == ["2.1"]

    # Still dismissed a week later with no new data…
    later = await assess_items(
        session, today=TODAY + timedelta(days=7), year=2025, thresholds=THRESHOLDS, tz=TZ
    )
    assert later[item.id].reasons == []
    # …but a new update changes the item's data and the reason comes back when it applies.
    await world.update("2.1", TODAY, "on_track", 50)
    await session.commit()
    much_later = await assess_items(
        session, today=TODAY + timedelta(days=20), year=2025, thresholds=THRESHOLDS, tz=TZ
    )
    assert much_later[item.id].reasons == [RiskReason.STALE]


async def test_deadline_or_department_change_revives_a_dismissal(
    world: World, session: AsyncSession
) -> None:
    assert world.author is not None
    await dismiss_reason(
        session,
        actor=world.author,
        item_code="2.4",
        reason=RiskReason.DEADLINE_MOVED,
        text="Перенос согласован с акимом",
        today=TODAY,
        now=NOW,
        thresholds=THRESHOLDS,
        tz=TZ,
    )
    item = world.items["2.4"]
    assert (await assess_items(session, today=TODAY, year=2025, thresholds=THRESHOLDS, tz=TZ))[
        item.id
    ].reasons == []
    item.department_id = world.departments["edu"].id  # type: ignore[assignment]
    session.add(item)
    await session.commit()
    risks = await assess_items(session, today=TODAY, year=2025, thresholds=THRESHOLDS, tz=TZ)
    assert risks[item.id].reasons == [RiskReason.DEADLINE_MOVED]


@pytest.mark.parametrize(
    ("code", "reason", "refusal"),
    [
        ("1.2", RiskReason.DECLARED, DismissRefusal.NOT_DISMISSIBLE),
        ("1.3", RiskReason.OVERDUE, DismissRefusal.NOT_DISMISSIBLE),
        ("1.1", RiskReason.STALE, DismissRefusal.NOT_APPLICABLE),
        ("7.7", RiskReason.STALE, DismissRefusal.UNKNOWN_ITEM),
    ],
)
async def test_what_cannot_be_dismissed(
    world: World, session: AsyncSession, code: str, reason: RiskReason, refusal: DismissRefusal
) -> None:
    assert world.author is not None
    with pytest.raises(DismissRefusedError) as raised:
        await dismiss_reason(
            session,
            actor=world.author,
            item_code=code,
            reason=reason,
            text="x",
            today=TODAY,
            now=NOW,
            thresholds=THRESHOLDS,
            tz=TZ,
        )
    assert raised.value.refusal == refusal
    assert (await session.exec(select(RiskDismissal))).all() == []
