"""Texts shown to people, rendered in the current locale. HTML-escaped wherever data enters."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Protocol

from aiogram.utils.i18n import gettext as _

from bot.core.causes import Cause
from bot.core.errors import AwayDateError, InvalidDeputyError
from bot.core.text import quote, shorten, without_city
from bot.telegram.i18n import format_day, ngettext, pick_name
from bot.telegram.menus import CommandSpec, commands_for
from db.models import Department, ItemStatus, Person, RoadmapItem, Role


def role_label(role: str) -> str:
    labels: dict[str, str] = {
        Role.SECRETARIAT: _("secretariat"),
        Role.CHAIR: _("chair"),
        Role.MEMBER: _("department member"),
    }
    return labels.get(role, role)


def status_label(status: str) -> str:
    labels: dict[str, str] = {
        ItemStatus.DONE: _("done"),
        ItemStatus.ON_TRACK: _("on track"),
        ItemStatus.AT_RISK: _("at risk of not being met"),
        ItemStatus.BLOCKED: _("will not be met"),
    }
    return labels.get(status, status)


def short_status_label(status: str) -> str:
    """The status in a button: «қаупі бар» / «есть риск» rather than the full wording."""
    if status == ItemStatus.AT_RISK:
        return _("at risk")
    return status_label(status)


def cause_label(cause: str | None) -> str:
    """The cause a department chose, in the current locale; empty when there is none."""
    if not cause:
        return ""
    labels: dict[str, str] = {
        Cause.FINANCING: _("financing"),
        Cause.CONTRACTOR: _("contractor"),
        Cause.LAND_PERMITS: _("land or permits"),
        Cause.PROCUREMENT: _("procurement"),
        Cause.DESIGN_DOCUMENTS: _("design documents"),
        Cause.OTHER: _("other"),
    }
    return labels.get(cause, cause)


def days_left_text(deadline: date, today: date) -> str:
    days = (deadline - today).days
    if days > 0:
        return ngettext("{count} day left", "{count} days left", days).format(count=days)
    if days == 0:
        return _("due today")
    overdue = -days
    return ngettext("overdue by {count} day", "overdue by {count} days", overdue).format(
        count=overdue
    )


def department_name(department: Department | None) -> str:
    if department is None:
        return "—"
    return pick_name(department.name_kk, department.name_ru)


def department_short_name(department: Department | None) -> str:
    """The name buttons, summaries and charts show: the stored short name, else the full name
    without the city's name."""
    if department is None:
        return "—"
    return pick_name(
        department.short_name_kk or without_city(department.name_kk),
        department.short_name_ru or without_city(department.name_ru),
    )


def usage_line(spec: CommandSpec) -> str:
    usage = _(spec.usage) if spec.usage else "/" + spec.name
    return _("Usage: {usage}").format(usage=quote(usage))


def hidden_item_text(code: str | None = None) -> str:
    """One answer for "no such item" and "another department's item": a member must not learn
    which codes exist elsewhere by trying them."""
    if code is None:
        return _("This item is not among your department's items.")
    return _("There is no item {code} among your department's items.").format(code=quote(code))


def no_access_text(telegram_id: int) -> str:
    return _(
        "Hello! This bot collects status updates on the city's Road Map items "
        "for the responsible departments.\n\n"
        "You do not have access yet. Your Telegram ID: <code>{telegram_id}</code>\n"
        "Send this number to the council's secretariat and ask for an invitation link."
    ).format(telegram_id=telegram_id)


def help_text(person: Person) -> str:
    lines = [
        _("You are registered as: <b>{role}</b>.").format(role=role_label(person.role)),
        "",
        _("What you can do:"),
    ]
    for spec in commands_for(person.role):
        hint = quote(_(spec.usage)) if spec.usage else "/" + spec.name
        lines.append(f"{hint} — {quote(_(spec.description))}")
    return "\n".join(lines)


def evidence_label(kind: str | None, name: str | None) -> str:
    """«фото» / «файл» / «голосовое сообщение», with the file's name when Telegram gave one
    (plain text)."""
    labels = {"photo": _("photo"), "voice": _("voice message"), "video_note": _("video message")}
    label = labels.get(kind or "", _("file"))
    return f"{label} «{name}»" if name else label


def away_text(person: Person, deputy: Person | None) -> str:
    """What /away and /setaway answer: until when, and who gets the requests meanwhile."""
    if person.away_until is None:
        return _("{name} is back: requests, reminders and nudges go to them again.").format(
            name=quote(person.display_name)
        )
    if deputy is not None:
        text = _("{name} is away until {date}: requests, reminders and nudges go to {deputy}.")
    else:
        text = _(
            "{name} is away until {date}: requests, reminders and nudges go to the other "
            "members of the department."
        )
    return text.format(
        name=quote(person.display_name),
        date=format_day(person.away_until),
        deputy=quote(deputy.display_name) if deputy else "",
    )


def away_refusal_text(error: Exception) -> str:
    if isinstance(error, AwayDateError):
        return _("The date of return must be later than today.")
    if isinstance(error, InvalidDeputyError):
        return _("A deputy must be another member of the same department who is not away.")
    return _("Nobody with this Telegram ID or username is registered.")


class ItemMove(Protocol):
    """An item given from one department (`previous`) to another (`department`)."""

    @property
    def item(self) -> RoadmapItem: ...

    @property
    def previous(self) -> Department | None: ...

    @property
    def department(self) -> Department: ...


MOVES_LISTED = 20  # items named in one notice; the rest are counted


def items_assigned_notice(moves: Sequence[ItemMove]) -> str:
    """To a department's members when items become theirs (/assign or an import)."""
    if len(moves) == 1:
        move = moves[0]
        return _(
            "📌 Item <b>{code}</b> «{title}» is now your department's (until now: {previous}). "
            "Deadline: {date}. Its status will be requested from you with the other items: "
            "/myitems."
        ).format(
            code=quote(move.item.code),
            title=quote(pick_name(move.item.title_kk, move.item.title_ru)),
            previous=quote(department_name(move.previous)),
            date=format_day(move.item.deadline),
        )
    head = ngettext(
        "📌 {count} item is now your department's; its status will be requested from you "
        "with the other items (/myitems):",
        "📌 {count} items are now your department's; their status will be requested from you "
        "with the other items (/myitems):",
        len(moves),
    ).format(count=len(moves))
    lines = [
        _("<b>{code}</b> «{title}» (until now: {previous})").format(
            code=quote(move.item.code),
            title=quote(shorten(pick_name(move.item.title_kk, move.item.title_ru), 80)),
            previous=quote(department_short_name(move.previous)),
        )
        for move in moves[:MOVES_LISTED]
    ]
    return "\n".join([head, *lines, *_more(len(moves))])


def items_moved_away_notice(moves: Sequence[ItemMove]) -> str:
    """To a department's members when items of theirs are given to another department."""
    if len(moves) == 1:
        move = moves[0]
        return _(
            "📌 Item <b>{code}</b> «{title}» now belongs to another department: {department}. "
            "Its status is no longer requested from you."
        ).format(
            code=quote(move.item.code),
            title=quote(pick_name(move.item.title_kk, move.item.title_ru)),
            department=quote(department_name(move.department)),
        )
    head = ngettext(
        "📌 {count} item now belongs to another department; its status is no longer "
        "requested from you:",
        "📌 {count} items now belong to other departments; their status is no longer "
        "requested from you:",
        len(moves),
    ).format(count=len(moves))
    lines = [
        f"<b>{quote(move.item.code)}</b> "
        f"«{quote(shorten(pick_name(move.item.title_kk, move.item.title_ru), 80))}» → "
        f"{quote(department_short_name(move.department))}"
        for move in moves[:MOVES_LISTED]
    ]
    return "\n".join([head, *lines, *_more(len(moves))])


class NamedItem(Protocol):
    """What a new item's notice names: a stored item, or an import's row about to be one."""

    @property
    def code(self) -> str: ...

    @property
    def title_kk(self) -> str: ...

    @property
    def title_ru(self) -> str: ...

    @property
    def deadline(self) -> date: ...


def new_items_notice(items: Sequence[NamedItem]) -> str:
    """To a department's members when new items are added to it (/additem or an import)."""
    if len(items) == 1:
        item = items[0]
        return _(
            "🆕 A new item was added to your department: <b>{code}</b> «{title}». "
            "Deadline: {date}. Its status will be requested from you with the other items: "
            "/myitems."
        ).format(
            code=quote(item.code),
            title=quote(pick_name(item.title_kk, item.title_ru)),
            date=format_day(item.deadline),
        )
    head = ngettext(
        "🆕 {count} new item was added to your department; its status will be requested "
        "from you with the other items (/myitems):",
        "🆕 {count} new items were added to your department; their status will be requested "
        "from you with the other items (/myitems):",
        len(items),
    ).format(count=len(items))
    lines = [
        _("<b>{code}</b> «{title}», deadline {date}").format(
            code=quote(item.code),
            title=quote(shorten(pick_name(item.title_kk, item.title_ru), 80)),
            date=format_day(item.deadline),
        )
        for item in items[:MOVES_LISTED]
    ]
    return "\n".join([head, *lines, *_more(len(items))])


def _more(count: int) -> list[str]:
    if count <= MOVES_LISTED:
        return []
    return [_("…and {count} more.").format(count=count - MOVES_LISTED)]


def revoked_notice() -> str:
    """To a person whose access the secretariat has just taken away."""
    return "🔒 " + _(
        "Your access to the Road Map bot has been revoked by the council's secretariat. "
        "If this is a mistake, contact the secretariat."
    )


def joined_notice(person: Person, department_name: str | None) -> str:
    """To the secretariat when an invitation is used: who joined, as what."""
    role = role_label(person.role)
    where = f"{role}, {department_name}" if department_name else role
    return "👤 " + _("{name} has joined the bot: {role}.").format(
        name=quote(person.display_name), role=quote(where)
    )
