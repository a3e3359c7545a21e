"""The doctor in webhook mode: the mode line, Redis answering or not (its password never
shown), and `--quick` (the container's health check) asking Redis instead of the last poll,
which webhook mode never records."""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr

from bot.app.config import Settings
from bot.app.doctor import check_mode, kz_holidays, ping_redis, redis_address, run_checks
from bot.core.catalogs import load_translations
from bot.core.clock import FrozenClock
from tests.helpers.chat import START_MOMENT
from tests.helpers.redis import TEST_REDIS_URL, ScratchRedis
from tests.helpers.tcp_proxy import free_port

EN = load_translations("en")


def in_webhook_mode(settings: Settings, redis_url: str) -> Settings:
    return settings.model_copy(
        update={
            "bot_mode": "webhook",
            "public_url": "https://bot.example.kz",
            "webhook_secret": SecretStr("abc"),
            "redis_url": redis_url,
        }
    )


def test_the_address_drops_user_and_password() -> None:
    assert redis_address("redis://bot:hunter2@redis:6380/2") == "redis:6380/2"
    assert redis_address("redis://redis") == "redis:6379/0"


async def test_webhook_mode_with_redis(settings: Settings, redis_scratch: ScratchRedis) -> None:
    check = await check_mode(in_webhook_mode(settings, TEST_REDIS_URL), EN, ping_redis)
    assert check.ok
    assert check.text.startswith("Mode: webhook at https://bot.example.kz/telegram/webhook")


async def test_webhook_mode_without_redis_says_what_to_fix(settings: Settings) -> None:
    url = f"redis://bot:hunter2@127.0.0.1:{free_port()}/0"
    check = await check_mode(in_webhook_mode(settings, url), EN, ping_redis)
    assert not check.ok
    assert check.text.startswith(f"Webhook mode: Redis at 127.0.0.1:{url.rsplit(':', 1)[1]}")
    assert "hunter2" not in check.text
    assert "REDIS_URL" in check.fix


async def test_quick_in_webhook_mode_asks_redis_not_the_last_poll(
    settings: Settings, engine: object, tmp_path: Path
) -> None:
    async def no_telegram(_: Settings) -> str:
        raise AssertionError("the health check must not call Telegram")

    async def down(_: str) -> None:
        raise ConnectionRefusedError("refused")

    webhook = in_webhook_mode(settings, TEST_REDIS_URL).model_copy(
        update={"heartbeat_file": tmp_path / "never-written"}
    )
    checks = await run_checks(
        webhook,
        quick=True,
        tr=EN,
        locale="en",
        clock=FrozenClock(START_MOMENT),
        holidays_for=kz_holidays,
        get_me=no_telegram,
        ping=down,
    )
    database, mode = checks
    assert database.ok and not mode.ok and "Redis" in mode.text
