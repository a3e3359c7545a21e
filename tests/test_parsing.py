from __future__ import annotations

from datetime import date

import pytest

from bot.core.parsing import (
    is_department_code,
    is_item_code,
    parse_date,
    parse_new_department,
    parse_new_item,
    parse_user_id,
    split_bilingual,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-09-01", date(2025, 9, 1)),
        ("01.09.2025", date(2025, 9, 1)),
        (" 1.9.2025 ", date(2025, 9, 1)),
        ("2025-02-30", None),
        ("31.04.2025", None),
        ("09/01/2025", None),
        ("tomorrow", None),
        ("", None),
    ],
)
def test_parse_date(text: str, expected: date | None) -> None:
    assert parse_date(text) == expected


def test_codes() -> None:
    assert is_item_code("2.3.1") and is_item_code("12") and is_item_code("A-7")
    assert not is_item_code("2.3.") and not is_item_code("<b>") and not is_item_code("x" * 40)
    assert is_department_code("edu") and is_department_code("Build_2")
    assert not is_department_code("chair") and not is_department_code("2edu")


def test_bilingual_needs_both_halves() -> None:
    assert split_bilingual("Білім | Образование", 50) == ("Білім", "Образование")
    assert split_bilingual("Білім", 50) is None
    assert split_bilingual("Білім | ", 50) is None
    assert split_bilingual("a | b | c", 50) is None
    assert split_bilingual("a | " + "b" * 51, 50) is None


def test_new_department_and_item() -> None:
    department = parse_new_department("EDU Білім басқармасы | Управление образования")
    assert department is not None and department.code == "edu"
    assert department.name_ru == "Управление образования"
    item = parse_new_item("2.3.1 edu 01.09.2025 Мектеп салу | Строительство школы")
    assert item is not None
    assert (item.code, item.department_code, item.deadline) == ("2.3.1", "edu", date(2025, 9, 1))
    assert parse_new_item("2.3.1 edu 2025-13-01 a | b") is None
    assert parse_new_item("2.3.1 edu 2025-12-01 only kazakh") is None
    assert parse_new_department(None) is None


def test_user_id() -> None:
    assert parse_user_id("123456") == 123456
    assert (
        parse_user_id("-5") is None and parse_user_id("12 13") is None and parse_user_id("") is None
    )
