"""Deadlines as Road Maps word them, in Kazakh or Russian: a day, a month, a quarter, a year.

A month means its last day, a quarter its last day, a year 31 December; a wording without a
year takes the Road Map's year. The reading says how precise it was, so the importer can state
its guess and keep the original words with the item.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

MIN_YEAR, MAX_YEAR = 2000, 2099


class Precision(StrEnum):
    DAY = "day"
    MONTH = "month"
    QUARTER = "quarter"
    HALF = "half"  # «1-полугодие», «2-жартыжылдық»: 30 June or 31 December
    YEAR = "year"
    YEARLY = "yearly"  # «ежегодно», «жыл сайын»: the end of the Road Map's year
    PERIODIC = "periodic"  # «ежеквартально», «1 раз в полугодие»: reported through the year


@dataclass(frozen=True)
class Deadline:
    day: date
    precision: Precision
    year_assumed: bool  # the text named no year: the Road Map's year was taken


# Stems that survive the case endings: «сентября», «қыркүйекке», «желтоқсанға дейін».
_MONTHS: tuple[tuple[int, str], ...] = (
    (1, r"январ|қаңтар|каңтар|кантар|january|jan"),
    (2, r"феврал|ақпан|акпан|february|feb"),
    (3, r"март|наурыз|march|mar"),
    (4, r"апрел|сәуір|сәуір|сауір|april|apr"),
    (5, r"ма[йяе]|мамыр|may"),
    (6, r"июн|маусым|june|jun"),
    (7, r"июл|шілде|шiлде|july|jul"),
    (8, r"август|тамыз|august|aug"),
    (9, r"сентябр|қыркүйек|қыркуйек|кыркүйек|september|sep"),
    (10, r"октябр|қазан|казан|october|oct"),
    (11, r"ноябр|қараша|караша|november|nov"),
    (12, r"декабр|желтоқсан|желтоксан|december|dec"),
)
_MONTH_RE = "|".join(f"(?P<m{number}>{stems})" for number, stems in _MONTHS)
_ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4, "1": 1, "2": 2, "3": 3, "4": 4}
# Words that carry no meaning for the date: «г.», «ж.», «года», «жылғы», «до», «дейін», «к».
_NOISE = re.compile(
    r"\b(?:г|гг|год[а-я]*|ж|жж|жыл[а-яәғқңөұүһі]*|до|к|не позднее|дейін|дейiн|по|до конца|"
    r"срок|мерзімі|в|во|қа|ке|ға|ге|на)\b\.?"
)
_YEAR = re.compile(r"\b(20\d\d)\b")
_NUMERIC = re.compile(r"^(\d{1,2})[./-](\d{1,2})[./-](\d{2}|\d{4})$")
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ t]\d{1,2}:\d{2}(?::\d{2})?)?$")
_QUARTER = re.compile(
    r"\b(iv|iii|ii|i|[1-4])\s*-?\s*(?:ші|шы|інші|нші|ий|й|-?й)?\s*"
    r"(?:квартал[а-я]*|тоқсан[а-яәғқңөұүһі]*|токсан[а-я]*|quarter|q)\b"
)
_QUARTER_SHORT = re.compile(r"\bq([1-4])\b")
_HALF = re.compile(
    r"(?:\b(ii|i|[12])\s*-?\s*(?:е|ое|ші|шы|інші|нші|ий)?|\b(перв|втор|бірінші|екінші)\w*)\s*"
    r"(?:полугоди|жартыжылды|жарты жыл)"
)
_PERIODIC = re.compile(
    r"ежекварт|ежемесяч|еженедел|раз в (?:квартал|полугод|месяц|год)|раз в \d+ месяц|"
    r"тоқсан сайын|токсан сайын|ай сайын|апта сайын|жарты жылда|тоқсанына|айына|"
    r"жартыжылдықта бір"
)
_WHOLE_YEAR = frozenset({"течение", "в течение", "течении", "бойы", "бойына", "ішінде"})
_YEARLY = re.compile(r"ежегодн|жыл сайын|жыл бойы|в течение года|постоянно|тұрақты|annually")
_DAY_MONTH = re.compile(rf"\b(\d{{1,2}})\s*-?\s*(?:{_MONTH_RE})")
_MONTH_DAY = re.compile(rf"(?:{_MONTH_RE})[а-яәғқңөұүһі]*\s+(\d{{1,2}})\b")
_MONTH_ONLY = re.compile(rf"(?:^|\s)(?:{_MONTH_RE})")


def _month_of(match: re.Match[str]) -> int:
    for number, _stems in _MONTHS:
        if match.group(f"m{number}"):
            return number
    raise ValueError(match.group(0))  # unreachable: one of the alternatives matched


def _last_day(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _normalise(text: str) -> str:
    value = text.lower().replace("ё", "е").replace("\u00a0", " ")
    value = re.sub(r"[«»\"'()]", " ", value)
    return " ".join(value.split()).strip(" .,;")


def _safe_date(year: int, month: int, day: int) -> date | None:
    if not MIN_YEAR <= year <= MAX_YEAR:
        return None
    try:
        return date(year, month, day)
    except ValueError:
        return None


def read_deadline(text: str, roadmap_year: int | None) -> Deadline | None:
    """The deadline a text means, or None when it names no readable date.

    Without a year in the text, `roadmap_year` is taken; without that either, None.
    """
    value = _normalise(text)
    if not value or len(value) > 200:
        return None
    stripped = _NOISE.sub(" ", value)
    stripped = " ".join(stripped.split()).strip(" .,;")
    numeric = _NUMERIC.match(stripped)
    if numeric:
        day, month, year = (int(part) for part in numeric.groups())
        if year < 100:
            year += 2000
        found = _safe_date(year, month, day)
        return Deadline(found, Precision.DAY, False) if found else None
    iso = _ISO.match(stripped)
    if iso:
        year, month, day = (int(part) for part in iso.groups())
        found = _safe_date(year, month, day)
        return Deadline(found, Precision.DAY, False) if found else None
    for fmt in ("%d/%m/%Y",):
        try:
            parsed = datetime.strptime(stripped, fmt).date()  # noqa: DTZ007 - only the day is kept
        except ValueError:
            continue
        return Deadline(parsed, Precision.DAY, False) if parsed.year >= MIN_YEAR else None
    years = _YEAR.findall(value)
    if len(set(years)) > 1:
        return None  # «2025–2026»: a span, not a deadline
    named = int(years[0]) if years else roadmap_year
    assumed = not years
    if named is None or not MIN_YEAR <= named <= MAX_YEAR:
        return None
    return _in_year(stripped, value, named, assumed, bool(years))


def _in_year(
    stripped: str, value: str, year: int, assumed: bool, has_year: bool
) -> Deadline | None:
    """A month, a quarter, a day and month, or the year itself, within `year`."""
    rest = _YEAR.sub(" ", stripped)
    if _PERIODIC.search(value):
        return Deadline(date(year, 12, 31), Precision.PERIODIC, assumed)
    if _YEARLY.search(value):
        return Deadline(date(year, 12, 31), Precision.YEARLY, assumed)
    half = _HALF.search(rest)
    if half:
        first = (half.group(1) or "") in ("i", "1") or (half.group(2) or "") in ("перв", "бірінші")
        end = date(year, 6, 30) if first else date(year, 12, 31)
        return Deadline(end, Precision.HALF, assumed)
    quarter = _QUARTER.search(rest) or _QUARTER_SHORT.search(rest)
    if quarter:
        number = _ROMAN[quarter.group(1)]
        return Deadline(_last_day(year, number * 3), Precision.QUARTER, assumed)
    for pattern in (_DAY_MONTH, _MONTH_DAY):
        match = _last(pattern, rest)
        if match:
            day_text = match.group(1) if pattern is _DAY_MONTH else match.groups()[-1]
            found = _safe_date(year, _month_of(match), int(day_text))
            return Deadline(found, Precision.DAY, assumed) if found else None
    month_match = _last(
        _MONTH_ONLY, re.sub(r"[-–—]", " ", rest)
    )  # «ноябрь-декабрь»: the end of the last month
    if month_match:
        return Deadline(_last_day(year, _month_of(month_match)), Precision.MONTH, assumed)
    words = " ".join(rest.replace("-", " ").split())
    if has_year and (words in _WHOLE_YEAR or not re.search(r"[0-9a-zа-яәғқңөұүһі]", words)):
        return Deadline(date(year, 12, 31), Precision.YEAR, False)
    return None


def _last(pattern: re.Pattern[str], text: str) -> re.Match[str] | None:
    """The last match: a range of months or days ends where its last one ends."""
    matches = list(pattern.finditer(text))
    return matches[-1] if matches else None
