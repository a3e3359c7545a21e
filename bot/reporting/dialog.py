"""The department head's status dialog, declared in one place: its steps, what each shows,
which taps and typed answers it accepts, and where each answer leads.

A step's answer is read into a transition (a function of the draft). The use case
(bot/usecases/reporting.py) applies it once it has checked that the dialog and the item are
still current, and moves the dialog to the step the transition returns, or finishes it: Save,
or "no change". The routers are built from `REPORT_DIALOG` (handlers/reporting.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from enum import StrEnum
from typing import Any

from aiogram import F
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import Message, TelegramObject, Update
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.core.causes import Cause
from bot.core.clock import local_midnight
from bot.core.limits import TELEGRAM_DOWNLOAD_LIMIT
from bot.reporting.service import (
    Draft,
    ItemSnapshot,
    clean_comment,
    needs_explanation,
    parse_progress,
    percent_in,
    person_with_item_ahead,
)
from bot.reporting.views import (
    NO_CHANGE,
    cause_choices,
    cause_step,
    comment_step,
    confirm_step,
    evidence_step,
    progress_step,
    save_choices,
    status_choices,
    status_step,
    typed_choice,
)
from bot.telegram.callbacks import (
    DialogAction,
    OpenItem,
    PickCause,
    PickProgress,
    PickStatus,
    QuickProgress,
    item_id_of,
)
from bot.telegram.dialogs import DialogTable, Screen, Step, Tap, Typed
from db import queries
from db.engine import AsyncSession
from db.models import ItemStatus, Person, StatusUpdate


class ReportDialog(StatesGroup):
    status = State()
    progress = State()
    cause = State()
    comment = State()
    evidence = State()
    confirm = State()


class Finish(StrEnum):
    """The answers that end an item's dialog with a report."""

    SAVE = "save"
    SAME = "same"  # no change since the last report


Next = State | Finish | None
Transition = Callable[[Draft], Next]


# --- What each answer does to the draft, and where it leads ---


def choose_status(status: str) -> Transition:
    def apply(draft: Draft) -> Next:
        if status not in set(ItemStatus):
            return None
        draft.status, draft.warned = status, False
        if status == ItemStatus.DONE:
            draft.progress, draft.cause = 100, None  # done is 100%: straight to the summary
            return ReportDialog.confirm
        if not needs_explanation(status):
            draft.cause = None
        return ReportDialog.progress

    return apply


def _after_progress(draft: Draft) -> Next:
    """A risk asks for its cause, unless chosen already (the percent changed from the
    summary); anything else goes to the summary."""
    if needs_explanation(draft.status or "") and draft.cause is None:
        return ReportDialog.cause
    return ReportDialog.confirm


def choose_progress(value: int) -> Transition:
    def apply(draft: Draft) -> Next:
        if not 0 <= value <= 100:
            return None
        draft.progress, draft.warned = value, False
        return _after_progress(draft)

    return apply


def choose_status_at(status: str, value: int) -> Transition:
    """A status and its percent in one tap (the first step's quick buttons): on to the
    cause for a risk, else to the summary."""
    pick_status, pick_progress = choose_status(status), choose_progress(value)

    def apply(draft: Draft) -> Next:
        following = pick_status(draft)
        if following != ReportDialog.progress:
            return following  # done, or a status that is no status
        return pick_progress(draft)

    return apply


def choose_cause(cause: str) -> Transition:
    def apply(draft: Draft) -> Next:
        if cause not in set(Cause):
            return None
        draft.cause = cause
        # A risk needs a comment: ask for it unless it was typed already.
        return ReportDialog.confirm if draft.comment else ReportDialog.comment

    return apply


def write_comment(comment: str, message_id: int | None = None) -> Transition:
    """The comment, and the chat message it came from (an edit of that message follows)."""

    def apply(draft: Draft) -> Next:
        draft.comment, draft.comment_message_id = comment, message_id
        return ReportDialog.confirm

    return apply


_BARE_NUMBER = re.compile(r"[\d\s.,%+-]+")


def _kept_as_comment(message: Message, stay: State) -> Transition | None:
    """Free text where a button is expected: kept as the comment draft (never thrown away),
    a percent in it offered as the progress; the dialog stays at its step. None when the
    text cannot be a comment: empty, too long, a bare number (an answer out of range), or a
    single word (a mistyped button label more likely than a comment)."""
    comment = clean_comment(message.text)
    if comment is None or _BARE_NUMBER.fullmatch(comment) or len(comment.split()) < 2:
        return None
    offered, message_id = percent_in(comment), message.message_id

    def apply(draft: Draft) -> Next:
        draft.comment, draft.comment_message_id = comment, message_id
        if offered is not None:
            draft.offered_progress = offered
        return stay

    return apply


def _finish(finish: Finish) -> Transition:
    return lambda _draft: finish


def _nothing(_draft: Draft) -> Next:
    return None


def _to(state: State, *, fresh: bool = False) -> Transition:
    def apply(draft: Draft) -> Next:
        if fresh:  # "Change": the answers start again (a correction stays one)
            for key, value in Draft(
                item_id=draft.item_id, corrects=draft.corrects
            ).__dict__.items():
                setattr(draft, key, value)
        return state

    return apply


# --- Taps ---


def _status_action(action: DialogAction) -> Transition:
    return _finish(Finish.SAME) if action.action == "same" else _nothing


def _comment_action(action: DialogAction) -> Transition:
    """Back (older buttons say skip) leaves an optional comment; a risk's comment is needed."""

    def apply(draft: Draft) -> Next:
        optional = not needs_explanation(draft.status or "")
        return ReportDialog.confirm if optional and action.action in ("back", "skip") else None

    return apply


def _evidence_action(action: DialogAction) -> Transition:
    return _to(ReportDialog.confirm) if action.action in ("back", "skip") else _nothing


def _change_progress(draft: Draft) -> Next:
    """[Change %] on the summary: the progress buttons (done stays 100%)."""
    return None if draft.status == ItemStatus.DONE else ReportDialog.progress


_CONFIRM_ACTIONS: dict[str, Transition] = {
    "save": _finish(Finish.SAVE),
    "progress": _change_progress,
    "change": _to(ReportDialog.status, fresh=True),
    "comment": _to(ReportDialog.comment),
    "file": _to(ReportDialog.evidence),
}


def _confirm_action(action: DialogAction) -> Transition:
    return _CONFIRM_ACTIONS.get(action.action, _nothing)


# --- Typed answers ---


def _use_the_buttons() -> str:
    return _("Please choose one of the buttons above.")


def _typed_status(message: Message, i18n: I18n) -> Transition | str:
    """A typed button label («по плану», «жоспар бойынша», «без изменений») is a tap."""
    choice = typed_choice(i18n, message.text, status_choices)
    if choice is None:
        return _kept_as_comment(message, ReportDialog.status) or _use_the_buttons()
    return _finish(Finish.SAME) if choice == NO_CHANGE else choose_status(choice)


def _typed_progress(message: Message, _i18n: I18n) -> Transition | str:
    value = parse_progress(message.text)
    if value is None:
        kept = _kept_as_comment(message, ReportDialog.progress)
        return kept or _("Please send a whole number from 0 to 100, or tap a button above.")
    return choose_progress(value)


def _typed_cause(message: Message, i18n: I18n) -> Transition | str:
    """A cause's label is the tap; a number is the percent (a risk keeps the reported one
    unless the head types another here, as he would have at the percent step)."""
    cause = typed_choice(i18n, message.text, cause_choices)
    if cause is not None:
        return choose_cause(cause)
    value = parse_progress(message.text)
    if value is not None:

        def apply(draft: Draft) -> Next:
            draft.progress, draft.warned = value, False
            return ReportDialog.cause

        return apply
    return _kept_as_comment(message, ReportDialog.cause) or _use_the_buttons()


def _typed_comment(message: Message, _i18n: I18n) -> Transition | str:
    comment = clean_comment(message.text)
    if comment is None:
        return _("The comment must be between 1 and 1000 characters. Please write it again.")
    return write_comment(comment, message.message_id)


def _typed_at_confirm(message: Message, i18n: I18n) -> Transition | str:
    """At the summary: the Save label saves, a number is the progress, other text the comment
    (a number too, once the status is done)."""
    if typed_choice(i18n, message.text, save_choices) is not None:
        return _finish(Finish.SAVE)
    value = parse_progress(message.text)
    if value is None:
        return _typed_comment(message, i18n)
    as_comment = write_comment(clean_comment(message.text) or "", message.message_id)

    def apply(draft: Draft) -> Next:
        if draft.status == ItemStatus.DONE:
            return as_comment(draft)
        draft.progress, draft.warned = value, False
        return ReportDialog.confirm

    return apply


def _sent_file(message: Message, _i18n: I18n) -> Transition | str:
    name = None
    if message.photo:
        photo = message.photo[-1]
        kind, file_id, unique_id = "photo", photo.file_id, photo.file_unique_id
        size = photo.file_size
    else:
        document = message.document
        assert document is not None  # the filter guarantees a photo or a document
        kind, file_id, unique_id = "document", document.file_id, document.file_unique_id
        size, name = document.file_size, document.file_name
    if size is not None and size > TELEGRAM_DOWNLOAD_LIMIT:
        return _("This file is larger than 20 MB, the limit for bots. Please send a smaller one.")
    caption, message_id = clean_comment(message.caption), message.message_id

    def apply(draft: Draft) -> Next:
        """A caption is the comment when none was given, else the file's label."""
        label = name
        if caption is not None and not draft.comment:
            draft.comment, draft.comment_message_id = caption, message_id
        elif caption is not None:
            label = f"{caption} ({name})" if name else caption
        draft.evidence_kind, draft.evidence_file_id = kind, file_id
        draft.evidence_unique_id, draft.evidence_name = unique_id, label[:200] if label else None
        return ReportDialog.confirm

    return apply


def _spoken_at(state: State) -> Callable[[Message, I18n], Transition | str]:
    """A voice or video message in the dialog: attached as evidence (the head is asked for a
    short typed comment too); the dialog stays at its step, or goes to the summary from the
    file and summary steps."""
    following = ReportDialog.confirm if state in _FILE_STEPS else state

    def read(message: Message, _i18n: I18n) -> Transition | str:
        media = message.voice or message.video_note
        assert media is not None  # the filter guarantees one of them
        kind = "voice" if message.voice else "video_note"
        if media.file_size is not None and media.file_size > TELEGRAM_DOWNLOAD_LIMIT:
            return _(
                "This file is larger than 20 MB, the limit for bots. Please send a smaller one."
            )

        def apply(draft: Draft) -> Next:
            draft.evidence_kind, draft.evidence_file_id = kind, media.file_id
            draft.evidence_unique_id, draft.evidence_name = media.file_unique_id, None
            return following

        return apply

    return read


# --- Reading ahead: the item an update is about ---

_DIALOG_PREFIXES = frozenset(
    str(factory.__prefix__)
    for factory in (OpenItem, PickStatus, QuickProgress, PickProgress, PickCause, DialogAction)
)


async def item_of_update(update: TelegramObject, data: dict[str, Any]) -> int | None:
    """The item a dialog update is about (the button's, or the draft's for a typed answer)."""
    if not isinstance(update, Update):
        return None
    if update.callback_query is not None:
        return item_id_of(update.callback_query.data, _DIALOG_PREFIXES)
    state = data.get("state")
    if update.message is None or state is None or data.get("raw_state") not in REPORT_DIALOG:
        return None
    draft = Draft.from_data(await state.get_data())
    return draft.item_id if draft is not None else None


_SAVING_ACTIONS = frozenset({"save", "same"})  # Save, "Save anyway" and "no change"


def may_save(update: TelegramObject) -> bool:
    """A tap that saves a report when the draft is complete: Save, or "no change"."""
    if not isinstance(update, Update) or update.callback_query is None:
        return False
    prefix, _, rest = (update.callback_query.data or "").partition(":")
    return prefix == DialogAction.__prefix__ and rest.rpartition(":")[2] in _SAVING_ACTIONS


async def pre_read(
    update: TelegramObject, data: dict[str, Any], session: AsyncSession, telegram_id: int
) -> tuple[Person | None, ItemSnapshot | None] | None:
    """For the session middleware: the sender with the item the update is about, in one
    statement instead of three; None when the update is about no item. A tap that may save
    reads what the Save needs ahead in the same statement (the round's request, the next
    waiting item), so on PostgreSQL a Save is six round trips, not nine."""
    item_id = await item_of_update(update, data)
    if item_id is None:
        return None
    if may_save(update):
        since = local_midnight(data["clock"], data["tz"])
        return await person_with_item_ahead(session, telegram_id, item_id, since)
    person, found = await queries.person_with_item(session, telegram_id, item_id)
    return person, ItemSnapshot(*found) if found is not None else None


# --- Views: each step's text and buttons under the item's card ---


def _status_view(header: str, draft: Draft, latest: StatusUpdate | None, _w: object) -> Screen:
    # A correction changes the saved update: no "no change", no percents built on it.
    return status_step(header, draft.item_id, None if draft.corrects else latest)


def _progress_view(header: str, draft: Draft, latest: StatusUpdate | None, _w: object) -> Screen:
    return progress_step(header, draft, latest)


def _cause_view(header: str, draft: Draft, _latest: object, _w: object) -> Screen:
    return cause_step(header, draft)


def _comment_view(header: str, draft: Draft, _latest: object, _w: object) -> Screen:
    return comment_step(header, draft)


def _evidence_view(header: str, draft: Draft, _latest: object, _w: object) -> Screen:
    return evidence_step(header, draft.item_id)


def _confirm_view(header: str, draft: Draft, _latest: object, warnings: Sequence[str]) -> Screen:
    return confirm_step(header, draft, warnings)


def _please_write_text() -> str:
    return _("Please write the comment as text.")


def _please_send_a_file() -> str:
    return _("Please send a photo or a document, or tap Back.")


_FILES = F.photo | F.document
_SPOKEN = F.voice | F.video_note
_FILE_STEPS = (ReportDialog.evidence, ReportDialog.confirm)

REPORT_DIALOG = DialogTable(
    Step(
        ReportDialog.status,
        _status_view,
        taps=(
            Tap(PickStatus, lambda tap: choose_status(tap.status)),
            Tap(QuickProgress, lambda tap: choose_status_at(tap.status, tap.value)),
            Tap(DialogAction, _status_action),
        ),
        typed=(Typed(_SPOKEN, _spoken_at(ReportDialog.status)), Typed(F.text, _typed_status)),
        otherwise=_use_the_buttons,
    ),
    Step(
        ReportDialog.progress,
        _progress_view,
        taps=(Tap(PickProgress, lambda tap: choose_progress(tap.value)),),
        typed=(
            Typed(_SPOKEN, _spoken_at(ReportDialog.progress)),
            Typed(F.func(bool), _typed_progress),  # any other message: a photo gets the hint
        ),
    ),
    Step(
        ReportDialog.cause,
        _cause_view,
        taps=(Tap(PickCause, lambda tap: choose_cause(tap.cause)),),
        typed=(Typed(_SPOKEN, _spoken_at(ReportDialog.cause)), Typed(F.text, _typed_cause)),
        otherwise=_use_the_buttons,
    ),
    Step(
        ReportDialog.comment,
        _comment_view,
        taps=(Tap(DialogAction, _comment_action),),
        typed=(Typed(_SPOKEN, _spoken_at(ReportDialog.comment)), Typed(F.text, _typed_comment)),
        otherwise=_please_write_text,
    ),
    Step(
        ReportDialog.evidence,
        _evidence_view,
        taps=(Tap(DialogAction, _evidence_action),),
        typed=(Typed(_SPOKEN, _spoken_at(ReportDialog.evidence)), Typed(_FILES, _sent_file)),
        otherwise=_please_send_a_file,
    ),
    Step(
        ReportDialog.confirm,
        _confirm_view,
        taps=(Tap(DialogAction, _confirm_action),),
        typed=(
            Typed(F.text & ~F.text.startswith("/"), _typed_at_confirm),
            Typed(_FILES, _sent_file),
            Typed(_SPOKEN, _spoken_at(ReportDialog.confirm)),
        ),
        otherwise=_use_the_buttons,
    ),
    cancel=DialogAction.filter(F.action == "cancel"),
    pre_read=pre_read,
)
