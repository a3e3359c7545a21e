"""The item card as people read it: the item, its deadline, status and latest updates."""

from __future__ import annotations

from datetime import UTC, date, datetime, tzinfo

from aiogram.utils.i18n import gettext as _

from bot.core.text import quote, shorten
from bot.roadmap.service import ItemCard
from bot.telegram.i18n import format_day, ngettext, pick_name
from bot.telegram.texts import days_left_text, department_name, evidence_label, status_label
from db.models import DeadlineChange, Person, RoadmapItem, StatusUpdate


def item_card_text(card: ItemCard, today: date, tz: tzinfo) -> str:
    item = card.item
    lines = [
        f"<b>{quote(item.code)}</b> {quote(pick_name(item.title_kk, item.title_ru))}",
        _("Responsible department: {name}").format(name=quote(department_name(card.department))),
    ]
    if card.co_executors:
        names = ", ".join(quote(department_name(d)) for d in card.co_executors)
        lines.append(_("Co-executors: {names}").format(names=names))
    lines.append(
        _("Deadline: {date} ({days_left})").format(
            date=format_day(item.deadline), days_left=days_left_text(item.deadline, today)
        )
    )
    if card.moves:
        lines.append(deadline_move_text(*card.moves[0], tz, count=len(card.moves)))
    if item.deadline_text:
        lines.append(_("As the Road Map words it: «{text}»").format(text=quote(item.deadline_text)))
    if item.target:
        lines.append(_("Target: {target}").format(target=quote(item.target)))
    if item.completion_form:
        lines.append(_("Completion form: {form}").format(form=quote(item.completion_form)))
    if item.costs:
        lines.append(_("Estimated costs, mln tenge: {costs}").format(costs=quote(item.costs)))
    if item.funding:
        lines.append(_("Funding source: {funding}").format(funding=quote(item.funding)))
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


def person_name(person: Person | None) -> str:
    """Who did it, as the secretariat registered them: "full name, position" when known,
    else the Telegram name (a removed person shows as a dash). Plain text: quote it."""
    if person is None:
        return "—"
    name = person.full_name or person.display_name
    return f"{name}, {person.position}" if person.position else name


def deadline_move_text(
    change: DeadlineChange, actor: Person | None, tz: tzinfo, *, count: int = 1
) -> str:
    """ℹ️ A move of the deadline as the council's decision it is: by whom, how, when, old → new.
    Information, not a risk reason (the rules decide that)."""
    how = _("by import") if change.via == "import" else _("by the /deadline command")
    text = "ℹ️ " + _(
        "The secretariat ({name}) moved the deadline {how} on {date}: {old} → {new}"
    ).format(
        name=quote(person_name(actor)),
        how=how,
        date=format_day(local_day(change.changed_at, tz)),
        old=format_day(change.old_deadline),
        new=format_day(change.new_deadline),
    )
    if count > 1:
        text += " " + ngettext(
            "(moved {count} time in all)", "(moved {count} times in all)", count
        ).format(count=count)
    if change.reason:
        text += "\n" + _("Reason: {reason}").format(reason=quote(change.reason))
    return text


def deadline_moved_notice(
    item: RoadmapItem, change: DeadlineChange, actor: Person | None, tz: tzinfo
) -> str:
    """What the item's department is told when the secretariat moves its deadline."""
    title = pick_name(item.title_kk, item.title_ru)
    return (
        _("The deadline of your item <b>{code}</b> «{title}» has changed.").format(
            code=quote(item.code), title=quote(shorten(title, 200))
        )
        + "\n"
        + deadline_move_text(change, actor, tz)
    )


def local_day(moment: datetime, tz: tzinfo) -> date:
    """The council's day of a stored moment (SQLite hands back naive UTC)."""
    if moment.tzinfo is None:  # SQLite hands back naive UTC
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(tz).date()


def history_line(update: StatusUpdate, author: Person | None, tz: tzinfo) -> str:
    """One update on one line: date, status, progress, author, then cause and comment; a
    correction is marked ✏️ and the report it corrects "corrected" (the history keeps both)."""
    mark = "✏️ " if update.corrects_id is not None else ""
    day = format_day(update.created_at.astimezone(tz).date())
    line = f"{mark}{day} — {status_label(update.status)}, {update.progress}% — "
    line += quote(person_name(author))
    details = [quote(update.comment)] if update.comment else []
    if update.confirmation:
        details.append(_("no change"))
    if update.corrected:
        details.append("(" + _("corrected later") + ")")
    if update.evidence_kind:
        details.append("📎 " + quote(evidence_label(update.evidence_kind, update.evidence_name)))
    return line + (": " + " ".join(details) if details else "")
