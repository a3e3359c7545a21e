"""What the leader runs (bot/scheduling/leader.py): the outbox drain, the scheduler and the
start-up catch-up. Started when this replica is elected, stopped at once when it is not."""

from __future__ import annotations

import asyncio
import logging

from bot.core.supervise import keep_trying
from bot.delivery.worker import DeliveryWorker
from bot.scheduling.jobs import RESCHEDULE_NOTICE, Jobs, LateScheduler

logger = logging.getLogger(__name__)

OUTBOX_NOTICE = "outbox"


class LeaderDuties:
    def __init__(self, jobs: Jobs, scheduler: LateScheduler, outbox: DeliveryWorker) -> None:
        self.jobs = jobs
        self.scheduler = scheduler
        self.outbox = outbox
        self._tasks: list[asyncio.Task[None]] = []
        self._catching_up: asyncio.Task[None] | None = None
        self._stopping: set[asyncio.Task[None]] = set()
        self._started = asyncio.Event()

    @property
    def running(self) -> bool:
        return bool(self._tasks)

    async def start(self) -> None:
        """The outbox first (a takeover resumes what the old leader left in flight), then the
        scheduler, then what was missed while nobody led."""
        self.stop()
        self._tasks.append(asyncio.create_task(self._deliver(), name="outbox"))
        self._catching_up = asyncio.create_task(self._schedule(), name="scheduler-and-catch-up")
        self._tasks.append(self._catching_up)
        self._started.set()

    async def caught_up(self) -> None:
        """Wait until this replica leads and its scheduler and catch-up are done (tests)."""
        await self._started.wait()
        if self._catching_up is not None:
            await asyncio.wait({self._catching_up})

    async def _deliver(self) -> None:
        try:
            taken = await self.outbox.take_over()
        except Exception as error:  # if not now, the old leader's leases run out on their own
            logger.warning("Could not take over the previous leader's claims: %s", error)
            taken = 0
        if taken:
            logger.info("Took over %d messages the previous leader had claimed", taken)
        await keep_trying("Outbox worker", self.outbox.run)

    async def _schedule(self) -> None:
        await keep_trying("Scheduler start", self.scheduler.start)
        await keep_trying("Start-up catch-up", self.jobs.catch_up)

    def stop(self) -> None:
        self.scheduler.stop()
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()  # the outbox gives its claims back as it stops
        self._stopping.update(tasks)
        for task in tasks:
            task.add_done_callback(self._stopping.discard)

    async def settle(self) -> None:
        """Wait for stopped work to finish stopping (the outbox's claims given back)."""
        while self._stopping:
            await asyncio.gather(*self._stopping, return_exceptions=True)

    async def notice(self, message: str) -> None:
        if message == RESCHEDULE_NOTICE:
            await self.scheduler.reload()
        elif message == OUTBOX_NOTICE:
            self.outbox.wake()
        else:
            logger.warning("Unknown notice for the leader: %r", message)
