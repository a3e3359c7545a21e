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


SHORT_LABEL = 18  # a half-width button on a 360–400 dp phone shows 16–20 Cyrillic letters


def adjust_to_labels(
    builder: InlineKeyboardBuilder,
    columns: int = 2,
    *,
    first_alone: bool = False,
    last_alone: bool = True,
) -> None:
    """Rows of up to `columns` short buttons; a longer label gets a row to itself, and so do
    the first button (the main action) when `first_alone` and the last (Cancel) when
    `last_alone`."""
    buttons = list(builder.buttons)
    sizes: list[int] = [1] if first_alone and buttons else []
    body = buttons[len(sizes) :]
    if last_alone and body:
        body = body[:-1]
    current = 0
    for button in body:
        if len(button.text) > SHORT_LABEL:
            if current:
                sizes.append(current)
                current = 0
            sizes.append(1)
            continue
        current += 1
        if current == columns:
            sizes.append(current)
            current = 0
    if current:
        sizes.append(current)
    if sum(sizes) < len(buttons):
        sizes.append(1)
    if sizes:
        builder.adjust(*sizes)
