"""The secretariat commands' answers: what was done, or why it was refused."""

from __future__ import annotations

from datetime import date, datetime, timedelta, tzinfo

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from babel.dates import format_timedelta

from bot.core.errors import (
    DuplicateDepartmentError,
    DuplicateItemError,
    ProtectedPersonError,
    UnchangedError,
    UnknownDepartmentError,
    UnknownItemError,
    UnknownPersonError,
)
from bot.core.text import quote, split_message
from bot.core.weekly import WeeklyTime
from bot.roadmap.views import person_name
from bot.telegram.callbacks import RevokeChoice as RevokeChoice
from bot.telegram.i18n import current_locale, format_day, ngettext, pick_name
from bot.telegram.texts import away_refusal_text, away_text, department_name, role_label
from bot.usecases.caller import Refused
from bot.usecases.people import (
    Away,
    DeputyNotJoined,
    Invited,
    NotAMember,
    People,
    Revoked,
    RevokeToConfirm,
)
from bot.usecases.roadmap import (
    DeadlineMoved,
    DepartmentAdded,
    Departments,
    ItemOwned,
    ReasonAsked,
    ReasonInvalid,
    ReasonLate,
)
from bot.usecases.rounds import DaysAhead, RoundOutcome
from handlers.views.common import usage as usage


def _unknown_department(code: str) -> str:
    return _("There is no department with the code {code}. See /departments.").format(
        code=quote(code)
    )


def _unknown_item(code: str) -> str:
    return _("There is no Road Map item with the code {code}.").format(code=quote(code))


def _zone_name(tz: tzinfo) -> str:
    """«Алматы уақыты» / «время Алматы» rather than the technical Asia/Almaty."""
    name = str(tz)
    return _("Almaty time") if name == "Asia/Almaty" else name


def invited(outcome: Invited | Refused, link: str, tz: tzinfo) -> str:
    if isinstance(outcome, Refused):
        return refusal(outcome)
    who = role_label(outcome.role)
    if outcome.department is not None:
        who = f"{who} — {quote(department_name(outcome.department))}"
    if outcome.person is not None:
        named = outcome.person.full_name
        if outcome.person.position:
            named += ", " + outcome.person.position
        who = f"{quote(named)} ({who})"
    expires = format_day(outcome.expires_at.astimezone(tz).date())
    return _(
        "One-time invitation link for: {who}\n{link}\n\n"
        "It works once and expires on {date}. Send it to the person personally."
    ).format(who=who, link=link, date=expires)


def departments(rows: Departments) -> list[str]:
    if not rows:
        return [_("No departments yet. Add one with /adddept.")]
    lines = [_("<b>Responsible departments</b>")]
    lines += [f"<code>{quote(row.code)}</code> — {quote(department_name(row))}" for row in rows]
    return split_message(lines)


def department_added(outcome: DepartmentAdded, code: str) -> str:
    if isinstance(outcome, Refused):
        if isinstance(outcome.error, DuplicateDepartmentError):
            return _("A department with the code {code} already exists.").format(code=quote(code))
        return refusal(outcome)
    return _("Department added: <code>{code}</code> — {name}").format(
        code=quote(outcome.code), name=quote(department_name(outcome))
    )


def item_added(outcome: ItemOwned | Refused, code: str) -> str:
    if isinstance(outcome, Refused):
        if isinstance(outcome.error, DuplicateItemError):
            return _("An item with the code {code} already exists.").format(code=quote(code))
        return refusal(outcome)
    item = outcome.item
    return _(
        "Item added: <b>{code}</b> {title}\nDepartment: {department}\nDeadline: {date}"
    ).format(
        code=quote(item.code),
        title=quote(pick_name(item.title_kk, item.title_ru)),
        department=quote(department_name(outcome.department)),
        date=format_day(item.deadline),
    )


def assigned(outcome: ItemOwned | Refused) -> str:
    if isinstance(outcome, Refused):
        if isinstance(outcome.error, UnchangedError):
            return _("The item already belongs to this department.")
        return refusal(outcome)
    text = _("Item {code} now belongs to: {department}").format(
        code=quote(outcome.item.code), department=quote(department_name(outcome.department))
    )
    if outcome.nobody_registered:
        text += "\n" + _(
            "⚠️ Nobody in this department is registered yet, so nobody will be asked for the "
            "item's status: invite them with /invite {code}."
        ).format(code=quote(outcome.department.code))
    return text


def deadline_moved(outcome: DeadlineMoved | Refused | ReasonInvalid | ReasonLate) -> str:
    if isinstance(outcome, Refused):
        if isinstance(outcome.error, UnchangedError):
            return _("The item already has this deadline.")
        return refusal(outcome)
    if isinstance(outcome, ReasonInvalid):
        return _(
            "Send the reason in one message (up to 500 characters), or press "
            "«Move without a reason»."
        )
    if isinstance(outcome, ReasonLate):
        return _("The deadline was not moved: send /deadline again.")
    text = _("Deadline of item {code} changed: {old} → {new}").format(
        code=quote(outcome.item.code),
        old=format_day(outcome.change.old_deadline),
        new=format_day(outcome.change.new_deadline),
    )
    if outcome.change.reason:
        text += "\n" + _("Reason: {reason}").format(reason=quote(outcome.change.reason))
    if outcome.told:
        text += "\n" + ngettext(
            "The department is told ({count} person).",
            "The department is told ({count} people).",
            outcome.told,
        ).format(count=outcome.told)
    return text


class DeadlineReasonSkip(CallbackData, prefix="dls"):
    """[Move without a reason] under "why is the deadline moved?"."""


def deadline_reason_question(outcome: ReasonAsked | Refused) -> str:
    if isinstance(outcome, Refused):
        return deadline_moved(outcome)
    return _(
        "Why is the deadline of item {code} moved to {date}? Send the reason in one "
        "message: the card, the alerts and the department will show it."
    ).format(code=quote(outcome.item.code), date=format_day(outcome.deadline))


def reason_markup(outcome: object) -> InlineKeyboardMarkup | None:
    """[Move without a reason] while the move waits for its reason; nothing otherwise."""
    if not isinstance(outcome, ReasonAsked | ReasonInvalid):
        return None
    button = InlineKeyboardButton(
        text=_("Move without a reason"), callback_data=DeadlineReasonSkip().pack()
    )
    return InlineKeyboardMarkup(inline_keyboard=[[button]])


def people(outcome: People) -> list[str]:
    lines = [_("<b>People</b>")]
    for row in outcome.people:
        name = quote(person_name(row))
        line = f"<code>{row.telegram_id}</code> {name} — {role_label(row.role)}"
        if row.department_id is not None:
            line += f", {quote(department_name(outcome.departments.get(row.department_id)))}"
        if not row.active:
            line += " — " + _("access revoked")
        elif row.blocked_bot:
            line += " — " + _("has blocked the bot")
        lines.append(line)
    if outcome.demo:
        lines.append("")
        lines.append(
            ngettext(
                "And {count} reporter of the demo data (seed-demo): never sent any message.",
                "And {count} reporters of the demo data (seed-demo): never sent any message.",
                len(outcome.demo),
            ).format(count=len(outcome.demo))
        )
    return split_message(lines)


def revoked(outcome: Revoked, telegram_id: int) -> str:
    if isinstance(outcome, Refused):
        if isinstance(outcome.error, UnknownPersonError):
            return _("Nobody with the Telegram ID {id} is registered.").format(id=telegram_id)
        if isinstance(outcome.error, ProtectedPersonError):
            return _("This access cannot be revoked: it is your own or it is set in ADMIN_IDS.")
        return refusal(outcome)
    return _("Access revoked: {name} (<code>{id}</code>).").format(
        name=quote(outcome.display_name), id=telegram_id
    )


def revoke_question(outcome: RevokeToConfirm) -> str:
    person = outcome.person
    who = role_label(person.role)
    if outcome.department is not None:
        who += ", " + department_name(outcome.department)
    return _(
        "Revoke the access of {name} ({who}, Telegram ID <code>{id}</code>)? "
        "They will be told and will no longer get requests or use the bot."
    ).format(name=quote(person.display_name), who=quote(who), id=person.telegram_id)


def revoke_keyboard(outcome: RevokeToConfirm) -> InlineKeyboardMarkup:
    telegram_id = outcome.person.telegram_id
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=_("Revoke access"),
                    callback_data=RevokeChoice(telegram_id=telegram_id, confirm=True).pack(),
                ),
                InlineKeyboardButton(
                    text=_("Cancel"),
                    callback_data=RevokeChoice(telegram_id=telegram_id, confirm=False).pack(),
                ),
            ]
        ]
    )


def revoke_kept() -> str:
    return _("Nothing changed: the access stays.")


def _skipped_line(outcome: RoundOutcome, now: datetime) -> str:
    """How many items were not asked again, and how recent their updates are."""
    count = len(outcome.skipped)
    oldest = min(item.last_update_at or now for item in outcome.skipped)
    minutes = max(1, round((now - oldest).total_seconds() / 60))
    ago = format_timedelta(
        timedelta(minutes=minutes), threshold=1.0, format="short", locale=current_locale()
    )
    return ngettext(
        "{count} item not asked again: updated within the last {ago}.",
        "{count} items not asked again: updated within the last {ago}.",
        count,
    ).format(count=count, ago=ago)


def round_confirmation(outcome: RoundOutcome, tz: tzinfo, now: datetime) -> str:
    """What /request_now answers as soon as the round is recorded: who is asked, and when
    the messages really go out (outside working hours: the next working morning); items
    updated a moment ago are not asked again, and the answer says so."""
    skipped = _skipped_line(outcome, now) if outcome.skipped else ""
    if not outcome.requests:
        if skipped:
            return _("Nobody was asked: every open item was updated recently.") + "\n" + skipped
        return _("No department has open items: nobody was asked.")
    departments = outcome.departments_asked
    people = outcome.people_count
    lines = []
    now = outcome.round.started_at
    delivery_at = outcome.delivery_at or now
    if not departments:
        lines.append(_("Nobody was asked."))
    elif delivery_at > now:
        local = delivery_at.astimezone(tz)
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
    if skipped:
        lines.append(skipped)
    return "\n".join(lines)


def schedule_now(schedule: WeeklyTime, tz: tzinfo) -> str:
    return (
        _("Status updates are requested every {schedule} ({tz}).").format(
            schedule=schedule.describe(current_locale()), tz=_zone_name(tz)
        )
        + "\n"
        + usage("schedule")
    )


def schedule_saved(schedule: WeeklyTime) -> str:
    return _("Saved: status updates will be requested every {schedule}.").format(
        schedule=schedule.describe(current_locale())
    )


def days_ahead(outcome: DaysAhead) -> str:
    lines = [usage("holiday")]
    if outcome.days_off:
        lines.append(_("Weekdays off in the next 60 days:"))
        lines.extend(format_day(day_off) for day_off in outcome.days_off)
    if outcome.working_weekend_days:
        lines.append(_("Working Saturdays and Sundays in the next 60 days:"))
        lines.extend(format_day(workday) for workday in outcome.working_weekend_days)
    return "\n".join(lines)


def calendar_day_set(day: date, *, day_off: bool) -> str:
    if day_off:
        text = _("{date} is now a day off: nothing will be sent that day.")
    else:
        text = _(
            "{date} is now a working day: requests, reminders and nudges go out as on any "
            "working day."
        )
    return text.format(date=format_day(day))


def away(outcome: Away | NotAMember | DeputyNotJoined | Refused) -> str:
    if isinstance(outcome, NotAMember):
        return _("This is not an active department member.")
    if isinstance(outcome, DeputyNotJoined):
        return _(
            "The deputy has not joined the bot yet. Invite them (/invite {code}); once they "
            "have joined, send /setaway again with their username."
        ).format(code=quote(outcome.department_code))
    if isinstance(outcome, Refused):
        return away_refusal_text(outcome.error)
    text = away_text(outcome.person, outcome.deputy)
    person = outcome.person
    if outcome.alone and person.away_until is not None:
        text += "\n\n⚠️ " + _(
            "Nobody else in this department is in the bot, so its requests will wait until "
            "{name} is back. To name a deputy: invite them (/invite {code}), then send "
            "/setaway {id} {date} @their_username."
        ).format(
            name=quote(person.display_name),
            code=quote(outcome.department_code),
            id=person.telegram_id,
            date=f"{person.away_until:%d.%m.%Y}",
        )
    return text


def refusal(outcome: Refused) -> str:
    """Why an action was refused, for the refusals every command shares."""
    error = outcome.error
    if isinstance(error, UnknownDepartmentError):
        return _unknown_department(error.code)
    if isinstance(error, UnknownItemError):
        return _unknown_item(error.code)
    raise error  # an unexpected refusal: the error handler apologises and logs it
