"""Both languages, always: every string in the code is translated in kk and ru, none fuzzy."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from aiogram.utils.i18n import I18n
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_file
from babel.messages.pofile import read_po

from bot.telegram.i18n import LOCALES_DIR, format_day, in_locale, pick_name
from bot.telegram.texts import days_left_text

ROOT = Path(__file__).resolve().parents[2]
SOURCE_DIRS = ("bot", "handlers", "db")
KEYWORDS = {**DEFAULT_KEYWORDS, "N_": None, "ngettext": (1, 2), "_": None}
PLACEHOLDER = re.compile(r"\{\w+\}")
TAG = re.compile(r"</?\w+>")


def load_catalog(locale: str) -> Catalog:
    with (LOCALES_DIR / locale / "LC_MESSAGES" / "messages.po").open("rb") as po_file:
        return read_po(po_file, locale=locale)


def source_msgids() -> set[str]:
    found: set[str] = set()
    for folder in SOURCE_DIRS:
        for path in sorted((ROOT / folder).rglob("*.py")):
            for _line, message, _comments, _context in extract_from_file(
                "python", str(path), keywords=KEYWORDS
            ):
                found.add(message[0] if isinstance(message, tuple) else message)
    return found


@pytest.mark.parametrize("locale", ["kk", "ru"])
def test_every_source_string_is_in_the_catalog(locale: str) -> None:
    catalog = load_catalog(locale)
    known = {m.id[0] if isinstance(m.id, tuple) else m.id for m in catalog if m.id}
    missing = sorted(source_msgids() - known)
    assert not missing, f"not in locales/{locale}: {missing} (run scripts/update-catalogs.sh)"


@pytest.mark.parametrize("locale", ["kk", "ru"])
def test_every_entry_is_translated_and_consistent(locale: str) -> None:
    catalog = load_catalog(locale)
    problems = []
    for message in catalog:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy:
            problems.append(f"fuzzy: {ids[0]!r}")
        if not all(strings):
            problems.append(f"untranslated: {ids[0]!r}")
        expected_placeholders = set(PLACEHOLDER.findall(" ".join(ids)))
        # Command hints like "/item <item code>" use brackets for arguments, not HTML.
        expected_tags = [] if ids[0].startswith("/") else sorted(TAG.findall(ids[0]))
        for string in strings:
            if string and set(PLACEHOLDER.findall(string)) != expected_placeholders:
                problems.append(f"placeholders differ: {ids[0]!r} -> {string!r}")
            if ids[0].startswith("/"):
                continue
            if string and sorted(TAG.findall(string)) != expected_tags:
                problems.append(f"HTML tags differ: {ids[0]!r} -> {string!r}")
    assert not problems, "\n".join(problems)


def test_plural_forms_are_declared() -> None:
    assert load_catalog("ru").num_plurals == 3
    assert load_catalog("kk").num_plurals == 2


@pytest.mark.parametrize(
    ("days", "expected"),
    [(1, "1 день"), (2, "2 дня"), (5, "5 дней"), (11, "11 дней"), (21, "21 день"), (22, "22 дня")],
)
def test_russian_plurals_of_days_left(i18n: I18n, days: int, expected: str) -> None:
    today = date(2025, 3, 3)
    with in_locale(i18n, "ru"):
        text = days_left_text(date.fromordinal(today.toordinal() + days), today)
    assert expected in text


def test_kazakh_days_left_keeps_noun_singular(i18n: I18n) -> None:
    today = date(2025, 3, 3)
    with in_locale(i18n, "kk"):
        one = days_left_text(date(2025, 3, 4), today)
        five = days_left_text(date(2025, 3, 8), today)
        overdue = days_left_text(date(2025, 3, 1), today)
    assert "1 күн" in one and "5 күн" in five
    assert "2" in overdue and overdue != five


def test_dates_in_the_readers_language() -> None:
    day = date(2025, 9, 1)
    # Babel puts a narrow no-break space before the year abbreviation.
    assert format_day(day, "ru").replace("\u202f", " ") == "1 сентября 2025 г."
    assert format_day(day, "kk").replace("\u202f", " ") == "2025 ж. 1 қыркүйек"


def test_names_fall_back_to_the_other_language() -> None:
    assert pick_name("Білім", "Образование", "kk") == "Білім"
    assert pick_name("Білім", "Образование", "ru") == "Образование"
    assert pick_name("", "Образование", "kk") == "Образование"
    assert pick_name("Білім", "  ", "ru") == "Білім"
