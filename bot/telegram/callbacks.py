"""Callback data factories. Prefixes are short: Telegram allows 64 bytes per button.

Ids are bounded (`DbId`): a forged button with an id beyond the database's range matches no
filter and gets the fallback's answer instead of an OverflowError in the query.
"""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData

from bot.core.parsing import DbId, SmallInt


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
