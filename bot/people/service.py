"""People and their roles: configured administrators, language choice, revocation."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.catalogs import SUPPORTED_LOCALES
from bot.core.errors import (
    AwayDateError,
    InvalidDeputyError,
    ProtectedPersonError,
    UnknownPersonError,
)
from bot.people.invites import Newcomer
from db import queries
from db.models import Person, Role


async def ensure_configured_admin(
    session: AsyncSession, *, newcomer: Newcomer, admin_ids: Collection[int], now: datetime
) -> Person | None:
    """ADMIN_IDS are secretariat from their first /start; returns None for anyone else."""
    if newcomer.telegram_id not in admin_ids:
        return None
    person = await queries.person_by_telegram_id(session, newcomer.telegram_id)
    if person is not None and person.active and person.role == Role.SECRETARIAT:
        return person
    if person is None:
        person = Person(
            telegram_id=newcomer.telegram_id,
            display_name=newcomer.display_name[:200],
            username=newcomer.username,
            role=Role.SECRETARIAT,
            created_at=now,
            updated_at=now,
        )
    person.role = Role.SECRETARIAT
    person.department_id = None
    person.active = True
    person.blocked_bot = False
    person.updated_at = now
    session.add(person)
    await session.flush()
    await queries.add_audit(
        session, at=now, action="person.admin_from_config", actor=person, target=str(person.id)
    )
    await session.commit()
    return person


async def mark_reachable(session: AsyncSession, person: Person) -> None:
    """They wrote to the bot, so their chat works again: messages may go to them."""
    if person.blocked_bot:
        person.blocked_bot = False
        session.add(person)
        await session.commit()


async def set_locale(session: AsyncSession, person: Person, locale: str, now: datetime) -> None:
    if locale not in SUPPORTED_LOCALES:
        raise ValueError(locale)
    person.locale = locale
    person.updated_at = now
    session.add(person)
    await session.commit()


async def revocable(
    session: AsyncSession, *, actor: Person, telegram_id: int, admin_ids: Collection[int]
) -> Person:
    """The person whose access `actor` may take away (never his own, never a configured
    administrator's); raises why not."""
    person = await queries.person_by_telegram_id(session, telegram_id)
    if person is None:
        raise UnknownPersonError(telegram_id)
    if telegram_id in admin_ids or person.id == actor.id:
        raise ProtectedPersonError
    return person


async def revoke(
    session: AsyncSession,
    *,
    actor: Person,
    telegram_id: int,
    admin_ids: Collection[int],
    now: datetime,
) -> Person:
    person = await revocable(session, actor=actor, telegram_id=telegram_id, admin_ids=admin_ids)
    person.active = False
    person.updated_at = now
    session.add(person)
    await queries.add_audit(
        session, at=now, action="person.revoke", actor=actor, target=str(telegram_id)
    )
    await session.commit()
    return person


@dataclass(frozen=True)
class AwaySet:
    """/away done: who stands in (None: the other members)."""

    deputy: Person | None
    # Away with no deputy and nobody else in the department to answer: worth a warning.
    alone: bool = False
    department_code: str = ""


@dataclass(frozen=True)
class DeputyNotJoined:
    """/away names a deputy the bot does not know: he has to be invited first."""

    department_code: str


AwayOutcome = AwaySet | DeputyNotJoined | AwayDateError | InvalidDeputyError


async def set_away(
    session: AsyncSession,
    *,
    person: Person,
    back: date | None,
    deputy_handle: str | None,
    actor: Person,
    today: date,
    now: datetime,
) -> Person | None:
    """Time away until `back` (None: back now), with an optional deputy; returns the deputy.

    While away the person gets no requests, reminders or nudges; the deputy (or the other
    members) get them. It ends by itself on `back`.
    """
    deputy = None
    if back is not None and back <= today:
        raise AwayDateError
    if back is not None and deputy_handle is not None:
        deputy = await queries.person_by_handle(session, deputy_handle)
        if deputy is None:
            raise UnknownPersonError(deputy_handle)
        if (
            deputy.id == person.id
            or not deputy.active
            or deputy.role != Role.MEMBER
            or deputy.department_id != person.department_id
            or (deputy.away_until is not None and today < deputy.away_until)
        ):
            raise InvalidDeputyError
    person.away_until = back
    person.deputy_id = deputy.id if deputy else None
    person.updated_at = now
    session.add(person)
    await queries.add_audit(
        session,
        at=now,
        action="person.away" if back else "person.back",
        actor=actor,
        target=str(person.telegram_id),
        details=f"until {back.isoformat()}, deputy {deputy.telegram_id if deputy else '-'}"
        if back
        else None,
    )
    await session.commit()
    return deputy
