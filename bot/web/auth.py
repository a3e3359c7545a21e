"""Who is asking: Telegram's signed initData, checked for its signature and its age.

aiogram's `safe_parse_webapp_init_data` checks the signature only; a stolen or cached initData
would stay valid for ever, so `auth_date` must also be recent (MINIAPP_MAX_AGE) and not from
the future beyond a minute of clock skew.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from aiogram.utils.web_app import WebAppUser, safe_parse_webapp_init_data

CLOCK_SKEW = timedelta(minutes=1)


class AuthFailure(StrEnum):
    """Why initData was not accepted (written into the audit log's details)."""

    MISSING = "missing"
    SIGNATURE = "signature"
    EXPIRED = "expired"
    FUTURE = "future"
    NO_USER = "no_user"


@dataclass(frozen=True)
class Rejected:
    reason: AuthFailure
    telegram_id: int | None = None  # known only when the signature was genuine


def verify_init_data(
    token: str, init_data: str | None, *, now: datetime, max_age: timedelta
) -> WebAppUser | Rejected:
    """The Telegram user the initData was signed for, or why it is rejected."""
    if not init_data:
        return Rejected(AuthFailure.MISSING)
    try:
        parsed = safe_parse_webapp_init_data(token, init_data)
    except ValueError:  # a bad signature, or a query string that is not Telegram's
        return Rejected(AuthFailure.SIGNATURE)
    user_id = parsed.user.id if parsed.user else None
    signed_at = parsed.auth_date
    if now - signed_at > max_age:
        return Rejected(AuthFailure.EXPIRED, user_id)
    if signed_at - now > CLOCK_SKEW:
        return Rejected(AuthFailure.FUTURE, user_id)
    if parsed.user is None:
        return Rejected(AuthFailure.NO_USER)
    return parsed.user
