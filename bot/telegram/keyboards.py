"""Inline keyboards. Labels are translated when the keyboard is built, never lazily."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import tzinfo

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.core.text import short_titles
from bot.telegram.callbacks import LanguageChoice, ResendEvidence
from bot.telegram.i18n import format_day, pick_name
from bot.telegram.texts import evidence_label
from db.models import Person, RoadmapItem, StatusUpdate

LANGUAGE_NAMES = {"kk": "Қазақша", "ru": "Русский"}


def language_keyboard() -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for locale, name in LANGUAGE_NAMES.items():
        builder.button(text=name, callback_data=LanguageChoice(locale=locale))
    builder.adjust(2)
    return builder.as_markup()


SHORT_LABEL = 18  # a half-width button on a 360–400 dp phone shows 16–20 Cyrillic letters


def button(text: str, callback_data: CallbackData) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=callback_data.pack())


def in_rows(buttons: Sequence[InlineKeyboardButton], *sizes: int) -> InlineKeyboardMarkup:
    """`buttons` in rows of `sizes`, the last size repeating (as `InlineKeyboardBuilder.adjust`
    lays them out). Built directly: the builder deep-copies the whole keyboard on every
    button, which was the largest share of a dialog step's Python calls."""
    rows: list[list[InlineKeyboardButton]] = []
    start = 0
    while start < len(buttons):
        size = max(1, sizes[min(len(rows), len(sizes) - 1)] if sizes else 1)
        rows.append(list(buttons[start : start + size]))
        start += size
    return InlineKeyboardMarkup(inline_keyboard=rows)


def fitted_to_labels(
    buttons: Sequence[InlineKeyboardButton],
    columns: int = 2,
    *,
    first_alone: bool = False,
    last_alone: bool = True,
) -> InlineKeyboardMarkup:
    """Rows of up to `columns` short buttons; a longer label gets a row to itself, and so do
    the first button (the main action) when `first_alone` and the last (Cancel) when
    `last_alone`."""
    sizes: list[int] = [1] if first_alone and buttons else []
    body = list(buttons[len(sizes) :])
    if last_alone and body:
        body = body[:-1]
    current = 0
    for item in body:
        if len(item.text) > SHORT_LABEL:
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
    return in_rows(buttons, *sizes)


BUTTON_TITLE_LENGTH = 40


def cut_label(text: str, limit: int = BUTTON_TITLE_LENGTH) -> str:
    """A button's label cut to `limit` characters, marked with «…» where cut."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def item_titles(items: Sequence[RoadmapItem], limit: int = BUTTON_TITLE_LENGTH) -> list[str]:
    """What the buttons of items shown together say (issue 22, #16): the short title the
    secretariat set (/short), else the full title shortened so that two «Внедрение…» items
    still differ (the rule: bot.core.text.short_titles)."""
    guessed = short_titles([pick_name(item.title_kk, item.title_ru) for item in items], limit)
    labels = []
    for item, guess in zip(items, guessed, strict=True):
        chosen = pick_name(item.short_title_kk, item.short_title_ru)
        labels.append(cut_label(chosen, limit) if chosen else guess)
    return labels


EVIDENCE_BUTTONS = 5


def evidence_keyboard(
    history: Sequence[tuple[StatusUpdate, Person | None]], tz: tzinfo
) -> InlineKeyboardMarkup | None:
    """One button per update with evidence (newest first, at most five): it sends the file.
    The card's, wherever it is shown (the department's dialog and the chair's card)."""
    builder = InlineKeyboardBuilder()
    with_files = [update for update, _author in history if update.evidence_file_id][
        :EVIDENCE_BUTTONS
    ]
    for update in with_files:
        label = evidence_label(update.evidence_kind, update.evidence_name)
        day = format_day(update.created_at.astimezone(tz).date())
        builder.button(
            text=cut_label(f"📎 {day}: {label}"),
            callback_data=ResendEvidence(update_id=update.id),
        )
    builder.adjust(1)
    return builder.as_markup() if with_files else None
