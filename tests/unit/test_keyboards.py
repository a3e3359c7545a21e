"""Keyboards built without aiogram's builder lay out their rows as the builder would."""

from __future__ import annotations

from aiogram.types import InlineKeyboardButton

from bot.telegram.callbacks import OpenItem
from bot.telegram.keyboards import SHORT_LABEL, button, fitted_to_labels, in_rows


def labels(markup) -> list[list[str]]:  # type: ignore[no-untyped-def]
    return [[b.text for b in row] for row in markup.inline_keyboard]


def buttons(*texts: str) -> list[InlineKeyboardButton]:
    return [button(text, OpenItem(item_id=n + 1)) for n, text in enumerate(texts)]


def test_rows_of_the_given_sizes_the_last_repeating() -> None:
    assert labels(in_rows(buttons("a", "b", "c", "d", "e", "f"), 5, 1)) == [
        ["a", "b", "c", "d", "e"],
        ["f"],
    ]
    assert labels(in_rows(buttons("a", "b", "c"), 1)) == [["a"], ["b"], ["c"]]
    assert labels(in_rows([], 2)) == []
    assert buttons("a")[0].callback_data == OpenItem(item_id=1).pack()


def test_long_labels_and_cancel_get_rows_of_their_own() -> None:
    long = "x" * (SHORT_LABEL + 1)
    layout = labels(fitted_to_labels(buttons("a", "b", "c", long, "d", "Cancel")))
    assert layout == [["a", "b"], ["c"], [long], ["d"], ["Cancel"]]
    first = labels(fitted_to_labels(buttons("Save", "b", "c", "Cancel"), first_alone=True))
    assert first == [["Save"], ["b", "c"], ["Cancel"]]
