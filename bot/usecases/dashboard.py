"""Who opens the dashboard: the person behind a verified Telegram user, and refusals on record.

The web checks Telegram's signature itself (bot/web/auth.py); the role always comes from our
database by the user's Telegram id, never from what initData says about the user.
"""

from __future__ import annotations

from bot.people import audit
from bot.usecases.access import sees_every_item
from bot.usecases.ports import Person, UseCaseContext
from db import queries
from db.models import Role

REFUSED_WEB = "refused.web"


async def dashboard_viewer(ctx: UseCaseContext, telegram_id: int) -> Person | None:
    """The active person with this Telegram id, or None (a stranger, or no longer active)."""
    async with ctx.session_maker() as session:
        person = await queries.person_by_telegram_id(session, telegram_id)
    return person if person is not None and person.active else None


def reads_the_dashboard(person: Person | None) -> bool:
    """The dashboard's overview screens are the chair's and the secretariat's."""
    return person is not None and sees_every_item(person)


async def refuse_web(
    ctx: UseCaseContext,
    *,
    person: Person | None,
    telegram_id: int | None,
    target: str,
    reason: str,
) -> None:
    """Put a refused dashboard request on record: who (when known), what, and why."""
    async with ctx.session_maker() as session:
        await audit.refused(
            session,
            person,
            REFUSED_WEB,
            target,
            now=ctx.clock.now(),
            telegram_id=telegram_id,
            details=reason,
        )
        await session.commit()


async def dashboard_readers(ctx: UseCaseContext) -> list[Person]:
    """Everyone who gets the dashboard's menu button: the active chair and secretariat."""
    async with ctx.session_maker() as session:
        chairs = await queries.active_people_with_role(session, Role.CHAIR)
        secretaries = await queries.active_people_with_role(session, Role.SECRETARIAT)
    return [*chairs, *secretaries]


def may_dismiss_risks(person: Person) -> bool:
    """Overruling a computed risk is the secretariat's (as /dismiss in the chat)."""
    return person.role == Role.SECRETARIAT
