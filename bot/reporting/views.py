"""Texts and keyboards of status collection: the worklist and each step of the dialog."""

from __future__ import annotations

from datetime import date, tzinfo

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.core.text import quote
from bot.reporting.service import (
    PROGRESS_CHOICES,
    Cause,
    Draft,
    Worklist,
    confirmable,
    needs_explanation,
)
from bot.telegram.callbacks import (
    ConfirmAll,
    ConfirmItem,
    DialogAction,
    OpenItem,
    PickCause,
    PickProgress,
    PickStatus,
    WorklistPage,
)
from bot.telegram.i18n import format_day, ngettext, pick_name
from bot.telegram.texts import days_left_text, status_label
from db.models import ItemStatus, Person, RoadmapItem, StatusUpdate

BUTTON_TITLE_LENGTH = 40
PAIRED_TITLE_LENGTH = 22  # beside a ✓ button, which takes half of the row


def cause_label(cause: str) -> str:
    labels = {
        Cause.FINANCING: _("financing"),
        Cause.CONTRACTOR: _("contractor"),
        Cause.LAND_PERMITS: _("land or permits"),
        Cause.PROCUREMENT: _("procurement"),
        Cause.DESIGN_DOCUMENTS: _("design documents"),
        Cause.OTHER: _("other"),
    }
    return labels.get(cause, cause)


def _short(text: str, limit: int = BUTTON_TITLE_LENGTH) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def worklist_text(worklist: Worklist, page: int) -> str:
    waiting = len(worklist.waiting)
    if waiting:
        header = ngettext(
            "{count} item is waiting for your update.",
            "{count} items are waiting for your update.",
            waiting,
        ).format(count=waiting)
    else:
        header = _("All items are up to date. Thank you!")
    lines = [f"<b>{header}</b>", _("Tap an item to report its status.")]
    if worklist.confirmable:
        lines.append(_("✓ — nothing has changed since the last report."))
    _items, shown, pages = worklist.page(page)
    if pages > 1:
        lines.append(_("Page {page} of {pages}").format(page=shown + 1, pages=pages))
    return "\n".join(lines)


def worklist_keyboard(worklist: Worklist, page: int) -> InlineKeyboardMarkup | None:
    """One row per item: the item (opens the dialog) and, when it can be, ✓ with the progress
    it confirms; then "everything else unchanged" and the page arrows."""
    items, shown, pages = worklist.page(page)
    if not items:
        return None
    builder = InlineKeyboardBuilder()
    for item in items:
        assert item.id is not None
        mark = "✅ " if item.id in worklist.updated_ids else ""
        row = []
        if worklist.can_confirm(item):
            title = _short(pick_name(item.title_kk, item.title_ru), PAIRED_TITLE_LENGTH)
            row.append(
                InlineKeyboardButton(
                    text=f"{item.code} · {title}", callback_data=OpenItem(item_id=item.id).pack()
                )
            )
            row.append(
                InlineKeyboardButton(
                    text=f"✓ {worklist.latest[item.id].progress}%",
                    callback_data=ConfirmItem(item_id=item.id, page=shown).pack(),
                )
            )
        else:
            title = _short(pick_name(item.title_kk, item.title_ru))
            row.append(
                InlineKeyboardButton(
                    text=f"{mark}{item.code} · {title}",
                    callback_data=OpenItem(item_id=item.id).pack(),
                )
            )
        builder.row(*row)
    if len(worklist.confirmable) > 1:
        builder.row(
            InlineKeyboardButton(
                text="✓ " + _("Everything else unchanged"),
                callback_data=ConfirmAll(step="ask", page=shown).pack(),
            )
        )
    arrows = []
    if pages > 1 and shown > 0:
        arrows.append(
            InlineKeyboardButton(text="◀", callback_data=WorklistPage(page=shown - 1).pack())
        )
    if pages > 1 and shown < pages - 1:
        arrows.append(
            InlineKeyboardButton(text="▶", callback_data=WorklistPage(page=shown + 1).pack())
        )
    if arrows:
        builder.row(*arrows)
    return builder.as_markup()


def confirm_all_step(worklist: Worklist, page: int) -> tuple[str, InlineKeyboardMarkup]:
    """The list a head checks before confirming every remaining item at once."""
    items = worklist.confirmable
    lines = [
        "<b>"
        + ngettext(
            "Confirm that {count} item has not changed?",
            "Confirm that {count} items have not changed?",
            len(items),
        ).format(count=len(items))
        + "</b>"
    ]
    for item in items:
        latest = worklist.latest[item.id]  # type: ignore[index]
        lines.append(
            f"{quote(item.code)} {quote(_short(pick_name(item.title_kk, item.title_ru)))} — "
            f"{status_label(latest.status)}, {latest.progress}%"
        )
    without = [item for item in worklist.waiting if item not in items]
    if without:
        lines.append(
            ngettext(
                "{count} more item has no report yet: open it to report.",
                "{count} more items have no report yet: open them to report.",
                len(without),
            ).format(count=len(without))
        )
    builder = InlineKeyboardBuilder()
    builder.button(
        text=_("Yes, nothing has changed"), callback_data=ConfirmAll(step="yes", page=page)
    )
    builder.button(text=_("Back"), callback_data=WorklistPage(page=page))
    builder.adjust(1)
    return "\n".join(lines), builder.as_markup()


def item_header(
    item: RoadmapItem,
    latest: StatusUpdate | None,
    author: Person | None,
    today: date,
    tz: tzinfo,
) -> str:
    lines = [
        f"<b>{quote(item.code)}</b> {quote(pick_name(item.title_kk, item.title_ru))}",
        _("Deadline: {date} ({days_left})").format(
            date=format_day(item.deadline), days_left=days_left_text(item.deadline, today)
        ),
    ]
    if latest is None:
        lines.append(_("Status: no reports yet"))
    else:
        lines.append(
            _("Last report: {status}, {progress}% — {author}, {date}").format(
                status=status_label(latest.status),
                progress=latest.progress,
                author=quote(author.display_name if author else "—"),
                date=format_day(latest.created_at.astimezone(tz).date()),
            )
        )
        if latest.comment:
            lines.append(_("Comment: {comment}").format(comment=quote(latest.comment)))
    return "\n".join(lines)


def _cancel_row(builder: InlineKeyboardBuilder, item_id: int) -> None:
    builder.button(text=_("Cancel"), callback_data=DialogAction(item_id=item_id, action="cancel"))


def no_change_label(previous: StatusUpdate) -> str:
    """«Без изменений — по плану, 60%»: what one tap on it confirms."""
    return _("No change — {status}, {progress}%").format(
        status=status_label(previous.status), progress=previous.progress
    )


def status_step(
    header: str, item_id: int, previous: StatusUpdate | None
) -> tuple[str, InlineKeyboardMarkup]:
    builder = InlineKeyboardBuilder()
    sizes = [2, 2, 1]
    if confirmable(previous):
        assert previous is not None
        builder.button(
            text=no_change_label(previous),
            callback_data=DialogAction(item_id=item_id, action="same"),
        )
        sizes.insert(0, 1)
    for status in ItemStatus:
        builder.button(
            text=status_label(status).capitalize(),
            callback_data=PickStatus(item_id=item_id, status=status),
        )
    _cancel_row(builder, item_id)
    builder.adjust(*sizes)
    return f"{header}\n\n" + _("What is the status of the item?"), builder.as_markup()


def progress_step(header: str, item_id: int) -> tuple[str, InlineKeyboardMarkup]:
    builder = InlineKeyboardBuilder()
    for value in PROGRESS_CHOICES:
        builder.button(text=f"{value}%", callback_data=PickProgress(item_id=item_id, value=value))
    _cancel_row(builder, item_id)
    builder.adjust(len(PROGRESS_CHOICES), 1)
    question = _("Progress, %: tap a button or type a whole number from 0 to 100.")
    return f"{header}\n\n{question}", builder.as_markup()


def cause_step(header: str, item_id: int) -> tuple[str, InlineKeyboardMarkup]:
    builder = InlineKeyboardBuilder()
    for cause in Cause:
        builder.button(
            text=cause_label(cause).capitalize(),
            callback_data=PickCause(item_id=item_id, cause=cause),
        )
    _cancel_row(builder, item_id)
    builder.adjust(2, 2, 2, 1)
    return f"{header}\n\n" + _("What is the cause?"), builder.as_markup()


def comment_step(header: str, draft: Draft) -> tuple[str, InlineKeyboardMarkup]:
    builder = InlineKeyboardBuilder()
    if needs_explanation(draft.status or ""):
        question = _("Write a comment: what is blocking the item and what help is needed?")
    else:
        question = _("Write a comment, or skip this step.")
        builder.button(
            text=_("Skip"), callback_data=DialogAction(item_id=draft.item_id, action="skip")
        )
    _cancel_row(builder, draft.item_id)
    builder.adjust(1)
    return f"{header}\n\n{question}", builder.as_markup()


def evidence_step(header: str, item_id: int) -> tuple[str, InlineKeyboardMarkup]:
    builder = InlineKeyboardBuilder()
    builder.button(text=_("Skip"), callback_data=DialogAction(item_id=item_id, action="skip"))
    _cancel_row(builder, item_id)
    builder.adjust(1)
    question = _("Attach a photo or a document as evidence, or skip this step.")
    return f"{header}\n\n{question}", builder.as_markup()


def draft_summary(draft: Draft) -> str:
    lines = [
        _("Status: {status}, {progress}%").format(
            status=status_label(draft.status or ""), progress=draft.progress
        )
    ]
    if draft.cause:
        lines.append(_("Cause: {cause}").format(cause=cause_label(draft.cause)))
    if draft.comment:
        lines.append(_("Comment: {comment}").format(comment=quote(draft.comment)))
    if draft.evidence_kind == "photo":
        lines.append(_("Evidence: photo"))
    elif draft.evidence_kind == "document":
        lines.append(_("Evidence: document"))
    return "\n".join(lines)


def confirm_step(header: str, draft: Draft) -> tuple[str, InlineKeyboardMarkup]:
    builder = InlineKeyboardBuilder()
    builder.button(text=_("Save"), callback_data=DialogAction(item_id=draft.item_id, action="save"))
    builder.button(
        text=_("Change"), callback_data=DialogAction(item_id=draft.item_id, action="change")
    )
    _cancel_row(builder, draft.item_id)
    builder.adjust(2, 1)
    title = _("This will be saved:")
    text = f"{header}\n\n<b>{title}</b>\n{draft_summary(draft)}"
    return text, builder.as_markup()


def restart_keyboard(item_id: int) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=_("Start again"), callback_data=OpenItem(item_id=item_id))
    return builder.as_markup()
