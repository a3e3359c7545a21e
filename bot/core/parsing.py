"""Parsing of command arguments typed by people: pure functions, no Telegram, no database."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated

from pydantic import Field

from bot.core.weekly import parse_weekly as parse_weekly  # /schedule's argument, parsed here too

DEPARTMENT_CODE = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,31}$")
ITEM_CODE = re.compile(r"^[0-9A-Za-z](?:[0-9A-Za-z._-]{0,30}[0-9A-Za-z])?$")
RESERVED_DEPARTMENT_CODES = frozenset({"chair", "secretariat"})
MAX_NAME_LENGTH = 300
MAX_TITLE_LENGTH = 1000
_DATE_FORMATS = ("%Y-%m-%d", "%d.%m.%Y")
# Telegram promises that user and chat ids fit in 52 bits.
TELEGRAM_ID_MAX = 2**52 - 1
# Primary keys are INTEGER columns: PostgreSQL's 32-bit range is the narrower of the backends.
DB_ID_MAX = 2**31 - 1
# The programme runs 2023–2027; a date far outside is a typo, not a plan.
EARLIEST_DATE = date(2000, 1, 1)
LATEST_DATE = date(2100, 12, 31)
_ASCII_DIGITS = re.compile(r"^[0-9]+$")

# A database id inside callback data: anything else is a forged button and matches no filter.
DbId = Annotated[int, Field(ge=1, le=DB_ID_MAX)]
# A small non-negative number inside callback data (a page, a percentage).
SmallInt = Annotated[int, Field(ge=0, le=DB_ID_MAX)]
# A roadmap year inside callback data: the years a date may have (a forged 0 matches nothing).
Year = Annotated[int, Field(ge=EARLIEST_DATE.year, le=LATEST_DATE.year)]


def parse_int(text: str | None, low: int, high: int) -> int | None:
    """ASCII digits only (`isdigit()` accepts `²`, which `int()` refuses), within low..high."""
    word = (text or "").strip()
    if not _ASCII_DIGITS.fullmatch(word) or len(word) > len(str(high)):
        return None
    value = int(word)
    return value if low <= value <= high else None


def parse_year(args: str | None, default: int) -> int | None:
    """An optional four-digit year (`default` when there is none); None for anything else."""
    text = (args or "").strip()
    if not text:
        return default
    return parse_int(text, 2000, 2100)


def fits_db_id(value: int) -> bool:
    return 1 <= value <= DB_ID_MAX


def parse_date(text: str) -> date | None:
    """`2025-09-01` or `01.09.2025` between EARLIEST_DATE and LATEST_DATE; None for anything
    else, including impossible dates and digits other than ASCII ones."""
    text = text.strip()
    if not text.isascii():
        return None
    for fmt in _DATE_FORMATS:
        try:
            parsed = datetime.strptime(text, fmt).date()  # noqa: DTZ007 - only the day is kept
        except ValueError:
            continue
        return parsed if EARLIEST_DATE <= parsed <= LATEST_DATE else None
    return None


def is_department_code(text: str) -> bool:
    return bool(DEPARTMENT_CODE.fullmatch(text)) and text.lower() not in RESERVED_DEPARTMENT_CODES


def is_item_code(text: str) -> bool:
    return bool(ITEM_CODE.fullmatch(text))


def split_bilingual(text: str, limit: int) -> tuple[str, str] | None:
    """`Kazakh text | Russian text`: both parts required, each within `limit` characters."""
    if text.count("|") != 1:
        return None
    kk, ru = (part.strip() for part in text.split("|"))
    if not kk or not ru or len(kk) > limit or len(ru) > limit:
        return None
    return kk, ru


@dataclass(frozen=True)
class NewDepartment:
    code: str
    name_kk: str
    name_ru: str


@dataclass(frozen=True)
class NewItem:
    code: str
    department_code: str
    deadline: date
    title_kk: str
    title_ru: str


def parse_new_department(args: str | None) -> NewDepartment | None:
    """`<code> <name_kk> | <name_ru>`."""
    parts = (args or "").strip().split(maxsplit=1)
    if len(parts) != 2 or not is_department_code(parts[0]):
        return None
    names = split_bilingual(parts[1], MAX_NAME_LENGTH)
    if names is None:
        return None
    return NewDepartment(parts[0].lower(), *names)


def parse_new_item(args: str | None) -> NewItem | None:
    """`<code> <dept_code> <deadline> <title_kk> | <title_ru>`."""
    parts = (args or "").strip().split(maxsplit=3)
    if len(parts) != 4:
        return None
    code, department_code, deadline_text, titles_text = parts
    deadline = parse_date(deadline_text)
    titles = split_bilingual(titles_text, MAX_TITLE_LENGTH)
    if not is_item_code(code) or not is_department_code(department_code):
        return None
    if deadline is None or titles is None:
        return None
    return NewItem(code, department_code.lower(), deadline, *titles)


def parse_two_words(args: str | None) -> tuple[str, str] | None:
    parts = (args or "").split()
    return (parts[0], parts[1]) if len(parts) == 2 else None


MAX_PERSON_NAME = 200  # person.full_name, person.position


@dataclass(frozen=True)
class NameAndPosition:
    """Who a person is, as the secretariat writes it: «Бақытжан Сейітов, басшының орынбасары»."""

    full_name: str
    position: str | None = None


def looks_like_a_name(text: str) -> bool:
    """Whether a message sent after "your full name and position?" can be that answer: a
    name part (before the comma) of two to five words, at least two of them capitalised, no
    digits, and no question mark anywhere. Anything else is what the person wanted to say
    (an item's code, a question to the secretariat) and must go on."""
    words = text.partition(",")[0].split()
    capitalised = sum(1 for word in words if word[:1].isupper())
    return (
        "?" not in text
        and not any(c.isdigit() for word in words for c in word)
        and 2 <= len(words) <= 5
        and capitalised >= 2
    )


def parse_name_and_position(text: str | None) -> NameAndPosition | None:
    """`Name Surname[, position]`: split at the first comma, spaces collapsed; None when the
    name is empty or either part is longer than MAX_PERSON_NAME."""
    name, _comma, position = " ".join((text or "").split()).partition(",")
    name, position = name.strip(), position.strip()
    if not name or len(name) > MAX_PERSON_NAME or len(position) > MAX_PERSON_NAME:
        return None
    return NameAndPosition(name, position or None)


@dataclass(frozen=True)
class InviteRequest:
    """`/invite <department code | chair | secretariat> [Name Surname[, position]]`."""

    target: str
    person: NameAndPosition | None = None


def parse_invite(args: str | None) -> InviteRequest | None:
    """The invitation's target and, when given, whom it is for; None when malformed."""
    parts = (args or "").split(maxsplit=1)
    if not parts:
        return None
    if len(parts) == 1:
        return InviteRequest(parts[0])
    person = parse_name_and_position(parts[1])
    return None if person is None else InviteRequest(parts[0], person)


@dataclass(frozen=True)
class DeadlineRequest:
    """`/deadline <item code> <date> [reason]`."""

    item_code: str
    deadline: date
    reason: str | None = None


MAX_DEADLINE_REASON = 500


def parse_deadline(args: str | None) -> DeadlineRequest | None:
    """The item, its new deadline and the secretariat's optional reason (free text)."""
    parts = (args or "").split(maxsplit=2)
    if len(parts) < 2:
        return None
    deadline = parse_date(parts[1])
    reason = " ".join(parts[2].split()) if len(parts) == 3 else ""
    if deadline is None or len(reason) > MAX_DEADLINE_REASON:
        return None
    return DeadlineRequest(parts[0], deadline, reason or None)


def parse_one_word(args: str | None) -> str | None:
    parts = (args or "").split()
    return parts[0] if len(parts) == 1 else None


def parse_user_id(args: str | None) -> int | None:
    """One Telegram user id: a positive whole number below 2**52."""
    word = parse_one_word(args)
    return None if word is None else parse_int(word, 1, TELEGRAM_ID_MAX)


@dataclass(frozen=True)
class AwayRequest:
    """`/away <date back> [deputy]` or `/away off`: `back` is None for "off"."""

    back: date | None
    deputy: str | None  # a Telegram ID or @username, resolved by the service


def parse_away(args: str | None) -> AwayRequest | None:
    parts = (args or "").split()
    if len(parts) == 1 and parts[0].lower() == "off":
        return AwayRequest(back=None, deputy=None)
    if not 1 <= len(parts) <= 2:
        return None
    back = parse_date(parts[0])
    if back is None:
        return None
    return AwayRequest(back=back, deputy=parts[1] if len(parts) == 2 else None)


@dataclass(frozen=True)
class Dismissal:
    """`/dismiss CODE REASON explanation`, as typed: the reason is checked by the use case."""

    item_code: str
    reason: str
    text: str


def parse_dismissal(args: str | None) -> Dismissal | None:
    parts = (args or "").split(maxsplit=2)
    if len(parts) != 3:
        return None
    return Dismissal(parts[0], parts[1], parts[2].strip())


# An item code as people write it in a sentence: numbers joined by dots («5.1.4»), not part
# of a longer number or a date («06.12.2026» has a four-digit part).
_CODE_IN_TEXT = re.compile(r"(?<![\w.])(\d{1,3}(?:\.\d{1,3}){1,4})(?![\w]|\.\d)")


def item_codes_in(text: str | None) -> list[str]:
    """The item codes a typed message names, each once, in the order written."""
    found: list[str] = []
    for code in _CODE_IN_TEXT.findall(text or ""):
        if code not in found:
            found.append(code)
    return found


MAX_SHORT_TITLE_LENGTH = 40


@dataclass(frozen=True)
class ShortTitle:
    """`/short <code> <kk> | <ru>`, one text for both, or «-» to go back to the rule's."""

    code: str
    kk: str | None
    ru: str | None


def parse_short_title(args: str | None) -> ShortTitle | None:
    parts = (args or "").strip().split(maxsplit=1)
    if len(parts) != 2 or not is_item_code(parts[0]):
        return None
    code, text = parts
    if text.strip() == "-":
        return ShortTitle(code, None, None)
    if "|" in text:
        titles = split_bilingual(text, MAX_SHORT_TITLE_LENGTH)
        return ShortTitle(code, *titles) if titles is not None else None
    text = " ".join(text.split())
    return ShortTitle(code, text, text) if len(text) <= MAX_SHORT_TITLE_LENGTH else None
