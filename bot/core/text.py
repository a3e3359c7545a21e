"""Text for Telegram's HTML messages: escaping, length as Telegram counts it, and the one
message splitter. Plain functions: no aiogram, no database."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from html import escape, unescape

TELEGRAM_TEXT_LIMIT = 4096
TELEGRAM_CAPTION_LIMIT = 1024
ELLIPSIS = "…"

_TAG = re.compile(r"<[^>]+>")
# Bidi embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069): one unbalanced
# override in a title reverses the rest of every line it is shown in (an alert, a card, a
# summary, a DOCX line). C0 controls but tab and newline, and DEL: invisible, or worse.
_UNSAFE_CONTROLS = re.compile(r"[\u202a-\u202e\u2066-\u2069\x00-\x08\x0b-\x1f\x7f]")


def clean_input(text: str) -> str:
    """Text as a person or a file gave it, without the controls that would garble what others
    are shown: bidi overrides and isolates, and C0 controls other than tab and newline (a
    carriage return is dropped, so CRLF becomes LF). Letters, marks and emoji are kept."""
    return _UNSAFE_CONTROLS.sub("", text)


def quote(text: str | None) -> str:
    """Escape data (titles, names, comments) before it goes into an HTML message."""
    return escape(text or "", quote=False)


def visible_length(text: str) -> int:
    """Length as Telegram counts it after HTML parsing, in UTF-16 code units."""
    plain = unescape(_TAG.sub("", text))
    return len(plain.encode("utf-16-le")) // 2


def shorten(text: str, limit: int) -> str:
    """At most `limit` characters, cut at a word boundary and marked with «…»."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    boundary = cut.rfind(" ")
    if boundary > 0:
        cut = cut[:boundary]
    return cut.rstrip(" ,.;:—-«(") + ELLIPSIS


_CITY = re.compile(
    r"^\s*Шымкент\s+қаласының\s+|\s+(?:города|г\.)\s*Шымкент(?:а)?\s*$", re.IGNORECASE
)


def without_city(name: str) -> str:
    """A department's name without «Шымкент қаласының» / «города Шымкент»: every department
    is the city's, so the words only hide what tells them apart."""
    short = _CITY.sub("", name).strip()
    return short[:1].upper() + short[1:] if short else name.strip()


@dataclass(frozen=True)
class Block:
    """Lines that stay in one message, each balanced HTML on its own.

    `keys` travel with the block into the message that holds it (e.g. the items its buttons
    open); `continued` is put on top when the block starts a new message.
    """

    lines: tuple[str, ...]
    keys: tuple[int, ...] = ()
    continued: str | None = None


@dataclass
class Part:
    text: str
    keys: list[int]


def split_blocks(blocks: Iterable[Block], limit: int = TELEGRAM_TEXT_LIMIT) -> list[Part]:
    """Join blocks into messages within the limit, never cutting a block in two.

    Blank lines at the top of a new message are dropped. A block longer than the limit on its
    own is a programming error (ValueError): callers shorten their lines first.
    """
    parts: list[Part] = []
    lines: list[str] = []
    keys: list[int] = []
    size = 0

    def measure(candidate: Iterable[str]) -> tuple[int, int]:
        lengths = [visible_length(line) for line in candidate]
        return sum(lengths), len(lengths)

    for block in blocks:
        added, count = measure(block.lines)
        if lines and size + added + count > limit:
            parts.append(Part("\n".join(lines), keys))
            lines, keys, size = [], [], 0
        if not lines:
            body = list(block.lines)
            while body and not body[0].strip():
                body.pop(0)
            if block.continued and body:
                body.insert(0, block.continued)
            if not body:
                keys.extend(block.keys)
                continue
            length, count = measure(body)
            size = length + count - 1
            if size > limit:
                raise ValueError("a single block is longer than a Telegram message")
            lines = body
        else:
            lines.extend(block.lines)
            size += added + count
        keys.extend(block.keys)
    if lines:
        parts.append(Part("\n".join(lines), keys))
    return parts


def split_message(lines: Iterable[str], limit: int = TELEGRAM_TEXT_LIMIT) -> list[str]:
    """Join lines into messages within Telegram's limit, breaking only between lines."""
    return [part.text for part in split_blocks((Block((line,)) for line in lines), limit)]


def _shared_words(first: list[str], second: list[str]) -> int:
    """How many leading words two titles share (case aside)."""
    count = 0
    for one, other in zip(first, second, strict=False):
        if one.casefold() != other.casefold():
            break
        count += 1
    return count


def short_titles(titles: Sequence[str], limit: int) -> list[str]:
    """Labels of at most `limit` characters for titles shown side by side (item buttons).

    A title that fits, or whose cut differs from every other one's, is cut at a word
    boundary. Titles whose cuts would read alike («Внедрение системы…» twice) keep their first
    word and then skip to the words where they part, so the buttons can be told apart:
    «Внедрение … видеонаблюдения в школах», «Внедрение … электронного журнала».
    """
    cuts = [shorten(title, limit) for title in titles]
    words = [title.split() for title in titles]
    labels = []
    for index, cut in enumerate(cuts):
        alike = [
            other for other, other_cut in enumerate(cuts) if other != index and other_cut == cut
        ]
        if not alike or len(" ".join(words[index])) <= limit:
            labels.append(cut)
            continue
        shared = max(_shared_words(words[index], words[other]) for other in alike)
        rest = " ".join(words[index][shared:])
        if shared == 0 or not rest:
            labels.append(cut)
            continue
        first = words[index][0]
        with_first = f"{first} {ELLIPSIS} {rest}"
        labels.append(
            shorten(with_first, limit)
            if len(first) + 8 <= limit // 2
            else shorten(ELLIPSIS + rest, limit)
        )
    return labels
