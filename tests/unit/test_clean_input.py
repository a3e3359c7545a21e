"""Bidi overrides and control characters never get in: not from a cell, not from a message."""

from __future__ import annotations

from datetime import date

import pytest

from bot.core.text import clean_input
from bot.spreadsheets.parse import parse_spreadsheet
from tests.data.spreadsheets.workbooks import csv_bytes

RLO, PDF, LRI, PDI = "\u202e", "\u202c", "\u2066", "\u2069"


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        (f"Мектеп {RLO}салу", "Мектеп салу"),
        (f"{LRI}Жол{PDI} \u202a\u202b\u202dкөпір", "Жол көпір"),
        ("bell\x07 null\x00 esc\x1b del\x7f", "bell null esc del"),
        ("line one\r\nline two\ttab", "line one\nline two\ttab"),
        ("עברית ו-Қазақша 🚧 «ок»", "עברית ו-Қазақша 🚧 «ок»"),  # letters and emoji stay
    ],
)
def test_clean_input(raw: str, clean: str) -> None:
    assert clean_input(raw) == clean


def test_a_hostile_cell_is_cleaned_on_import() -> None:
    row = {
        "code": "3.1",
        "title_kk": f"Мектеп {RLO}салу\x01",
        "title_ru": f"Строительство {RLO}школы{PDF}\x1b",
        "department": "edu",
        "deadline": date(2025, 9, 1),
    }
    (parsed,) = parse_spreadsheet(csv_bytes([row]), "a.csv").rows
    assert (parsed.title_kk, parsed.title_ru) == ("Мектеп салу", "Строительство школы")
