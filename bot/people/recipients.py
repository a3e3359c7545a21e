"""Who may be messaged: the one rule every notification uses to pick its readers.

A person may be messaged when their access is active and their chat works: someone who
blocked the bot is skipped until they write to it again (the middleware clears the mark).
A department's requests, reminders and nudges skip members who are away (/away): their
deputy gets them instead, or simply the other members.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date

from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from db.ids import row_id
from db.models import Person, Role


def reachable() -> ColumnElement[bool]:
    """The SQL condition of the rule, for queries that join people with something else."""
    return col(Person.active).is_(True) & col(Person.blocked_bot).is_(False)


async def with_roles(session: AsyncSession, roles: Collection[str]) -> list[Person]:
    """Reachable people with one of `roles`, in a stable order (oldest account first)."""
    statement = (
        select(Person)
        .where(col(Person.role).in_(list(roles)), reachable())
        .order_by(col(Person.id))
    )
    return list((await session.exec(statement)).all())


async def chairs(session: AsyncSession) -> list[Person]:
    return await with_roles(session, [Role.CHAIR])


async def secretariat(session: AsyncSession) -> list[Person]:
    return await with_roles(session, [Role.SECRETARIAT])


async def chair_and_secretariat(session: AsyncSession) -> list[Person]:
    return await with_roles(session, [Role.CHAIR, Role.SECRETARIAT])


def _members_of(department_ids: Collection[int]) -> SelectOfScalar[Person]:
    return (
        select(Person)
        .where(
            col(Person.department_id).in_(list(department_ids)),
            Person.role == Role.MEMBER,
            reachable(),
        )
        .order_by(col(Person.id))
    )


async def department_members(session: AsyncSession, department_id: int) -> list[Person]:
    """The reachable members of a department: who gets its requests and reminders."""
    return list((await session.exec(_members_of([department_id]))).all())


def is_away(person: Person, today: date) -> bool:
    """Away until the date they are back (`away_until`), which ends the absence by itself."""
    return person.away_until is not None and today < person.away_until


async def nobody_else_answers(session: AsyncSession, person: Person, today: date) -> bool:
    """Whether no other member of the person's department is in the bot and not away: while
    the person is away, the department's requests would then wait for them."""
    if person.department_id is None:
        return False
    others = await department_members(session, person.department_id)
    return not any(other.id != person.id and not is_away(other, today) for other in others)


@dataclass(frozen=True)
class DepartmentAudience:
    """Who gets a department's request today, and whether everybody there is away."""

    people: list[Person]
    everybody_away: bool


async def department_audience(
    session: AsyncSession, department_id: int, today: date
) -> DepartmentAudience:
    """Members who are here, plus the deputies of those away (once each, if reachable and
    here themselves). Nobody here and no deputy: `everybody_away`, so the request is excused."""
    return (await department_audiences(session, [department_id], today))[department_id]


async def department_audiences(
    session: AsyncSession, department_ids: Collection[int], today: date
) -> dict[int, DepartmentAudience]:
    """`department_audience` of several departments in two queries whatever their number:
    a round for every department is not two queries per department."""
    members: dict[int, list[Person]] = {department_id: [] for department_id in department_ids}
    for person in (await session.exec(_members_of(department_ids))).all():
        members[person.department_id].append(person)  # type: ignore[index]
    wanted = {
        person.deputy_id
        for people in members.values()
        for person in people
        if is_away(person, today) and person.deputy_id is not None
    }
    deputies: dict[int, Person] = {}
    if wanted:
        found = await session.exec(select(Person).where(col(Person.id).in_(wanted)))
        deputies = {row_id(deputy): deputy for deputy in found.all()}
    return {
        department_id: _audience(people, deputies, today)
        for department_id, people in members.items()
    }


def _audience(
    members: list[Person], deputies: dict[int, Person], today: date
) -> DepartmentAudience:
    present = [person for person in members if not is_away(person, today)]
    chosen = {person.id: person for person in present}
    for person in members:
        if not is_away(person, today) or person.deputy_id is None:
            continue
        deputy = deputies.get(person.deputy_id)
        if (
            deputy is not None
            and deputy.active
            and not deputy.blocked_bot
            and not is_away(deputy, today)
        ):
            chosen.setdefault(deputy.id, deputy)
    people = sorted(chosen.values(), key=lambda person: person.id or 0)
    return DepartmentAudience(people, everybody_away=bool(members) and not people)


async def request_recipients(
    session: AsyncSession, department_id: int, today: date
) -> list[Person]:
    return (await department_audience(session, department_id, today)).people
