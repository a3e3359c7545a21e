"""Texts and keyboards of status collection: the worklist and each step of the dialog."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date, tzinfo

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.core.causes import Cause
from bot.core.text import quote, shorten
from bot.people.service import AwayOutcome, DeputyNotJoined
from bot.reporting.service import (
    PROGRESS_CHOICES,
    SPOKEN_EVIDENCE,
    Draft,
    ReportRefusal,
    SanityWarning,
    Worklist,
    confirmable,
    needs_explanation,
)
from bot.roadmap.views import person_name
from bot.telegram import menus
from bot.telegram.callbacks import (
    ConfirmAll,
    ConfirmItem,
    CorrectSaved,
    DialogAction,
    EditUpdate,
    OpenItem,
    PickCause,
    PickProgress,
    PickStatus,
    QuickProgress,
    WorklistPage,
)
from bot.telegram.i18n import format_day, in_locale, ngettext, pick_name
from bot.telegram.keyboards import button, cut_label, fitted_to_labels, in_rows, item_titles
from bot.telegram.texts import (
    away_refusal_text,
    away_text,
    cause_label,
    days_left_text,
    evidence_label,
    hidden_item_text,
    no_access_text,
    role_label,
    short_status_label,
    status_label,
    usage_line,
)
from db.ids import row_id
from db.models import ItemStatus, Person, RoadmapItem, StatusUpdate

NO_CHANGE = "same"
_PUNCTUATION = " .!,;:«»\"'"


def _normal(text: str) -> str:
    return " ".join(text.casefold().replace("ё", "е").split()).strip(_PUNCTUATION)


def status_choices() -> dict[str, str]:
    """What the status buttons say, in the current language, and the "no change" words."""
    choices = {status_label(status): str(status) for status in ItemStatus}
    choices[_("no change")] = NO_CHANGE
    return choices


def cause_choices() -> dict[str, str]:
    return {cause_label(cause): str(cause) for cause in Cause}


def save_choices() -> dict[str, str]:
    return {_("Save"): "save", _("Save anyway"): "save"}


def typed_choice(
    i18n: I18n, text: str | None, choices: Callable[[], Mapping[str, str]]
) -> str | None:
    """The value of the button whose label was typed, in either language; None otherwise."""
    typed = _normal(text or "")
    if not typed:
        return None
    for locale in i18n.available_locales:
        with in_locale(i18n, locale):
            labels = {_normal(label): value for label, value in choices().items()}
        if typed in labels:
            return labels[typed]
    return None


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
    # Once nothing waits, the line under the thanks must not read like a new task (#38).
    follow_up = (
        _("Tap an item to report its status.")
        if waiting
        else _("Anything else to change? Tap the item.")
    )
    lines = [f"<b>{header}</b>"]
    items, shown, pages = worklist.page(page)
    # The buttons show short titles (#16); the full ones are here, to tell items apart.
    lines.extend(
        f"{quote(item.code)} {quote(shorten(pick_name(item.title_kk, item.title_ru), 300))}"
        for item in items
    )
    lines.append(follow_up)
    if worklist.confirmable:
        lines.append(_("✓ — nothing has changed since the last report."))
    if pages > 1:
        lines.append(_("Page {page} of {pages}").format(page=shown + 1, pages=pages))
    return "\n".join(lines)


def confirmed_label(latest: StatusUpdate) -> str:
    """What a ✓ repeats, in half a row: the percent, with a short status word when the item
    is not on track («✓ риск, 20%»), so a risky item does not look routine."""
    if latest.status == ItemStatus.AT_RISK:
        return _("risk, {progress}%").format(progress=latest.progress)
    if latest.status == ItemStatus.BLOCKED:
        return _("will not be met, {progress}%").format(progress=latest.progress)
    return f"{latest.progress}%"


def worklist_keyboard(worklist: Worklist, page: int) -> InlineKeyboardMarkup | None:
    """A row per item (opens the dialog) and, when it can be, a row under it with ✓ and the
    progress it confirms (full width: titles beside a ✓ were cut mid-word on a phone); then
    "everything else unchanged" and the page arrows."""
    items, shown, pages = worklist.page(page)
    if not items:
        return None
    builder = InlineKeyboardBuilder()
    # Full-width titles: the title has its row to itself, the ✓ is under it (B8).
    for item, title in zip(items, item_titles(items), strict=True):
        assert item.id is not None
        mark = "✅ " if item.id in worklist.updated_ids else ""
        builder.row(
            InlineKeyboardButton(
                text=f"{mark}{item.code} · {title}",
                callback_data=OpenItem(item_id=item.id).pack(),
            )
        )
        if worklist.can_confirm(item):  # on a row of its own: a half-width title is cut twice
            builder.row(
                InlineKeyboardButton(
                    text="✓ " + confirmed_label(worklist.latest[item.id]),
                    callback_data=ConfirmItem(item_id=item.id, page=shown).pack(),
                )
            )
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


def item_request_message(actor: Person, item: RoadmapItem) -> tuple[str, InlineKeyboardMarkup]:
    """The chair's or the secretariat's "update now" on one item, naming who asks."""
    text = "\n".join(
        [
            "<b>"
            + _("{name} ({role}) asks for a status update on this item:").format(
                name=quote(person_name(actor)), role=role_label(actor.role)
            )
            + "</b>",
            f"<b>{quote(item.code)}</b> {quote(pick_name(item.title_kk, item.title_ru))}",
            _("Deadline: {date}").format(date=format_day(item.deadline)),
        ]
    )
    assert item.id is not None
    builder = InlineKeyboardBuilder()
    builder.button(text=_("Report the status"), callback_data=OpenItem(item_id=item.id))
    return text, builder.as_markup()


def round_summary(worklist: Worklist) -> str:
    """One line on what the department sent this round: «9 пунктов: 7 — без изменений; 1 — по
    плану, 60%; 1 — есть риск невыполнения»."""
    reported = [worklist.latest[i] for i in sorted(worklist.updated_ids) if i in worklist.latest]
    unchanged = sum(1 for update in reported if update.confirmation)
    groups: dict[str, list[int]] = {}
    for update in reported:
        if not update.confirmation:
            groups.setdefault(update.status, []).append(update.progress)
    parts = []
    if unchanged:
        parts.append(_("{count} without change").format(count=unchanged))
    for status in ItemStatus:
        progress = groups.get(status, [])
        if len(progress) == 1 and status != ItemStatus.DONE:
            parts.append(
                _("{count} — {status}, {progress}%").format(
                    count=1, status=status_label(status), progress=progress[0]
                )
            )
        elif progress:
            parts.append(
                _("{count} — {status}").format(count=len(progress), status=status_label(status))
            )
    total = len(reported)
    head = ngettext("{count} item", "{count} items", total).format(count=total)
    return head + ": " + "; ".join(parts) if parts else head


def confirm_all_step(
    worklist: Worklist, page: int, warned: frozenset[int] = frozenset()
) -> tuple[str, InlineKeyboardMarkup]:
    """The list a head checks before confirming every remaining item at once; ⚠️ marks the
    items whose repeated report looks like a slip (on track past the deadline)."""
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
        latest = worklist.latest[row_id(item)]
        mark = "⚠️ " if row_id(item) in warned else ""
        lines.append(
            f"{mark}{quote(item.code)} "
            f"{quote(cut_label(pick_name(item.title_kk, item.title_ru)))} — "
            f"{status_label(latest.status)}, {latest.progress}%"
        )
    if warned:
        lines.append("⚠️ " + _("The deadline has passed, but the status is “on track”."))
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
                author=quote(person_name(author)),
                date=format_day(latest.created_at.astimezone(tz).date()),
            )
        )
        if latest.comment:
            lines.append(_("Comment: {comment}").format(comment=quote(latest.comment)))
    return "\n".join(lines)


def _cancel(item_id: int) -> InlineKeyboardButton:
    return button(_("Cancel"), DialogAction(item_id=item_id, action="cancel"))


def no_change_label(previous: StatusUpdate) -> str:
    """«Без изменений — по плану, 60%»: what one tap on it confirms (the short status word:
    «есть риск», not the full wording, which a phone cuts)."""
    return _("No change — {status}, {progress}%").format(
        status=short_status_label(previous.status), progress=previous.progress
    )


def quick_progress_values(previous: StatusUpdate | None) -> list[int]:
    """On track again with a little more (+5, +10, +25, below 100%): one tap on the first
    step instead of a status and then a percent. Only after an on-track report: a new risk
    needs its own words."""
    if previous is None or previous.status != ItemStatus.ON_TRACK:
        return []
    steps = (previous.progress + 5, previous.progress + 10, previous.progress + 25)
    return [value for value in steps if value < 100]


def status_step(
    header: str, item_id: int, previous: StatusUpdate | None
) -> tuple[str, InlineKeyboardMarkup]:
    """ "No change", the quick percents (↗ 70%), then the statuses; after a report, a risk
    keeps the reported percent and goes straight to its cause (the summary can change it)."""
    first, buttons = [], []
    if confirmable(previous):
        assert previous is not None
        first.append(
            button(no_change_label(previous), DialogAction(item_id=item_id, action="same"))
        )
    quick = [
        button(
            f"↗ {value}%", QuickProgress(item_id=item_id, status=ItemStatus.ON_TRACK, value=value)
        )
        for value in quick_progress_values(previous)
    ]
    for status in ItemStatus:
        label = status_label(status).capitalize()
        if previous is not None and needs_explanation(status):
            kept = previous.progress
            buttons.append(button(label, QuickProgress(item_id=item_id, status=status, value=kept)))
        else:
            buttons.append(button(label, PickStatus(item_id=item_id, status=status)))
    buttons.append(_cancel(item_id))
    question = _("What is the status of the item?")
    if quick:
        question += "\n" + _("↗ — on track, with the new percent.")
    rows = [[*first]] if first else []
    if quick:
        rows.append(quick)
    rows.extend(fitted_to_labels(buttons).inline_keyboard)
    return f"{header}\n\n{question}", InlineKeyboardMarkup(inline_keyboard=rows)


def progress_choices(current: int | None) -> list[int]:
    """Around the current value (current · +5 · +10 · +25 · 100), where most answers land;
    the quarters for a first report, which has nothing to be near."""
    if current is None:
        return list(PROGRESS_CHOICES)
    steps = (current, current + 5, current + 10, current + 25, 100)
    return sorted({value for value in steps if value <= 100})


def progress_step(
    header: str, draft: Draft, previous: StatusUpdate | None
) -> tuple[str, InlineKeyboardMarkup]:
    """The progress buttons; "keep 60%" for the current value, and "80%?" first when the
    head's own words named a percent."""
    item_id, current = draft.item_id, previous.progress if previous is not None else None
    offered = draft.offered_progress
    first: list[InlineKeyboardButton] = []
    if offered is not None:
        label = _("{progress}%?").format(progress=offered)
        first.append(button(label, PickProgress(item_id=item_id, value=offered)))
    values = [value for value in progress_choices(current) if value != offered]
    others = []
    for value in values:
        if value == current:
            label = _("Keep {progress}%").format(progress=value)
            first.append(button(label, PickProgress(item_id=item_id, value=value)))
        else:
            others.append(button(f"{value}%", PickProgress(item_id=item_id, value=value)))
    buttons = [*first, *others, _cancel(item_id)]
    question = _("Progress, %: tap a button or type a whole number from 0 to 100.")
    sizes = [len(first)] if first else []
    return f"{header}\n\n{question}", in_rows(buttons, *sizes, len(others) or 1, 1)


def draft_kept_text(draft: Draft) -> str:
    """Under a step before the summary: what the head has already given in his own words or
    as a file, so nothing he sent seems lost."""
    lines = []
    if draft.comment:
        lines.append(_("Your comment is kept: {comment}").format(comment=quote(draft.comment)))
    if draft.evidence_kind:
        evidence = quote(evidence_label(draft.evidence_kind, draft.evidence_name))
        lines.append(_("Evidence attached: {file}").format(file=evidence))
        if not draft.comment and draft.evidence_kind in SPOKEN_EVIDENCE:
            lines.append(_("Please type a short comment too."))
    return "\n\n" + "\n".join(lines) if lines else ""


def sticker_reply() -> str:
    return _("👍 Thank you! To report, tap a button or send /myitems.")


def cause_step(header: str, draft: Draft) -> tuple[str, InlineKeyboardMarkup]:
    """The cause buttons under the status and percent so far (a risk keeps the reported
    percent: typing a number here changes it)."""
    item_id = draft.item_id
    buttons = [
        button(cause_label(cause).capitalize(), PickCause(item_id=item_id, cause=cause))
        for cause in Cause
    ]
    buttons.append(_cancel(item_id))
    so_far = _("Status: {status}, {progress}%").format(
        status=status_label(draft.status or ""), progress=draft.progress
    )
    hint = _("type a number to change the percent")
    question = _("What is the cause?")
    return f"{header}\n\n{so_far} ({hint})\n{question}", fitted_to_labels(buttons)


def comment_step(header: str, draft: Draft) -> tuple[str, InlineKeyboardMarkup]:
    buttons = []
    if needs_explanation(draft.status or ""):
        question = _("Write a comment: what is blocking the item and what help is needed?")
    else:
        question = _("Write a comment.")
        buttons.append(button(_("Back"), DialogAction(item_id=draft.item_id, action="back")))
    buttons.append(_cancel(draft.item_id))
    return f"{header}\n\n{question}", in_rows(buttons, 1)


def evidence_step(header: str, item_id: int) -> tuple[str, InlineKeyboardMarkup]:
    buttons = [button(_("Back"), DialogAction(item_id=item_id, action="back")), _cancel(item_id)]
    question = _("Send a photo or a document as evidence.")
    return f"{header}\n\n{question}", in_rows(buttons, 1)


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
    if draft.evidence_kind:
        lines.append(
            _("Evidence: {file}").format(
                file=quote(evidence_label(draft.evidence_kind, draft.evidence_name))
            )
        )
    return "\n".join(lines)


def warning_text(warning: str) -> str:
    texts: dict[str, str] = {
        SanityWarning.ON_TRACK_PAST_DEADLINE: _(
            "The deadline has passed, but the status is “on track”. Is that right?"
        ),
        SanityWarning.PROGRESS_BACK: _("The progress is lower than in the last report."),
    }
    return texts.get(warning, warning)


def confirm_step(
    header: str, draft: Draft, warnings: Sequence[str] = ()
) -> tuple[str, InlineKeyboardMarkup]:
    """The summary with Save; a comment and a file are optional buttons, not steps. With
    warnings (shown after the first Save) the button says "Save anyway"."""
    item_id = draft.item_id
    save = _("Save anyway") if warnings else _("Save")
    comment = _("Edit the comment") if draft.comment else _("Add a comment")
    attach = _("Replace the file") if draft.evidence_kind else _("Attach a file")
    progress = (
        []
        if draft.status == ItemStatus.DONE
        else [button(_("Change %"), DialogAction(item_id=item_id, action="progress"))]
    )
    keyboard = fitted_to_labels(
        [
            button(save, DialogAction(item_id=item_id, action="save")),
            *progress,
            button(comment, DialogAction(item_id=item_id, action="comment")),
            button(attach, DialogAction(item_id=item_id, action="file")),
            button(_("Fill in again"), DialogAction(item_id=item_id, action="change")),
            _cancel(item_id),
        ],
        first_alone=True,
    )
    if draft.corrects is None:
        title = _("This will be saved:")
    else:
        title = _("The correction of your last update (the original stays in the history):")
    text = f"{header}\n\n<b>{title}</b>\n{draft_summary(draft)}"
    if warnings:
        text += "\n\n" + "\n".join("⚠️ " + warning_text(warning) for warning in warnings)
    else:
        text += "\n\n" + _(
            "You can also type a comment or a new progress figure, or send a photo or a document."
        )
    return text, keyboard


def restart_keyboard(item_id: int) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=_("Start again"), callback_data=OpenItem(item_id=item_id))
    return builder.as_markup()


def refusal_text(reason: ReportRefusal | None, code: str | None = None) -> str:
    """Why an item cannot be reported on; None: it has no earlier report to confirm. Another
    department's item reads as a missing one (with the code the head typed, if any)."""
    if reason is None:
        return _("This item has no earlier report to confirm.")
    if reason in (ReportRefusal.NOT_FOUND, ReportRefusal.NOT_YOUR_DEPARTMENT):
        return hidden_item_text(code)
    texts = {
        ReportRefusal.ARCHIVED: _("This item has been archived; it needs no more updates."),
        ReportRefusal.ALREADY_DONE: _("This item is already done."),
    }
    return texts[reason]


def saved_text(no_change: bool) -> str:
    return "✅ " + (_("Saved: no change.") if no_change else _("Saved.")) + "\n\n"


def next_item_text(no_change: bool) -> str:
    return saved_text(no_change) + _("Next item:") + "\n"


def round_done_text(no_change: bool, worklist: Worklist) -> str:
    """After the department's last waiting item: what it sent this round."""
    thanks = _("All items are up to date. Thank you!")
    return saved_text(no_change) + thanks + "\n" + round_summary(worklist)


def rest_confirmed_text(count: int, worklist: Worklist) -> str:
    """ "Everything else unchanged" saved: how many, and the round's line once nothing waits."""
    text = (
        "✅ "
        + ngettext(
            "Saved: {count} item without change.",
            "Saved: {count} items without change.",
            count,
        ).format(count=count)
        + "\n\n"
    )
    if not worklist.waiting:
        text += round_summary(worklist) + "\n\n"
    return text


def round_closed_prefix(worklist: Worklist) -> str:
    """Above the worklist after a ✓: the round's closing line once nothing waits (as after
    Save and "everything else unchanged")."""
    if worklist.waiting or not worklist.updated_ids:
        return ""
    return round_summary(worklist) + "\n\n"


def member_command_refusal(stranger_chat_id: int | None) -> str:
    """A members' command from a stranger (who gets their id to pass on) or another role."""
    if stranger_chat_id is not None:
        return no_access_text(stranger_chat_id)
    return _("This command is for department members.")


def usage(command: str) -> str:
    """The usage line of a members' command (report, away)."""
    return usage_line({"report": menus.REPORT, "away": menus.AWAY}[command])


def away_reply(person: Person, outcome: AwayOutcome) -> str:
    """/away's answer: until when and who stands in (the deputy), or why not; when nobody
    else could answer, a request to name a deputy; an unknown deputy, how to get him in."""
    if isinstance(outcome, Exception):
        return away_refusal_text(outcome)
    if isinstance(outcome, DeputyNotJoined):
        return _(
            "Your deputy has not joined the bot yet. Ask the secretariat to invite them "
            "(/invite {code}); once they have joined, send /away again with their username."
        ).format(code=quote(outcome.department_code))
    text = away_text(person, outcome.deputy)
    if outcome.alone and person.away_until is not None:
        text += "\n\n⚠️ " + _(
            "Nobody else in your department is in the bot, so its requests will wait until "
            "you are back. Please name a deputy: ask the secretariat to invite them "
            "(/invite {code}), then send /away {date} @their_username."
        ).format(code=quote(outcome.department_code), date=f"{person.away_until:%d.%m.%Y}")
    return text


def comment_edited_text() -> str:
    return "✏️ " + _("The comment in the draft now follows your edit.")


def correction_offer(
    item: RoadmapItem, saved: StatusUpdate, comment: str
) -> tuple[str, InlineKeyboardMarkup]:
    """After an edit of a comment that was saved already: the two texts, and whether to
    correct the saved update."""
    text = "\n".join(
        (
            _("You edited a comment that is already saved for item {code}.").format(
                code=quote(item.code)
            ),
            _("Saved text: {comment}").format(comment=quote(saved.comment or "")),
            _("Edited text: {comment}").format(comment=quote(comment)),
            "",
            _("Correct the saved update? The original stays in the history, marked corrected."),
        )
    )
    update_id = saved.id
    assert update_id is not None
    keyboard = in_rows(
        [
            button(_("Correct it"), CorrectSaved(update_id=update_id, accept=True)),
            button(_("Keep as saved"), CorrectSaved(update_id=update_id, accept=False)),
        ],
        2,
    )
    return text, keyboard


def corrected_text(item: RoadmapItem, correction: StatusUpdate) -> str:
    return "✅ " + _("Corrected: item {code} now reads: {comment}").format(
        code=quote(item.code), comment=quote(correction.comment or "")
    )


def correction_closed_text(declined: bool) -> str:
    if declined:
        return _("The saved update stays as it was.")
    return _("This offer is no longer open: the item has a newer report, or the edit changed.")


def edit_not_kept_text(superseded: bool) -> str:
    if superseded:
        return _(
            "This comment belongs to an earlier report; the item has a newer one, so the edit "
            "was not taken. To change the item, send a new report."
        )
    return _("The edited comment is empty or longer than 1000 characters. Please type it again.")


def cancelled_step(code: str | None, saved: int) -> tuple[str, InlineKeyboardMarkup | None]:
    """Cancel mid-round: the item left as it was, the round's answers that stay saved, and
    [Back to the list]."""
    if saved == 0:
        text = _("Cancelled. Nothing was saved.")
    else:
        lines = []
        if code is not None:
            lines.append(_("Cancelled: item {code} is left as it was.").format(code=quote(code)))
        lines.append(
            ngettext(
                "Your answer on {count} item of this round stays saved.",
                "Your answers on {count} items of this round stay saved.",
                saved,
            ).format(count=saved)
        )
        text = "\n".join(lines)
    return text, in_rows([button(_("Back to the list"), WorklistPage(page=0))], 1)


def with_edit_button(
    screen: tuple[str, InlineKeyboardMarkup | None], update_id: int
) -> tuple[str, InlineKeyboardMarkup | None]:
    """The item's first step with "Edit my last update" above Cancel, for its author."""
    text, keyboard = screen
    rows = list(keyboard.inline_keyboard) if keyboard is not None else []
    edit = [button("✏️ " + _("Edit my last update"), EditUpdate(update_id=update_id))]
    rows.insert(max(len(rows) - 1, 0), edit)
    return text, InlineKeyboardMarkup(inline_keyboard=rows)


def draft_corrected_text(item: RoadmapItem, correction: StatusUpdate) -> str:
    """After Save in "Edit my last update": what the item now says."""
    return (
        "✅ "
        + _("Corrected: item {code} now reads: {status}, {progress}%.").format(
            code=quote(item.code),
            status=status_label(correction.status),
            progress=correction.progress,
        )
        + "\n"
        + _("The original stays in the history, marked corrected.")
    )


def edit_closed_text(reason: str) -> str:
    texts = {
        "newer": _("The item has a newer report; to change it, send a new report."),
        "not_yours": _("Only the author of the last update can edit it."),
        "late": _("The time to edit this update has passed; send a new report instead."),
    }
    return texts.get(reason, texts["newer"])
