"""Inline keyboards. Labels are translated when the keyboard is built, never lazily."""

from __future__ import annotations

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.telegram.callbacks import LanguageChoice

LANGUAGE_NAMES = {"kk": "Қазақша", "ru": "Русский"}


def language_keyboard() -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for locale, name in LANGUAGE_NAMES.items():
        builder.button(text=name, callback_data=LanguageChoice(locale=locale))
    builder.adjust(2)
    return builder.as_markup()
