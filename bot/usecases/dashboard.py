"""Who opens the dashboard: the person behind a verified Telegram user, and refusals on record.

The web checks Telegram's signature itself (bot/web/auth.py); the role always comes from our
database by the user's Telegram id, never from what initData says about the user.
"""

from __future__ import annotations

from aiogram.utils.i18n import gettext as _
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.people import audit
from bot.telegram.i18n import in_locale
from bot.usecases.access import sees_every_item
from bot.usecases.ports import Person, UseCaseContext
from db import queries
from db.models import Role
from db.outbox import enqueue

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


async def offer_dashboard_button(
    ctx: UseCaseContext, session: AsyncSession, person: Person
) -> bool:
    """The dashboard's menu button for a chair or secretary who has just joined (or chosen a
    language), through the outbox in the caller's transaction; start-up offers it to those who
    were there before. False when the dashboard is off or the person is not its reader."""
    if ctx.dashboard_url is None or not reads_the_dashboard(person) or not person.active:
        return False
    with in_locale(ctx.i18n, person.locale):
        text = _("Dashboard")
    button = {"type": "web_app", "text": text, "web_app": {"url": ctx.dashboard_url}}
    return await enqueue(
        session,
        key=f"dashboard-button:{person.id}:{person.locale}:{ctx.clock.now().isoformat()}",
        kind="menu",
        chat_id=person.telegram_id,
        person_id=person.id,
        method="setChatMenuButton",
        params={"menu_button": button},
        now=ctx.clock.now(),
    )


async def withdraw_menus(ctx: UseCaseContext, session: AsyncSession, person: Person) -> None:
    """A revoked person's chat keeps neither the commands menu nor the dashboard's button
    (through the outbox, in the caller's transaction; the caller commits)."""
    now = ctx.clock.now()
    calls: list[tuple[str, dict[str, object]]] = [
        ("deleteMyCommands", {"scope": {"type": "chat", "chat_id": person.telegram_id}}),
    ]
    if reads_the_dashboard(person):
        calls.append(("setChatMenuButton", {"menu_button": {"type": "default"}}))
    for method, params in calls:
        await enqueue(
            session,
            key=f"withdraw:{method}:{person.id}:{now.isoformat()}",
            kind="menu",
            chat_id=person.telegram_id,
            person_id=person.id,
            method=method,
            params=params,
            now=now,
        )
