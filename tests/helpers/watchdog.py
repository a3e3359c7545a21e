"""An event-loop watchdog for tests and benchmarks: how long the loop was held at once.

A task sleeps a short `interval` again and again and records how late each wake-up comes;
the lateness is the time some callback kept the loop (the XLSX written inline, a long
transaction's Python work, a synchronous read). `worst` is the longest stall seen, the
figure a neighbour in the same process waits for at most.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from types import TracebackType


class LoopWatchdog:
    """`async with LoopWatchdog() as watchdog: ...`, then `watchdog.worst` (seconds)."""

    def __init__(self, interval: float = 0.005) -> None:
        self.interval = interval
        self.worst = 0.0
        self.wakeups = 0
        self._task: asyncio.Task[None] | None = None

    async def _watch(self) -> None:
        while True:
            expected = time.perf_counter() + self.interval
            await asyncio.sleep(self.interval)
            self.worst = max(self.worst, time.perf_counter() - expected)
            self.wakeups += 1

    def reset(self) -> None:
        self.worst = 0.0
        self.wakeups = 0

    async def __aenter__(self) -> LoopWatchdog:
        self._task = asyncio.create_task(self._watch())
        await asyncio.sleep(0)  # let it take its first time
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._task is not None:
            await asyncio.sleep(self.interval * 2)  # a stall at the very end still counts
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
