"""Secretariat commands: departments, items, invitations and people.

Every handler here sits behind the `secretariat_only()` guard, which refuses anyone else and
records the refusal. Arguments are parsed before anything is written.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from aiogram import BaseMiddleware, Bot, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message, TelegramObject
from aiogram.utils.deep_linking import create_start_link
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.app.config import Settings
from bot.core.clock import Clock, local_today
from bot.core.errors import (
    AwayDateError,
    DuplicateDepartmentError,
    DuplicateItemError,
    InvalidDeputyError,
    ProtectedPersonError,
    UnchangedError,
    UnknownDepartmentError,
    UnknownItemError,
    UnknownPersonError,
)
from bot.core.parsing import (
    parse_away,
    parse_date,
    parse_new_department,
    parse_new_item,
    parse_one_word,
    parse_two_words,
    parse_user_id,
)
from bot.core.text import quote, split_message
from bot.delivery.worker import DeliveryWorker
from bot.people.invites import issue_invite
from bot.people.service import revoke, set_away
from bot.reporting import rounds
from bot.reporting.service import RoundOutcome
from bot.roadmap.service import add_department, add_item, assign_item, change_deadline
from bot.scheduling.jobs import LateScheduler
from bot.scheduling.schedule import parse_weekly, round_schedule, save_round_schedule
from bot.telegram import menus
from bot.telegram.i18n import current_locale, format_day, ngettext, pick_name
from bot.telegram.middlewares import secretariat_only
from bot.telegram.texts import away_refusal_text, away_text, department_name, role_label, usage_line
from bot.workdays.calendar import load_calendar, set_calendar_day
from db import queries
from db.engine import AsyncSession
from db.models import Person, Role

INVITE_ROLES = {"chair": Role.CHAIR, "secretariat": Role.SECRETARIAT}


@dataclass(frozen=True)
class SecretariatContext:
    """What secretariat commands need, gathered once per update behind the guard."""

    person: Person
    session: AsyncSession
    settings: Settings
    clock: Clock
    bot: Bot
    i18n: I18n
    outbox: DeliveryWorker
    scheduler: LateScheduler | None


class SecretariatContextMiddleware(BaseMiddleware):
    """Builds the `ctx` of secretariat handlers; runs after the role guard let them in."""

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        data["ctx"] = SecretariatContext(
            person=data["person"],
            session=data["session"],
            settings=data["settings"],
            clock=data["clock"],
            bot=data["bot"],
            i18n=data["i18n"],
            outbox=data["outbox"],
            scheduler=data.get("scheduler"),
        )
        return await handler(event, data)


def _zone_name(timezone: str) -> str:
    """«Алматы уақыты» / «время Алматы» rather than the technical Asia/Almaty."""
    return _("Almaty time") if timezone == "Asia/Almaty" else timezone


def _unknown_department(code: str) -> str:
    return _("There is no department with the code {code}. See /departments.").format(
        code=quote(code)
    )


def _unknown_item(code: str) -> str:
    return _("There is no Road Map item with the code {code}.").format(code=quote(code))


async def invite(message: Message, command: CommandObject, ctx: SecretariatContext) -> None:
    target = parse_one_word(command.args)
    if target is None:
        await message.answer(usage_line(menus.INVITE))
        return
    role = INVITE_ROLES.get(target.lower(), Role.MEMBER)
    department = None
    if role == Role.MEMBER:
        department = await queries.department_by_code(ctx.session, target)
        if department is None:
            await message.answer(_unknown_department(target))
            return
    issued = await issue_invite(
        ctx.session,
        role=role,
        department=department,
        actor=ctx.person,
        now=ctx.clock.now(),
        ttl=timedelta(days=ctx.settings.invite_ttl_days),
    )
    link = await create_start_link(ctx.bot, issued.token)
    expires = format_day(issued.invite.expires_at.astimezone(ctx.settings.tz).date())
    who = role_label(role)
    if department is not None:
        who = f"{who} — {quote(department_name(department))}"
    await message.answer(
        _(
            "One-time invitation link for: {who}\n{link}\n\n"
            "It works once and expires on {date}. Send it to the person personally."
        ).format(who=who, link=link, date=expires)
    )


async def departments(message: Message, ctx: SecretariatContext) -> None:
    rows = await queries.all_departments(ctx.session)
    if not rows:
        await message.answer(_("No departments yet. Add one with /adddept."))
        return
    lines = [_("<b>Responsible departments</b>")]
    lines += [f"<code>{quote(row.code)}</code> — {quote(department_name(row))}" for row in rows]
    for chunk in split_message(lines):
        await message.answer(chunk)


async def add_department_command(
    message: Message, command: CommandObject, ctx: SecretariatContext
) -> None:
    new = parse_new_department(command.args)
    if new is None:
        await message.answer(usage_line(menus.ADD_DEPARTMENT))
        return
    try:
        department = await add_department(
            ctx.session, actor=ctx.person, new=new, now=ctx.clock.now()
        )
    except DuplicateDepartmentError:
        await message.answer(
            _("A department with the code {code} already exists.").format(code=quote(new.code))
        )
        return
    await message.answer(
        _("Department added: <code>{code}</code> — {name}").format(
            code=quote(department.code), name=quote(department_name(department))
        )
    )


async def add_item_command(
    message: Message, command: CommandObject, ctx: SecretariatContext
) -> None:
    new = parse_new_item(command.args)
    if new is None:
        await message.answer(usage_line(menus.ADD_ITEM))
        return
    try:
        item, department = await add_item(
            ctx.session, actor=ctx.person, new=new, now=ctx.clock.now()
        )
    except UnknownDepartmentError as error:
        await message.answer(_unknown_department(error.code))
        return
    except DuplicateItemError:
        await message.answer(
            _("An item with the code {code} already exists.").format(code=quote(new.code))
        )
        return
    await message.answer(
        _("Item added: <b>{code}</b> {title}\nDepartment: {department}\nDeadline: {date}").format(
            code=quote(item.code),
            title=quote(pick_name(item.title_kk, item.title_ru)),
            department=quote(department_name(department)),
            date=format_day(item.deadline),
        )
    )


async def assign_command(message: Message, command: CommandObject, ctx: SecretariatContext) -> None:
    words = parse_two_words(command.args)
    if words is None:
        await message.answer(usage_line(menus.ASSIGN))
        return
    item_code, department_code = words
    try:
        item, department = await assign_item(
            ctx.session,
            actor=ctx.person,
            item_code=item_code,
            department_code=department_code,
            now=ctx.clock.now(),
        )
    except UnknownItemError:
        await message.answer(_unknown_item(item_code))
        return
    except UnknownDepartmentError:
        await message.answer(_unknown_department(department_code))
        return
    except UnchangedError:
        await message.answer(_("The item already belongs to this department."))
        return
    await message.answer(
        _("Item {code} now belongs to: {department}").format(
            code=quote(item.code), department=quote(department_name(department))
        )
    )


async def deadline_command(
    message: Message, command: CommandObject, ctx: SecretariatContext
) -> None:
    words = parse_two_words(command.args)
    deadline = parse_date(words[1]) if words else None
    if words is None or deadline is None:
        await message.answer(usage_line(menus.DEADLINE))
        return
    try:
        item, change = await change_deadline(
            ctx.session,
            actor=ctx.person,
            item_code=words[0],
            deadline=deadline,
            now=ctx.clock.now(),
        )
    except UnknownItemError:
        await message.answer(_unknown_item(words[0]))
        return
    except UnchangedError:
        await message.answer(_("The item already has this deadline."))
        return
    await message.answer(
        _("Deadline of item {code} changed: {old} → {new}").format(
            code=quote(item.code),
            old=format_day(change.old_deadline),
            new=format_day(change.new_deadline),
        )
    )


async def people(message: Message, ctx: SecretariatContext) -> None:
    rows = await queries.all_people(ctx.session)
    departments = {row.id: row for row in await queries.all_departments(ctx.session)}
    lines = [_("<b>People</b>")]
    for row in rows:
        line = f"<code>{row.telegram_id}</code> {quote(row.display_name)} — {role_label(row.role)}"
        if row.department_id is not None:
            line += f", {quote(department_name(departments.get(row.department_id)))}"
        if not row.active:
            line += " — " + _("access revoked")
        elif row.blocked_bot:
            line += " — " + _("has blocked the bot")
        lines.append(line)
    for chunk in split_message(lines):
        await message.answer(chunk)


async def revoke_command(message: Message, command: CommandObject, ctx: SecretariatContext) -> None:
    telegram_id = parse_user_id(command.args)
    if telegram_id is None:
        await message.answer(usage_line(menus.REVOKE))
        return
    try:
        revoked = await revoke(
            ctx.session,
            actor=ctx.person,
            telegram_id=telegram_id,
            admin_ids=ctx.settings.admin_ids,
            now=ctx.clock.now(),
        )
    except UnknownPersonError:
        await message.answer(
            _("Nobody with the Telegram ID {id} is registered.").format(id=telegram_id)
        )
        return
    except ProtectedPersonError:
        await message.answer(
            _("This access cannot be revoked: it is your own or it is set in ADMIN_IDS.")
        )
        return
    await menus.clear_person_menu(ctx.bot, telegram_id)
    await message.answer(
        _("Access revoked: {name} (<code>{id}</code>).").format(
            name=quote(revoked.display_name), id=telegram_id
        )
    )


async def request_now(message: Message, command: CommandObject, ctx: SecretariatContext) -> None:
    code = parse_one_word(command.args) if command.args else None
    if command.args and code is None:
        await message.answer(usage_line(menus.REQUEST_NOW))
        return
    department = None
    if code is not None:
        department = await queries.department_by_code(ctx.session, code)
        if department is None:
            await message.answer(_unknown_department(code))
            return
    now = ctx.clock.now()
    # The round is recorded first and the secretariat told; its requests are queued right
    # after (a stop in between is resumed at the next start: see bot/reporting/rounds.py).
    outcome = await rounds.record_round(
        ctx.session, tz=ctx.settings.tz, actor=ctx.person, department=department, now=now
    )
    try:
        await message.answer(_round_confirmation(outcome, now, ctx))
    finally:  # queued whether or not the confirmation got through
        await rounds.queue_requests(
            ctx.session, i18n=ctx.i18n, outcome=outcome, now=now, wake=ctx.outbox.wake
        )
        ctx.outbox.wake()


def _round_confirmation(outcome: RoundOutcome, now: datetime, ctx: SecretariatContext) -> str:
    if not outcome.requests:
        return _("No department has open items: nobody was asked.")
    departments = outcome.departments_asked
    people = outcome.people_count
    lines = []
    delivery_at = outcome.delivery_at or now
    if not departments:
        lines.append(_("Nobody was asked."))
    elif delivery_at > now:  # outside working hours: say when the messages will really go
        local = delivery_at.astimezone(ctx.settings.tz)
        lines.append(
            ngettext(
                "It is outside working hours: the request to {count} department",
                "It is outside working hours: the request to {count} departments",
                departments,
            ).format(count=departments)
            + " "
            + ngettext(
                "({count} person) will go out on {date} at {time}.",
                "({count} people) will go out on {date} at {time}.",
                people,
            ).format(count=people, date=format_day(local.date()), time=f"{local:%H:%M}")
        )
    else:
        lines.append(
            ngettext(
                "Status updates requested from {count} department",
                "Status updates requested from {count} departments",
                departments,
            ).format(count=departments)
            + ", "
            + ngettext("{count} person asked.", "{count} people asked.", people).format(
                count=people
            )
        )
    silent = outcome.departments_without_people
    if silent:
        names = ", ".join(quote(department_name(row)) for row in silent)
        lines.append(
            _("Nobody is registered yet in: {names}. Invite them with /invite.").format(names=names)
        )
    return "\n".join(lines)


async def schedule_command(
    message: Message, command: CommandObject, ctx: SecretariatContext
) -> None:
    if not command.args:
        current = await round_schedule(ctx.session, ctx.settings.round_schedule)
        await message.answer(
            _("Status updates are requested every {schedule} ({tz}).").format(
                schedule=current.describe(current_locale()), tz=_zone_name(ctx.settings.timezone)
            )
            + "\n"
            + usage_line(menus.SCHEDULE)
        )
        return
    schedule = parse_weekly(command.args)
    if schedule is None:
        await message.answer(usage_line(menus.SCHEDULE))
        return
    await save_round_schedule(ctx.session, schedule, ctx.person, ctx.clock.now())
    if ctx.scheduler is not None:
        await ctx.scheduler.reschedule_rounds(schedule)
    await message.answer(
        _("Saved: status updates will be requested every {schedule}.").format(
            schedule=schedule.describe(current_locale())
        )
    )


async def holiday_command(
    message: Message, command: CommandObject, ctx: SecretariatContext
) -> None:
    words = parse_two_words(command.args)
    day = parse_date(words[1]) if words else None
    if words is None or day is None or words[0].lower() not in {"add", "remove", "workday"}:
        calendar = await load_calendar(ctx.session, ctx.settings.tz)
        today = local_today(ctx.clock, ctx.settings.tz)
        upcoming = calendar.weekdays_off(today, days=60)
        working = calendar.working_weekend_days(today, days=60)
        lines = [usage_line(menus.HOLIDAY)]
        if upcoming:
            lines.append(_("Weekdays off in the next 60 days:"))
            lines.extend(format_day(day_off) for day_off in upcoming)
        if working:
            lines.append(_("Working Saturdays and Sundays in the next 60 days:"))
            lines.extend(format_day(workday) for workday in working)
        await message.answer("\n".join(lines))
        return
    day_off = words[0].lower() == "add"
    await set_calendar_day(
        ctx.session, day=day, day_off=day_off, actor=ctx.person, now=ctx.clock.now()
    )
    if day_off:
        text = _("{date} is now a day off: nothing will be sent that day.")
    else:
        text = _(
            "{date} is now a working day: requests, reminders and nudges go out as on any "
            "working day."
        )
    await message.answer(text.format(date=format_day(day)))


async def setaway_command(
    message: Message, command: CommandObject, ctx: SecretariatContext
) -> None:
    """/setaway <Telegram ID> <date back> [deputy] | off: time away for a member."""
    words = (command.args or "").split(maxsplit=1)
    request = parse_away(words[1]) if len(words) == 2 else None
    if request is None or not words[0].isdigit():
        await message.answer(usage_line(menus.SET_AWAY))
        return
    person = await queries.person_by_telegram_id(ctx.session, int(words[0]))
    if person is None or person.role != Role.MEMBER or not person.active:
        await message.answer(_("This is not an active department member."))
        return
    try:
        deputy = await set_away(
            ctx.session,
            person=person,
            back=request.back,
            deputy_handle=request.deputy,
            actor=ctx.person,
            today=local_today(ctx.clock, ctx.settings.tz),
            now=ctx.clock.now(),
        )
    except (AwayDateError, InvalidDeputyError, UnknownPersonError) as error:
        await message.answer(away_refusal_text(error))
        return
    await message.answer(away_text(person, deputy))


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.middleware(secretariat_only())
    router.message.middleware(SecretariatContextMiddleware())
    router.message.register(invite, Command("invite"))
    router.message.register(departments, Command("departments"))
    router.message.register(add_department_command, Command("adddept"))
    router.message.register(add_item_command, Command("additem"))
    router.message.register(assign_command, Command("assign"))
    router.message.register(deadline_command, Command("deadline"))
    router.message.register(people, Command("people"))
    router.message.register(revoke_command, Command("revoke"))
    router.message.register(request_now, Command("request_now"))
    router.message.register(schedule_command, Command("schedule"))
    router.message.register(holiday_command, Command("holiday"))
    router.message.register(setaway_command, Command("setaway"))
    return router
