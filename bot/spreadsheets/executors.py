"""Executors as state action plans write them: who leads, who helps, and what the letters mean.

A cell may list several bodies, the lead first or marked «(ОИ)», co-executors «(С)»; a body's
full name may itself hold commas («Управление архитектуры, градостроительства и земельных
отношений»); abbreviations («УО», «ББ») are spelled out in a legend: a sheet of its own, or
lines under the table such as «УО – управление образования». Pure functions, no database.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

_LEAD_MARK = re.compile(r"\(\s*(?:ои|ответственный|жауапты)\s*\)", re.I)
_MARK = re.compile(r"\(\s*(?:ои|с|c|соисп\w*|бірлесіп\w*|ответственный|жауапты)\s*\)", re.I)
_GROUP = re.compile(r"(?:^|[;\n]|\s)(ои|с|c)\s*[:\-–]\s*", re.I)
# Words that start a new body in a list even when written in lower case.
_BODY_STARTS = (
    "акимат",
    "аким",
    "управлени",
    "департамент",
    "заинтересован",
    "мүдделі",
    "әкімдік",
    "әкімі",
    "басқарма",
    "министерств",
    "министрлі",
    "комитет",
    "комитеті",
    "палата",
    "ао ",
    "тоо ",
    "ау",
    "қала",
    "район",
    "аудан",
    "все ",
    "барлық",
)
# Words that make a name a body's name: «…басқармасы», «Управление …», «Акимат …».
_BODY_WORDS = (
    "управлени",
    "басқарма",
    "акимат",
    "әкімдіг",
    "әкімдік",
    "департамент",
    "министерств",
    "министрлі",
    "комитет",
    "аппарат",
    "отдел",
    "бөлім",
    "палата",
    "центр",
    "орталы",
    "коммунал",
    "район",
    "аудан",
    "орган",
    "учреждени",
    "мекеме",
)
_CODE = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,31}$")  # the bot's own department codes
_SHORT_BODY_WORDS = frozenset({"ао", "тоо", "гу", "кгу", "мм", "ммм", "кмм", "жшс", "ақ"})
# Collective executors: bodies that stand for several departments or for none in particular.
COLLECTIVE = re.compile(
    r"акимат\w* район|аким\w* район|аудан\w* әкімдік|аудандардың әкімдік|аудан әкімдері|"
    r"заинтересованн|мүдделі|все управлени|барлық басқарма|районн\w* акимат",
    re.I,
)
# A collective executor that means the district akimats, and a department that is one.
DISTRICTS_COLLECTIVE = re.compile(
    r"акимат\w* район|аким\w* район|аудан\w* әкім|аудандардың әкім|районн\w* акимат", re.I
)
_DISTRICT_AKIMAT = re.compile(r"(?:акимат|аким)\w*\s.*район|аудан\w*\s.*әкім", re.I)


def is_district_akimat(name_kk: str, name_ru: str) -> bool:
    return bool(_DISTRICT_AKIMAT.search(name_ru) or _DISTRICT_AKIMAT.search(name_kk))


_LEGEND_LINE = re.compile(
    r"^\s*\*?\s*([A-ZА-ЯЁӘҒҚҢӨҰҮҺІ][A-ZА-ЯЁӘҒҚҢӨҰҮҺІа-яёәғқңөұүһіa-z0-9/]{0,14})\s*"
    r"(?:[–—-]|:|=)\s*(\S.{2,300})$"
)
_ROMAN = {"i": 1, "v": 5, "x": 10, "l": 50}
_CYRILLIC_ROMAN = str.maketrans({"І": "I", "і": "i", "Х": "X", "х": "x"})


@dataclass(frozen=True)
class Executors:
    lead: str
    co_executors: tuple[str, ...]


def _capitals(text: str) -> int:
    return sum(1 for ch in text if ch.isupper())


def is_abbreviation(text: str) -> bool:
    """«УО», «УСиЖКХ», «ДСБ»: short, mostly capitals, one word."""
    word = text.strip()
    return 1 < len(word) <= 15 and " " not in word and _capitals(word) >= max(2, len(word) // 2)


def _starts_a_body(part: str) -> bool:
    text = part.strip()
    if not text:
        return False
    if text[0].isupper() or is_abbreviation(text.split()[0]):
        return True
    lowered = text.lower()
    return any(lowered.startswith(stem) for stem in _BODY_STARTS)


def _is_complete(name: str) -> bool:
    """A body's name that can stand alone: a code («edu»), an abbreviation, or a name with a
    body's word in it."""
    if is_abbreviation(name) or _CODE.match(name):
        return True
    words = name.lower().replace("«", " ").replace("»", " ").split()
    return any(word in _SHORT_BODY_WORDS for word in words) or any(
        word.startswith(_BODY_WORDS) for word in words
    )


def _unmarked(name: str) -> str:
    return " ".join(_MARK.sub(" ", name).split())


def split_names(text: str) -> list[str]:
    """A cell's bodies; a comma inside a long name («…архитектуры, градостроительства…» or
    «Сәулет, қала құрылысы … басқармасы») stays inside it."""
    names: list[str] = []
    for line in re.split(r"[;\n]", text):
        for part in line.split(","):
            clean = " ".join(part.split())
            if not clean:
                continue
            previous = _unmarked(names[-1]) if names else ""
            bare = _unmarked(clean)
            joins = (
                previous
                and not is_abbreviation(bare)
                and not _CODE.match(bare)
                and not is_abbreviation(previous)
                and not _CODE.match(previous)
                and (not _is_complete(previous) or not _starts_a_body(bare))
            )
            if joins:
                names[-1] = f"{previous}, {clean}"
            else:
                names.append(clean)
    return names


def read_executors(text: str, co_column: str = "") -> Executors | None:
    """The lead and the co-executors of a cell (and a co-executor column), marks honoured."""
    lead: str | None = None
    others: list[str] = []
    groups = list(_GROUP.finditer(text))
    if groups:  # «ОИ: УО; С: УЗ, УСиЖКХ»
        for index, group in enumerate(groups):
            end = groups[index + 1].start() if index + 1 < len(groups) else len(text)
            names = split_names(text[group.end() : end])
            if group.group(1).lower() == "ои" and names and lead is None:
                lead, names = names[0], names[1:]
            others += names
    else:
        for name in split_names(text):
            clean = " ".join(_MARK.sub(" ", name).split())
            if not clean:
                continue
            if _LEAD_MARK.search(name) and lead is None:
                lead = clean
            else:
                others.append(clean)
    if lead is None:
        if not others:
            return None
        lead, others = others[0], others[1:]
    others += [" ".join(_MARK.sub(" ", name).split()) for name in split_names(co_column)]
    unique = tuple(dict.fromkeys(name for name in others if name and name != lead))
    return Executors(lead, unique)


def legend_entry(text: str) -> tuple[str, str] | None:
    """«УО – управление образования» → («УО», «управление образования»)."""
    found = _LEGEND_LINE.match(" ".join(text.split()))
    if not found or not is_abbreviation(found.group(1)) or roman_number(found.group(1)):
        return None
    return found.group(1), found.group(2).strip(" .;")


def legend_from_lines(lines: Iterable[str]) -> dict[str, str]:
    legend: dict[str, str] = {}
    for line in lines:
        for piece in re.split(r";\s*", line):
            entry = legend_entry(piece)
            if entry is not None:
                legend.setdefault(*entry)
    return legend


def legend_from_rows(rows: Sequence[Sequence[object]]) -> dict[str, str]:
    """A legend sheet: an abbreviation and its meaning in the first two filled cells of a row."""
    legend: dict[str, str] = {}
    for row in rows:
        cells = [" ".join(str(v).split()) for v in row if v is not None and str(v).strip()]
        if len(cells) >= 2 and is_abbreviation(cells[0]):
            legend.setdefault(cells[0], cells[1])
        elif len(cells) == 1:
            entry = legend_entry(cells[0])
            if entry is not None:
                legend.setdefault(*entry)
    return legend


def is_legend_sheet(name: str) -> bool:
    lowered = name.lower()
    return any(
        stem in lowered for stem in ("сокращ", "аббрев", "қысқарт", "расшифр", "abbrev", "легенд")
    )


def roman_number(text: str) -> int | None:
    """«IV», «ІІ» (Cyrillic І) → 4, 2; None if it is not a roman numeral."""
    word = text.translate(_CYRILLIC_ROMAN).lower()
    if not word or any(ch not in _ROMAN for ch in word):
        return None
    total = 0
    for index, ch in enumerate(word):
        value = _ROMAN[ch]
        following = _ROMAN[word[index + 1]] if index + 1 < len(word) else 0
        total += -value if value < following else value
    return total if 0 < total < 90 else None
