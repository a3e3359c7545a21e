"""Who may be messaged: the one rule every notification uses to pick its readers.

A person may be messaged when their access is active and their chat works: someone who
blocked the bot is skipped until they write to it again (the middleware clears the mark).
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

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


async def department_members(session: AsyncSession, department_id: int) -> list[Person]:
    """The reachable members of a department: who gets its requests and reminders."""
    statement = (
        select(Person)
        .where(Person.department_id == department_id, Person.role == Role.MEMBER, reachable())
        .order_by(col(Person.id))
    )
    return list((await session.exec(statement)).all())
