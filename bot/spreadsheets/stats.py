"""Figures about the Road Map for the secretariat: current states, risks and response statistics.

Everything is read with a handful of SQL statements (window functions for "the newest per
group"), never by loading every status update into Python.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

import sqlalchemy as sa
from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.risk.assess import assess_tally
from bot.risk.labels import reason_label
from bot.risk.rules import RiskThresholds
from db import queries
from db.ids import row_id
from db.models import (
    Department,
    Person,
    RoadmapItem,
    Role,
    RoundRequest,
    StatusUpdate,
)

DEFAULT_ROUNDS = 8
MAX_ROUNDS = 100


def newest_first() -> Any:
    """An item's reports numbered newest first (by time, then id), labelled "rank": rank 1 is
    the item's current state. One definition for every "newest report" query."""
    return (
        func.row_number()
        .over(
            partition_by=col(StatusUpdate.item_id),
            order_by=(col(StatusUpdate.created_at).desc(), col(StatusUpdate.id).desc()),
        )
        .label("rank")
    )


async def latest_updates(
    session: AsyncSession, *, with_comment: bool = False
) -> dict[int, StatusUpdate]:
    """Item id → its newest update (by time, then id); optionally the newest with a comment."""
    with_text = [col(StatusUpdate.comment).is_not(None), col(StatusUpdate.comment) != ""]
    ranked = sa.select(  # labels: sqlmodel's typed select() cannot say what they return
        col(StatusUpdate.id).label("update_id"),
        newest_first(),
    ).where(*(with_text if with_comment else []))
    subquery = ranked.subquery()
    statement = (
        select(StatusUpdate)
        .join(subquery, subquery.c.update_id == StatusUpdate.id)
        .where(subquery.c.rank == 1)
    )
    return {update.item_id: update for update in (await session.exec(statement)).all()}


async def risk_labels(
    session: AsyncSession,
    *,
    today: date,
    year: int | None,
    tz: tzinfo,
    thresholds: RiskThresholds,
) -> dict[int, list[str]]:
    """Item id → why the item is at risk, in the current locale; items without risk are absent.
    The assessment keeps only the items at risk (`assess_tally`): at 50,000 items a full one
    held 60 MiB of facts for the export's few thousand labels."""
    tally = await assess_tally(session, today=today, year=year, thresholds=thresholds, tz=tz)
    return {
        item_id: [reason_label(reason) for reason in assessment.reasons]
        for item_id, assessment in tally.at_risk.items()
        if assessment.reasons
    }


# --- Response statistics ---


@dataclass(frozen=True)
class DepartmentStats:
    department: Department
    requests: int
    answered: int
    median_answer: timedelta | None
    last_update: datetime | None
    overdue_items: int
    people: int = 0

    @property
    def nobody_registered(self) -> bool:
        """Nobody in the department can be asked: the secretariat's matter, not a risk."""
        return self.people == 0

    @property
    def share_answered(self) -> float | None:
        return self.answered / self.requests if self.requests else None

    @property
    def never_answers(self) -> bool:
        return self.requests > 0 and self.answered == 0


def _median(durations: Sequence[timedelta]) -> timedelta | None:
    if not durations:
        return None
    return timedelta(seconds=statistics.median(d.total_seconds() for d in durations))


async def department_stats(
    session: AsyncSession, *, today: date, rounds: int = DEFAULT_ROUNDS
) -> list[DepartmentStats]:
    """Per department over its last `rounds` requests; departments that never answer first."""
    ranking = select(
        RoundRequest.department_id,
        RoundRequest.requested_at,
        RoundRequest.answered_at,
        func.row_number()
        .over(
            partition_by=col(RoundRequest.department_id),
            order_by=(col(RoundRequest.requested_at).desc(), col(RoundRequest.id).desc()),
        )
        .label("rank"),
    ).where(col(RoundRequest.excused).is_(False))  # everybody was away: not a request missed
    ranked = ranking.subquery()
    recent = await session.exec(
        select(ranked.c.department_id, ranked.c.requested_at, ranked.c.answered_at).where(
            ranked.c.rank <= rounds
        )
    )
    requests: dict[int, list[tuple[datetime, datetime | None]]] = {}
    for department_id, requested_at, answered_at in recent.all():
        requests.setdefault(department_id, []).append((requested_at, answered_at))

    last_updates = dict(
        (
            await session.exec(
                select(RoadmapItem.department_id, func.max(RoadmapItem.last_update_at))
                .where(col(RoadmapItem.last_update_at).is_not(None))
                .group_by(col(RoadmapItem.department_id))
            )
        ).all()
    )
    overdue = await _overdue_counts(session, today)

    registered = dict(
        (
            await session.exec(
                select(Person.department_id, func.count())
                .where(
                    Person.role == Role.MEMBER,
                    col(Person.active).is_(True),
                    col(Person.blocked_bot).is_(False),
                    col(Person.department_id).is_not(None),
                )
                .group_by(col(Person.department_id))
            )
        ).all()
    )
    result = []
    for department in await queries.all_departments(session):
        asked = requests.get(row_id(department), [])
        waits = [answered - requested for requested, answered in asked if answered is not None]
        result.append(
            DepartmentStats(
                department=department,
                requests=len(asked),
                answered=len(waits),
                median_answer=_median(waits),
                last_update=last_updates.get(row_id(department)),
                overdue_items=overdue.get(row_id(department), 0),
                people=registered.get(department.id, 0),
            )
        )
    return sorted(result, key=_worst_first)


async def _overdue_counts(session: AsyncSession, today: date) -> dict[int, int]:
    """Department id → its items past their deadline whose newest update is not "done" (the
    rule of `is_overdue`; the newest update's status is kept on the item by the database's
    trigger), counted in SQL: no item is loaded into Python."""
    statement = (
        sa.select(col(RoadmapItem.department_id), func.count())
        .where(
            col(RoadmapItem.archived).is_(False),
            col(RoadmapItem.deadline) < today,
            col(RoadmapItem.last_update_done).is_(False),
        )
        .group_by(col(RoadmapItem.department_id))
    )
    rows = (await (await session.connection()).execute(statement)).all()
    return {department: count for department, count in rows}


def _worst_first(stats: DepartmentStats) -> tuple[int, float, float, str]:
    group = 0 if stats.never_answers else (1 if stats.requests else 2)
    share = stats.share_answered if stats.share_answered is not None else 1.0
    median = stats.median_answer.total_seconds() if stats.median_answer else 0.0
    return (group, share, -median, stats.department.code)
