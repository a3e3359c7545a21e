"""The sandbox for tests: started on a working morning ahead of the wall clock (its time only
moves forward), with its page on a free local port."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.sandbox.clock import SandboxClock
from bot.sandbox.run import Sandbox
from bot.sandbox.server import PageServer

ALMATY = ZoneInfo("Asia/Almaty")


def next_tuesday_morning() -> datetime:
    """Tuesday 11:00 in Almaty, after today: a working morning, whatever day the tests run."""
    day = datetime.now(ALMATY).date() + timedelta(days=1)
    while day.weekday() != 1:
        day += timedelta(days=1)
    return datetime.combine(day, time(11), tzinfo=ALMATY).astimezone(UTC)


@asynccontextmanager
async def sandbox_page(data_dir: Path) -> AsyncIterator[str]:
    """The whole sandbox; yields its page's address."""
    sandbox = Sandbox(data_dir, clock=SandboxClock(next_tuesday_morning()))
    await sandbox.start()
    page = PageServer(sandbox, "127.0.0.1", 0)
    await page.start()
    try:
        yield page.url
    finally:
        await page.stop()
        await sandbox.stop()
