"""The emulator's chats and request log as JSON for the sandbox page.

Texts are rebuilt from what Telegram would show (plain text and entities, offsets in UTF-16
code units), escaped here: the page inserts them as HTML without looking inside.
"""

from __future__ import annotations

import json
from html import escape
from typing import Any

from bot.sandbox.emulator import Message, RecordedRequest

# Entity types and the tags that show them; the others (mentions, hashtags...) stay plain.
TAGS = {
    "bold": ("<b>", "</b>"),
    "italic": ("<i>", "</i>"),
    "underline": ("<u>", "</u>"),
    "strikethrough": ("<s>", "</s>"),
    "spoiler": ('<span class="spoiler">', "</span>"),
    "code": ("<code>", "</code>"),
    "pre": ("<pre>", "</pre>"),
    "blockquote": ("<blockquote>", "</blockquote>"),
    "expandable_blockquote": ("<blockquote>", "</blockquote>"),
}
LOG_PARAM_LIMIT = 2000


def _units(text: str) -> list[str]:
    """The text split so that index i is UTF-16 code unit i (astral characters take two)."""
    units: list[str] = []
    for char in text:
        units.append(char)
        if ord(char) > 0xFFFF:
            units.append("")
    return units


def _is_link(entity: dict[str, Any]) -> bool:
    """A text link the page may make clickable: web and Telegram addresses, never a script."""
    url = str(entity.get("url", "")).lower()
    return entity["type"] == "text_link" and url.startswith(("http://", "https://", "tg://"))


def _opening(entity: dict[str, Any]) -> str:
    if _is_link(entity):
        return f'<a href="{escape(entity["url"])}" target="_blank" rel="noopener">'
    return TAGS.get(entity["type"], ("", ""))[0]


def _closing(entity: dict[str, Any]) -> str:
    return "</a>" if _is_link(entity) else TAGS.get(entity["type"], ("", ""))[1]


def formatted_html(text: str, entities: list[dict[str, Any]]) -> str:
    """Escaped text with its entities as tags; entities nest as Telegram guarantees."""
    units = _units(text)
    opens: dict[int, list[dict[str, Any]]] = {}
    closes: dict[int, list[dict[str, Any]]] = {}
    for entity in sorted(entities, key=lambda e: (e["offset"], -e["length"])):
        opens.setdefault(entity["offset"], []).append(entity)
        closes.setdefault(entity["offset"] + entity["length"], []).insert(0, entity)
    parts: list[str] = []
    for index in range(len(units) + 1):
        parts.extend(_closing(entity) for entity in closes.get(index, []))
        parts.extend(_opening(entity) for entity in opens.get(index, []))
        if index < len(units):
            parts.append(escape(units[index], quote=False))
    return "".join(parts).replace("\n", "<br>")


def _buttons(message: Message) -> dict[str, Any] | None:
    markup = message.reply_markup
    if not isinstance(markup, dict):
        return None
    if "inline_keyboard" in markup:
        rows = [
            [
                {
                    "text": button["text"],
                    "data": button.get("callback_data"),
                    "url": button.get("url") or (button.get("web_app") or {}).get("url"),
                }
                for button in row
            ]
            for row in markup["inline_keyboard"]
        ]
        return {"inline": rows}
    if "keyboard" in markup:
        rows = [
            [{"text": b["text"] if isinstance(b, dict) else str(b)} for b in row]
            for row in markup["keyboard"]
        ]
        return {"reply": rows}
    if markup.get("remove_keyboard"):
        return {"remove": True}
    return None


def message_json(message: Message) -> dict[str, Any]:
    body = message.text if message.text is not None else message.caption
    data: dict[str, Any] = {
        "id": message.message_id,
        "from_bot": message.from_bot,
        "date": message.date,
        "edits": message.edits,
        "deleted": message.deleted,
        "html": formatted_html(body or "", message.entities),
        "markup": _buttons(message),
        "kind": message.kind,
        "reply_to": message.reply_to_message_id,
    }
    if message.document is not None:
        data["file"] = {
            "id": message.document["file_id"],
            "name": message.document.get("file_name") or "file",
            "size": message.document.get("file_size", 0),
        }
    if message.photo:
        data["file"] = {"id": message.photo[-1]["file_id"], "name": "photo"}
    return data


def request_json(index: int, record: RecordedRequest) -> dict[str, Any]:
    params = json.dumps(record.params, ensure_ascii=False, indent=1, default=repr)
    if len(params) > LOG_PARAM_LIMIT:
        params = params[:LOG_PARAM_LIMIT] + " …"
    return {
        "n": index,
        "method": record.method,
        "status": record.status,
        "error": record.description,
        "chat": record.params.get("chat_id"),
        "params": params,
    }
