"""Callback data factories. Prefixes are short: Telegram allows 64 bytes per button."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData


class LanguageChoice(CallbackData, prefix="lang"):
    locale: str


class OpenItem(CallbackData, prefix="ri"):
    """Start (or restart) the status dialog for one item."""

    item_id: int


class WorklistPage(CallbackData, prefix="wp"):
    page: int


class PickStatus(CallbackData, prefix="rs"):
    item_id: int
    status: str


class PickProgress(CallbackData, prefix="rp"):
    item_id: int
    value: int


class PickCause(CallbackData, prefix="rc"):
    item_id: int
    cause: str


class DialogAction(CallbackData, prefix="ra"):
    """skip (comment or evidence), save, change, cancel."""

    item_id: int
    action: str


class ConfirmItem(CallbackData, prefix="rn"):
    """✓ in the worklist: the item has not changed since its last report."""

    item_id: int
    page: int


class ConfirmAll(CallbackData, prefix="rall"):
    """ "Everything else unchanged": `ask` lists the items, `yes` confirms them all."""

    step: str
    page: int


class ResendEvidence(CallbackData, prefix="ev"):
    """Send an update's photo or document again, by its Telegram file id."""

    update_id: int
