"""Webhook mode's settings: polling stays the default and needs no Redis; webhook mode names
every missing setting in one line (never a value); the secret and the path follow Telegram's
rules; and `python -m bot webhook set|info|delete` against the Bot API emulator registers the
webhook with the secret and the update types the routers use, shows it, and removes it."""

from __future__ import annotations

import pytest
from pydantic import SecretStr, ValidationError

from bot.app.config import Settings, describe_settings_error
from bot.app.webhook_commands import used_update_types, webhook_command
from bot.sandbox.emulator import BotApiEmulator
from tests.helpers.chat import TEST_TOKEN


def settings(**values: object) -> Settings:
    return Settings(_env_file=None, bot_token=TEST_TOKEN, **values)  # type: ignore[call-arg]


def test_polling_is_the_default_and_needs_no_redis() -> None:
    plain = settings()
    assert plain.bot_mode == "polling"
    assert plain.redis_url is None and plain.webhook_secret is None
    assert plain.webhook_url is None


def test_webhook_mode_names_what_it_is_missing() -> None:
    with pytest.raises(ValidationError) as raised:
        settings(bot_mode="webhook", webhook_secret="abc")
    line = describe_settings_error(raised.value)
    assert line == "Configuration error: BOT_MODE=webhook needs PUBLIC_URL, REDIS_URL"


def test_webhook_mode_complete() -> None:
    ready = settings(
        bot_mode="webhook",
        public_url="https://bot.example.kz/",
        webhook_secret="  abc_DEF-123  ",
        redis_url="redis://redis:6379/0",
    )
    assert ready.webhook_url == "https://bot.example.kz/telegram/webhook"
    assert ready.webhook_secret == SecretStr("abc_DEF-123")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("webhook_secret", "has space"),
        ("webhook_secret", "x" * 257),
        ("webhook_secret", "ключ"),
        ("webhook_path", "telegram"),
        ("webhook_path", "/app/hook"),
        ("webhook_path", "/metrics"),
        ("redis_url", "http://redis:6379"),
        ("redis_prefix", "has space"),
        ("bot_mode", "both"),
    ],
)
def test_bad_webhook_values_are_named_not_shown(field: str, value: str) -> None:
    with pytest.raises(ValidationError) as raised:
        settings(**{field: value})
    line = describe_settings_error(raised.value)
    assert field.upper() in line
    if field == "webhook_secret":
        assert value not in line


def test_the_webhook_asks_for_the_update_types_the_routers_use() -> None:
    types = used_update_types()
    assert {"message", "callback_query"} <= set(types)


async def test_webhook_set_info_delete(emulator: BotApiEmulator) -> None:
    configured = settings(
        telegram_api_url=emulator.base_url,
        bot_mode="webhook",
        public_url="https://bot.example.kz",
        webhook_secret="abc_DEF-123",
        redis_url="redis://127.0.0.1:6379/0",
    )
    lines: list[str] = []
    assert await webhook_command(configured, "set", out=lines.append) == 0
    assert emulator.webhook is not None
    assert emulator.webhook["url"] == "https://bot.example.kz/telegram/webhook"
    assert emulator.webhook["secret_token"] == "abc_DEF-123"
    assert emulator.webhook["drop_pending_updates"] is False
    assert set(emulator.webhook["allowed_updates"]) == set(used_update_types())

    lines.clear()
    assert await webhook_command(configured, "info", out=lines.append) == 0
    assert lines[0] == "URL: https://bot.example.kz/telegram/webhook"
    assert "abc_DEF-123" not in "\n".join(lines)

    assert await webhook_command(configured, "delete", out=lines.append) == 0
    assert emulator.webhook is None
    lines.clear()
    assert await webhook_command(configured, "info", out=lines.append) == 1  # not where expected
    assert (
        lines[-1]
        == "Expected https://bot.example.kz/telegram/webhook: run python -m bot webhook set"
    )


async def test_webhook_set_without_public_url_says_so(emulator: BotApiEmulator) -> None:
    lines: list[str] = []
    plain = settings(telegram_api_url=emulator.base_url)
    assert await webhook_command(plain, "set", out=lines.append) == 2
    assert lines == ["webhook set needs PUBLIC_URL and WEBHOOK_SECRET in .env"]
    assert emulator.webhook is None
