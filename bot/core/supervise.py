"""Background tasks that are never silent and never stay down: a failure is logged once per
kind of fault (bot/core/faults.py) and the task is started again after a backoff."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from bot.core.faults import FaultLog

logger = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[object]]


async def keep_trying(
    what: str,
    work: Callable[[], Awaitable[None]],
    *,
    sleep: Sleep = asyncio.sleep,
    first_delay: float = 1.0,
) -> None:
    """Run `work` until it returns; when it raises, log (once per kind), wait 1 s doubling to
    a minute, and run it again. Cancelling stops it."""
    faults = FaultLog(logger, what, first_delay=first_delay)
    while True:
        try:
            await work()
        except Exception as error:
            await sleep(faults.failed(error))
            continue
        faults.succeeded()
        return
