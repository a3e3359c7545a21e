"""Telegram Bot API emulator: the end-to-end tests' Telegram, and the sandbox's.

An aiohttp server run inside the test (or sandbox) process. The real bot talks to it over
HTTP through ``TelegramAPIServer.from_base(emu.base_url)``, exactly as it talks to
api.telegram.org, so the whole stack (aiogram serialisation, multipart uploads, long polling,
retries) is exercised.

The emulator keeps the state a Bot API server keeps (chats, messages, updates, files, commands)
and rejects what Telegram rejects, with Telegram's error bodies: the point is that a test fails
on the mistakes production would fail on (bad HTML, oversized texts or callback data, editing
to identical content, answering stale callbacks...). Every request is validated against the
machine-readable spec in ``bot/sandbox/data/api.json`` (package data).

Only private chats are modelled: a simulated user's chat id equals the user id.
"""

from __future__ import annotations

import asyncio
import copy
import functools
import inspect
import json
import math
import mimetypes
import re
import secrets
import struct
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

DEFAULT_SPEC_PATH = Path(__file__).resolve().parent / "data" / "api.json"
DEFAULT_BOT_ID = 7000000001

MAX_TEXT_LENGTH = 4096  # UTF-16 code units after entity parsing
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64
MAX_INLINE_BUTTONS = 100
MAX_CALLBACK_ANSWER_LENGTH = 200
MAX_DOWNLOAD_SIZE = 20 * 1024 * 1024  # getFile refuses bigger files
MAX_UPLOAD_SIZE = 50 * 1024 * 1024  # multipart uploads by bots

NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the "
    "same as a current content and reply markup of the message"
)
QUERY_TOO_OLD = "query is too old and response timeout expired or query ID is invalid"
BLOCKED = "Forbidden: bot was blocked by the user"
POLL_CONFLICT = (
    "Conflict: terminated by other getUpdates request; make sure that only one bot instance is "
    "running"
)
BAD_GATEWAY_HTML = (
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx/1.18.0</center>\r\n"
    "</body>\r\n</html>\r\n"
)

# Spec methods that are harmless to acknowledge without modelling them. Anything else that is
# not emulated fails loudly, so a test never passes because a call was silently swallowed.
ACKNOWLEDGED_METHODS = frozenset(
    [
        "setMyDescription",
        "setMyShortDescription",
        "setMyName",
        "setChatMenuButton",
        "setMyDefaultAdministratorRights",
    ]
)
CHAT_ACTIONS = frozenset(
    [
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    ]
)
# Update types Telegram leaves out when allowed_updates is empty or was never given.
OPT_IN_UPDATE_TYPES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
SCALAR_TYPES = frozenset({"String", "Integer", "Float", "Boolean", "True", "InputFile"})
INLINE_BUTTON_ACTIONS = [
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
]
COMMAND_RE = re.compile(r"^[a-z0-9_]{1,32}$")
LANGUAGE_RE = re.compile(r"^[a-z]{2}$")
BUTTON_URL_RE = re.compile(r"^(https?|tg)://\S+$", re.IGNORECASE)


class ApiError(Exception):
    """A refused call; ``body()`` is exactly what Telegram would answer."""

    def __init__(self, status: int, description: str, parameters: dict[str, Any] | None = None):
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.status,
            "description": self.description,
        }
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def _bad(message: str) -> ApiError:
    return ApiError(400, f"Bad Request: {message}")


def _cant_parse(message: str) -> ApiError:
    return _bad(f"can't parse entities: {message}")


# --------------------------------------------------------------------------------------------
# Text formatting: Telegram counts lengths and entity offsets in UTF-16 code units, after
# the markup has been parsed and surrounding whitespace trimmed.
# --------------------------------------------------------------------------------------------


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


@dataclass
class FormattedText:
    """Plain text as the user sees it, with Bot API entity dicts."""

    text: str
    entities: list[dict[str, Any]]


class _TextBuilder:
    def __init__(self) -> None:
        self.parts: list[str] = []
        self.len16 = 0
        self.entities: list[dict[str, Any]] = []

    def add(self, chunk: str) -> None:
        self.parts.append(chunk)
        self.len16 += utf16_len(chunk)

    def entity(self, kind: str, start: int, **extra: Any) -> None:
        if self.len16 > start:
            self.entities.append(
                {"type": kind, "offset": start, "length": self.len16 - start, **extra}
            )

    def result(self) -> FormattedText:
        entities = sorted(self.entities, key=lambda e: (e["offset"], -e["length"]))
        return _strip(FormattedText("".join(self.parts), entities))


_BLANKS = " \t\r\n\x0b\x0c"


def _strip(formatted: FormattedText) -> FormattedText:
    """Trim surrounding whitespace like Telegram does, keeping entities aligned."""
    text = formatted.text
    stripped = text.strip(_BLANKS)
    if stripped == text:
        return formatted
    lead = utf16_len(text[: len(text) - len(text.lstrip(_BLANKS))])
    size = utf16_len(stripped)
    entities = []
    for e in formatted.entities:
        start = max(e["offset"] - lead, 0)
        end = min(e["offset"] + e["length"] - lead, size)
        if end > start:
            entities.append({**e, "offset": start, "length": end - start})
    return FormattedText(stripped, entities)


def _byte_offset(source: str, pos: int) -> int:
    return len(source[:pos].encode("utf-8"))


HTML_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
    "tg-time": "date_time",
}
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


def _decode_entity(source: str, pos: int) -> tuple[str, int] | None:
    """Decode the HTML entity at ``source[pos] == '&'``; None means the '&' is literal."""
    n = len(source)
    j = pos + 1
    if j < n and source[j] == "#":
        j += 1
        is_hex = j < n and source[j] in "xX"
        j += is_hex
        digits = "0123456789abcdefABCDEF" if is_hex else "0123456789"
        k = j
        while k < n and source[k] in digits and k - j < 8:
            k += 1
        if k == j:
            return None
        code = int(source[j:k], 16 if is_hex else 10)
        if code == 0 or code >= 0x10FFFF or 0xD800 <= code <= 0xDFFF:
            return None
        char = chr(code)
    else:
        k = j
        while k < n and source[k].isascii() and source[k].isalpha():
            k += 1
        found = _NAMED_ENTITIES.get(source[j:k])
        if found is None:
            return None
        char = found
    if k < n and source[k] == ";":
        k += 1
    return char, k


def _decode_entities(value: str) -> str:
    out, i = [], 0
    while i < len(value):
        decoded = _decode_entity(value, i) if value[i] == "&" else None
        if decoded is None:
            out.append(value[i])
            i += 1
        else:
            out.append(decoded[0])
            i = decoded[1]
    return "".join(out)


def _parse_html_attributes(source: str, pos: int, tag: str, begin: int) -> tuple[dict, int]:  # noqa: C901 - one branch per office habit or format case
    """Parse attributes after the tag name; returns them and the index after '>'."""
    attrs: dict[str, str] = {}
    n = len(source)
    unclosed = _cant_parse(f"Unclosed start tag at byte offset {_byte_offset(source, begin)}")
    while True:
        while pos < n and source[pos].isspace():
            pos += 1
        if pos >= n:
            raise unclosed
        if source[pos] == ">":
            return attrs, pos + 1
        end = pos
        while end < n and not source[end].isspace() and source[end] not in "=>":
            end += 1
        name = source[pos:end].lower()
        if not name:
            offset = _byte_offset(source, pos)
            raise _cant_parse(f'Empty attribute name in the tag "{tag}" at byte offset {offset}')
        while end < n and source[end].isspace():
            end += 1
        if end >= n:
            raise unclosed
        if source[end] != "=":  # valueless attribute, e.g. <blockquote expandable>
            attrs[name] = ""
            pos = end
            continue
        end += 1
        while end < n and source[end].isspace():
            end += 1
        if end >= n:
            raise unclosed
        if source[end] in "\"'":
            close = source.find(source[end], end + 1)
            if close == -1:
                raise unclosed
            attrs[name] = _decode_entities(source[end + 1 : close])
            pos = close + 1
        else:
            close = end
            while close < n and not source[close].isspace() and source[close] != ">":
                close += 1
            attrs[name] = _decode_entities(source[end:close])
            pos = close


def _close_html_tag(builder: _TextBuilder, stack: list, tag: str, start: int, attrs: dict) -> None:
    kind = HTML_TAGS[tag]
    if kind == "text_link":
        if attrs.get("href"):
            builder.entity("text_link", start, url=attrs["href"])
    elif kind == "code" and stack and stack[-1][0] == "pre":
        css = attrs.get("class", "")
        if css.startswith("language-"):  # <pre><code class="language-x"> is one pre entity
            stack[-1][2]["\0language"] = css.removeprefix("language-")
        else:
            builder.entity("code", start)
    elif kind == "pre":
        language = attrs.get("\0language")
        builder.entity("pre", start, **({"language": language} if language else {}))
    elif kind == "blockquote":
        builder.entity("expandable_blockquote" if "expandable" in attrs else "blockquote", start)
    elif kind == "custom_emoji":
        if attrs.get("emoji-id"):
            builder.entity("custom_emoji", start, custom_emoji_id=attrs["emoji-id"])
    elif kind == "date_time":
        if attrs.get("unix", "").isdigit():
            extra = {"date_time_format": attrs["format"]} if attrs.get("format") else {}
            builder.entity("date_time", start, unix_time=int(attrs["unix"]), **extra)
    else:
        builder.entity(kind, start)


def parse_html(source: str) -> FormattedText:  # noqa: C901 - one branch per office habit or format case
    """Parse Telegram's HTML subset, raising the errors Telegram raises."""
    builder = _TextBuilder()
    stack: list[tuple[str, int, dict[str, str]]] = []
    n, i = len(source), 0
    while i < n:
        char = source[i]
        if char == "&":
            decoded = _decode_entity(source, i)
            builder.add("&" if decoded is None else decoded[0])
            i = i + 1 if decoded is None else decoded[1]
            continue
        if char != "<":
            j = i
            while j < n and source[j] not in "<&":
                j += 1
            builder.add(source[i:j])
            i = j
            continue
        begin = i
        offset = _byte_offset(source, begin)
        if i + 1 < n and source[i + 1] == "/":
            end = source.find(">", i + 2)
            if end == -1:
                raise _cant_parse(f"Unclosed end tag at byte offset {offset}")
            name = source[i + 2 : end].strip().lower()
            if not stack:
                raise _cant_parse(f"Unexpected end tag at byte offset {offset}")
            open_tag, start, attrs = stack.pop()
            if name and name != open_tag:
                raise _cant_parse(
                    f'Unmatched end tag at byte offset {offset}, expected "</{open_tag}>", '
                    f'found "</{name}>"'
                )
            _close_html_tag(builder, stack, open_tag, start, attrs)
            i = end + 1
            continue
        j = i + 1
        while j < n and not source[j].isspace() and source[j] != ">":
            j += 1
        if j >= n:
            raise _cant_parse(f"Unclosed start tag at byte offset {offset}")
        tag = source[i + 1 : j].lower()
        if tag not in HTML_TAGS:
            raise _cant_parse(f'Unsupported start tag "{tag}" at byte offset {offset}')
        attrs, i = _parse_html_attributes(source, j, tag, begin)
        if tag == "span" and attrs.get("class") != "tg-spoiler":
            raise _cant_parse(f'Tag "span" must have class "tg-spoiler" at byte offset {offset}')
        stack.append((tag, builder.len16, attrs))
    if stack:
        raise _cant_parse(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    return builder.result()


_MD2_RESERVED = frozenset("_*[]()~`>#+-=|{}.!")
_MD2_MARKERS = {
    "*": ("bold", "Bold"),
    "_": ("italic", "Italic"),
    "__": ("underline", "Underline"),
    "~": ("strikethrough", "Strikethrough"),
    "||": ("spoiler", "Spoiler"),
    "[": ("text_link", "TextUrl"),
    "![": ("custom_emoji", "CustomEmoji"),
}


def _md_code(source: str, pos: int, fence: str, name: str, allow_escapes: bool) -> tuple[str, int]:
    """Read code/pre content after an opening fence; returns (content, index after fence)."""
    out, i, n = [], pos, len(source)
    while i < n:
        if allow_escapes and source[i] == "\\" and i + 1 < n:
            out.append(source[i + 1])
            i += 2
        elif source.startswith(fence, i):
            return "".join(out), i + len(fence)
        else:
            out.append(source[i])
            i += 1
    offset = _byte_offset(source, pos - len(fence))
    raise _cant_parse(f"Can't find end of {name} entity at byte offset {offset}")


def parse_markdown_v2(source: str) -> FormattedText:  # noqa: C901 - one branch per office habit or format case
    """MarkdownV2: the common failure is an unescaped reserved character, so flag it exactly."""
    builder = _TextBuilder()
    stack: list[tuple[str, int, int]] = []  # marker, start (UTF-16), byte offset
    quote: tuple[int, bool] | None = None  # start, expandable
    n, i = len(source), 0
    while i < n:
        char = source[i]
        line_start = i == 0 or source[i - 1] == "\n"
        if char == "\\" and i + 1 < n and 0 < ord(source[i + 1]) <= 126:
            builder.add(source[i + 1])
            i += 2
        elif line_start and (char == ">" or source.startswith("**>", i)):
            if quote is None:
                quote = (builder.len16, char == "*")
            i += 1 if char == ">" else 3
        elif char == "\n":
            if quote is not None and not source.startswith((">", "**>"), i + 1):
                builder.entity("expandable_blockquote" if quote[1] else "blockquote", quote[0])
                quote = None
            builder.add(char)
            i += 1
        elif char not in _MD2_RESERVED:
            builder.add(char)
            i += 1
        elif source.startswith("```", i):
            newline = source.find("\n", i + 3)
            lang = source[i + 3 : newline].strip() if newline != -1 else " "
            has_header = not any(c.isspace() or c == "`" for c in lang)  # "```lang\n" or "```\n"
            text, i = _md_code(source, newline + 1 if has_header else i + 3, "```", "Pre", True)
            start = builder.len16
            builder.add(text)
            builder.entity("pre", start, **({"language": lang} if has_header and lang else {}))
        elif char == "`":
            text, i = _md_code(source, i + 1, "`", "Code", True)
            start = builder.len16
            builder.add(text)
            builder.entity("code", start)
        elif char == "]" and stack and stack[-1][0] in ("[", "!["):
            marker, start, _ = stack.pop()
            i += 1
            if i < n and source[i] == "(":
                url, i = _md_code(source, i + 1, ")", "a URL", True)
                if marker == "![":
                    emoji_id = url.partition("id=")[2]
                    builder.entity("custom_emoji", start, custom_emoji_id=emoji_id)
                else:
                    builder.entity("text_link", start, url=url)
        elif (
            quote is not None
            and quote[1]
            and source.startswith("||", i)
            and (i + 2 >= n or source[i + 2] == "\n")
        ):
            i += 2  # end marker of an expandable block quotation
        else:
            marker = next((m for m in ("![", "__", "||", char) if source.startswith(m, i)), char)
            if marker not in _MD2_MARKERS:
                raise _cant_parse(
                    f"Character '{char}' is reserved and must be escaped with the preceding '\\'"
                )
            if stack and stack[-1][0] == marker and marker not in ("[", "!["):
                _, start, _ = stack.pop()
                builder.entity(_MD2_MARKERS[marker][0], start)
            else:
                stack.append((marker, builder.len16, _byte_offset(source, i)))
            i += len(marker)
    if stack:
        marker, _, offset = stack[-1]
        name = _MD2_MARKERS[marker][1]
        raise _cant_parse(f"Can't find end of {name} entity at byte offset {offset}")
    if quote is not None:
        builder.entity("expandable_blockquote" if quote[1] else "blockquote", quote[0])
    return builder.result()


def parse_markdown(source: str) -> FormattedText:
    """Legacy Markdown: no nesting; an unterminated marker is an error."""
    builder = _TextBuilder()
    kinds = {"*": "bold", "_": "italic", "`": "code"}
    n, i = len(source), 0
    while i < n:
        char = source[i]
        if char == "\\" and i + 1 < n and source[i + 1] in "_*`[":
            builder.add(source[i + 1])
            i += 2
            continue
        if char not in "_*`[":
            builder.add(char)
            i += 1
            continue
        offset = _byte_offset(source, i)
        error = _cant_parse(f"Can't find end of the entity starting at byte offset {offset}")
        start = builder.len16
        if source.startswith("```", i):
            end = source.find("```", i + 3)
            if end == -1:
                raise error
            builder.add(source[i + 3 : end])
            builder.entity("pre", start)
            i = end + 3
        elif char == "[":
            close = source.find("](", i + 1)
            end = source.find(")", close + 2) if close != -1 else -1
            if end == -1:
                raise error
            builder.add(source[i + 1 : close])
            builder.entity("text_link", start, url=source[close + 2 : end])
            i = end + 1
        else:
            end = source.find(char, i + 1)
            if end == -1:
                raise error
            builder.add(source[i + 1 : end])
            builder.entity(kinds[char], start)
            i = end + 1
    return builder.result()


def format_text(source: str, parse_mode: str | None, entities: Any = None) -> FormattedText:
    """What Telegram stores for a text/caption with the given parse_mode or entities."""
    if isinstance(entities, list):
        return _strip(FormattedText(source, copy.deepcopy(entities)))
    mode = (parse_mode or "").lower()
    if not mode:
        return _strip(FormattedText(source, []))
    parsers = {"html": parse_html, "markdownv2": parse_markdown_v2, "markdown": parse_markdown}
    if mode not in parsers:
        raise _bad("unsupported parse_mode")
    return parsers[mode](source)


# --------------------------------------------------------------------------------------------
# Keyboards
# --------------------------------------------------------------------------------------------


def _inline_keyboard(markup: dict[str, Any] | None) -> list[list[dict[str, Any]]]:
    if isinstance(markup, dict) and isinstance(markup.get("inline_keyboard"), list):
        return markup["inline_keyboard"]
    return []


def check_reply_markup(markup: Any, *, inline_only: bool = False) -> dict[str, Any] | None:  # noqa: C901 - one branch per office habit or format case
    """Validate reply_markup like Telegram; returns it unchanged when acceptable."""
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise _bad("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise _bad(
                'can\'t parse inline keyboard button: Field "inline_keyboard" of the '
                "InlineKeyboardMarkup should be an Array of Arrays"
            )
        if sum(len(row) for row in rows) > MAX_INLINE_BUTTONS:
            raise _bad("too many buttons")
        for row in rows:
            for button in row:
                _check_inline_button(button)
        return markup
    if inline_only:
        raise _bad("inline keyboard expected")
    if "keyboard" in markup:
        rows = markup["keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise _bad(
                'can\'t parse reply keyboard markup: Field "keyboard" of the '
                "ReplyKeyboardMarkup should be an Array of Arrays"
            )
        for row in rows:
            for button in row:
                text = button.get("text") if isinstance(button, dict) else button
                if not isinstance(text, str) or not text:
                    raise _bad('can\'t parse keyboard button: Field "text" must be of type String')
        return markup
    if "remove_keyboard" in markup or "force_reply" in markup:
        return markup
    raise _bad("can't parse reply keyboard markup JSON object")


def _check_inline_button(button: Any) -> None:
    if not isinstance(button, dict) or not isinstance(button.get("text"), str):
        raise _bad('can\'t parse inline keyboard button: Field "text" must be of type String')
    if not any(key in button for key in INLINE_BUTTON_ACTIONS):
        raise _bad(
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
        )
    if "callback_data" in button:
        data = button["callback_data"]
        if not isinstance(data, str) or not 1 <= len(data.encode()) <= MAX_CALLBACK_DATA_BYTES:
            raise _bad("BUTTON_DATA_INVALID")
    if "url" in button and not BUTTON_URL_RE.match(str(button["url"])):
        raise _bad("BUTTON_URL_INVALID")


# --------------------------------------------------------------------------------------------
# Records handed to tests
# --------------------------------------------------------------------------------------------


@dataclass
class Message:
    """A message in a private chat (the bot's or the user's), as the emulator stores it."""

    message_id: int
    chat_id: int
    from_bot: bool
    text: str | None = None  # plain text after entity parsing; None for media
    caption: str | None = None
    parse_mode: str | None = None
    reply_markup: dict[str, Any] | None = None
    document: dict[str, Any] | None = None
    photo: list[dict[str, Any]] | None = None  # PhotoSize list, like Telegram
    date: int = 0
    edits: int = 0
    entities: list[dict[str, Any]] = field(default_factory=list)  # text or caption entities
    source: str | None = None  # text/caption exactly as the bot sent it (e.g. the HTML)
    sticker: dict[str, Any] | None = None
    voice: dict[str, Any] | None = None
    video_note: dict[str, Any] | None = None
    reply_to_message_id: int | None = None
    edit_date: int | None = None
    deleted: bool = False

    @property
    def kind(self) -> str:
        for name in ("document", "photo", "sticker", "voice", "video_note"):
            if getattr(self, name) is not None:
                return name
        return "text"

    @property
    def buttons(self) -> list[list[tuple[str, str | None]]]:
        """Rows of (text, callback_data or url); reply-keyboard buttons give (text, None)."""
        if not isinstance(self.reply_markup, dict):
            return []
        if "inline_keyboard" in self.reply_markup:
            return [
                [(b["text"], b.get("callback_data", b.get("url"))) for b in row]
                for row in self.reply_markup["inline_keyboard"]
            ]
        return [
            [(b["text"] if isinstance(b, dict) else b, None) for b in row]
            for row in self.reply_markup.get("keyboard", [])
        ]

    def button(self, text_substring: str) -> str:
        """callback_data (or url) of the one button whose text contains the substring."""
        found = [
            (text, data)
            for row in self.buttons
            for text, data in row
            if text_substring in text and data is not None
        ]
        exact = [item for item in found if item[0] == text_substring]
        if len(exact) == 1 or len(found) == 1:
            return (exact or found)[0][1]
        raise AssertionError(
            f"message {self.message_id}: {len(found)} inline buttons match {text_substring!r}; "
            f"buttons: {self.buttons}"
        )

    def summary(self) -> str:
        who = "bot" if self.from_bot else "user"
        body = self.text if self.text is not None else f"[{self.kind}] {self.caption or ''}"
        body = body if len(body) <= 200 else body[:200] + "..."
        extra = f" buttons={self.buttons}" if self.buttons else ""
        extra += f" edits={self.edits}" if self.edits else ""
        extra += " DELETED" if self.deleted else ""
        return f"#{self.message_id} {who}: {body!r}{extra}"


@dataclass
class UploadedFile:
    """A multipart file part received from the bot."""

    filename: str
    content_type: str
    data: bytes = field(repr=False)


@dataclass
class RecordedRequest:
    """One Bot API call as received and answered (status 0: connection dropped)."""

    method: str
    params: dict[str, Any]
    status: int = 0
    response: Any = None
    http_method: str = "POST"
    injected: bool = False  # answered by FaultPlan, not by the emulated method
    at: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status == 200

    @property
    def description(self) -> str | None:
        return self.response.get("description") if isinstance(self.response, dict) else None

    def summary(self) -> str:
        params = {k: v for k, v in self.params.items() if k not in ("reply_markup",)}
        text = json.dumps(params, ensure_ascii=False, default=repr)
        text = text if len(text) <= 300 else text[:300] + "..."
        tag = " (injected)" if self.injected else ""
        return f"{self.method} -> {self.status}{tag} {self.description or ''} params={text}"


@dataclass
class EmulatorStats:
    """Counters for reliability tests (rate limits, retries, fault handling)."""

    sent_per_chat: Counter[int] = field(default_factory=Counter)  # accepted new messages
    edits_per_chat: Counter[int] = field(default_factory=Counter)
    requests_per_method: Counter[str] = field(default_factory=Counter)
    rejected_per_method: Counter[str] = field(default_factory=Counter)
    injected: Counter[str] = field(default_factory=Counter)  # by fault kind
    too_many_requests: int = 0  # every 429 answered (injected or rate limited)
    rate_limited: int = 0  # 429s from the token buckets
    updates_enqueued: int = 0
    updates_filtered: int = 0  # dropped because of allowed_updates


@dataclass
class FileRecord:
    file_id: str
    file_unique_id: str
    kind: str  # document, photo, sticker, voice, video_note
    data: bytes = field(repr=False)
    size: int
    file_path: str
    file_name: str | None = None
    mime_type: str | None = None
    width: int = 0
    height: int = 0


@dataclass
class _User:
    id: int
    first_name: str = "User"
    username: str | None = None
    language_code: str | None = "ru"
    blocked: bool = False

    def api(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.username:
            data["username"] = self.username
        if self.language_code:
            data["language_code"] = self.language_code
        return data

    def chat(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "type": "private", "first_name": self.first_name}
        if self.username:
            data["username"] = self.username
        return data


@dataclass
class _CallbackQuery:
    user_id: int
    message_id: int
    data: str
    answered: bool = False


# --------------------------------------------------------------------------------------------
# Fault injection and rate limits
# --------------------------------------------------------------------------------------------

FAULT_KINDS = frozenset({"429", "500", "502", "drop"})


@dataclass
class _FaultRule:
    remaining: int
    kind: str
    method: str | None
    retry_after: int


@dataclass
class _TokenBucket:
    rate: float
    tokens: float
    stamp: float

    @property
    def capacity(self) -> float:
        return max(1.0, self.rate)

    def wait_time(self, now: float) -> float:
        """Seconds until a token is available (0: available now); refills as a side effect."""
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate


class FaultPlan:
    """Scripted failures and Telegram-like rate limits, applied before any side effect."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.stats = EmulatorStats()
        self._rules: list[_FaultRule] = []
        self._global: _TokenBucket | None = None
        self._per_chat_rate: float | None = None
        self._chat_buckets: dict[int, _TokenBucket] = {}

    def fail_next(
        self, n: int, kind: str, *, method: str | None = None, retry_after: int = 1
    ) -> None:
        """Fail the next n matching calls (getUpdates only when named explicitly)."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {sorted(FAULT_KINDS)}")
        if n > 0:
            self._rules.append(_FaultRule(n, kind, method, retry_after))

    def set_rate_limits(
        self, global_per_second: float | None = None, per_chat_per_second: float | None = None
    ) -> None:
        now = self.clock()
        self._global = (
            _TokenBucket(global_per_second, max(1.0, global_per_second), now)
            if global_per_second
            else None
        )
        self._per_chat_rate = per_chat_per_second or None
        self._chat_buckets.clear()

    def clear(self) -> None:
        self._rules.clear()
        self.set_rate_limits(None, None)

    @property
    def pending(self) -> int:
        return sum(rule.remaining for rule in self._rules)

    def take(self, method: str) -> _FaultRule | None:
        for rule in self._rules:
            if rule.method is None and method == "getUpdates":
                continue
            if rule.method is not None and rule.method.lower() != method.lower():
                continue
            rule.remaining -= 1
            if rule.remaining <= 0:
                self._rules.remove(rule)
            return rule
        return None

    def admit(self, chat_id: int) -> None:
        """Consume a send token for chat_id or raise Telegram's 429."""
        now = self.clock()
        buckets = [self._global] if self._global else []
        if self._per_chat_rate:
            bucket = self._chat_buckets.setdefault(
                chat_id, _TokenBucket(self._per_chat_rate, max(1.0, self._per_chat_rate), now)
            )
            buckets.append(bucket)
        wait = max((b.wait_time(now) for b in buckets), default=0.0)
        if wait > 0:
            self.stats.rate_limited += 1
            raise too_many_requests(max(1, math.ceil(wait)))
        for bucket in buckets:
            bucket.tokens -= 1


def too_many_requests(retry_after: int) -> ApiError:
    return ApiError(
        429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after}
    )


class _Signal:
    """Wakes waiters on any state change; lets sync code notify without holding a lock."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    async def wait_for(self, predicate: Callable[[], bool], timeout: float) -> bool:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not predicate():
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            try:
                await asyncio.wait_for(self._event.wait(), remaining)
            except TimeoutError:
                return predicate()
        return True


@functools.lru_cache(maxsize=4)
def load_spec(path: Path) -> dict[str, dict[str, Any]]:
    """Spec methods keyed by lower-case name (Telegram matches method names case-insensitively)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    return {name.lower(): method for name, method in data["methods"].items()}


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()


def _image_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) for images Telegram would accept as photos, else None."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return int(width), int(height)
    if data.startswith((b"\xff\xd8\xff", b"GIF8", b"BM")) or (
        data.startswith(b"RIFF") and data[8:12] == b"WEBP"
    ):
        return 1280, 960
    return None


# --------------------------------------------------------------------------------------------
# The emulator
# --------------------------------------------------------------------------------------------


class BotApiEmulator:
    """In-process Telegram Bot API server with simulated users; see the module docstring."""

    def __init__(
        self,
        token: str,
        *,
        bot_id: int | None = None,
        bot_username: str = "roadmap_test_bot",
        bot_first_name: str = "Roadmap Test Bot",
        spec_path: Path | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        """clock drives rate limits; wall_clock gives message dates (e.g. a frozen test clock)."""
        prefix = token.partition(":")[0]
        if bot_id is None:  # a real token starts with the bot id, and aiogram's bot.id reads it
            bot_id = int(prefix) if prefix.isdigit() else DEFAULT_BOT_ID
        self.token = token
        self.bot_id = bot_id
        self.bot_username = bot_username
        self.bot_first_name = bot_first_name
        self.wall_clock = wall_clock
        self._spec = load_spec(Path(spec_path or DEFAULT_SPEC_PATH).resolve())
        self.faults = FaultPlan(clock=clock)
        self.stats = self.faults.stats
        self.base_url = ""
        self.requests: list[RecordedRequest] = []
        self.errors: list[RecordedRequest] = []
        self.callback_answers: dict[str, dict[str, Any]] = {}
        self.commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.chat_actions: list[tuple[int, str]] = []
        self.webhook: dict[str, Any] | None = None
        self.filtered_updates: list[dict[str, Any]] = []
        self._users: dict[int, _User] = {}
        self._chats: dict[int, dict[int, Message]] = {}
        self._last_message_id: dict[int, int] = {}
        self._sent: dict[int, list[Message]] = {}
        self._edited: dict[int, list[Message]] = {}
        self._cursors: dict[tuple[str, int], int] = {}
        self._updates: list[dict[str, Any]] = []
        self._next_update_id = 100_000_001
        self._allowed_updates: frozenset[str] | None = None
        self._poll_generation = 0
        self._polls = 0
        self._waiting_polls = 0
        # When the first getUpdates arrived (a long poll is recorded only once it answers).
        self.first_poll_at: float | None = None
        self._callbacks: dict[str, _CallbackQuery] = {}
        self._files: dict[str, FileRecord] = {}
        self._files_by_path: dict[str, FileRecord] = {}
        self._signal = _Signal()
        self._closing = False
        self._inflight = 0
        self._activity = 0
        self._runner: web.AppRunner | None = None
        self._handlers: dict[str, Callable[[dict[str, Any]], Any]] = {
            "getMe": self._get_me,
            "getUpdates": self._get_updates,
            "deleteWebhook": self._delete_webhook,
            "setWebhook": self._set_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "sendMessage": self._send_message,
            "editMessageText": self._edit_message_text,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "editMessageCaption": self._edit_message_caption,
            "deleteMessage": self._delete_message,
            "answerCallbackQuery": self._answer_callback_query,
            "sendDocument": self._send_document,
            "sendPhoto": self._send_photo,
            "sendVoice": self._send_voice,
            "sendVideoNote": self._send_video_note,
            "getFile": self._get_file,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "sendChatAction": self._send_chat_action,
        }

    # ---- lifecycle --------------------------------------------------------------------------

    async def start(self) -> None:
        """Serve on 127.0.0.1 on a free port; base_url is set afterwards."""
        self._closing = False
        app = web.Application(client_max_size=MAX_UPLOAD_SIZE + 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        # handler_cancellation: a client that hangs up (dispatcher stopping) ends its long poll.
        self._runner = web.AppRunner(
            app, access_log=None, handler_cancellation=True, shutdown_timeout=1.0
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.base_url = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        """Release pending long polls (they answer []) and shut the server down."""
        self._closing = True
        self._signal.notify()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> BotApiEmulator:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ---- simulated users --------------------------------------------------------------------

    def add_chat(
        self,
        user_id: int,
        *,
        first_name: str = UNSET,
        language_code: str | None = UNSET,
        username: str | None = UNSET,
    ) -> None:
        """Register a user who has started the bot, without sending an update."""
        self._user(user_id, first_name=first_name, language_code=language_code, username=username)

    def send_text(
        self,
        user_id: int,
        text: str,
        *,
        first_name: str = UNSET,
        language_code: str | None = UNSET,
        username: str | None = UNSET,
        reply_to: int | None = None,
    ) -> Message:
        """The user sends text; '/cmd args' gets a bot_command entity like real clients add;
        `reply_to` makes it a Telegram reply to that message of the chat."""
        entities = []
        if text.startswith("/") and len(text) > 1:
            command = text.split(maxsplit=1)[0]
            entities.append({"type": "bot_command", "offset": 0, "length": utf16_len(command)})
        user = self._user(
            user_id, first_name=first_name, language_code=language_code, username=username
        )
        return self._user_message(user, text=text, entities=entities, reply_to_message_id=reply_to)

    def send_document(
        self,
        user_id: int,
        content: bytes,
        file_name: str,
        mime_type: str = "application/octet-stream",
        *,
        caption: str | None = None,
        file_size: int | None = None,
        **user_kw: Any,
    ) -> Message:
        """The user sends a file; file_size fakes a huge file without holding its bytes."""
        user = self._user(user_id, **user_kw)
        record = self._register_file(
            "document", content, file_name=file_name, mime_type=mime_type, size=file_size
        )
        return self._user_message(user, caption=caption, document=self._document_api(record))

    def send_photo(
        self, user_id: int, content: bytes, *, caption: str | None = None, **user_kw: Any
    ) -> Message:
        user = self._user(user_id, **user_kw)
        record = self._register_file("photo", content)
        return self._user_message(user, caption=caption, photo=[self._photo_size_api(record)])

    def send_sticker(self, user_id: int, *, emoji: str = "👍", **user_kw: Any) -> Message:
        user = self._user(user_id, **user_kw)
        record = self._register_file("sticker", b"RIFF\x00\x00\x00\x00WEBPVP8 ")
        sticker = {
            "file_id": record.file_id,
            "file_unique_id": record.file_unique_id,
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
            "file_size": record.size,
        }
        return self._user_message(user, sticker=sticker)

    def send_voice(
        self, user_id: int, *, duration: int = 2, content: bytes = b"OggS\x00", **user_kw: Any
    ) -> Message:
        user = self._user(user_id, **user_kw)
        record = self._register_file("voice", content, mime_type="audio/ogg")
        voice = {
            "file_id": record.file_id,
            "file_unique_id": record.file_unique_id,
            "duration": duration,
            "mime_type": "audio/ogg",
            "file_size": record.size,
        }
        return self._user_message(user, voice=voice)

    def send_video_note(
        self,
        user_id: int,
        *,
        duration: int = 2,
        content: bytes = b"\x00\x00\x00\x18ftypmp42",
        **user_kw: Any,
    ) -> Message:
        """The user sends a round video message (a video note: no caption, 240 px square)."""
        user = self._user(user_id, **user_kw)
        record = self._register_file("video_note", content)
        video_note = {
            "file_id": record.file_id,
            "file_unique_id": record.file_unique_id,
            "length": 240,
            "duration": duration,
            "file_size": record.size,
        }
        return self._user_message(user, video_note=video_note)

    def edit_text(self, user_id: int, message_id: int, text: str) -> Message:
        """The user edits a message they sent (Telegram's *Edit*): an `edited_message` update
        with the new text (or caption, for a file) and an edit_date."""
        message = self._chats.get(user_id, {}).get(message_id)
        if message is None or message.from_bot or message.deleted:
            raise AssertionError(f"chat {user_id} has no user message {message_id} to edit")
        if message.text is not None:
            message.text = text
        else:
            message.caption = text
        message.entities = []
        message.edits += 1
        message.edit_date = self._now()
        self._enqueue("edited_message", self._render(message))
        return copy.deepcopy(message)

    def press_button(
        self, user_id: int, message_id: int, callback_data: str, **user_kw: Any
    ) -> str:
        """Press an inline button that is really on the message now; returns the query id."""
        message = self._chats.get(user_id, {}).get(message_id)
        if message is None or message.deleted or not message.from_bot:
            raise AssertionError(
                f"chat {user_id} has no bot message {message_id} to press a button on\n"
                + self.describe(user_id)
            )
        present = [
            button.get("callback_data")
            for row in _inline_keyboard(message.reply_markup)
            for button in row
        ]
        if callback_data not in present:
            raise AssertionError(
                f"message {message_id} in chat {user_id} has no inline button with "
                f"callback_data={callback_data!r}; buttons now: {message.buttons}"
            )
        return self.send_callback(user_id, message_id, callback_data, **user_kw)

    def send_callback(
        self, user_id: int, message_id: int, callback_data: str, **user_kw: Any
    ) -> str:
        """Enqueue a callback_query without checking the button exists (stale/forged)."""
        user = self._user(user_id, **user_kw)
        query_id = str(secrets.randbelow(10**18) + 10**18)
        self._callbacks[query_id] = _CallbackQuery(user_id, message_id, callback_data)
        message = self._chats.get(user_id, {}).get(message_id)
        if message is None or message.deleted:
            rendered = {"chat": user.chat(), "message_id": message_id, "date": 0}
        else:
            rendered = self._render(message)
        self._enqueue(
            "callback_query",
            {
                "id": query_id,
                "from": user.api(),
                "message": rendered,
                "chat_instance": str(-(user_id * 7919 % 10**12)),
                "data": callback_data,
            },
        )
        return query_id

    def block_bot(self, user_id: int) -> None:
        """From now on sends to the user fail with 403; the bot gets my_chat_member."""
        self._set_blocked(user_id, True)

    def unblock_bot(self, user_id: int) -> None:
        self._set_blocked(user_id, False)

    # ---- observing the bot ------------------------------------------------------------------

    async def next_message(self, chat_id: int, *, timeout: float = 5.0) -> Message:
        """Next message the bot sent to chat_id not yet returned here (snapshot at send time)."""
        return await self._next("sent", chat_id, timeout)

    async def next_edit(self, chat_id: int, *, timeout: float = 5.0) -> Message:
        """Next edit the bot made in chat_id (snapshot of the message right after the edit)."""
        return await self._next("edited", chat_id, timeout)

    @property
    def polling(self) -> bool:
        """True while a getUpdates long poll is being held open."""
        return self._waiting_polls > 0

    async def wait_polling(self, *, timeout: float = 5.0) -> None:
        """Wait until the bot holds a long poll open (it is up and waiting for updates)."""
        if not await self._signal.wait_for(lambda: self._waiting_polls > 0, timeout):
            raise TimeoutError(f"no getUpdates long poll within {timeout}s\n" + self.describe(None))

    async def wait_callback_answer(
        self, callback_query_id: str, *, timeout: float = 5.0
    ) -> dict[str, Any]:
        """Parameters of answerCallbackQuery for that query, once the bot has answered."""
        if not await self._signal.wait_for(
            lambda: callback_query_id in self.callback_answers, timeout
        ):
            raise TimeoutError(
                f"callback query {callback_query_id} not answered within {timeout}s\n"
                + self.describe(None)
            )
        return self.callback_answers[callback_query_id]

    async def wait_idle(self, *, timeout: float = 5.0, settle: float = 0.05) -> None:
        """Wait until every enqueued update is confirmed and no bot request is in flight.

        Confirmation (offset past the update) happens when the bot asks for the next batch,
        which can precede its handler's reply; ``settle`` additionally requires that long
        without any request activity, so "nothing was sent" assertions are meaningful.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            remaining = deadline - loop.time()
            idle = await self._signal.wait_for(
                lambda: not self._updates and self._inflight == 0, max(remaining, 0)
            )
            if not idle:
                raise TimeoutError(
                    f"bot not idle after {timeout}s: {len(self._updates)} unconfirmed updates, "
                    f"{self._inflight} requests in flight\n" + self.describe(None)
                )
            if settle <= 0:
                return
            if not await self._signal.wait_for(self._activity_since(self._activity), settle):
                return

    def _activity_since(self, mark: int) -> Callable[[], bool]:
        return lambda: self._activity != mark

    def messages(self, chat_id: int) -> list[Message]:
        """Current state of the bot's (not deleted) messages in the chat, in order."""
        return [
            copy.deepcopy(m)
            for m in self._chats.get(chat_id, {}).values()
            if m.from_bot and not m.deleted
        ]

    def chat_log(self, chat_id: int) -> list[Message]:
        """Every message in the chat, user's and bot's, deleted ones flagged."""
        return [copy.deepcopy(m) for m in self._chats.get(chat_id, {}).values()]

    def file_bytes(self, file_id: str) -> bytes:
        record = self._files.get(file_id)
        if record is None:
            raise KeyError(f"unknown file_id {file_id!r}")
        return record.data

    @property
    def pending_updates(self) -> int:
        return len(self._updates)

    def queued_updates(self) -> list[dict[str, Any]]:
        """The unconfirmed updates, exactly as getUpdates would return them."""
        return copy.deepcopy(self._updates)

    def describe(self, chat_id: int | None, limit: int = 10) -> str:
        """A dump for failure messages: recent chat messages and rejected requests."""
        lines = []
        if chat_id is not None:
            log = list(self._chats.get(chat_id, {}).values())
            lines.append(f"chat {chat_id}: last {min(limit, len(log))} of {len(log)} messages")
            lines += [f"  {m.summary()}" for m in log[-limit:]]
        lines.append(f"recent rejected requests ({len(self.errors)} total):")
        lines += [f"  {r.summary()}" for r in self.errors[-limit:]] or ["  none"]
        lines.append(
            f"getUpdates calls so far: {self._polls}; unconfirmed updates: {len(self._updates)}; "
            f"filtered by allowed_updates: {self.stats.updates_filtered}"
        )
        if self._polls == 0:
            lines.append("  (the bot never called getUpdates - is it polling this emulator?)")
        return "\n".join(lines)

    # ---- internals: users, messages, updates ------------------------------------------------

    def _user(
        self,
        user_id: int,
        *,
        first_name: str = UNSET,
        language_code: str | None = UNSET,
        username: str | None = UNSET,
    ) -> _User:
        user = self._users.get(user_id)
        if user is None:
            user = self._users[user_id] = _User(user_id)
            self._chats[user_id] = {}
        if first_name is not UNSET:
            user.first_name = first_name
        if language_code is not UNSET:
            user.language_code = language_code
        if username is not UNSET:
            user.username = username
        return user

    def _set_blocked(self, user_id: int, blocked: bool) -> None:
        user = self._user(user_id)
        if user.blocked == blocked:
            return
        user.blocked = blocked
        statuses = ({"status": "member"}, {"status": "kicked", "until_date": 0})
        old, new = statuses if blocked else statuses[::-1]
        bot = self._bot_api()
        self._enqueue(
            "my_chat_member",
            {
                "chat": user.chat(),
                "from": user.api(),
                "date": self._now(),
                "old_chat_member": {**old, "user": bot},
                "new_chat_member": {**new, "user": bot},
            },
        )

    def _now(self) -> int:
        return int(self.wall_clock())

    def _new_message_id(self, chat_id: int) -> int:
        self._last_message_id[chat_id] = self._last_message_id.get(chat_id, 0) + 1
        return self._last_message_id[chat_id]

    def _user_message(self, user: _User, **content: Any) -> Message:
        message = Message(
            message_id=self._new_message_id(user.id),
            chat_id=user.id,
            from_bot=False,
            date=self._now(),
            **content,
        )
        self._chats[user.id][message.message_id] = message
        self._enqueue("message", self._render(message))
        return copy.deepcopy(message)

    def _enqueue(self, kind: str, payload: dict[str, Any]) -> None:
        self._updates.append({"update_id": self._next_update_id, kind: payload})
        self._next_update_id += 1
        self.stats.updates_enqueued += 1
        self._activity += 1
        self._signal.notify()

    def _bot_api(self) -> dict[str, Any]:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
        }

    def _render(self, message: Message, *, nested: bool = False) -> dict[str, Any]:
        """The Bot API Message object for a stored message."""
        user = self._users[message.chat_id]
        data: dict[str, Any] = {
            "message_id": message.message_id,
            "from": self._bot_api() if message.from_bot else user.api(),
            "chat": user.chat(),
            "date": message.date,
        }
        if message.edit_date:
            data["edit_date"] = message.edit_date
        if message.text is not None:
            data["text"] = message.text
            if message.entities:
                data["entities"] = copy.deepcopy(message.entities)
        for kind in ("document", "photo", "sticker", "voice", "video_note"):
            if getattr(message, kind) is not None:
                data[kind] = copy.deepcopy(getattr(message, kind))
        if message.caption is not None:
            data["caption"] = message.caption
            if message.entities:
                data["caption_entities"] = copy.deepcopy(message.entities)
        if _inline_keyboard(message.reply_markup):  # Telegram only echoes inline keyboards
            data["reply_markup"] = {"inline_keyboard": _inline_keyboard(message.reply_markup)}
        replied = self._chats[message.chat_id].get(message.reply_to_message_id or 0)
        if replied is not None and not nested:
            data["reply_to_message"] = self._render(replied, nested=True)
        return data

    async def _next(self, stream: str, chat_id: int, timeout: float) -> Message:
        log = self._sent if stream == "sent" else self._edited
        key = (stream, chat_id)

        def available() -> bool:
            return len(log.get(chat_id, [])) > self._cursors.get(key, 0)

        if not await self._signal.wait_for(available, timeout):
            what = "message" if stream == "sent" else "edit"
            raise TimeoutError(
                f"no new {what} from the bot in chat {chat_id} within {timeout}s\n"
                + self.describe(chat_id)
            )
        index = self._cursors.get(key, 0)
        self._cursors[key] = index + 1
        return copy.deepcopy(log[chat_id][index])

    # ---- internals: HTTP --------------------------------------------------------------------

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["method"]
        record = RecordedRequest(name, {}, http_method=request.method, at=self.faults.clock())
        if request.match_info["token"] != self.token:
            return self._finish(record, ApiError(401, "Unauthorized"))
        spec = self._spec.get(name.lower())
        if spec is None:
            return self._finish(record, ApiError(404, "Not Found"))
        record.method = spec["name"]
        polling = record.method == "getUpdates"
        if not polling:
            self._inflight += 1
            self._activity += 1
        try:
            return await self._dispatch(request, record, spec)
        finally:
            if not polling:
                self._inflight -= 1
                self._activity += 1
                self._signal.notify()

    async def _dispatch(
        self, request: web.Request, record: RecordedRequest, spec: dict[str, Any]
    ) -> web.StreamResponse:
        try:
            record.params = await self._read_params(request, spec)
        except ApiError as error:
            return self._finish(record, error)
        rule = self.faults.take(record.method)
        if rule is not None:
            return await self._inject(request, record, rule)
        try:
            self._check_required(spec, record.params)
            handler = self._handlers.get(record.method)
            if handler is None:
                if record.method not in ACKNOWLEDGED_METHODS:
                    raise _bad(f"method not emulated: {record.method}")
                result: Any = True
            else:
                result = handler(record.params)
                if inspect.isawaitable(result):
                    result = await result
        except ApiError as error:
            return self._finish(record, error)
        return self._finish(record, result=result)

    def _finish(
        self, record: RecordedRequest, error: ApiError | None = None, result: Any = None
    ) -> web.Response:
        body = error.body() if error else {"ok": True, "result": result}
        record.status = error.status if error else 200
        record.response = body
        self._record(record)
        if error and error.status == 429:
            self.stats.too_many_requests += 1
        return web.json_response(body, status=record.status, dumps=_dumps)

    def _record(self, record: RecordedRequest) -> None:
        self.requests.append(record)
        self.stats.requests_per_method[record.method] += 1
        if record.status != 200:
            self.errors.append(record)
            self.stats.rejected_per_method[record.method] += 1

    async def _inject(
        self, request: web.Request, record: RecordedRequest, rule: _FaultRule
    ) -> web.StreamResponse:
        record.injected = True
        self.stats.injected[rule.kind] += 1
        if rule.kind == "429":
            return self._finish(record, too_many_requests(rule.retry_after))
        if rule.kind == "500":
            return self._finish(record, ApiError(500, "Internal Server Error"))
        if rule.kind == "502":
            record.status, record.response = 502, BAD_GATEWAY_HTML
            self._record(record)
            return web.Response(status=502, text=BAD_GATEWAY_HTML, content_type="text/html")
        self._record(record)  # "drop": hang up without answering
        if request.transport is not None:
            request.transport.abort()
        # aiohttp cancels this handler once it sees the hang-up (handler_cancellation=True);
        # waiting for that avoids it logging a failed write as a server error.
        await asyncio.sleep(60)
        raise ConnectionResetError("connection dropped by FaultPlan")

    async def _read_params(self, request: web.Request, spec: dict[str, Any]) -> dict[str, Any]:
        raw: dict[str, Any] = dict(request.query)
        if request.can_read_body:
            if request.content_type == "application/json":
                try:
                    body = await request.json()
                except ValueError:
                    raise _bad("can't parse JSON encoded request") from None
                if not isinstance(body, dict):
                    raise _bad("can't parse JSON encoded request")
                raw.update(body)
            elif request.content_type in (
                "application/x-www-form-urlencoded",
                "multipart/form-data",
            ):
                try:
                    form = await request.post()
                except web.HTTPRequestEntityTooLarge:
                    raise ApiError(413, "Request Entity Too Large") from None
                for key, value in form.items():
                    if isinstance(value, web.FileField):
                        raw[key] = UploadedFile(
                            value.filename, value.content_type, value.file.read()
                        )
                    else:
                        raw[key] = value
        return self._decode_params(raw, spec)

    @staticmethod
    def _decode_params(raw: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
        """Type the raw values by the spec: ints, booleans, JSON objects, attach:// files."""
        types_by_name = {f["name"]: f["types"] for f in spec.get("fields", [])}
        params: dict[str, Any] = {}
        for key, value in raw.items():
            types = types_by_name.get(key)
            if types is None:
                if not isinstance(value, UploadedFile):  # attach:// parts are resolved below
                    params[key] = value
                continue
            if isinstance(value, str) and value.startswith("attach://"):
                value = raw.get(value.removeprefix("attach://"), value)
            params[key] = _coerce(key, value, types)
        return params

    @staticmethod
    def _check_required(spec: dict[str, Any], params: dict[str, Any]) -> None:
        for f in spec.get("fields", []):
            if f["required"] and params.get(f["name"]) in (None, ""):
                if spec["name"] == "sendMessage" and f["name"] == "text":
                    raise _bad("message text is empty")
                raise _bad(f'parameter "{f["name"]}" is required')

    async def _handle_file(self, request: web.Request) -> web.Response:
        record = self._files_by_path.get(request.match_info["path"])
        if request.match_info["token"] != self.token or record is None:
            return web.json_response(ApiError(404, "Not Found").body(), status=404)
        return web.Response(body=record.data, content_type="application/octet-stream")

    # ---- internals: shared checks -----------------------------------------------------------

    def _chat_user(self, params: dict[str, Any], *, sending: bool = True) -> _User:
        chat_id = params.get("chat_id")
        user = self._users.get(chat_id) if isinstance(chat_id, int) else None
        if user is None:
            raise _bad("chat not found")
        if sending and user.blocked:
            raise ApiError(403, BLOCKED)
        return user

    def _target_message(self, params: dict[str, Any], action: str) -> Message:
        if params.get("inline_message_id"):
            raise _bad("inline messages are not emulated")
        if params.get("chat_id") is None or params.get("message_id") is None:
            raise _bad("message identifier is not specified")
        user = self._chat_user(params, sending=action == "edit")
        message = self._chats[user.id].get(params["message_id"])
        if message is None or message.deleted:
            raise _bad(f"message to {action} not found")
        if action == "edit" and not message.from_bot:
            raise _bad("message can't be edited")
        return message

    def _reply_to(self, chat_id: int, params: dict[str, Any]) -> int | None:
        reply = params.get("reply_parameters")
        reply = reply if isinstance(reply, dict) else {}
        message_id = reply.get("message_id", params.get("reply_to_message_id"))
        if message_id is None:
            return None
        target = self._chats[chat_id].get(int(message_id))
        if target is None or target.deleted:
            if reply.get("allow_sending_without_reply"):
                return None
            raise _bad("message to be replied not found")
        return target.message_id

    @staticmethod
    def _caption(params: dict[str, Any]) -> FormattedText | None:
        caption = params.get("caption")
        if not caption:
            return None
        formatted = format_text(caption, params.get("parse_mode"), params.get("caption_entities"))
        if utf16_len(formatted.text) > MAX_CAPTION_LENGTH:
            raise _bad("message caption is too long")
        return formatted

    @staticmethod
    def _message_text(params: dict[str, Any]) -> FormattedText:
        text = params.get("text")
        if not isinstance(text, str) or not text:
            raise _bad("message text is empty")
        formatted = format_text(text, params.get("parse_mode"), params.get("entities"))
        if not formatted.text:
            raise _bad("message text is empty")
        if utf16_len(formatted.text) > MAX_TEXT_LENGTH:
            raise _bad("message is too long")
        return formatted

    def _store_bot_message(self, chat_id: int, **content: Any) -> dict[str, Any]:
        message = Message(
            message_id=self._new_message_id(chat_id),
            chat_id=chat_id,
            from_bot=True,
            date=self._now(),
            **content,
        )
        self._chats[chat_id][message.message_id] = message
        self._sent.setdefault(chat_id, []).append(copy.deepcopy(message))
        self.stats.sent_per_chat[chat_id] += 1
        self._signal.notify()
        return self._render(message)

    def _apply_edit(self, message: Message, **changes: Any) -> dict[str, Any]:
        """Refuse no-op edits like Telegram, then apply and log a snapshot."""
        content = [key for key in ("text", "caption", "entities", "reply_markup") if key in changes]
        if all(
            _comparable(key, changes[key]) == _comparable(key, getattr(message, key))
            for key in content
        ):
            raise _bad(NOT_MODIFIED)
        self.faults.admit(message.chat_id)
        for key, value in changes.items():
            setattr(message, key, value)
        message.edits += 1
        message.edit_date = self._now()
        self._edited.setdefault(message.chat_id, []).append(copy.deepcopy(message))
        self.stats.edits_per_chat[message.chat_id] += 1
        self._signal.notify()
        return self._render(message)

    # ---- internals: files -------------------------------------------------------------------

    def _register_file(
        self,
        kind: str,
        data: bytes,
        *,
        file_name: str | None = None,
        mime_type: str | None = None,
        size: int | None = None,
    ) -> FileRecord:
        prefixes = {
            "document": "BQAC",
            "photo": "AgAC",
            "sticker": "CAAC",
            "voice": "AwAC",
            "video_note": "DQAC",
        }
        number = len(self._files) + 1
        extension = Path(file_name).suffix if file_name else ""
        default_exts = {"photo": ".jpg", "sticker": ".webp", "voice": ".oga", "video_note": ".mp4"}
        default_ext = default_exts.get(kind, "")
        width, height = (_image_size(data) or (1280, 960)) if kind == "photo" else (0, 0)
        record = FileRecord(
            file_id=f"{prefixes[kind]}AgIAAxkBAAI{secrets.token_urlsafe(42)}",
            file_unique_id=f"AgAD{secrets.token_urlsafe(9)}",
            kind=kind,
            data=data,
            size=len(data) if size is None else size,
            file_path=f"{kind}s/file_{number}{extension or default_ext}",
            file_name=file_name,
            mime_type=mime_type,
            width=width,
            height=height,
        )
        self._files[record.file_id] = record
        self._files_by_path[record.file_path] = record
        return record

    def _input_file(self, value: Any, kind: str) -> FileRecord:
        """An uploaded part or an existing file_id, checked like Telegram checks it."""
        if isinstance(value, UploadedFile):
            if not value.data:
                raise _bad("file must be non-empty")
            if len(value.data) > MAX_UPLOAD_SIZE:
                raise ApiError(413, "Request Entity Too Large")
            if kind == "photo" and _image_size(value.data) is None:
                raise _bad("IMAGE_PROCESS_FAILED")
            mime = mimetypes.guess_type(value.filename)[0] or "application/octet-stream"
            return self._register_file(
                kind,
                value.data,
                file_name=value.filename if kind == "document" else None,
                mime_type=mime if kind == "document" else None,
            )
        record = self._files.get(value) if isinstance(value, str) else None
        if record is None:
            raise _bad("wrong file identifier/HTTP URL specified")
        if record.kind != kind:
            raise _bad(f"can't use file of type {record.kind.title()} as {kind.title()}")
        return record

    @staticmethod
    def _document_api(record: FileRecord) -> dict[str, Any]:
        data: dict[str, Any] = {
            "file_id": record.file_id,
            "file_unique_id": record.file_unique_id,
            "file_size": record.size,
        }
        if record.file_name:
            data["file_name"] = record.file_name
        if record.mime_type:
            data["mime_type"] = record.mime_type
        return data

    @staticmethod
    def _photo_size_api(record: FileRecord) -> dict[str, Any]:
        return {
            "file_id": record.file_id,
            "file_unique_id": record.file_unique_id,
            "file_size": record.size,
            "width": record.width,
            "height": record.height,
        }

    # ---- emulated methods -------------------------------------------------------------------

    def _get_me(self, _params: dict[str, Any]) -> dict[str, Any]:
        return {
            **self._bot_api(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        if self.webhook is not None:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; use "
                "deleteWebhook to delete the webhook first",
            )
        self._polls += 1
        if self.first_poll_at is None:
            self.first_poll_at = self.faults.clock()
        offset = params.get("offset")
        if isinstance(offset, int) and offset < 0:
            self._updates = self._updates[offset:]
        elif isinstance(offset, int):
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        allowed = params.get("allowed_updates")
        if isinstance(allowed, list):
            self._allowed_updates = frozenset(allowed) or None
        limit = min(max(int(params.get("limit") or 100), 1), 100)
        timeout = max(float(params.get("timeout") or 0), 0.0)
        self._poll_generation += 1
        generation = self._poll_generation
        self._signal.notify()  # wakes wait_idle, and an older poll so it answers 409

        def ready() -> bool:
            self._drop_unwanted_updates()
            return self._closing or generation != self._poll_generation or bool(self._updates)

        self._waiting_polls += 1
        self._signal.notify()
        try:
            await self._signal.wait_for(ready, timeout)
        finally:
            self._waiting_polls -= 1
        if generation != self._poll_generation and not self._closing:
            raise ApiError(409, POLL_CONFLICT)
        return copy.deepcopy(self._updates[:limit])

    def _drop_unwanted_updates(self) -> None:
        """Telegram never delivers update types outside allowed_updates."""
        allowed = self._allowed_updates
        kept = []
        for update in self._updates:
            kind = next(key for key in update if key != "update_id")
            if (kind in allowed) if allowed is not None else (kind not in OPT_IN_UPDATE_TYPES):
                kept.append(update)
            else:
                self.filtered_updates.append(update)
                self.stats.updates_filtered += 1
        if len(kept) != len(self._updates):
            self._updates = kept
            self._signal.notify()

    def _delete_webhook(self, params: dict[str, Any]) -> bool:
        self.webhook = None
        if params.get("drop_pending_updates"):
            self._updates.clear()
            self._signal.notify()
        return True

    def _set_webhook(self, params: dict[str, Any]) -> bool:
        self.webhook = dict(params)
        if params.get("drop_pending_updates"):
            self._updates.clear()
        self._poll_generation += 1
        self._signal.notify()
        return True

    def _get_webhook_info(self, _params: dict[str, Any]) -> dict[str, Any]:
        return {
            "url": (self.webhook or {}).get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }

    def _send_message(self, params: dict[str, Any]) -> dict[str, Any]:
        user = self._chat_user(params)
        formatted = self._message_text(params)
        markup = check_reply_markup(params.get("reply_markup"))
        reply_to = self._reply_to(user.id, params)
        self.faults.admit(user.id)
        return self._store_bot_message(
            user.id,
            text=formatted.text,
            entities=formatted.entities,
            source=params["text"],
            parse_mode=params.get("parse_mode"),
            reply_markup=markup,
            reply_to_message_id=reply_to,
        )

    def _send_document(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._send_media(params, "document")

    def _send_photo(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._send_media(params, "photo")

    def _send_voice(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._send_media(params, "voice")

    def _send_video_note(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._send_media(params, "video_note")

    def _send_media(self, params: dict[str, Any], kind: str) -> dict[str, Any]:
        user = self._chat_user(params)
        caption = self._caption(params)
        markup = check_reply_markup(params.get("reply_markup"))
        reply_to = self._reply_to(user.id, params)
        record = self._input_file(params.get(kind), kind)
        self.faults.admit(user.id)
        media: dict[str, Any]
        if kind == "document":
            media = {"document": self._document_api(record)}
        elif kind == "voice":
            media = {"voice": {**self._document_api(record), "duration": 1}}
        elif kind == "video_note":
            media = {"video_note": {**self._document_api(record), "length": 240, "duration": 1}}
        else:
            media = {"photo": [self._photo_size_api(record)]}
        return self._store_bot_message(
            user.id,
            caption=caption.text if caption else None,
            entities=caption.entities if caption else [],
            source=params.get("caption"),
            parse_mode=params.get("parse_mode"),
            reply_markup=markup,
            reply_to_message_id=reply_to,
            **media,
        )

    def _edit_message_text(self, params: dict[str, Any]) -> dict[str, Any]:
        message = self._target_message(params, "edit")
        formatted = self._message_text(params)
        if message.text is None:
            raise _bad("there is no text in the message to edit")
        markup = check_reply_markup(params.get("reply_markup"), inline_only=True)
        return self._apply_edit(
            message,
            text=formatted.text,
            entities=formatted.entities,
            reply_markup=markup,
            source=params["text"],
            parse_mode=params.get("parse_mode"),
        )

    def _edit_message_caption(self, params: dict[str, Any]) -> dict[str, Any]:
        message = self._target_message(params, "edit")
        if message.text is not None:
            raise _bad("there is no caption in the message to edit")
        caption = self._caption(params)
        markup = check_reply_markup(params.get("reply_markup"), inline_only=True)
        return self._apply_edit(
            message,
            caption=caption.text if caption else None,
            entities=caption.entities if caption else [],
            reply_markup=markup,
            source=params.get("caption"),
            parse_mode=params.get("parse_mode"),
        )

    def _edit_message_reply_markup(self, params: dict[str, Any]) -> dict[str, Any]:
        message = self._target_message(params, "edit")
        markup = check_reply_markup(params.get("reply_markup"), inline_only=True)
        return self._apply_edit(message, reply_markup=markup)

    def _delete_message(self, params: dict[str, Any]) -> bool:
        message = self._target_message(params, "delete")
        message.deleted = True
        self._signal.notify()
        return True

    def _answer_callback_query(self, params: dict[str, Any]) -> bool:
        query_id = str(params["callback_query_id"])
        query = self._callbacks.get(query_id)
        if query is None or query.answered:
            raise _bad(QUERY_TOO_OLD)
        if utf16_len(str(params.get("text") or "")) > MAX_CALLBACK_ANSWER_LENGTH:
            raise _bad("MESSAGE_TOO_LONG")
        query.answered = True
        self.callback_answers[query_id] = dict(params)
        self._signal.notify()
        return True

    def _get_file(self, params: dict[str, Any]) -> dict[str, Any]:
        record = self._files.get(str(params["file_id"]))
        if record is None:
            raise _bad("invalid file_id")
        if record.size > MAX_DOWNLOAD_SIZE:
            raise _bad("file is too big")
        return {
            "file_id": record.file_id,
            "file_unique_id": record.file_unique_id,
            "file_size": record.size,
            "file_path": record.file_path,
        }

    def _command_key(self, params: dict[str, Any]) -> tuple[str, str]:
        scope = params.get("scope")
        language = params.get("language_code") or ""
        if not isinstance(language, str) or (language and not LANGUAGE_RE.match(language)):
            raise _bad("LANG_CODE_INVALID")
        if scope is None:
            return "default", language
        if not isinstance(scope, dict) or not isinstance(scope.get("type"), str):
            raise _bad("can't parse BotCommandScope JSON object")
        kind = scope["type"]
        if kind in ("default", "all_private_chats", "all_group_chats", "all_chat_administrators"):
            return kind, language
        if kind in ("chat", "chat_administrators", "chat_member"):
            user = self._chat_user({"chat_id": _int_or_none(scope.get("chat_id"))}, sending=False)
            if kind != "chat_member":
                return f"{kind}:{user.id}", language
            return f"chat_member:{user.id}:{scope.get('user_id')}", language
        raise _bad("wrong BotCommandScope type specified")

    def _set_my_commands(self, params: dict[str, Any]) -> bool:
        commands = params["commands"]
        if not isinstance(commands, list):
            raise _bad("can't parse commands JSON object")
        if len(commands) > 100:
            raise _bad("BOT_COMMANDS_TOO_MUCH")
        for command in commands:
            if not isinstance(command, dict) or not COMMAND_RE.match(
                str(command.get("command", ""))
            ):
                raise _bad("BOT_COMMAND_INVALID")
            description = command.get("description")
            if not isinstance(description, str) or not 1 <= len(description) <= 256:
                raise _bad("BOT_COMMAND_DESCRIPTION_INVALID")
        key = self._command_key(params)
        if commands:
            self.commands[key] = [
                {"command": c["command"], "description": c["description"]} for c in commands
            ]
        else:
            self.commands.pop(key, None)
        return True

    def _get_my_commands(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        return copy.deepcopy(self.commands.get(self._command_key(params), []))

    def _delete_my_commands(self, params: dict[str, Any]) -> bool:
        self.commands.pop(self._command_key(params), None)
        return True

    def _send_chat_action(self, params: dict[str, Any]) -> bool:
        user = self._chat_user(params)
        if params["action"] not in CHAT_ACTIONS:
            raise _bad("wrong parameter action in request")
        self.chat_actions.append((user.id, params["action"]))
        return True


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _coerce(name: str, value: Any, types: list[str]) -> Any:
    """Type one form value by its spec types (form fields arrive as strings)."""
    if not isinstance(value, str):
        return value
    if "Integer" in types:
        try:
            return int(value)
        except ValueError:
            if "String" in types:
                return value
            raise _bad(f'parameter "{name}" must be an Integer') from None
    if "Float" in types:
        try:
            return float(value)
        except ValueError:
            raise _bad(f'parameter "{name}" must be a Float') from None
    if "Boolean" in types or "True" in types:
        lowered = value.lower()
        if lowered in ("true", "1", "false", "0"):
            return lowered in ("true", "1")
        raise _bad(f'parameter "{name}" must be a Boolean')
    if set(types) <= SCALAR_TYPES:
        return value
    try:
        return json.loads(value)
    except ValueError:
        what = "reply keyboard markup" if name == "reply_markup" else name
        raise _bad(f"can't parse {what} JSON object") from None


def _comparable(key: str, value: Any) -> Any:
    """Edits compare reply markup by its inline keyboard only (absent == empty)."""
    if key == "reply_markup":
        return _inline_keyboard(value)
    return value


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)
