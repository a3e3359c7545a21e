"""Configuration: a missing or malformed token stops the bot at once with one clear line."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from bot.app.config import Settings, describe_settings_error
from bot.app.logs import RedactSecretFilter

ROOT = Path(__file__).resolve().parents[2]
GOOD_TOKEN = "123456789:AAE-abcdefghijklmnopqrstuvwxyz012345"


def run_bot(env_extra: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if key not in {"BOT_TOKEN"}}
    env.update(env_extra)
    return subprocess.run(
        [sys.executable, "-m", "bot", "migrate"],
        cwd=tmp_path,  # no .env there
        env={**env, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_missing_token_exits_with_one_line(tmp_path: Path) -> None:
    result = run_bot({}, tmp_path)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "BOT_TOKEN" in lines[0]
    assert "Traceback" not in result.stderr


def test_malformed_token_is_named_but_never_printed(tmp_path: Path) -> None:
    secret = "not-a-token-SECRETVALUE"
    result = run_bot({"BOT_TOKEN": secret}, tmp_path)
    assert result.returncode != 0
    assert "BOT_TOKEN" in result.stderr
    assert secret not in result.stderr and secret not in result.stdout
    assert len(result.stderr.strip().splitlines()) == 1


def test_migrate_command_creates_sqlite_file_and_folder(tmp_path: Path) -> None:
    result = run_bot(
        {"BOT_TOKEN": GOOD_TOKEN, "DATABASE_URL": "sqlite+aiosqlite:///data/nested/bot.db"},
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "data" / "nested" / "bot.db").stat().st_size > 0
    assert GOOD_TOKEN not in result.stderr


def test_defaults_and_admin_ids() -> None:
    settings = Settings(_env_file=None, bot_token=GOOD_TOKEN, admin_ids=" 5, 7 ,9")  # type: ignore[call-arg]
    assert settings.admin_ids == {5, 7, 9}
    assert settings.timezone == "Asia/Almaty"
    assert settings.default_locale == "kk"
    assert settings.database_url == "sqlite+aiosqlite:///data/bot.db"
    assert settings.telegram_api_url == "https://api.telegram.org"


@pytest.mark.parametrize(
    ("field", "value"),
    [("timezone", "Mars/Olympus"), ("default_locale", "en"), ("admin_ids", "1,two")],
)
def test_bad_values_are_named(field: str, value: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Settings(_env_file=None, bot_token=GOOD_TOKEN, **{field: value})  # type: ignore[call-arg]
    assert field.upper() in describe_settings_error(caught.value)


def test_almaty_is_utc_plus_five_since_march_2024() -> None:
    almaty = ZoneInfo("Asia/Almaty")
    nine = datetime(2025, 9, 1, 9, 0, tzinfo=almaty)
    assert nine.astimezone(UTC) == datetime(2025, 9, 1, 4, 0, tzinfo=UTC)
    # Before 1 March 2024 Almaty was UTC+6: the test fails on a stale tz database.
    before = datetime(2024, 2, 1, 9, 0, tzinfo=almaty)
    assert before.astimezone(UTC) == datetime(2024, 2, 1, 3, 0, tzinfo=UTC)


def test_token_is_redacted_from_logs(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("test.redaction")
    logger.addFilter(RedactSecretFilter(GOOD_TOKEN))
    with caplog.at_level(logging.INFO, logger="test.redaction"):
        logger.info("calling https://api.telegram.org/bot%s/getMe", GOOD_TOKEN)
    assert GOOD_TOKEN not in caplog.text
    assert f"{GOOD_TOKEN.split(':')[0]}:***" in caplog.text
