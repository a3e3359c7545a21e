"""The start when Telegram cannot be reached or refuses the token: a server that boots before
its network waits and says so in one line per attempt; a wrong token stops with one clear line,
never a traceback."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from pathlib import Path

import pytest

from bot.app.config import Settings
from bot.app.factory import TokenRejectedError, create_bot, wait_for_telegram
from bot.sandbox.emulator import BotApiEmulator
from tests.helpers.chat import TEST_TOKEN

ROOT = Path(__file__).resolve().parents[2]
OTHER_TOKEN = "7000000009:ANOTHER_token_abcdefghijklmnopqrstuvwxyz"


def settings_for(emulator: BotApiEmulator, token: str = TEST_TOKEN) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        bot_token=token,
        telegram_api_url=emulator.base_url,
    )


class RecordedSleep:
    """Sleeps that return at once and remember how long they were asked to last."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


async def test_the_start_waits_for_telegram_with_a_growing_pause(
    emulator: BotApiEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    sleep = RecordedSleep()
    bot = create_bot(settings_for(emulator), sleep=sleep)
    # The request guard tries getMe four times itself: eight drops are two failed attempts.
    emulator.faults.fail_next(8, "drop", method="getMe")
    try:
        with caplog.at_level(logging.WARNING, logger="bot.app.factory"):
            me = await wait_for_telegram(bot, sleep=sleep, first_wait=2, max_wait=60)
    finally:
        await bot.session.close()
    assert me.username == emulator.bot_username
    attempts = [r.getMessage() for r in caplog.records if r.name == "bot.app.factory"]
    assert len(attempts) == 2
    assert all("cannot be reached" in line and emulator.base_url in line for line in attempts)
    assert TEST_TOKEN not in caplog.text
    guard = [0.5, 1.0, 2.0]  # the guard's own pauses between its tries
    assert sleep.waits == [*guard, 2, *guard, 4]


async def test_the_pause_stops_growing_at_its_limit(emulator: BotApiEmulator) -> None:
    sleep = RecordedSleep()
    bot = create_bot(settings_for(emulator).model_copy(update={"request_retries": 0}))
    emulator.faults.fail_next(7, "500", method="getMe")
    try:
        await wait_for_telegram(bot, sleep=sleep, first_wait=10, max_wait=60)
    finally:
        await bot.session.close()
    assert sleep.waits == [10, 20, 40, 60, 60, 60, 60]


async def test_a_rejected_token_stops_at_once(emulator: BotApiEmulator) -> None:
    sleep = RecordedSleep()
    bot = create_bot(settings_for(emulator, OTHER_TOKEN), sleep=sleep)
    try:
        with pytest.raises(TokenRejectedError):
            await wait_for_telegram(bot, sleep=sleep)
    finally:
        await bot.session.close()
    assert sleep.waits == []


async def test_python_m_bot_with_a_rejected_token_says_so_in_one_line(
    emulator: BotApiEmulator, tmp_path: Path
) -> None:
    environment = {k: v for k, v in os.environ.items() if k not in {"BOT_TOKEN", "DATABASE_URL"}}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        cwd=tmp_path,  # no .env there
        env={
            **environment,
            "PYTHONPATH": str(ROOT),
            "BOT_TOKEN": OTHER_TOKEN,
            "TELEGRAM_API_URL": emulator.base_url,
            "HEARTBEAT_FILE": str(tmp_path / "last-poll"),
        },
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, stderr = await asyncio.wait_for(process.communicate(), timeout=120)
    text = stderr.decode()
    assert process.returncode == 2, text
    assert "Traceback" not in text
    problem = [line for line in text.splitlines() if "BOT_TOKEN" in line]
    assert problem == [
        "Telegram rejected BOT_TOKEN (401 Unauthorized): copy the token from @BotFather into "
        ".env again (or /revoke it there and use the new one)."
    ]
    assert OTHER_TOKEN not in text
