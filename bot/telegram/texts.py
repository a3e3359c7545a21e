"""Texts shown to people, rendered in the current locale. HTML-escaped wherever data enters."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, tzinfo
from html import escape, unescape

from aiogram.utils.i18n import gettext as _

from bot.core.errors import AwayDateError, InvalidDeputyError
from bot.roadmap.service import ItemCard
from bot.telegram.i18n import format_day, ngettext, pick_name
from bot.telegram.menus import CommandSpec, commands_for
from db.models import Department, ItemStatus, Person, Role, StatusUpdate

TELEGRAM_TEXT_LIMIT = 4096


def quote(text: str | None) -> str:
    """Escape data (titles, names, comments) before it goes into an HTML message."""
    return escape(text or "", quote=False)


def role_label(role: str) -> str:
    labels = {
        Role.SECRETARIAT: _("secretariat"),
        Role.CHAIR: _("chair"),
        Role.MEMBER: _("department member"),
    }
    return labels.get(role, role)


def status_label(status: str) -> str:
    labels = {
        ItemStatus.DONE: _("done"),
        ItemStatus.ON_TRACK: _("on track"),
        ItemStatus.AT_RISK: _("at risk of not being met"),
        ItemStatus.BLOCKED: _("will not be met"),
    }
    return labels.get(status, status)


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


def usage_line(spec: CommandSpec) -> str:
    usage = _(spec.usage) if spec.usage else "/" + spec.name
    return _("Usage: {usage}").format(usage=quote(usage))


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


def item_card_text(card: ItemCard, today: date, tz: tzinfo) -> str:
    item = card.item
    lines = [
        f"<b>{quote(item.code)}</b> {quote(pick_name(item.title_kk, item.title_ru))}",
        _("Responsible department: {name}").format(name=quote(department_name(card.department))),
        _("Deadline: {date} ({days_left})").format(
            date=format_day(item.deadline), days_left=days_left_text(item.deadline, today)
        ),
    ]
    if item.target:
        lines.append(_("Target: {target}").format(target=quote(item.target)))
    if item.archived:
        lines.append(_("The item is archived."))
    if card.latest is None:
        lines.append(_("Status: no reports yet"))
        return "\n".join(lines)
    latest = card.latest
    lines.append(
        _("Status: {status}, {progress}%").format(
            status=status_label(latest.status), progress=latest.progress
        )
    )
    lines.append("")
    lines.append("<b>" + _("Latest updates:") + "</b>")
    for update, author in card.history:
        lines.append(history_line(update, author, tz))
    return "\n".join(lines)


def evidence_label(kind: str | None, name: str | None) -> str:
    """«фото» / «файл», with the file's name when Telegram gave one (plain text)."""
    label = _("photo") if kind == "photo" else _("file")
    return f"{label} «{name}»" if name else label


def history_line(update: StatusUpdate, author: Person | None, tz: tzinfo) -> str:
    """One update on one line: date, status, progress, author, then cause and comment."""
    line = "{date} — {status}, {progress}% — {author}".format(
        date=format_day(update.created_at.astimezone(tz).date()),
        status=status_label(update.status),
        progress=update.progress,
        author=quote(author.display_name if author else "—"),
    )
    details = [quote(update.comment)] if update.comment else []
    if update.confirmation:
        details.append(_("no change"))
    if update.evidence_kind:
        details.append("📎 " + quote(evidence_label(update.evidence_kind, update.evidence_name)))
    return line + (": " + " ".join(details) if details else "")


_TAG = re.compile(r"<[^>]+>")


def visible_length(text: str) -> int:
    """Length as Telegram counts it after HTML parsing, in UTF-16 code units."""
    plain = unescape(_TAG.sub("", text))
    return len(plain.encode("utf-16-le")) // 2


def split_message(lines: Iterable[str], limit: int = TELEGRAM_TEXT_LIMIT) -> list[str]:
    """Join lines into messages within Telegram's limit, breaking only between lines.

    Each line must be balanced HTML on its own, so no tag is ever cut in half.
    """
    chunks: list[str] = []
    current: list[str] = []
    size = 0
    for line in lines:
        length = visible_length(line)
        if length > limit:
            raise ValueError("a single line is longer than a Telegram message")
        extra = length + (1 if current else 0)
        if current and size + extra > limit:
            chunks.append("\n".join(current))
            current, size = [], 0
            extra = length
        current.append(line)
        size += extra
    if current:
        chunks.append("\n".join(current))
    return chunks


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
