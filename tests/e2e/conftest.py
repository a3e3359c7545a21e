"""Fixtures of the end-to-end tests: the bot's settings pointed at the Bot API emulator."""

from __future__ import annotations

import pytest

from bot.app.config import Settings
from bot.sandbox.emulator import BotApiEmulator


@pytest.fixture
def live_settings(settings: Settings, emulator: BotApiEmulator) -> Settings:
    """The test's settings, with Telegram played by the emulator over real HTTP (a test module
    may override this, as the webhook tests do)."""
    return settings.model_copy(update={"telegram_api_url": emulator.base_url})
