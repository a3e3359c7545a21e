"""Issue 22's plain rules: item codes named in a sentence, /short's arguments, and the short
titles item buttons show when the secretariat set none (#16)."""

from __future__ import annotations

import pytest

from bot.core.parsing import ShortTitle, item_codes_in, parse_short_title
from bot.core.text import short_titles

VIDEO = "Внедрение системы видеонаблюдения в общеобразовательных школах города"
JOURNAL = "Внедрение системы электронного журнала в общеобразовательных школах"
GARDENS = "Внедрение системы видеонаблюдения в детских садах"


def test_codes_in_a_sentence_are_found_once_and_dates_and_numbers_are_not_codes() -> None:
    text = "По 5.1.4 и 4.2.1. вопрос; 5.1.4 ещё раз. Срок 06.12.2026, сумма 12 млн, 2026 год"
    assert item_codes_in(text) == ["5.1.4", "4.2.1"]
    assert item_codes_in("1.1 бойынша") == ["1.1"]
    assert item_codes_in(None) == [] and item_codes_in("жоқ") == []


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            "5.1.4 Мектеп интернеті | Интернет в школах",
            ShortTitle("5.1.4", "Мектеп интернеті", "Интернет в школах"),
        ),
        (
            "5.1.4  Видеонаблюдение  школ",
            ShortTitle("5.1.4", "Видеонаблюдение школ", "Видеонаблюдение школ"),
        ),
        ("5.1.4 -", ShortTitle("5.1.4", None, None)),
        ("5.1.4", None),
        ("", None),
        (None, None),
        ("5.1.4 " + "х" * 41, None),  # longer than a button holds
        ("5.1.4 A | ", None),  # both languages or one text for both
        ("5/1 текст", None),
    ],
)
def test_short_title_arguments(args: str | None, expected: ShortTitle | None) -> None:
    assert parse_short_title(args) == expected


def test_titles_alike_when_cut_are_told_apart_by_where_they_part() -> None:
    for limit in (22, 40):
        labels = short_titles([VIDEO, JOURNAL, GARDENS], limit)
        assert len(set(labels)) == 3, labels
        assert all(len(label) <= limit for label in labels)
    wide = short_titles([VIDEO, GARDENS], 40)
    assert wide[0].startswith("Внедрение …") and "общеобразовательных" in wide[0]
    assert wide[1] == "Внедрение … детских садах"
    # The plain cut, where it already tells titles apart; a short title as it is.
    assert short_titles(["Мектеп салу", VIDEO], 40) == [
        "Мектеп салу",
        VIDEO[:39].rsplit(" ", 1)[0] + "…",
    ]
