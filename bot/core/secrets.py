"""The bot token never leaves the process: masked wherever text is stored, logged or shown.

A token is `<bot id>:<secret>`; a URL carries it as `/bot<bot id>:<secret>/`. Any text of that
shape is masked to `<bot id>:***`, so a proxy's error page echoing the URL, a library's
exception or a traceback cannot print it, whichever token it is.
"""

from __future__ import annotations

import re

_TOKEN_SHAPE = re.compile(r"(?<![A-Za-z0-9_])(bot)?(\d{3,20}):[A-Za-z0-9_-]{20,}")


def mask_token(token: str) -> str:
    """`123456789:AAE…` → `123456789:***` (the bot id is public, the rest is the secret)."""
    bot_id, colon, _secret = token.partition(":")
    return f"{bot_id}:***" if colon and bot_id.isdigit() else "***"


def scrub(text: str, *secrets: str) -> str:
    """`text` with every token-shaped run and every given secret masked."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, mask_token(secret))
    return _TOKEN_SHAPE.sub(lambda match: f"{match.group(1) or ''}{match.group(2)}:***", text)
