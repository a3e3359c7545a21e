"""The digest's first line: the week's changes, checked against a scripted week (issue 23).

Friday 30 May 2025 to Friday 6 June 2025: one item declared at risk, one became overdue, one
at-risk item done, one recovered, one dismissed by the secretariat, one department left the
week's request unanswered.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from aiogram.utils.i18n import I18n
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.risk.digest import WeekChanges, collect_digest, last_friday, render_digest
from bot.risk.dismissals import dismiss_reason
from bot.risk.rules import RiskReason
from bot.telegram.i18n import in_locale
from db.models import RoundRequest, StatusRound
from tests.helpers.risk_world import THRESHOLDS, TZ, World, at

FRIDAY = date(2025, 6, 6)
LAST_FRIDAY = date(2025, 5, 30)
YEAR_END = date(2025, 12, 31)


def test_the_week_starts_on_the_friday_before() -> None:
    assert last_friday(FRIDAY) == LAST_FRIDAY  # a Friday: the one a week ago
    assert last_friday(date(2025, 6, 9)) == FRIDAY  # a Monday
    assert last_friday(date(2025, 6, 7)) == FRIDAY  # a Saturday


async def scripted_week(session: AsyncSession) -> World:
    world = World(session)
    await world.department("edu", role_people=1)
    await world.department("build")
    await world.item("1.1", "edu", YEAR_END)  # declared at risk this week
    await world.update("1.1", date(2025, 5, 28), "on_track", 45)
    await world.update(
        "1.1", date(2025, 6, 3), "at_risk", 45, "Подрядчик сорвал сроки", "contractor"
    )
    await world.item("1.2", "edu", YEAR_END)  # at risk, then done
    await world.update("1.2", date(2025, 5, 28), "at_risk", 40, "Нет смет", "financing")
    await world.update("1.2", date(2025, 6, 4), "done", 100)
    await world.item("1.3", "edu", YEAR_END)  # at risk, then back on track
    await world.update("1.3", date(2025, 5, 28), "at_risk", 40, "Нет смет", "financing")
    await world.update("1.3", date(2025, 6, 2), "on_track", 50)
    await world.item("1.4", "edu", date(2025, 6, 3))  # its deadline passed this week
    await world.update("1.4", date(2025, 5, 29), "on_track", 90)
    await world.item("2.1", "build", YEAR_END)  # behind plan all along, dismissed this week
    await world.update("2.1", date(2025, 5, 28), "on_track", 5)
    await world.item("2.2", "build", YEAR_END)  # healthy all week
    await world.update("2.2", date(2025, 5, 20), "on_track", 40)
    await world.update("2.2", date(2025, 6, 2), "on_track", 50)
    status_round = StatusRound(started_at=at(date(2025, 6, 2)))
    session.add(status_round)
    await session.flush()
    session.add(
        RoundRequest(
            round_id=status_round.id,  # type: ignore[arg-type]
            department_id=world.departments["build"].id,  # type: ignore[arg-type]
            item_count=2,
            people_count=1,
            requested_at=at(date(2025, 6, 2)),
        )
    )
    await session.commit()
    assert world.author is not None
    await dismiss_reason(
        session,
        actor=world.author,
        item_code="2.1",
        reason=RiskReason.BEHIND_PLAN,
        text="Оплата после приёмки, работы идут",
        today=date(2025, 6, 5),
        now=datetime(2025, 6, 5, 5, 0, tzinfo=UTC),
        thresholds=THRESHOLDS,
        tz=TZ,
    )
    return world


async def test_the_digest_starts_with_the_weeks_changes(session: AsyncSession, i18n: I18n) -> None:
    await scripted_week(session)
    data = await collect_digest(session, today=FRIDAY, year=2025, thresholds=THRESHOLDS, tz=TZ)
    assert data.week == WeekChanges(
        LAST_FRIDAY,
        newly_at_risk=1,
        newly_overdue=1,
        done=1,
        dismissed=1,
        recovered=1,
        silent_departments=1,
    )
    for locale, expected in (
        ("ru", "<b>С 30 мая 2025"),
        ("kk", "<b>Апта ішінде (2025"),
    ):
        with in_locale(i18n, locale):
            first = render_digest(
                data.summary, data.departments, year=2025, today=FRIDAY, week=data.week
            )[0].text
        assert first.startswith(expected), first
        assert "1" in first.split("\n")[0]
