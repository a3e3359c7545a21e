"""Callback data factories. Prefixes are short: Telegram allows 64 bytes per button.

Ids are bounded (`DbId`): a forged button with an id beyond the database's range matches no
filter and gets the fallback's answer instead of an OverflowError in the query.
"""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData

from bot.core.parsing import DB_ID_MAX, DbId, SmallInt, Year, parse_int


class LanguageChoice(CallbackData, prefix="lang"):
    locale: str


class OpenItem(CallbackData, prefix="ri"):
    """Start (or restart) the status dialog for one item."""

    item_id: DbId


class WorklistPage(CallbackData, prefix="wp"):
    page: SmallInt


class PickStatus(CallbackData, prefix="rs"):
    item_id: DbId
    status: str


class PickProgress(CallbackData, prefix="rp"):
    item_id: DbId
    value: SmallInt


class PickCause(CallbackData, prefix="rc"):
    item_id: DbId
    cause: str


class DialogAction(CallbackData, prefix="ra"):
    """skip (comment or evidence), save, change, cancel."""

    item_id: DbId
    action: str


class ChairItem(CallbackData, prefix="ci"):
    """Open an item's card and history from a digest or an alert."""

    item_id: DbId


class ChairDepartment(CallbackData, prefix="cd"):
    department_id: DbId
    year: Year


class AskUpdate(CallbackData, prefix="cu"):
    """Ask the item's department for a status update now."""

    item_id: DbId


class ConfirmItem(CallbackData, prefix="rn"):
    """✓ in the worklist: the item has not changed since its last report."""

    item_id: DbId
    page: SmallInt


class ConfirmAll(CallbackData, prefix="rall"):
    """ "Everything else unchanged": `ask` lists the items, `yes` confirms them all."""

    step: str
    page: SmallInt


class ImportDecision(CallbackData, prefix="imp"):
    action: str  # ok | no
    token: str  # binds the buttons to one dry run, so an old message cannot apply a new file


class ImportSheet(CallbackData, prefix="ims"):
    """Which of two equally likely sheets holds the Road Map: its place in the offered list."""

    index: SmallInt
    token: str


class FullHelp(CallbackData, prefix="help"):
    """The short /help's button: every command of the person's role."""


class RevokeChoice(CallbackData, prefix="rv"):
    """/revoke's confirmation: take the access of `telegram_id` away (`confirm`) or not."""

    telegram_id: int
    confirm: bool


class CorrectSaved(CallbackData, prefix="rfx"):
    """After an edit of a saved comment: correct the saved update (`accept`) or keep it."""

    update_id: DbId
    accept: bool


class ResendEvidence(CallbackData, prefix="ev"):
    """Send an update's photo or document again, by its Telegram file id."""

    update_id: DbId


def item_id_of(data: str | None, prefixes: frozenset[str] | None = None) -> int | None:
    """The item id a packed button names (its first field), without unpacking it: for any
    prefix, or only for one of `prefixes`. None when there is none or it is out of range."""
    prefix, _separator, rest = (data or "").partition(":")
    if prefixes is not None and prefix not in prefixes:
        return None
    return parse_int(rest.partition(":")[0], 1, DB_ID_MAX)


class NameStep(CallbackData, prefix="nm"):
    """[Skip] under "your full name and position?" after joining."""

    action: str


class DismissPick(CallbackData, prefix="dsm"):
    """One of the item's current risk reasons under /dismiss CODE."""

    item_id: DbId
    reason: str


class SendQuestion(CallbackData, prefix="qs"):
    """Send what a person typed outside a dialog on to the secretariat (issue 22, #14)."""

    question_id: DbId


class QuickProgress(CallbackData, prefix="rq"):
    """On the item's first step, a status with its percent in one tap: on track again with
    a new percent (progress near the current value in three taps), or a risk keeping the
    current one (issue 22). The percent can still be changed on the summary."""

    item_id: DbId
    status: str
    value: SmallInt


class EditUpdate(CallbackData, prefix="rx"):
    """ "Edit my last update": the author's saved update as a draft to correct (issue 22)."""

    update_id: DbId
