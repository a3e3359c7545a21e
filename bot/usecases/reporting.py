"""The department head's report: open an item, answer a step of the dialog, Save, "no change"
(in the dialog and the worklist's one-tap ✓), "everything else unchanged", the worklist, away.

Each use case owns its transaction. In the chat a `Member` carries the update's session, and
the dialog store joins it, so a report and the dialog's next step are committed together or
not at all. Each returns a plain outcome that the chat (handlers/reporting.py) renders; the
next waiting item after a report is found by one indexed statement (`next_waiting_item`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from aiogram.fsm.state import State
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.clock import local_midnight, local_today
from bot.core.errors import AwayDateError, InvalidDeputyError, UnknownPersonError
from bot.core.parsing import AwayRequest
from bot.people import audit
from bot.people.recipients import nobody_else_answers
from bot.people.service import AwayOutcome, DeputyNotJoined, set_away
from bot.people.service import AwaySet as AwaySet
from bot.reporting.dialog import REPORT_DIALOG, Finish, ReportDialog, Transition
from bot.reporting.service import (
    Draft,
    ItemSnapshot,
    NothingToConfirmError,
    ReportRefusal,
    ReportRefusedError,
    SanityWarning,
    answered_at,
    answered_this_round,
    clean_comment,
    confirm_all_unchanged,
    next_waiting_item,
    record_confirmation,
    record_correction,
    record_draft_correction,
    record_update,
    reportable_item,
    sanity_warnings,
    saved_comment_message,
    update_before,
    worklist,
)
from bot.reporting.service import (
    Worklist as Worklist,
)
from bot.usecases.ports import DialogStore
from bot.usecases.ports import UseCaseContext as UseCaseContext  # for the callers
from db import queries
from db.models import Person, RoadmapItem, Role, StatusUpdate

_CORRECTION = "correction"  # the dialog data's key for an offered correction of a saved update


@dataclass(frozen=True)
class Member:
    """A department member acting in one unit of work (in the chat: the update's session,
    which the dialog store joins), with what the update has read already."""

    person: Person
    session: AsyncSession
    dialog: DialogStore
    snapshot: ItemSnapshot | None = None  # the item the update is about, read with the person

    @classmethod
    def of_update(cls, data: Mapping[str, Any]) -> Member | None:
        """The member an update comes from, out of the chat's handler data (the session
        middleware's person, session and read-ahead; aiogram's dialog store)."""
        person = data.get("person")
        if person is None:
            return None
        return cls(person, data["session"], data["state"], data.get("item_snapshot"))


def is_department_member(person: Person | None) -> bool:
    return person is not None and person.role == Role.MEMBER and person.department_id is not None


# --- Outcomes ---


class Saved(StrEnum):
    REPORT = "report"
    NO_CHANGE = "no_change"


@dataclass(frozen=True)
class StepShown:
    """The dialog is at `state` for `card`: what the head sees there."""

    state: State
    draft: Draft
    card: ItemSnapshot
    today: date
    warnings: tuple[SanityWarning, ...] = ()
    saved: Saved | None = None  # the report this step follows (the next item after a Save)
    retire: int | None = None  # shown anew: the message of the previous step, to retire
    editable: int | None = None  # the head's own last update, still open to "Edit" (its id)


@dataclass(frozen=True)
class RoundDone:
    """A report was saved and nothing of the department is waiting: the dialog is closed."""

    saved: Saved
    worklist: Worklist


@dataclass(frozen=True)
class Refused:
    """The item cannot be reported on (now): the dialog, if any, is closed."""

    reason: ReportRefusal
    code: str | None = None  # as the head typed it (/report CODE)


@dataclass(frozen=True)
class NotSaved:
    """Save or "no change" was refused: the item changed hands, or has nothing to confirm
    (reason None). The dialog is closed."""

    reason: ReportRefusal | None


@dataclass(frozen=True)
class Rejected:
    """The answer cannot be used; `reply` says why. The dialog stays where it is."""

    reply: str


@dataclass(frozen=True)
class NotInDialog:
    """No dialog, or a button of another item's dialog."""


@dataclass(frozen=True)
class Unchanged:
    """An accepted button that changes nothing at this step."""


class EditClosed(StrEnum):
    """Why "Edit my last update" cannot open: someone reported since, it is not the head's,
    or the window to correct it has passed."""

    NEWER = "newer"
    NOT_YOURS = "not_yours"
    LATE = "late"


@dataclass(frozen=True)
class DraftCorrected:
    """ "Edit my last update" saved as a correction entry; the dialog is closed."""

    item: RoadmapItem
    correction: StatusUpdate
    original: StatusUpdate


StepOutcome = (
    StepShown
    | RoundDone
    | Refused
    | NotSaved
    | Rejected
    | NotInDialog
    | Unchanged
    | DraftCorrected
    | EditClosed
)


@dataclass(frozen=True)
class ItemConfirmed:
    """The worklist's ✓: saved now, or already saved this round (a second tap)."""

    worklist: Worklist
    already: bool = False


@dataclass(frozen=True)
class RestConfirmed:
    count: int
    worklist: Worklist


# --- The dialog ---


def _today(ctx: UseCaseContext) -> date:
    return local_today(ctx.clock, ctx.tz)


def _round_start(ctx: UseCaseContext) -> datetime:
    return local_midnight(ctx.clock, ctx.tz)


def _department(member: Member) -> int:
    assert member.person.department_id is not None  # only members report
    return member.person.department_id


def _item_id(item: RoadmapItem) -> int:
    assert item.id is not None  # a stored item
    return item.id


async def _card(member: Member, item: RoadmapItem) -> ItemSnapshot:
    """The item with its newest report and author: as the update read it, else from the
    database."""
    known = member.snapshot
    if known is not None and known.item is item:
        return known
    latest = await queries.latest_update(member.session, _item_id(item))
    author = await queries.person_by_id(member.session, latest.author_id) if latest else None
    return ItemSnapshot(item, latest, author)


async def _move(
    ctx: UseCaseContext,
    member: Member,
    state: State,
    draft: Draft,
    card: ItemSnapshot,
    *,
    shown_in: int | None,
    saved: Saved | None = None,
) -> StepShown:
    """Set the dialog's step and draft (stored with the update's commit, or at its end)."""
    today = _today(ctx)
    warnings: tuple[SanityWarning, ...] = ()
    if state == ReportDialog.confirm and draft.warned:
        warnings = tuple(sanity_warnings(draft, card.item, card.latest, today))
    data = await member.dialog.get_data()
    previous = data.get("message_id")
    kept = {_CORRECTION: data[_CORRECTION]} if _CORRECTION in data else {}
    await member.dialog.set_state(state)
    if shown_in is not None:
        await member.dialog.set_data({**kept, **draft.to_data(), "message_id": shown_in})
        previous = None
    else:
        await member.dialog.set_data({**kept, **draft.to_data()})
    retire = previous if isinstance(previous, int) else None
    editable = await _editable(ctx, member, card) if state == ReportDialog.status else None
    return StepShown(state, draft, card, today, warnings, saved, retire, editable)


async def _editable(ctx: UseCaseContext, member: Member, card: ItemSnapshot) -> int | None:
    """The item's newest update when it is the head's own and still in the window to
    correct it (counted from the answer: a correction's from its original)."""
    latest = card.latest
    if latest is None or latest.id is None or latest.author_id != member.person.id:
        return None
    answered = latest.created_at
    if latest.corrects_id is not None:  # read only for a correction: a status step is hot
        answered = await answered_at(member.session, latest)
    return latest.id if ctx.clock.now() - answered <= ctx.correction_window else None


async def _edit_closed(
    ctx: UseCaseContext, member: Member, update: StatusUpdate | None
) -> EditClosed | None:
    """Whether `update` may still be corrected by the member; None when it may."""
    if update is None or update.author_id != member.person.id:
        return EditClosed.NOT_YOURS
    latest = await queries.latest_update(member.session, update.item_id)
    if latest is None or latest.id != update.id:
        return EditClosed.NEWER
    if ctx.clock.now() - await answered_at(member.session, update) > ctx.correction_window:
        return EditClosed.LATE
    return None


async def edit_last_update(
    ctx: UseCaseContext, member: Member, update_id: int, *, shown_in: int | None = None
) -> StepShown | Refused | EditClosed:
    """ "Edit my last update": the summary of the head's saved update as a draft to change
    (status, percent, comment, evidence); its Save is a correction of that update."""
    update = await member.session.get(StatusUpdate, update_id)
    closed = await _edit_closed(ctx, member, update)
    if closed is not None:
        return closed
    assert update is not None
    try:
        item = await reportable_item(member.session, member.person, update.item_id)
    except ReportRefusedError as refused:
        return Refused(refused.reason)
    draft = Draft(
        update.item_id,
        status=update.status,
        progress=update.progress,
        cause=update.cause,
        comment=update.comment,
        evidence_kind=update.evidence_kind,
        evidence_file_id=update.evidence_file_id,
        evidence_unique_id=update.evidence_unique_id,
        evidence_name=update.evidence_name,
        comment_message_id=update.message_id,
        corrects=update_id,
    )
    card = await _card(member, item)
    return await _move(ctx, member, ReportDialog.confirm, draft, card, shown_in=shown_in)


async def _save_correction(
    ctx: UseCaseContext, member: Member, draft: Draft, item: RoadmapItem, *, shown_in: int | None
) -> StepShown | DraftCorrected | EditClosed:
    """Save in "Edit my last update": checked again (someone may have reported since), warned
    once against the report before the corrected one, then a correction entry."""
    assert draft.corrects is not None
    original = await member.session.get(StatusUpdate, draft.corrects)
    closed = await _edit_closed(ctx, member, original)
    if closed is not None:
        await member.dialog.clear()
        return closed
    assert original is not None
    before = await update_before(member.session, original)
    if not draft.warned and sanity_warnings(draft, item, before, _today(ctx)):
        draft.warned = True
        card = await _card(member, item)
        return await _move(ctx, member, ReportDialog.confirm, draft, card, shown_in=shown_in)
    saved = await record_draft_correction(
        member.session, person=member.person, original=original, draft=draft, now=ctx.clock.now()
    )
    await member.dialog.clear()
    await member.session.commit()
    if saved.risk_event is not None:
        ctx.signals.alert_soon()
    return DraftCorrected(item, saved.update, original)


async def open_item(
    ctx: UseCaseContext, member: Member, item_id: int, *, shown_in: int | None = None
) -> StepShown | Refused:
    """Start (or restart) the dialog on an item: its first step."""
    try:
        item = await reportable_item(member.session, member.person, item_id)
    except ReportRefusedError as refused:
        if refused.reason == ReportRefusal.NOT_YOUR_DEPARTMENT:
            await audit.refused(
                member.session, member.person, "refused.report", str(item_id), now=ctx.clock.now()
            )
        return Refused(refused.reason)
    card = await _card(member, item)
    return await _move(ctx, member, ReportDialog.status, Draft(item_id), card, shown_in=shown_in)


async def open_item_by_code(ctx: UseCaseContext, member: Member, code: str) -> StepShown | Refused:
    """/report CODE: as `open_item`; another department's item reads as a missing one."""
    item = await queries.item_by_code(member.session, code)
    if item is None:
        return Refused(ReportRefusal.NOT_FOUND, code)
    outcome = await open_item(ctx, member, _item_id(item))
    if isinstance(outcome, Refused):
        return Refused(outcome.reason, code)
    return outcome


async def _reportable(member: Member, draft: Draft) -> RoadmapItem | Refused:
    try:
        return await reportable_item(member.session, member.person, draft.item_id)
    except ReportRefusedError as refused:
        await member.dialog.clear()
        return Refused(refused.reason)


async def answer_step(
    ctx: UseCaseContext,
    member: Member,
    answer: Transition | str,
    *,
    tap_item_id: int | None = None,
    shown_in: int | None = None,
) -> StepOutcome:
    """An answer at the dialog's current step (a tap on `tap_item_id`'s dialog, or a typed
    answer; a string is an answer that cannot be used). It is applied to the draft once the
    dialog and the item are checked, and leads to the next step, Save or "no change"."""
    draft = Draft.from_data(await member.dialog.get_data())
    if draft is None or (tap_item_id is not None and draft.item_id != tap_item_id):
        return NotInDialog()
    if isinstance(answer, str):
        return Rejected(answer)
    item = await _reportable(member, draft)
    if isinstance(item, Refused):
        return item
    following = answer(draft)
    if following is None:
        return Unchanged()
    if following == Finish.SAVE:
        return await report_status(ctx, member, draft, item, shown_in=shown_in)
    if following == Finish.SAME:
        if draft.corrects is not None:  # a correction is saved by Save, not "no change"
            return Unchanged()
        return await confirm_unchanged(ctx, member, item, shown_in=shown_in)
    assert isinstance(following, State)
    card = await _card(member, item)
    return await _move(ctx, member, following, draft, card, shown_in=shown_in)


async def current_step(ctx: UseCaseContext, member: Member) -> StepShown | Refused | NotInDialog:
    """Where the dialog is (after a button of an earlier step): that step, shown anew."""
    draft = Draft.from_data(await member.dialog.get_data())
    state = await member.dialog.get_state()
    if draft is None or state is None or state not in REPORT_DIALOG:
        return NotInDialog()
    item = await _reportable(member, draft)
    if isinstance(item, Refused):
        return item
    card = await _card(member, item)
    return await _move(ctx, member, REPORT_DIALOG[state].state, draft, card, shown_in=None)


def _unchanged_warnings(card: ItemSnapshot, today: date) -> list[SanityWarning]:
    """What repeating the last report would save that looks like a slip (on track past the
    deadline): Save's rule, for every path that repeats it ("no change" in the dialog, the
    worklist's ✓, "everything else unchanged")."""
    latest = card.latest
    if latest is None:
        return []
    repeated = Draft(_item_id(card.item), status=latest.status, progress=latest.progress)
    return sanity_warnings(repeated, card.item, latest, today)


async def _held_back(
    ctx: UseCaseContext, member: Member, item: RoadmapItem, *, shown_in: int | None
) -> StepShown | None:
    """A "no change" that looks like a slip: the summary with the warning and "Save anyway"
    (which repeats the last report) instead of saving at once; None when nothing is amiss."""
    card = await _card(member, item)
    if card.latest is None or not _unchanged_warnings(card, _today(ctx)):
        return None
    latest = card.latest
    draft = Draft(
        _item_id(item),
        status=latest.status,
        progress=latest.progress,
        cause=latest.cause,
        warned=True,
        same=True,
    )
    return await _move(ctx, member, ReportDialog.confirm, draft, card, shown_in=shown_in)


async def report_status(
    ctx: UseCaseContext, member: Member, draft: Draft, item: RoadmapItem, *, shown_in: int | None
) -> StepShown | RoundDone | NotSaved | DraftCorrected | EditClosed:
    """Save: the report, the round's answer and the dialog's next step in one commit; the
    chair's alert scan is told when the report declares a risk. A draft that looks like a
    slip (on track past the deadline, progress going back) is shown once more with a warning."""
    if draft.same and not draft.comment and not draft.evidence_kind:  # "no change", warned
        return await confirm_unchanged(ctx, member, item, shown_in=shown_in, warned=True)
    if draft.corrects is not None:
        return await _save_correction(ctx, member, draft, item, shown_in=shown_in)
    card = await _card(member, item)
    if not draft.warned and sanity_warnings(draft, item, card.latest, _today(ctx)):
        draft.warned = True
        return await _move(ctx, member, ReportDialog.confirm, draft, card, shown_in=shown_in)
    try:
        saved = await record_update(
            member.session,
            person=member.person,
            draft=draft,
            now=ctx.clock.now(),
            known_previous=(card.latest,),
            known_request=(card.ahead.request,) if card.ahead else None,
        )
    except ReportRefusedError as refused:
        await member.dialog.clear()
        return NotSaved(refused.reason)
    outcome = await _after_report(ctx, member, card, Saved.REPORT, shown_in)
    await member.session.commit()
    # The chair hears of a declared risk at once, and whoever asked for this update hears the
    # answer (bot/risk/questions.py); Save does not wait for either.
    if saved.risk_event is not None or item.awaiting_answer:
        ctx.signals.alert_soon()
    return outcome


async def confirm_unchanged(
    ctx: UseCaseContext,
    member: Member,
    item: RoadmapItem,
    *,
    shown_in: int | None,
    warned: bool = False,
) -> StepShown | RoundDone | NotSaved:
    """ "No change" in the dialog: the last report repeated, then the next waiting item; held
    back once with a warning when it looks like a slip."""
    held = None if warned else await _held_back(ctx, member, item, shown_in=shown_in)
    if held is not None:
        return held
    card = await _card(member, item)
    try:
        await record_confirmation(
            member.session,
            person=member.person,
            item_id=_item_id(item),
            now=ctx.clock.now(),
            known_previous=(card.latest,),
            known_request=(card.ahead.request,) if card.ahead else None,
        )
    except (ReportRefusedError, NothingToConfirmError) as refused:
        await member.dialog.clear()
        return NotSaved(refused.reason if isinstance(refused, ReportRefusedError) else None)
    outcome = await _after_report(ctx, member, card, Saved.NO_CHANGE, shown_in)
    await member.session.commit()
    if item.awaiting_answer:
        ctx.signals.alert_soon()  # whoever asked for this update hears the answer
    return outcome


async def _after_report(
    ctx: UseCaseContext, member: Member, card: ItemSnapshot, saved: Saved, shown_in: int | None
) -> StepShown | RoundDone:
    """The department's next waiting item after `card`'s (as the tap read it ahead, else one
    indexed statement), or the end of the round."""
    department_id, since = _department(member), _round_start(ctx)
    if card.ahead is not None:
        following = card.ahead.following
    else:
        following = await next_waiting_item(
            member.session, department_id, since, after_item_id=_item_id(card.item)
        )
    if following is None:
        await member.dialog.clear()
        return RoundDone(saved, await worklist(member.session, department_id, since))
    draft = Draft(item_id=_item_id(following.item))
    return await _move(
        ctx, member, ReportDialog.status, draft, following, shown_in=shown_in, saved=saved
    )


@dataclass(frozen=True)
class Cancelled:
    """Cancel in the dialog: the item left as it was (its code), and how many of the
    department's answers this round stay saved."""

    code: str | None
    saved: int


async def cancel_in_round(ctx: UseCaseContext, member: Member) -> Cancelled:
    """Cancel mid-round: close the dialog; say which item is left and what stays saved (the
    item as the update read it ahead; one statement for the round's answers)."""
    draft = Draft.from_data(await member.dialog.get_data())
    await member.dialog.clear()
    known = member.snapshot
    code = known.item.code if known is not None and draft is not None else None
    saved = await answered_this_round(member.session, _department(member), _round_start(ctx))
    return Cancelled(code, saved)


async def cancel_report(member: Member) -> bool:
    """Close the dialog; whether there was one."""
    had_dialog = await member.dialog.get_state() is not None
    await member.dialog.clear()
    return had_dialog


# --- Edits of what was typed ---


class EditNotKept(StrEnum):
    TOO_LONG = "too_long"  # empty or longer than a comment may be
    SUPERSEDED = "superseded"  # the item has a newer report than the edited one


@dataclass(frozen=True)
class DraftCommentEdited:
    """The draft's comment follows the edit; `step` is the dialog's step with it, to show in
    place of the card (`card_message`, when the dialog knows it)."""

    step: StepShown
    card_message: int | None


@dataclass(frozen=True)
class CorrectionOffered:
    """The edited message's comment was saved already: correct the saved update?"""

    update: StatusUpdate
    item: RoadmapItem
    comment: str


@dataclass(frozen=True)
class CorrectionSaved:
    item: RoadmapItem
    correction: StatusUpdate


@dataclass(frozen=True)
class CorrectionClosed:
    """The offer was declined, or is no longer open (a newer offer, an old button)."""

    declined: bool


EditOutcome = DraftCommentEdited | CorrectionOffered | EditNotKept | None


async def edit_message(
    ctx: UseCaseContext, member: Member, message_id: int, text: str | None
) -> EditOutcome:
    """Telegram's *Edit* of a message the member sent: the draft's comment follows it; a
    comment already saved is offered for correction; any other message needs nothing (None)."""
    data = await member.dialog.get_data()
    draft, state = Draft.from_data(data), await member.dialog.get_state()
    in_dialog = draft is not None and state in REPORT_DIALOG
    if in_dialog and draft is not None and draft.comment_message_id == message_id:
        comment = clean_comment(text)
        if comment is None:
            return EditNotKept.TOO_LONG
        draft.comment = comment
        item = await _reportable(member, draft)
        if isinstance(item, Refused):
            return None
        card_message = data.get("message_id")
        shown_in = card_message if isinstance(card_message, int) else None
        assert state is not None
        step = await _move(
            ctx,
            member,
            REPORT_DIALOG[state].state,
            draft,
            await _card(member, item),
            shown_in=shown_in,
        )
        return DraftCommentEdited(step, shown_in)
    saved = await saved_comment_message(member.session, member.person, message_id)
    if saved is None or saved.id is None:
        return None
    latest = await queries.latest_update(member.session, saved.item_id)
    if latest is None or latest.id != saved.id:
        return EditNotKept.SUPERSEDED
    comment = clean_comment(text)
    if comment is None:
        return EditNotKept.TOO_LONG
    if comment == saved.comment:
        return None
    edited = await member.session.get(RoadmapItem, saved.item_id)
    assert edited is not None  # an update's item is never deleted
    await member.dialog.set_data({**data, _CORRECTION: {"update_id": saved.id, "comment": comment}})
    return CorrectionOffered(saved, edited, comment)


async def correct_saved(
    ctx: UseCaseContext, member: Member, update_id: int, *, accept: bool
) -> CorrectionSaved | CorrectionClosed | Refused:
    """The answer to a correction offer: a correction entry (the original kept, marked
    corrected), or nothing."""
    data = await member.dialog.get_data()
    offer = data.get(_CORRECTION)
    if not isinstance(offer, dict) or offer.get("update_id") != update_id:
        return CorrectionClosed(declined=False)
    await member.dialog.set_data({key: value for key, value in data.items() if key != _CORRECTION})
    if not accept:
        return CorrectionClosed(declined=True)
    original = await member.session.get(StatusUpdate, update_id)
    latest = await queries.latest_update(member.session, original.item_id) if original else None
    if original is None or latest is None or latest.id != original.id:
        return CorrectionClosed(declined=False)
    try:
        item = await reportable_item(member.session, member.person, original.item_id)
    except ReportRefusedError as refused:
        return Refused(refused.reason)
    correction = await record_correction(
        member.session,
        person=member.person,
        original=original,
        comment=str(offer.get("comment") or ""),
        now=ctx.clock.now(),
    )
    await member.session.commit()
    return CorrectionSaved(item, correction)


# --- The worklist ---


async def department_worklist(ctx: UseCaseContext, member: Member) -> Worklist:
    """The member's department: its open items and which of them this round has."""
    return await worklist(member.session, _department(member), _round_start(ctx))


async def confirm_item(
    ctx: UseCaseContext, member: Member, item_id: int, *, shown_in: int | None = None
) -> ItemConfirmed | NotSaved | StepShown:
    """✓ in the worklist: one tap reports that the item has not changed; one that looks like a
    slip opens the item's summary with the warning instead (`shown_in`: the worklist)."""
    work = await department_worklist(ctx, member)
    if item_id in work.updated_ids:
        return ItemConfirmed(await department_worklist(ctx, member), already=True)
    try:
        held = await _held_back(
            ctx,
            member,
            await reportable_item(member.session, member.person, item_id),
            shown_in=shown_in,
        )
    except ReportRefusedError as refused:
        return NotSaved(refused.reason)
    if held is not None:
        return held
    try:
        await record_confirmation(
            member.session, person=member.person, item_id=item_id, now=ctx.clock.now()
        )
    except ReportRefusedError as refused:
        return NotSaved(refused.reason)
    except NothingToConfirmError:
        return NotSaved(None)
    await member.session.commit()
    if any(listed.id == item_id and listed.awaiting_answer for listed in work.items):
        ctx.signals.alert_soon()  # whoever asked for this update hears the answer
    return ItemConfirmed(await department_worklist(ctx, member))


@dataclass(frozen=True)
class RestToConfirm:
    """The items "everything else unchanged" would confirm, and those among them that look
    like a slip (marked in the list the head checks)."""

    worklist: Worklist
    warned: frozenset[int]


async def rest_to_confirm(ctx: UseCaseContext, member: Member) -> RestToConfirm:
    work, today = await department_worklist(ctx, member), _today(ctx)
    warned = frozenset(
        _item_id(item)
        for item in work.confirmable
        if _unchanged_warnings(ItemSnapshot(item, work.latest.get(_item_id(item)), None), today)
    )
    return RestToConfirm(work, warned)


async def confirm_rest_unchanged(ctx: UseCaseContext, member: Member) -> RestConfirmed:
    """ "Everything else unchanged": every waiting item with an earlier report, at once."""
    work = await department_worklist(ctx, member)
    confirmed = await confirm_all_unchanged(
        member.session, person=member.person, items=work.confirmable, now=ctx.clock.now()
    )
    if any(item.awaiting_answer for item in work.confirmable):
        ctx.signals.alert_soon()  # whoever asked for these updates hears the answers
    return RestConfirmed(len(confirmed), await department_worklist(ctx, member))


async def go_away(ctx: UseCaseContext, member: Member, request: AwayRequest) -> AwayOutcome:
    """/away: requests go to the deputy (or the others) until the member is back. When
    nobody else could answer, the outcome says so (the head is asked for a deputy); a deputy
    who has not joined yet needs the secretariat's invitation."""
    session = member.session
    department_id = member.person.department_id
    department = await queries.department_by_id(session, department_id)
    code = department.code if department is not None else ""
    today = _today(ctx)
    try:
        deputy = await set_away(
            session,
            person=member.person,
            back=request.back,
            deputy_handle=request.deputy,
            actor=member.person,
            today=today,
            now=ctx.clock.now(),
        )
    except UnknownPersonError:
        return DeputyNotJoined(code)
    except (AwayDateError, InvalidDeputyError) as error:
        return error
    alone = (
        request.back is not None
        and deputy is None
        and await nobody_else_answers(session, member.person, today)
    )
    return AwaySet(deputy, alone, code)
