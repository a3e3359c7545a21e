"""The demo Road Map: 93 Shymkent items across 12 departments, loaded into an empty database.

The data lives in `bot/data/demo_roadmap.json` with every date as a day offset from the load
day, so the picture (twelve items at risk, and why) is the same whenever it is loaded.
Reports come from one inactive demo person per department: they can never receive messages.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from pathlib import Path
from typing import Any

from sqlalchemy import func
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from db import queries
from db.ids import row_id
from db.models import (
    DeadlineChange,
    Department,
    ItemStatus,
    Person,
    RoadmapItem,
    Role,
    StatusUpdate,
)

DEMO_FILE = Path(__file__).with_name("data") / "demo_roadmap.json"
REPORT_TIME = time(11, 0)
# Telegram user ids are positive: negative ones can never collide with a real person.
DEMO_TELEGRAM_ID_BASE = -9_000_000


class DatabaseNotEmptyError(Exception):
    """The demo only goes into an empty database: it must never mix with real data."""


@dataclass(frozen=True)
class SeedResult:
    departments: int
    items: int
    updates: int
    deadline_changes: int
    load_day: date


def load_demo_data(path: Path = DEMO_FILE) -> dict[str, Any]:
    with path.open(encoding="utf-8") as file:
        data: dict[str, Any] = json.load(file)
    return data


async def database_is_empty(session: AsyncSession) -> bool:
    for model in (Department, RoadmapItem, StatusUpdate):
        count = (await session.exec(select(func.count()).select_from(model))).one()
        if count:
            return False
    return True


async def seed_demo(
    session: AsyncSession, *, now: datetime, tz: tzinfo, path: Path = DEMO_FILE
) -> SeedResult:
    """Load the demo roadmap for the current year, or raise DatabaseNotEmptyError."""
    if not await database_is_empty(session):
        raise DatabaseNotEmptyError
    data = load_demo_data(path)
    load_day = now.astimezone(tz).date()

    def moment(offset: int) -> datetime:
        return datetime.combine(load_day + timedelta(days=offset), REPORT_TIME, tzinfo=tz)

    def day(offset: int) -> date:
        return load_day + timedelta(days=offset)

    departments: dict[str, Department] = {}
    reporters: dict[str, Person] = {}
    for number, entry in enumerate(data["departments"], start=1):
        department = Department(
            code=entry["code"],
            name_kk=entry["name_kk"],
            name_ru=entry["name_ru"],
            short_name_kk=entry.get("short_name_kk"),
            short_name_ru=entry.get("short_name_ru"),
            created_at=now,
        )
        session.add(department)
        await session.flush()
        departments[entry["code"]] = department
        reporter = Person(
            telegram_id=DEMO_TELEGRAM_ID_BASE - number,
            display_name=entry["reporter"],
            role=Role.MEMBER,
            department_id=department.id,
            active=False,
            created_at=now,
            updated_at=now,
        )
        session.add(reporter)
        reporters[entry["code"]] = reporter
    await session.flush()

    updates = changes = 0
    for entry in data["items"]:
        department = departments[entry["department"]]
        item = RoadmapItem(
            code=entry["code"],
            title_kk=entry["title_kk"],
            title_ru=entry["title_ru"],
            department_id=row_id(department),
            deadline=day(entry["deadline"]),
            year=load_day.year,
            created_at=moment(entry["created"]),
        )
        session.add(item)
        await session.flush()
        await queries.mark_risk_dirty(session, now=now, item_ids=[item.id])
        for change in entry.get("deadline_changes", ()):
            session.add(
                DeadlineChange(
                    item_id=row_id(item),
                    old_deadline=day(change["old"]),
                    new_deadline=day(change["new"]),
                    changed_at=moment(change["day"]),
                )
            )
            changes += 1
        for report in entry["updates"]:
            if report["status"] not in set(ItemStatus) or not 0 <= report["progress"] <= 100:
                raise ValueError(f"bad demo update for {entry['code']}: {report}")
            session.add(
                StatusUpdate(
                    item_id=row_id(item),
                    author_id=row_id(reporters[entry["department"]]),
                    status=report["status"],
                    progress=report["progress"],
                    comment=report.get("comment"),
                    cause=report.get("cause"),
                    created_at=moment(report["day"]),
                )
            )
            updates += 1
    await session.commit()
    return SeedResult(
        departments=len(departments),
        items=len(data["items"]),
        updates=updates,
        deadline_changes=changes,
        load_day=load_day,
    )
