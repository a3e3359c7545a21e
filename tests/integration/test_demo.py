"""The demo roadmap: its size, exactly twelve items at risk, the same picture on any day."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.risk.assess import assess_items
from bot.risk.digest import summarize
from bot.risk.rules import RiskReason, RiskThresholds
from bot.roadmap.demo import DatabaseNotEmptyError, load_demo_data, seed_demo
from db.engine import create_engine, create_session_maker
from db.models import Department, Person, RoadmapItem, StatusUpdate
from tests.helpers.databases import migrated_sqlite_file

LOAD = datetime(2025, 6, 10, 6, 0, tzinfo=UTC)
TZ = ZoneInfo("Asia/Almaty")
THRESHOLDS = RiskThresholds()


async def picture(session: AsyncSession, moment: datetime) -> dict[str, list[RiskReason]]:
    today = moment.astimezone(TZ).date()
    risks = await assess_items(session, today=today, year=today.year, tz=TZ, thresholds=THRESHOLDS)
    return {risk.code: risk.reasons for risk in risks.values() if risk.reasons}


def test_the_data_file_is_a_realistic_roadmap() -> None:
    data = load_demo_data()
    departments = {entry["code"] for entry in data["departments"]}
    assert len(data["items"]) == 93 and len(departments) == 12
    assert {"education", "health", "transport", "construction", "energy"} <= departments
    per_department = Counter(entry["department"] for entry in data["items"])
    assert set(per_department) == departments and min(per_department.values()) >= 5
    assert len({entry["code"] for entry in data["items"]}) == 93
    for entry in data["items"]:
        assert entry["title_kk"].strip() and entry["title_ru"].strip()
        assert entry["title_kk"] != entry["title_ru"]
    deadlines = sorted(entry["deadline"] for entry in data["items"])
    assert deadlines[0] < 0 < deadlines[-1] and deadlines[-1] - deadlines[0] > 200


async def test_seeded_roadmap_has_twelve_items_at_risk(session: AsyncSession) -> None:
    result = await seed_demo(session, now=LOAD, tz=TZ)
    assert (result.departments, result.items) == (12, 93)
    items = (await session.exec(select(RoadmapItem))).all()
    assert len(items) == 93 and {item.year for item in items} == {2025}
    at_risk = await picture(session, LOAD)
    assert len(at_risk) == 12
    reasons = Counter(reason for found in at_risk.values() for reason in found)
    # every rule shows up at least once; "forecast: late" is off by default (see the README)
    assert set(reasons) == set(RiskReason) - {RiskReason.FORECAST_LATE}
    summary = summarize(
        await assess_items(session, today=LOAD.date(), year=2025, thresholds=THRESHOLDS, tz=TZ)
    )
    assert summary.total == 93 and summary.at_risk == 12
    people = (await session.exec(select(Person))).all()
    assert len(people) == 12 and not any(person.active for person in people)
    assert all(person.telegram_id < 0 for person in people)


async def test_refuses_a_database_that_is_not_empty(session: AsyncSession) -> None:
    session.add(Department(code="x", name_kk="x", name_ru="x", created_at=LOAD))
    await session.commit()
    with pytest.raises(DatabaseNotEmptyError):
        await seed_demo(session, now=LOAD, tz=TZ)
    assert (await session.exec(select(RoadmapItem))).all() == []


async def test_loading_twice_is_refused(session: AsyncSession) -> None:
    await seed_demo(session, now=LOAD, tz=TZ)
    with pytest.raises(DatabaseNotEmptyError):
        await seed_demo(session, now=LOAD, tz=TZ)
    assert len((await session.exec(select(StatusUpdate))).all()) > 93


@pytest.mark.parametrize(
    "other",
    [
        datetime(2026, 10, 1, 12, 0, tzinfo=UTC),
        datetime(2027, 4, 20, 3, 0, tzinfo=UTC),
        datetime(2025, 12, 30, 18, 0, tzinfo=UTC),
    ],
)
async def test_the_same_picture_on_another_day(
    session: AsyncSession, database_url: str, tmp_path, other: datetime
) -> None:  # type: ignore[no-untyped-def]
    await seed_demo(session, now=LOAD, tz=TZ)
    first = await picture(session, LOAD)
    # A second, separate database loaded on another day.
    engine: AsyncEngine = create_engine(migrated_sqlite_file(tmp_path / "other.db"))
    try:
        async with create_session_maker(engine)() as other_session:
            await seed_demo(other_session, now=other, tz=TZ)
            assert await picture(other_session, other) == first
    finally:
        await engine.dispose()


async def test_early_in_the_year_the_same_items_are_at_risk(session: AsyncSession) -> None:
    """In January the year began days ago, so the plan line starts later: the twelve items
    stay at risk (each has a reason that does not depend on the line) and no other joins."""
    january = datetime(2026, 1, 9, 6, 0, tzinfo=UTC)
    await seed_demo(session, now=january, tz=TZ)
    reference = load_demo_data()
    expected = {
        entry["code"]
        for entry in reference["items"]
        if entry["scenario"] not in ("on_track", "likely_late", "done", "new")
    }
    assert set(await picture(session, january)) == expected


async def test_the_chairs_summary_on_the_demo_roadmap(
    session: AsyncSession,
    chatter,
    clock,
    i18n,  # type: ignore[no-untyped-def]
) -> None:
    from aiogram.methods import SendMessage, SendPhoto

    from db.models import Role

    clock.set(LOAD)
    await seed_demo(session, now=LOAD, tz=TZ)
    session.add(
        Person(
            telegram_id=4242,
            display_name="Chair",
            role=Role.CHAIR,
            locale="ru",
            created_at=LOAD,
            updated_at=LOAD,
        )
    )
    await session.commit()
    requests = await chatter.send(4242, "/summary")
    # The summary first, ONE message with its buttons (#32); then the chart.
    assert isinstance(requests[-1], SendPhoto) and isinstance(requests[0], SendMessage)
    texts = [r.text for r in requests if isinstance(r, SendMessage)]
    (text,) = texts
    markup = requests[0].reply_markup
    labels = [b.text for row in markup.inline_keyboard for b in row]
    packed = [b.callback_data for row in markup.inline_keyboard for b in row]
    assert all(p.startswith("cd:") for p in packed)  # one button per department, not per item
    assert labels and not any("Шымкент" in label for label in labels)
    assert all(len(label.split(" · ")[0]) <= 26 for label in labels)
    assert "Шымкент" not in text
    total = i18n.gettext("{count} item in total", "{count} items in total", 93, locale="ru")
    assert total.format(count=93) in text
    at_risk = await picture(session, LOAD)
    assert len(at_risk) == 12
    # Department headings count all twelve; every listed item is one of them, none twice.
    headings = [line for line in text.split("\n") if line.startswith("<b>") and " — " in line]
    assert sum(int(line.split(" — ")[1].split()[0]) for line in headings) == 12
    listed = [line.split("</b>")[0].removeprefix("• <b>") for line in text.split("\n")]
    listed = [code for code in listed if code in at_risk]
    assert len(listed) == len(set(listed)) == 12  # no department has more than three
