"""Callback data factories. Prefixes are short: Telegram allows 64 bytes per button."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData


class LanguageChoice(CallbackData, prefix="lang"):
    locale: str
