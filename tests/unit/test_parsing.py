from __future__ import annotations

from datetime import date

import pytest

from bot.core.parsing import (
    DB_ID_MAX,
    is_department_code,
    is_item_code,
    looks_like_a_name,
    parse_date,
    parse_int,
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


@pytest.mark.parametrize(
    "text",
    [
        "9223372036854775808",  # defect 5: OverflowError in the database driver
        str(2**52),  # beyond Telegram's 52-bit ids
        "²",  # defect 5: isdigit() is true, int() refuses it
        "１２３",  # fullwidth digits
        "٣٤٥",  # Arabic-Indic digits
        "0",
        "1" * 5000,  # beyond int()'s digit limit
        "+5",
    ],
)
def test_user_id_refuses_what_is_not_a_telegram_id(text: str) -> None:
    assert parse_user_id(text) is None


def test_user_id_range_edges() -> None:
    assert parse_user_id(str(2**52 - 1)) == 2**52 - 1
    assert parse_user_id("1") == 1


def test_parse_int_ranges() -> None:
    assert parse_int("7", 1, 10) == 7
    assert parse_int(" 10 ", 1, 10) == 10
    assert parse_int("11", 1, 10) is None
    assert parse_int("0", 1, 10) is None
    assert parse_int("²", 0, 10) is None
    assert parse_int(None, 0, 10) is None
    assert parse_int(str(DB_ID_MAX + 1), 1, DB_ID_MAX) is None


def test_dates_outside_the_plausible_range() -> None:
    assert parse_date("1999-12-31") is None
    assert parse_date("2101-01-01") is None
    assert parse_date("2000-01-01") == date(2000, 1, 1)
    assert parse_date("２０２５-09-01") is None


def test_invite_with_a_name_and_a_position() -> None:
    from bot.core.parsing import InviteRequest, NameAndPosition, parse_invite

    assert parse_invite("edu") == InviteRequest("edu")
    assert parse_invite("edu  Бақытжан   Сейітов ,  басшының орынбасары ") == InviteRequest(
        "edu", NameAndPosition("Бақытжан Сейітов", "басшының орынбасары")
    )
    assert parse_invite("chair Айгүл Смағұлова") == InviteRequest(
        "chair", NameAndPosition("Айгүл Смағұлова")
    )
    # only the first comma splits: a position may have its own
    assert parse_invite("edu А. Б., бас маман, мектептер") == InviteRequest(
        "edu", NameAndPosition("А. Б.", "бас маман, мектептер")
    )
    assert parse_invite("edu , басшы") is None  # a position without a name
    assert parse_invite("edu " + "x" * 201) is None
    assert parse_invite("") is None and parse_invite(None) is None


def test_deadline_with_an_optional_reason() -> None:
    from datetime import date

    from bot.core.parsing import DeadlineRequest, parse_deadline

    assert parse_deadline("4.2.1 2026-03-01") == DeadlineRequest("4.2.1", date(2026, 3, 1))
    assert parse_deadline("4.2.1 01.03.2026  Кеңес  шешімі,  №12 ") == DeadlineRequest(
        "4.2.1", date(2026, 3, 1), "Кеңес шешімі, №12"
    )
    assert parse_deadline("4.2.1 tomorrow because") is None
    assert parse_deadline("4.2.1") is None and parse_deadline(None) is None
    assert parse_deadline("4.2.1 2026-03-01 " + "x" * 501) is None


def test_a_question_or_an_item_code_is_not_a_name() -> None:
    assert looks_like_a_name("Бақытжан Сейітов, басшының орынбасары")
    assert looks_like_a_name("Ерлан Омаров, директор школы №12")  # digits in the position
    assert not looks_like_a_name("1.1 бойынша мердігер ауысты, не істеу керек?")
    assert looks_like_a_name("Айгүл Смағұлова")
    assert not looks_like_a_name("1.1 бойынша мердігер ауысты, не істеу керек?")
    assert not looks_like_a_name("Когда следующее совещание")
    assert not looks_like_a_name("Мердігер жұмысты тоқтатты, жаңа конкурс керек")
    assert not looks_like_a_name("Ерлан")
