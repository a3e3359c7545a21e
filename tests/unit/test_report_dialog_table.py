"""The head's dialog as one declared table: every state has a step, and each answer leads
where the dialog always led (pure: no database, no Telegram)."""

from __future__ import annotations

import pytest
from aiogram.types import Message
from aiogram.utils.i18n import I18n

from bot.core.causes import Cause
from bot.reporting.dialog import (
    REPORT_DIALOG,
    Finish,
    ReportDialog,
    choose_cause,
    choose_progress,
    choose_status,
    choose_status_at,
)
from bot.reporting.service import Draft
from bot.telegram.callbacks import (
    DialogAction,
    PickCause,
    PickProgress,
    PickStatus,
    QuickProgress,
)
from db.models import ItemStatus


def test_every_state_of_the_dialog_is_a_step_of_the_table() -> None:
    assert set(REPORT_DIALOG.states) == set(ReportDialog.__states__)
    assert all(step.taps for step in REPORT_DIALOG)  # every step has a button (Cancel aside)
    assert all(step.typed for step in REPORT_DIALOG)  # and takes a typed answer


@pytest.mark.parametrize(
    ("status", "following", "progress"),
    [
        (ItemStatus.DONE, ReportDialog.confirm, 100),  # done is 100%: straight to the summary
        (ItemStatus.ON_TRACK, ReportDialog.progress, None),
        (ItemStatus.AT_RISK, ReportDialog.progress, None),
    ],
)
def test_a_status_leads_to_the_progress_or_the_summary(
    status: str, following: object, progress: int | None
) -> None:
    draft = Draft(item_id=1, cause=Cause.OTHER, warned=True)
    assert choose_status(status)(draft) == following
    assert (draft.status, draft.progress, draft.warned) == (status, progress, False)
    assert (draft.cause is None) == (status != ItemStatus.AT_RISK)  # only a risk keeps a cause


def test_a_risk_asks_for_a_cause_and_a_comment_unless_it_has_one() -> None:
    draft = Draft(item_id=1, status=ItemStatus.BLOCKED)
    assert choose_progress(30)(draft) == ReportDialog.cause
    assert choose_cause(Cause.FINANCING)(draft) == ReportDialog.comment
    draft.comment = "Нет денег"
    assert choose_cause(Cause.CONTRACTOR)(draft) == ReportDialog.confirm


def test_a_quick_percent_goes_to_the_summary_and_a_kept_risk_to_its_cause() -> None:
    """Issue 22: "↗ 70%" on the first step is on track at 70% (the summary, then Save); a
    risk keeps the reported percent and asks for its cause at once."""
    draft = Draft(item_id=1)
    assert choose_status_at(ItemStatus.ON_TRACK, 70)(draft) == ReportDialog.confirm
    assert (draft.status, draft.progress) == (ItemStatus.ON_TRACK, 70)
    risk = Draft(item_id=1)
    assert choose_status_at(ItemStatus.AT_RISK, 60)(risk) == ReportDialog.cause
    assert (risk.status, risk.progress, risk.cause) == (ItemStatus.AT_RISK, 60, None)
    done = Draft(item_id=1)
    assert choose_status_at(ItemStatus.DONE, 40)(done) == ReportDialog.confirm
    assert done.progress == 100
    assert choose_status_at("finished", 40)(Draft(item_id=1)) is None
    assert choose_status_at(ItemStatus.ON_TRACK, 140)(Draft(item_id=1)) is None


def test_a_number_typed_at_the_cause_step_is_the_percent(i18n: I18n) -> None:
    """The risk kept the reported percent; typing one where the percent step used to be
    changes it, and the cause is still asked."""
    draft = Draft(item_id=1, status=ItemStatus.BLOCKED, progress=60, warned=True)
    message = Message.model_validate(
        {"message_id": 5, "date": 0, "chat": {"id": 1, "type": "private"}, "text": "20"}
    )
    with i18n.context(), i18n.use_locale("ru"):
        answer = REPORT_DIALOG.typed(ReportDialog.cause.state or "", message, i18n)
    assert not isinstance(answer, str)
    assert answer(draft) == ReportDialog.cause
    assert (draft.progress, draft.warned, draft.cause) == (20, False, None)


def test_the_percent_changed_from_the_summary_returns_to_it() -> None:
    """[Change %] on the summary: the progress step, then back to the summary (a risk's
    cause is not asked again); done has no percent to change."""
    draft = Draft(item_id=1, status=ItemStatus.AT_RISK, progress=60, cause=Cause.CONTRACTOR)
    change = REPORT_DIALOG.tap(
        ReportDialog.confirm.state or "", DialogAction(item_id=1, action="progress")
    )
    assert change(draft) == ReportDialog.progress
    assert choose_progress(45)(draft) == ReportDialog.confirm
    assert (draft.progress, draft.cause) == (45, Cause.CONTRACTOR)
    assert change(Draft(item_id=1, status=ItemStatus.DONE, progress=100)) is None


def test_forged_values_change_nothing() -> None:
    draft = Draft(item_id=1, status=ItemStatus.ON_TRACK, progress=40)
    assert choose_status("finished")(draft) is None
    assert choose_progress(101)(draft) is None
    assert choose_cause("weather")(draft) is None
    assert (draft.status, draft.progress, draft.cause) == (ItemStatus.ON_TRACK, 40, None)


@pytest.mark.parametrize(
    ("state", "action", "following"),
    [
        (ReportDialog.status, "same", Finish.SAME),
        (ReportDialog.status, "back", None),
        (ReportDialog.comment, "back", ReportDialog.confirm),  # an optional comment
        (ReportDialog.comment, "skip", ReportDialog.confirm),  # older buttons say skip
        (ReportDialog.evidence, "back", ReportDialog.confirm),
        (ReportDialog.confirm, "save", Finish.SAVE),
        (ReportDialog.confirm, "comment", ReportDialog.comment),
        (ReportDialog.confirm, "file", ReportDialog.evidence),
        (ReportDialog.confirm, "back", None),
        (ReportDialog.confirm, "same", None),
    ],
)
def test_the_dialogs_buttons(state: object, action: str, following: object) -> None:
    draft = Draft(item_id=1, status=ItemStatus.ON_TRACK, progress=40)
    tap = DialogAction(item_id=1, action=action)
    assert REPORT_DIALOG.tap(state.state, tap)(draft) == following  # type: ignore[attr-defined]


def test_a_risks_comment_cannot_be_skipped() -> None:
    draft = Draft(item_id=1, status=ItemStatus.AT_RISK, progress=40, cause=Cause.OTHER)
    tap = DialogAction(item_id=1, action="back")
    assert REPORT_DIALOG.tap(ReportDialog.comment.state or "", tap)(draft) is None


def test_change_starts_the_answers_again() -> None:
    draft = Draft(item_id=7, status=ItemStatus.AT_RISK, progress=40, cause="other", comment="x")
    tap = DialogAction(item_id=7, action="change")
    assert REPORT_DIALOG.tap(ReportDialog.confirm.state or "", tap)(draft) == ReportDialog.status
    assert draft == Draft(item_id=7)


def test_each_tap_is_accepted_at_its_own_step_only() -> None:
    accepted = {step.state.state: {tap.callback for tap in step.taps} for step in REPORT_DIALOG}
    assert accepted == {
        ReportDialog.status.state: {PickStatus, QuickProgress, DialogAction},
        ReportDialog.progress.state: {PickProgress},
        ReportDialog.cause.state: {PickCause},
        ReportDialog.comment.state: {DialogAction},
        ReportDialog.evidence.state: {DialogAction},
        ReportDialog.confirm.state: {DialogAction},
    }
