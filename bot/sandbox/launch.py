"""Mini App launch data signed exactly as Telegram signs it: what the sandbox's phone frame
hands the dashboard, and what the tests sign their requests with."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime
from urllib.parse import quote, urlencode

QUERY_ID = "AAHdF6IQAAAAAN0XohDhrOrc"


def init_data_fields(
    user_id: int,
    signed_at: datetime,
    *,
    first_name: str | None = None,
    language_code: str = "ru",
    **extra: str,
) -> dict[str, str]:
    user = {
        "id": user_id,
        "first_name": first_name or f"User {user_id}",
        "language_code": language_code,
    }
    fields = {
        "query_id": QUERY_ID,
        "user": json.dumps(user, separators=(",", ":")),
        "auth_date": str(int(signed_at.timestamp())),
    }
    fields.update(extra)
    return fields


def sign(fields: dict[str, str], token: str) -> str:
    """The query string with the `hash` Telegram computes: HMAC-SHA256 of the sorted fields
    with the key HMAC-SHA256("WebAppData", token)."""
    check = "\n".join(f"{key}={value}" for key, value in sorted(fields.items()))
    secret = hmac.new(b"WebAppData", token.encode(), hashlib.sha256).digest()
    digest = hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()
    return urlencode({**fields, "hash": digest})


def launch_fragment(init_data: str, theme: dict[str, str], platform: str = "android") -> str:
    """The URL fragment Telegram opens a Mini App with (`/app/#…`)."""
    return (
        f"tgWebAppData={quote(init_data, safe='')}&tgWebAppVersion=8.0"
        f"&tgWebAppPlatform={platform}"
        f"&tgWebAppThemeParams={quote(json.dumps(theme), safe='')}"
    )
