"""The chair's and the item views in the chat: the item card, a department, the summary, and
the answers of the chair's buttons and the secretariat's /dismiss and /shortname.

Builders return `Reply` values (text, buttons, an optional photo), tested without Telegram;
`answer` sends them. The use cases in `bot/usecases` produce what these render.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, tzinfo

from aiogram.types import BufferedInputFile, CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.core.text import Block, quote, shorten, split_blocks, split_message
from bot.risk import forecast_views
from bot.risk.digest import (
    DEPARTMENT_BUTTON_LIMIT,
    DigestData,
    Summary,
    chart_caption,
    count_lines,
    items_keyboard,
    render_chart_png,
    render_digest,
    short_title,
)
from bot.risk.dismissals import DismissRefusal
from bot.risk.labels import card_sections, reason_label, reasons_text
from bot.risk.questions import MAX_QUESTION
from bot.risk.rules import DISMISSIBLE_REASONS, ItemRisk, RiskReason, fingerprint
from bot.roadmap.service import ItemCard
from bot.roadmap.views import item_card_text, local_day, person_name
from bot.telegram import menus
from bot.telegram.callbacks import AskUpdate, ChairDepartment, DismissPick, EditUpdate
from bot.telegram.i18n import format_day, ngettext, pick_name
from bot.telegram.keyboards import evidence_keyboard
from bot.telegram.texts import (
    department_name,
    department_short_name,
    hidden_item_text,
    no_access_text,
    status_label,
    usage_line,
)
from db.models import Department, RoadmapItem


@dataclass(frozen=True)
class Reply:
    """One message to send: HTML text (a photo's caption when there is a photo), its buttons."""

    text: str
    markup: InlineKeyboardMarkup | None = None
    photo: bytes | None = None


async def answer(message: Message, replies: Sequence[Reply]) -> None:
    """Send the replies in order into the chat `message` is in."""
    for reply in replies:
        if reply.photo is not None:
            await message.answer_photo(
                BufferedInputFile(reply.photo, filename="summary.png"),
                caption=reply.text,
                reply_markup=reply.markup,
            )
        else:
            await message.answer(reply.text, reply_markup=reply.markup)


async def button_chat(query: CallbackQuery) -> Message | None:
    """The message a button sits on, to answer in its chat; when Telegram no longer gives it
    (too old), the tap is answered "no longer valid" here and None returned."""
    if isinstance(query.message, Message):
        return query.message
    await query.answer(button_expired_text(), show_alert=True)
    return None


# The item card


def card_text(card: ItemCard, risk: ItemRisk | None, today: date, tz: tzinfo) -> str:
    """The one card text, wherever it is opened: the item, its updates, the forecast, then why
    it is at risk."""
    return (
        item_card_text(card, today, tz) + dismissals_section(card, tz) + card_sections(risk, today)
    )


def dismissals_section(card: ItemCard, tz: tzinfo) -> str:
    """The secretariat's dismissals that hold for the item's current data, each reason once
    (its newest), with who, when and why; empty when none holds."""
    item = card.item
    current = fingerprint(item.last_update_id, item.deadline, item.department_id)
    lines, seen = [], set()
    for dismissal, actor in card.dismissals:
        if dismissal.item_fingerprint != current or dismissal.reason in seen:
            continue
        seen.add(dismissal.reason)
        lines.append(
            "☑️ "
            + _("The secretariat ({name}) dismissed «{reason}» on {date}: {text}").format(
                name=quote(person_name(actor)),
                reason=quote(reason_label(dismissal.reason)),
                date=format_day(local_day(dismissal.created_at, tz)),
                text=quote(dismissal.text),
            )
        )
    return "\n\n" + "\n".join(lines) if lines else ""


def card_keyboard(
    card: ItemCard, tz: tzinfo, *, ask: bool, edit: int | None = None
) -> InlineKeyboardMarkup | None:
    """The evidence files' buttons; on the chair's buttons' card, [Ask the department for an
    update now] first; for the author of the newest update, still in its window, [Edit my
    last update] (`edit`: its id)."""
    evidence = evidence_keyboard(card.history, tz)
    if not ask and edit is None:
        return evidence
    assert card.item.id is not None
    builder = InlineKeyboardBuilder()
    if edit is not None:
        builder.button(
            text="✏️ " + _("Edit my last update"), callback_data=EditUpdate(update_id=edit)
        )
    if ask:
        builder.button(
            text=_("Ask the department for an update now"),
            callback_data=AskUpdate(item_id=card.item.id),
        )
    if evidence is not None:
        builder.attach(InlineKeyboardBuilder.from_markup(evidence))
    builder.adjust(1)
    return builder.as_markup()


def card_replies(
    card: ItemCard,
    risk: ItemRisk | None,
    today: date,
    tz: tzinfo,
    *,
    ask: bool = False,
    edit: int | None = None,
) -> list[Reply]:
    """The card in as many messages as Telegram's limit needs, the buttons on the last."""
    *chunks, last = split_message(card_text(card, risk, today, tz).split("\n"))
    keyboard = card_keyboard(card, tz, ask=ask, edit=edit)
    return [Reply(chunk) for chunk in chunks] + [Reply(last, keyboard)]


def missing_item_text(code: str) -> str:
    return _("There is no Road Map item with the code {code}.").format(code=quote(code))


def item_hidden_text(code: str) -> str:
    return hidden_item_text(code)


def stranger_text(telegram_id: int) -> str:
    """For someone without access: how to get it."""
    return no_access_text(telegram_id)


def item_usage() -> str:
    return usage_line(menus.ITEM)


def evidence_caption(item: RoadmapItem) -> str:
    return quote(f"{item.code} · {pick_name(item.title_kk, item.title_ru)}")[:1024]


def file_gone_text() -> str:
    return _("Telegram no longer has this file.")


def button_expired_text() -> str:
    return _("This button is no longer valid.")


def item_gone_text() -> str:
    return _("This item no longer exists.")


def department_gone_text() -> str:
    return _("This department no longer exists.")


def update_requested_text(department: Department, people: int) -> str:
    name = quote(department_name(department))
    if people:
        return "\n".join(
            [
                _("Update requested from {department}.").format(department=name),
                _("Their answer will come here as soon as they report."),
                _("To add a question for them, send it now in one message (optional)."),
            ]
        )
    return _("{department} has nobody registered in the bot to ask.").format(department=name)


def question_sent_text(item: RoadmapItem, people: int) -> str:
    return ngettext(
        "Your question on item {code} was sent to {count} person in the department.",
        "Your question on item {code} was sent to {count} people in the department.",
        people,
    ).format(code=quote(item.code), count=people)


def question_late_text() -> str:
    return _(
        "This message was not sent as a question: it came more than 30 minutes after "
        "[Ask for an update]. Press the button on the card again to ask."
    )


def question_invalid_text() -> str:
    return _("Write the question as text, up to {limit} characters.").format(limit=MAX_QUESTION)


# A department


def department_item_line(risk: ItemRisk, today: date) -> str:
    status = (
        _("no reports yet")
        if risk.latest_status is None
        else f"{status_label(risk.latest_status)}, {risk.latest_progress}%"
    )
    code, title, deadline = quote(risk.code), quote(short_title(risk)), format_day(risk.deadline)
    line = f"• <b>{code}</b> {title} — {quote(status)}, {deadline}"
    if risk.reasons:
        line += f" — 🔴 <i>{quote(reasons_text(risk, today))}</i>"
    if forecast := forecast_views.brief(risk.forecast, today):
        line += f" — 📈 {quote(forecast)}"
    return line


def department_replies(
    department: Department, year: int, today: date, summary: Summary, items: Sequence[ItemRisk]
) -> list[Reply]:
    """The counts, then every item on a line; a button per at-risk item opens its card."""
    header = (
        _("<b>{name}</b>: Road Map {year}").format(
            name=quote(department_name(department)), year=year
        ),
        *count_lines(summary),
        "",
    )
    blocks = [Block(header)]
    blocks += [
        Block((department_item_line(risk, today),), (risk.item_id,) if risk.reasons else ())
        for risk in items
    ]
    if not items:
        blocks.append(Block((_("The department has no items for {year}.").format(year=year),)))
    codes = {risk.item_id: risk.code for risk in items}
    return [Reply(part.text, items_keyboard(part.keys, codes)) for part in split_blocks(blocks)]


def department_choice_reply(
    departments: Sequence[Department], year: int, typed: str | None, *, several: bool
) -> Reply:
    """The departments as buttons: for a bare /dept (`typed` None), or words that fit
    several departments or none (then every department is offered)."""
    if typed is None:
        text = _("Choose a department:")
    elif several:
        text = _("Several departments fit «{typed}». Choose one:").format(typed=quote(typed))
    else:
        text = _("No department fits «{typed}». Choose one:").format(typed=quote(typed))
    builder = InlineKeyboardBuilder()
    for department in sorted(departments, key=department_short_name):  # as the reader reads
        assert department.id is not None
        builder.button(
            text=shorten(department_short_name(department), DEPARTMENT_BUTTON_LIMIT),
            callback_data=ChairDepartment(department_id=department.id, year=year),
        )
    builder.adjust(2)
    return Reply(text, builder.as_markup() if departments else None)


def unknown_department_text(code: str) -> str:
    return _("There is no department with the code {code}. See /departments.").format(
        code=quote(code)
    )


# The summary


def summary_text_replies(data: DigestData) -> list[Reply]:
    """The summary itself, sent first (#32): it is the answer, the chart only illustrates it.
    An empty year is one line saying so."""
    if not data.summary.total:
        return [Reply(_("There are no Road Map items for {year}.").format(year=data.year))]
    messages = render_digest(
        data.summary, data.departments, year=data.year, today=data.today, week=data.week
    )
    return [Reply(part.text, part.markup) for part in messages]


async def summary_chart_reply(data: DigestData) -> Reply | None:
    """The chart after the text, captioned with exactly what it draws (None for an empty
    year). Drawing takes a moment of CPU: a worker thread keeps the bot answering meanwhile."""
    if not data.summary.total:
        return None
    png = await asyncio.to_thread(render_chart_png, data)
    return Reply(chart_caption(data), photo=png)


def summary_usage() -> str:
    return usage_line(menus.SUMMARY)


# The secretariat's corrections


def dismiss_usage() -> str:
    reasons = ", ".join(
        f"<code>{reason.value}</code> — {quote(reason_label(reason))}"
        for reason in sorted(DISMISSIBLE_REASONS)
    )
    return usage_line(menus.DISMISS) + "\n" + _("Reasons: {reasons}").format(reasons=reasons)


def dismiss_choice_reply(item_id: int, item_code: str, reasons: Sequence[RiskReason]) -> Reply:
    """/dismiss CODE: one button per reason the item is at risk for now."""
    builder = InlineKeyboardBuilder()
    for reason in reasons:
        builder.button(
            text=reason_label(reason),
            callback_data=DismissPick(item_id=item_id, reason=reason.value),
        )
    builder.adjust(1)
    text = _("Item {code}: which reason does not hold? Press it, then explain why.").format(
        code=quote(item_code)
    )
    return Reply(text, builder.as_markup())


def explanation_question(item_code: str, reason: RiskReason) -> str:
    return _(
        "Why is «{reason}» not a risk for item {code}? Send the explanation in one message "
        "(up to 500 characters): the card will show it."
    ).format(reason=quote(reason_label(reason)), code=quote(item_code))


def explanation_invalid_text() -> str:
    return _("Send the explanation in one message, up to 500 characters.")


def explanation_late_text() -> str:
    return _("Nothing was dismissed: send /dismiss with the item's code again.")


def dismissed_text(item_code: str, reason: RiskReason) -> str:
    return _(
        "Dismissed for item {code}: {reason}. It comes back when the item's data changes."
    ).format(code=quote(item_code), reason=quote(reason_label(reason)))


def dismiss_refused_text(item_code: str, refusal: DismissRefusal) -> str:
    if refusal == DismissRefusal.UNKNOWN_ITEM:
        return missing_item_text(item_code)
    if refusal == DismissRefusal.NOT_DISMISSIBLE:
        return _("A risk declared by the department or an overdue deadline cannot be dismissed.")
    return _("This reason does not apply to item {code} now.").format(code=quote(item_code))


def short_names_usage() -> str:
    return usage_line(menus.SHORT_NAME)


def short_title_usage() -> str:
    """/short's usage, and that «-» goes back to the title shortened by the rule."""
    return (
        usage_line(menus.SHORT_TITLE)
        + "\n"
        + _("One text sets both languages; «-» goes back to the shortened full title.")
    )


def short_title_text(item: RoadmapItem) -> str:
    if item.short_title_kk is None and item.short_title_ru is None:
        return _("Item {code}'s buttons show its full title, shortened.").format(
            code=quote(item.code)
        )
    return _("Item {code}'s buttons now show: {kk} | {ru}").format(
        code=quote(item.code), kk=quote(item.short_title_kk), ru=quote(item.short_title_ru)
    )


def short_names_text(department: Department) -> str:
    return _("Department <code>{code}</code> is now shown as: {kk} | {ru}").format(
        code=quote(department.code),
        kk=quote(department.short_name_kk),
        ru=quote(department.short_name_ru),
    )
