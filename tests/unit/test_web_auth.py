"""initData as Telegram signs it: genuine and recent passes; anything changed, too old or from
the future (beyond a minute of skew) is rejected, and says why."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlencode

from bot.web.auth import AuthFailure, Rejected, verify_init_data
from tests.helpers.chat import TEST_TOKEN
from tests.helpers.webapp import init_data_fields, sign, signed_for

NOW = datetime(2025, 6, 10, 6, 0, tzinfo=UTC)
DAY = timedelta(hours=24)


def check(init_data: str | None, now: datetime = NOW) -> object:
    return verify_init_data(TEST_TOKEN, init_data, now=now, max_age=DAY)


def test_genuine_init_data_names_the_user() -> None:
    user = check(signed_for(4101, NOW - timedelta(minutes=5)))
    assert not isinstance(user, Rejected)
    assert user.id == 4101  # type: ignore[attr-defined]


def test_one_changed_field_breaks_the_signature() -> None:
    fields = dict(parse_qsl(signed_for(4101, NOW)))
    fields["user"] = fields["user"].replace("4101", "4102")
    assert check(urlencode(fields)) == Rejected(AuthFailure.SIGNATURE)


def test_another_bots_signature_is_rejected() -> None:
    other = "123456:ANOTHER_TOKEN_abcdefghijklmnopqrstuvwxyz0"
    assert check(signed_for(4101, NOW, token=other)) == Rejected(AuthFailure.SIGNATURE)


def test_missing_or_garbage_init_data() -> None:
    assert check(None) == Rejected(AuthFailure.MISSING)
    assert check("") == Rejected(AuthFailure.MISSING)
    assert check("not=a&signed=query") == Rejected(AuthFailure.SIGNATURE)


def test_a_day_old_login_still_works_a_minute_more_does_not() -> None:
    assert not isinstance(check(signed_for(4101, NOW - DAY)), Rejected)
    assert check(signed_for(4101, NOW - DAY - timedelta(seconds=1))) == Rejected(
        AuthFailure.EXPIRED, 4101
    )


def test_a_minute_of_clock_skew_is_allowed_not_more() -> None:
    assert not isinstance(check(signed_for(4101, NOW + timedelta(seconds=60))), Rejected)
    assert check(signed_for(4101, NOW + timedelta(seconds=61))) == Rejected(
        AuthFailure.FUTURE, 4101
    )


def test_init_data_without_a_user_is_rejected() -> None:
    fields = init_data_fields(4101, NOW)
    del fields["user"]
    assert check(sign(fields)) == Rejected(AuthFailure.NO_USER)
