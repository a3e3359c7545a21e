"""The dialog's next waiting item, found by one indexed statement, is the worklist's.

After a report the dialog moves to the department's first open item without a report since
the department's last request (deadline, then code). `next_waiting_item` asks that of the
database directly; here it must agree with `worklist(...).next_waiting(...)`, which builds the
whole worklist, on departments of every kind of item: done, archived, reported before and
after the request, never reported, tied deadlines, another department's items.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.reporting.service import next_waiting_item, worklist
from db.models import (
    Department,
    ItemStatus,
    Person,
    RoadmapItem,
    Role,
    RoundRequest,
    StatusRound,
    StatusUpdate,
)

REQUESTED = datetime(2025, 6, 2, 4, 0, tzinfo=UTC)
SINCE = datetime(2025, 6, 1, 19, 0, tzinfo=UTC)  # the start of the council's day, in UTC


async def _department(session: AsyncSession, code: str) -> tuple[int, int]:
    department = Department(code=code, name_kk=code, name_ru=code, created_at=SINCE)
    session.add(department)
    await session.flush()
    assert department.id is not None
    person = Person(
        telegram_id=10_000 + sum(ord(letter) * 31**i for i, letter in enumerate(code)),
        display_name=f"Head of {code}",
        role=Role.MEMBER,
        department_id=department.id,
        created_at=SINCE,
        updated_at=SINCE,
    )
    session.add(person)
    await session.flush()
    assert person.id is not None
    return department.id, person.id


async def _seed(
    session: AsyncSession, seed: int, *, with_request: bool
) -> tuple[int, int, list[int]]:
    """A department of 40 items in random states (and a neighbour), committed: the
    department, its head and its items."""
    rng = random.Random(seed)
    department_id, author_id = await _department(session, f"d{seed}")
    neighbour_id, neighbour_author = await _department(session, f"n{seed}")
    ids: list[int] = []
    for number in range(40):
        owner, author = (
            (department_id, author_id) if number % 8 else (neighbour_id, neighbour_author)
        )
        item = RoadmapItem(
            code=f"{seed}.{rng.randrange(1000):03d}.{number}",
            title_kk="t",
            title_ru="t",
            department_id=owner,
            deadline=date(2025, rng.choice((3, 6, 6, 9, 12)), 1),  # ties: the code decides
            year=2025,
            archived=rng.random() < 0.1,
            created_at=SINCE - timedelta(days=60),
        )
        session.add(item)
        await session.flush()
        assert item.id is not None
        if owner == department_id:
            ids.append(item.id)
        for _report in range(rng.choice((0, 1, 1, 2, 3))):
            # around the request, and at the very moment of it or of the day's start
            hours = rng.choice((-200, -30, -10, -9, -1, 0, 0, 1, 5, 30))
            seconds = rng.choice((0, rng.randrange(60)))
            status = rng.choice((ItemStatus.ON_TRACK, ItemStatus.AT_RISK, ItemStatus.DONE))
            session.add(
                StatusUpdate(
                    item_id=item.id,
                    author_id=author,
                    status=status,
                    progress=rng.randrange(101),
                    created_at=REQUESTED + timedelta(hours=hours, seconds=seconds),
                )
            )
    if with_request:
        status_round = StatusRound(started_at=REQUESTED)
        session.add(status_round)
        await session.flush()
        assert status_round.id is not None
        session.add(
            RoundRequest(
                round_id=status_round.id,
                department_id=department_id,
                item_count=len(ids),
                people_count=1,
                requested_at=REQUESTED,
            )
        )
    await session.commit()
    return department_id, author_id, ids


@pytest.mark.parametrize("with_request", [True, False], ids=["after a request", "no request"])
async def test_the_next_waiting_item_is_the_worklists(
    session: AsyncSession, with_request: bool
) -> None:
    found_some = 0
    for seed in range(6):
        department_id, _head, ids = await _seed(session, seed, with_request=with_request)
        work = await worklist(session, department_id, SINCE)
        for after in (*ids, 0):
            expected = work.next_waiting(after_item_id=after)
            found = await next_waiting_item(session, department_id, SINCE, after_item_id=after)
            if expected is None:
                assert found is None, (seed, after)
                continue
            assert found is not None and found.item.id == expected.id, (seed, after)
            latest = work.latest.get(expected.id)  # type: ignore[arg-type]
            assert found.latest is latest  # the same row: the session's identity map
            assert (found.author.id if found.author else None) == (
                latest.author_id if latest else None
            )
            found_some += 1
    assert found_some > 50  # the scenarios exercise both answers


async def test_a_department_with_everything_reported_has_no_next_item(
    session: AsyncSession,
) -> None:
    department_id, author_id, ids = await _seed(session, 99, with_request=True)
    for item_id in ids:
        session.add(
            StatusUpdate(
                item_id=item_id,
                author_id=author_id,
                status=ItemStatus.ON_TRACK,
                progress=50,
                created_at=REQUESTED + timedelta(hours=2),
            )
        )
    await session.commit()
    assert await next_waiting_item(session, department_id, SINCE, after_item_id=0) is None
