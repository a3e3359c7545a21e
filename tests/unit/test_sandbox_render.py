"""The sandbox page's message HTML: Telegram's text and entities back into escaped tags."""

from __future__ import annotations

from bot.sandbox.emulator import parse_html
from bot.sandbox.render import formatted_html


def roundtrip(source: str) -> str:
    parsed = parse_html(source)
    return formatted_html(parsed.text, parsed.entities)


def test_entities_become_tags_and_text_is_escaped() -> None:
    assert roundtrip("<b>5.1.1</b> &lt;школа&gt; <i>риск</i>") == (
        "<b>5.1.1</b> &lt;школа&gt; <i>риск</i>"
    )


def test_offsets_count_utf16_units_past_an_emoji() -> None:
    assert roundtrip("⚠️ 🔴 <b>1.1.2</b>\n<code>x</code>") == "⚠️ 🔴 <b>1.1.2</b><br><code>x</code>"


def test_nested_entities_close_in_order_and_links_keep_their_address() -> None:
    assert roundtrip('<b>a <i>b</i></b> <a href="https://e.kz/?a=1&amp;b=2">c</a>') == (
        '<b>a <i>b</i></b> <a href="https://e.kz/?a=1&amp;b=2" target="_blank" rel="noopener">c</a>'
    )


def test_a_link_that_is_not_a_web_address_stays_plain_text() -> None:
    entities = [{"type": "text_link", "offset": 0, "length": 4, "url": "javascript:alert(1)"}]
    assert formatted_html("open", entities) == "open"
