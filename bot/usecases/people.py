"""People and their access: invitations, the list of people, revocation, time away, and a
newcomer's first steps (/start with or without an invitation, the language)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from aiogram.fsm.state import State, StatesGroup
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.clock import local_today
from bot.core.errors import UnknownDepartmentError, UnknownPersonError
from bot.core.parsing import (
    AwayRequest,
    NameAndPosition,
    looks_like_a_name,
    parse_name_and_position,
)
from bot.core.weekly import WeeklyTime
from bot.delivery.enqueue import enqueue_message
from bot.people import invites, recipients
from bot.people import service as people_service
from bot.people.invites import Newcomer as Newcomer
from bot.people.service import DeputyNotJoined as DeputyNotJoined
from bot.reporting.service import open_items
from bot.telegram.i18n import in_locale, pick_name
from bot.telegram.texts import joined_notice, revoked_notice
from bot.usecases.caller import Caller, Refused, refused_or
from bot.usecases.dashboard import offer_dashboard_button, withdraw_menus
from bot.usecases.ports import DialogStore, UseCaseContext
from bot.workdays import schedule as stored_schedule
from db import queries
from db.models import Department, Person, Role
from db.queries import RoadmapState as RoadmapState

INVITE_ROLES = {"chair": Role.CHAIR, "secretariat": Role.SECRETARIAT}


@dataclass(frozen=True)
class Invited:
    """A one-time invitation: the token goes into a link only the invitee should get."""

    token: str
    role: Role
    department: Department | None
    expires_at: datetime
    person: NameAndPosition | None = None


async def invite(
    caller: Caller, target: str, person: NameAndPosition | None = None
) -> Invited | Refused:
    """Invite the chair, the secretariat, or a member of the department with code `target`;
    `person` (name and position) is what alerts will say of them."""
    role = INVITE_ROLES.get(target.lower(), Role.MEMBER)
    async with caller.ctx.session_maker() as session:
        department = None
        if role == Role.MEMBER:
            department = await queries.department_by_code(session, target)
            if department is None:
                return Refused(UnknownDepartmentError(target))
        issued = await invites.issue_invite(
            session,
            role=role,
            department=department,
            actor=caller.actor,
            now=caller.ctx.clock.now(),
            ttl=caller.policy.invite_ttl,
            full_name=person.full_name if person else None,
            position=person.position if person else None,
        )
    return Invited(issued.token, role, department, issued.invite.expires_at, person)


@dataclass(frozen=True)
class People:
    people: list[Person]
    departments: dict[int, Department]
    # The demo's reporters (seed-demo): negative ids no Telegram user has, never messaged.
    demo: list[Person] = field(default_factory=list)


async def people(ctx: UseCaseContext) -> People:
    """Everyone with access (or once with it); the demo's reporters apart."""
    async with ctx.session_maker() as session:
        rows = list(await queries.all_people(session))
        departments = {row.id: row for row in await queries.all_departments(session)}
    real = [row for row in rows if row.telegram_id > 0]
    demo = [row for row in rows if row.telegram_id <= 0]
    return People(real, {key: value for key, value in departments.items() if key is not None}, demo)


Revoked = Person | Refused


@dataclass(frozen=True)
class RevokeToConfirm:
    """/revoke asks first: whose access would go (name, role, department)."""

    person: Person
    department: Department | None


async def revoke_preview(caller: Caller, telegram_id: int) -> RevokeToConfirm | Refused:
    """Who /revoke would take access from, or why it cannot; writes nothing."""
    async with caller.ctx.session_maker() as session:
        person = await refused_or(
            people_service.revocable(
                session,
                actor=caller.actor,
                telegram_id=telegram_id,
                admin_ids=caller.policy.admin_ids,
            )
        )
        if isinstance(person, Refused):
            return person
        department_id = person.department_id
        department = await session.get(Department, department_id) if department_id else None
    return RevokeToConfirm(person, department)


async def revoke(caller: Caller, telegram_id: int) -> Revoked:
    """Take access away (never from oneself or a configured administrator); audited. The
    person is told (through the outbox, in his language), and his commands menu and dashboard
    button are taken away through the outbox."""
    ctx = caller.ctx
    async with ctx.session_maker() as session:
        known = await queries.person_by_telegram_id(session, telegram_id)
        was_active = known is not None and known.active
        person = await refused_or(
            people_service.revoke(
                session,
                actor=caller.actor,
                telegram_id=telegram_id,
                admin_ids=caller.policy.admin_ids,
                now=ctx.clock.now(),
            )
        )
        if isinstance(person, Refused) or not was_active:
            return person
        await withdraw_menus(ctx, session, person)  # access is gone; the menus follow
        now = ctx.clock.now()
        with in_locale(ctx.i18n, person.locale):
            text = revoked_notice()
        await enqueue_message(
            session,
            key=f"revoked:{person.id}:{now:%Y%m%d%H%M%S%f}",
            kind="revoked",
            person=person,
            text=text,
            now=now,
        )
        await session.commit()
    ctx.signals.wake_outbox()
    return person


@dataclass(frozen=True)
class Away:
    person: Person
    deputy: Person | None
    # Away with no deputy and nobody else in the department to answer: the secretariat is
    # warned, as the member is on /away.
    alone: bool = False
    department_code: str = ""


@dataclass(frozen=True)
class NotAMember:
    """/setaway names somebody who is not an active department member."""


async def set_away(
    caller: Caller, telegram_id: int, request: AwayRequest
) -> Away | NotAMember | DeputyNotJoined | Refused:
    """Time away for a department member (until `request.back`, None: back now), with an
    optional deputy who gets their requests meanwhile; audited. As with /away, a deputy the
    bot does not know has to be invited first, and a member nobody else stands in for is
    worth a warning."""
    ctx = caller.ctx
    async with ctx.session_maker() as session:
        person = await queries.person_by_telegram_id(session, telegram_id)
        if person is None or person.role != Role.MEMBER or not person.active:
            return NotAMember()
        today = local_today(ctx.clock, ctx.tz)
        deputy = await refused_or(
            people_service.set_away(
                session,
                person=person,
                back=request.back,
                deputy_handle=request.deputy,
                actor=caller.actor,
                today=today,
                now=ctx.clock.now(),
            )
        )
        department = await queries.department_by_id(session, person.department_id)
        code = department.code if department is not None else ""
        if isinstance(deputy, Refused):
            unknown = isinstance(deputy.error, UnknownPersonError)
            return DeputyNotJoined(code) if unknown else deputy
        alone = (
            request.back is not None
            and deputy is None
            and await recipients.nobody_else_answers(session, person, today)
        )
    return Away(person, deputy, alone, code)


@dataclass(frozen=True)
class ChooseLanguage:
    """The person is known but has not chosen a language yet (or just got in)."""


@dataclass(frozen=True)
class Welcome:
    """A known person; for a department member who has just chosen a language, where he
    stands: his department, its open items and when requests come."""

    person: Person
    department: Department | None = None
    open_items: int = 0
    schedule: WeeklyTime | None = None
    # Joined by an invitation that did not name him: asked once for his name and position.
    ask_name: bool = False
    # For the secretariat: how far the Road Map is set up (its next step).
    state: RoadmapState | None = None


def is_secretariat(person: Person | None) -> bool:
    return person is not None and person.role == Role.SECRETARIAT


async def roadmap_state(ctx: UseCaseContext) -> RoadmapState:
    """How far the Road Map is set up, for the secretariat's next step (/help, /start)."""
    async with ctx.session_maker() as session:
        return await queries.roadmap_state(session)


async def _welcome(
    ctx: UseCaseContext, person: Person, department: Department | None = None
) -> Welcome:
    """A welcome; the secretariat's carries the Road Map's state."""
    if person.role != Role.SECRETARIAT:
        return Welcome(person, department)
    return Welcome(person, department, state=await roadmap_state(ctx))


@dataclass(frozen=True)
class NoAccess:
    telegram_id: int


async def start(caller: Caller, newcomer: invites.Newcomer) -> Welcome | ChooseLanguage | NoAccess:
    """/start without an invitation: a known person is welcomed back (or asked for a
    language), a configured administrator gets in as secretariat, anyone else has no access."""
    person = caller.person
    if person is None:
        async with caller.ctx.session_maker() as session:
            person = await people_service.ensure_configured_admin(
                session,
                newcomer=newcomer,
                admin_ids=caller.policy.admin_ids,
                now=caller.ctx.clock.now(),
            )
        return NoAccess(newcomer.telegram_id) if person is None else ChooseLanguage()
    return ChooseLanguage() if person.locale is None else await _welcome(caller.ctx, person)


async def redeem(
    ctx: UseCaseContext, token: str, newcomer: invites.Newcomer
) -> Person | Refused | Welcome:
    """/start with an invitation: the newcomer gets its role; the link dies with it; the
    secretariat is told who joined (through the outbox, each in their language). A refused
    link from someone already registered (his own used link) is a welcome back instead."""
    async with ctx.session_maker() as session:
        outcome = await refused_or(
            invites.redeem_invite(session, token=token, newcomer=newcomer, now=ctx.clock.now())
        )
        if isinstance(outcome, Person):
            await _tell_the_secretariat(ctx, session, outcome)
            return outcome
        known = await queries.person_by_telegram_id(session, newcomer.telegram_id)
        if known is not None and known.active and known.locale is not None:
            department_id = known.department_id
            department = await session.get(Department, department_id) if department_id else None
            return await _welcome(ctx, known, department)
    return outcome


async def _tell_the_secretariat(ctx: UseCaseContext, session: AsyncSession, joined: Person) -> None:
    department = (
        await session.get(Department, joined.department_id) if joined.department_id else None
    )
    now = ctx.clock.now()
    for member in await recipients.secretariat(session):
        if member.id == joined.id:
            continue
        with in_locale(ctx.i18n, member.locale):
            name = pick_name(department.name_kk, department.name_ru) if department else None
            text = joined_notice(joined, name)
        await enqueue_message(
            session,
            key=f"joined:{joined.id}:{member.id}",
            kind="joined",
            person=member,
            text=text,
            now=now,
        )
    await session.commit()
    ctx.signals.wake_outbox()


class JoiningDialog(StatesGroup):
    """After the first language choice of someone invited without a name: his next message
    is his full name and position (skippable)."""

    name = State()


NAME_WINDOW = timedelta(days=1)  # a message later than this is not the answer


async def choose_language(
    caller: Caller, locale: str, dialog: DialogStore | None = None
) -> Welcome | None:
    """The person's language from now on (None if the bot does not know them); a member is
    told his department, its open items and the request schedule. At the first choice, one
    invited without a name is asked for it once (his next message, through `dialog`)."""
    if caller.person is None:
        return None
    now = caller.ctx.clock.now()
    async with caller.ctx.session_maker() as session:
        person = await session.get(Person, caller.person.id)
        if person is None:
            return None
        first_choice = person.locale is None
        await people_service.set_locale(session, person, locale, now)
        ask_name = (
            dialog is not None
            and first_choice
            and not person.full_name
            and await queries.was_invited(session, person)
        )
        if dialog is not None and ask_name:
            await dialog.set_state(JoiningDialog.name)
            await dialog.set_data({"asked_at": now.isoformat()})
        if person.role != Role.MEMBER or person.department_id is None:
            if await offer_dashboard_button(caller.ctx, session, person):
                await session.commit()
                caller.ctx.signals.wake_outbox()
            state = await queries.roadmap_state(session) if is_secretariat(person) else None
            return Welcome(person, ask_name=ask_name, state=state)
        department = await session.get(Department, person.department_id)
        items = await open_items(session, person.department_id)
        schedule = await stored_schedule.round_schedule(session, caller.policy.round_schedule)
    return Welcome(person, department, len(items), schedule, ask_name=ask_name)


@dataclass(frozen=True)
class NameSaved:
    """What alerts and answers will now say of him ("name, position")."""

    person: Person


@dataclass(frozen=True)
class NameInvalid:
    """Empty or too long: say how to write it, and wait again."""


@dataclass(frozen=True)
class NotAName:
    """A question or an item's code, not a name: it goes where such a message goes, and the
    name question stays open."""


@dataclass(frozen=True)
class NameLate:
    """The message came too long after the question to be the answer: not taken."""


async def set_own_name(
    caller: Caller, dialog: DialogStore, text: str
) -> NameSaved | NameInvalid | NotAName | NameLate | None:
    """The answer to "your full name and position?" after joining; audited."""
    if caller.person is None:
        return None
    if any(c.isalpha() for c in text) and not looks_like_a_name(text):
        return NotAName()
    typed = parse_name_and_position(text)
    if typed is None:
        return NameInvalid()
    data = await dialog.get_data()
    await dialog.clear()
    now = caller.ctx.clock.now()
    asked_at = datetime.fromisoformat(str(data.get("asked_at", "1970-01-01T00:00:00+00:00")))
    if now - asked_at > NAME_WINDOW:
        return NameLate()
    async with caller.ctx.session_maker() as session:
        person = await session.get(Person, caller.person.id)
        if person is None:
            return None
        person.full_name, person.position = typed.full_name, typed.position
        person.updated_at = now
        session.add(person)
        await queries.add_audit(
            session, at=now, action="person.name", actor=person, target=str(person.telegram_id)
        )
        await session.commit()
    return NameSaved(person)


async def skip_own_name(dialog: DialogStore) -> None:
    """[Skip]: the Telegram name stays what alerts say; the secretariat may invite again.
    A late tap leaves whatever dialog the person is in now alone."""
    if await dialog.get_state() == JoiningDialog.name.state:
        await dialog.clear()
