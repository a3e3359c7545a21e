"""One-time invitation links: issuing them and registering the person who opens one."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.errors import InviteExpiredError, InviteInvalidError, InviteUsedError
from bot.people import audit
from db import queries
from db.models import Department, Invite, Person, Role

TOKEN_BYTES = 24  # 192 bits; 32 URL-safe characters, within the 64 allowed in a deep link
_TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedInvite:
    token: str
    invite: Invite


@dataclass(frozen=True)
class Newcomer:
    """What Telegram tells us about the person opening the link."""

    telegram_id: int
    display_name: str
    username: str | None


async def issue_invite(
    session: AsyncSession,
    *,
    role: Role,
    department: Department | None,
    actor: Person,
    now: datetime,
    ttl: timedelta,
    full_name: str | None = None,
    position: str | None = None,
) -> IssuedInvite:
    """A link for one person; `full_name` and `position`, when the secretariat gives them,
    become the person's own when the link is opened."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    invite = Invite(
        token_hash=hash_token(token),
        role=role,
        department_id=department.id if department else None,
        full_name=full_name,
        position=position,
        created_by_id=actor.id,
        created_at=now,
        expires_at=now + ttl,
    )
    session.add(invite)
    await session.flush()
    target = f"{role}:{department.code}" if department else str(role)
    await queries.add_audit(
        session, at=now, action="invite.issue", actor=actor, target=target, details=f"#{invite.id}"
    )
    await session.commit()
    return IssuedInvite(token=token, invite=invite)


async def redeem_invite(
    session: AsyncSession, *, token: str, newcomer: Newcomer, now: datetime
) -> Person:
    """Register (or re-register) the newcomer with the invitation's role; the link dies with it.

    The invitation is claimed with a conditional UPDATE, so two people racing for one link
    cannot both get in.
    """
    invite = None
    if _TOKEN_SHAPE.fullmatch(token):
        invite = await queries.invite_by_token_hash(session, hash_token(token))
    if invite is None:
        await _refuse(session, newcomer, now, "invite.invalid")
        raise InviteInvalidError
    if invite.used_at is not None:
        await _refuse(session, newcomer, now, "invite.reused", f"#{invite.id}")
        raise InviteUsedError
    if invite.expires_at <= now:
        await _refuse(session, newcomer, now, "invite.expired", f"#{invite.id}")
        raise InviteExpiredError

    # Plain values: a lost race rolls the savepoint back, which expires the ORM objects, and
    # reading an expired attribute outside a query is MissingGreenlet in async code.
    invite_id, role, department_id = invite.id, invite.role, invite.department_id
    full_name, position = invite.full_name, invite.position
    person = await queries.person_by_telegram_id(session, newcomer.telegram_id)
    if person is None:
        person = Person(
            telegram_id=newcomer.telegram_id,
            display_name=newcomer.display_name,
            role=invite.role,
            created_at=now,
            updated_at=now,
        )
    person.display_name = newcomer.display_name[:200]
    if full_name:  # as the secretariat registered them; else whatever was known before
        person.full_name, person.position = full_name, position
    person.username = newcomer.username
    person.role = role
    person.department_id = department_id if role == Role.MEMBER else None
    person.active = True
    person.blocked_bot = False
    person.updated_at = now
    try:
        async with session.begin_nested():
            session.add(person)
            await session.flush()
            claimed = await session.exec(
                update(Invite)
                .where(col(Invite.id) == invite_id, col(Invite.used_at).is_(None))
                .values(used_at=now, used_by_id=person.id)
            )
            if claimed.rowcount != 1:
                raise InviteUsedError  # someone else claimed it first: undo this registration
    except InviteUsedError:
        await _refuse(session, newcomer, now, "invite.reused", f"#{invite_id}")
        raise
    await queries.add_audit(
        session,
        at=now,
        action="invite.redeem",
        actor=person,
        target=f"{role}:{department_id or ''}",
        details=f"#{invite_id}",
    )
    await session.commit()
    return person


async def _refuse(
    session: AsyncSession, newcomer: Newcomer, now: datetime, action: str, details: str = ""
) -> None:
    await audit.refused(
        session,
        None,
        action,
        None,
        now=now,
        telegram_id=newcomer.telegram_id,
        details=details or None,
    )
