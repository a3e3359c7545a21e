"""What a header cell names, in the office's own Kazakh or Russian words (or English).

Headers are matched by normalised words, not exact strings: lower case, no punctuation, and
word stems that survive the endings («мерзімі», «исполнителя»). A title header may name its
language: «(на русском языке)», «(мемлекеттік тілде)», «каз.».
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from enum import StrEnum


class Kind(StrEnum):
    """What a header names, before the language of a title column is decided."""

    CODE = "code"
    TITLE = "title"
    DEPARTMENT = "department"
    DEADLINE = "deadline"
    TARGET = "target"
    CO_EXECUTORS = "co_executors"
    COMPLETION_FORM = "completion_form"
    COSTS = "costs"
    FUNDING = "funding"
    DEADLINE_REASON = "deadline_reason"  # why the secretariat moved the deadline
    # Only by the bot's own export header, never guessed from an office's words.
    DEADLINE_TEXT = "deadline_text"


# Word stems of headers in both languages (and English), matched at the start of each word.
# Checked in this order: «Срок исполнения» is a deadline, «Код управления» a department.
_STEMS: tuple[tuple[Kind, tuple[str, ...]], ...] = (
    (Kind.DEADLINE, ("срок", "мерзім", "мерзiм", "дата", "deadline", "due", "date")),
    (
        Kind.DEPARTMENT,
        (
            "управлен",
            "басқарм",
            "исполнител",
            "жауапты",
            "ответствен",
            "орган",
            "орындаушы",
            "department",
            "dept",
            "responsible",
            "executor",
        ),
    ),
    (
        Kind.TARGET,
        (
            "результат",
            "нәтиже",
            "показател",
            "көрсеткіш",
            "цель",
            "целев",
            "мақсат",
            "форма",
            "нысан",
            "завершен",
            "аяқта",
            "target",
            "indicator",
            "result",
        ),
    ),
    (
        Kind.TITLE,
        (
            "наименован",
            "назван",
            "атау",
            "шара",
            "мероприят",
            "мазмұн",
            "содержан",
            "title",
            "name",
        ),
    ),
    (
        Kind.CODE,
        ("№", "no", "nr", "код", "коды", "code", "номер", "нөмір", "тармақ", "пункт", "item", "п"),
    ),
)
# Headers of columns the Road Map keeps elsewhere or not at all, whatever other stems they hold:
# «Статус мероприятия» is not a title, «Код бюджетной программы» not an item code.
_IGNORED = (
    "статус",
    "мәртебе",
    "бюджет",
    "примечан",
    "ескерт",
    "в том числе",
    "соның ішінде",
    "оның ішінде",
    "сумма",
    "сомасы",
)
# The action plan's own columns, kept on the item: checked before the title and the target.
_PLAN_COLUMNS: tuple[tuple[Kind, tuple[str, ...]], ...] = (
    (Kind.COMPLETION_FORM, ("форма заверш", "аяқтау нысан", "completion form")),
    (Kind.COSTS, ("расход", "шығыс", "шығын", "затрат", "costs")),
    (Kind.FUNDING, ("источник", "қаржыланд", "финансир", "funding")),
    # «Причина переноса срока», «Мерзімді ауыстыру себебі»: kept with the deadline's move.
    (Kind.DEADLINE_REASON, ("причин", "себеб", "reason")),
)
_CO_EXECUTOR_STEMS = ("соисполнит", "бірлесіп", "бірге орында", "co executor", "coexecutor")
_KK_MARKERS = ("каз", "қаз", "kazakh", "мемлекеттік", "мемлекеттiк", "государствен", "kk")
_RU_MARKERS = ("рус", "орыс", "russian", "ru")


def normalize_header(text: object) -> str:
    """Lower case, no punctuation, single spaces: «Наименование (каз.)» → «наименование каз»."""
    value = str(text or "").lower().replace("ё", "е").replace("_", " ")
    value = re.sub(r"[^\w\s№]", " ", value)
    return " ".join(value.split())


def header_language(words: Sequence[str]) -> str | None:
    """«(на русском языке)», «(мемлекеттік тілде)», «каз.»: the language a header names."""
    for word in words:
        if word in ("kk", "ru"):
            return word
        if any(word.startswith(marker) for marker in _KK_MARKERS if len(marker) > 2):
            return "kk"
        if any(word.startswith(marker) for marker in _RU_MARKERS if len(marker) > 2):
            return "ru"
    return None


def classify_header(text: object) -> tuple[Kind, str | None] | None:
    """What a header cell names, and the language it names for a title; None if nothing."""
    normalized = normalize_header(text)
    words = normalized.replace("№", " № ").split()
    if not words or len(normalized) > 200:
        return None
    if any(normalized.startswith(stem) for stem in _CO_EXECUTOR_STEMS):
        return Kind.CO_EXECUTORS, None
    for kind, stems in _PLAN_COLUMNS:
        if any(stem in normalized for stem in stems):
            return kind, None
    if any(stem in normalized for stem in _IGNORED):
        return None
    for kind, stems in _STEMS:
        for word in words:
            if kind == Kind.CODE:
                if word in stems or word in ("р", "с", "пп", "n"):
                    return kind, None
            elif any(word.startswith(stem) for stem in stems):
                return kind, header_language(words) if kind == Kind.TITLE else None
    return None
