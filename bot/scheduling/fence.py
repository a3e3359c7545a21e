"""Each scheduled run, fenced: it goes on only if this replica still leads and its
(job, planned fire time) was not recorded by another run (db/job_runs.py).

The planned time is the trigger's, not the clock's: APScheduler knows when it meant to run a
job (`run_times`), and `planned_time_executor` hands that moment to the job's task, so two leaders
firing the same trigger compute the same key however late either of them woke up.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from datetime import datetime
from functools import wraps
from typing import Any, TypeVar

from bot.core.clock import Clock
from bot.scheduling.leader import Leadership
from db.engine import AsyncSession, SessionMaker
from db.job_runs import AlreadyRanError, claim_run, record_run

logger = logging.getLogger(__name__)

T = TypeVar("T")
Record = Callable[[AsyncSession], Awaitable[None]]

PLANNED_RUN: ContextVar[datetime | None] = ContextVar("planned_run", default=None)


def planned_time_executor() -> Any:
    """APScheduler's asyncio executor whose job tasks start with `PLANNED_RUN` set to the
    fire time they run for (a task copies the context it was created in). APScheduler is
    imported here, when the scheduler is built, not when the bot starts."""
    from apscheduler.executors.asyncio import AsyncIOExecutor

    class PlannedTimeExecutor(AsyncIOExecutor):
        def _do_submit_job(self, job: Any, run_times: list[datetime]) -> None:
            token = PLANNED_RUN.set(run_times[-1])
            try:
                super()._do_submit_job(job, run_times)
            finally:
                PLANNED_RUN.reset(token)

    return PlannedTimeExecutor()


class Fence:
    def __init__(
        self,
        *,
        session_maker: SessionMaker,
        leadership: Leadership,
        clock: Clock,
        runner: str,
    ) -> None:
        self.session_maker = session_maker
        self.leadership = leadership
        self.clock = clock
        self.runner = runner
        self.runs: dict[str, int] = {}  # runs that went through, by job (for /metrics)

    async def admit(self, job: str, planned: datetime) -> bool:
        """True for exactly one run of `job` planned for `planned`, and only on the leader."""
        if not await self.leadership.confirm():
            logger.warning("Not the leader any more: %s of %s is left to the leader", job, planned)
            return False
        admitted = await claim_run(
            self.session_maker,
            job=job,
            scheduled_for=planned,
            runner=self.runner,
            now=self.clock.now(),
        )
        if admitted:
            self.runs[job] = self.runs.get(job, 0) + 1
        else:
            logger.info("%s planned for %s already ran elsewhere: skipped", job, planned)
        return admitted

    def guard(self, job: str, run: Callable[[], Awaitable[T]]) -> Callable[[], Awaitable[T | None]]:
        """`run` as a scheduled job: fenced on its planned fire time (the clock's minute
        when called outside the scheduler)."""

        @wraps(run)
        async def fenced() -> T | None:
            planned = PLANNED_RUN.get() or self.clock.now().replace(second=0, microsecond=0)
            if not await self.admit(job, planned):
                return None
            return await run()

        return fenced

    async def within(
        self, job: str, planned: datetime, run: Callable[[Record], Awaitable[T]]
    ) -> T | None:
        """Run `run`, which adds the fence row (the `Record` it is given) to its own
        transaction: the run and its fence are committed together or not at all, so a run
        cut off before its commit leaves no row behind to stop the catch-up. None when this
        replica does not lead or another run of `job` for `planned` was recorded first."""
        if not await self.leadership.confirm():
            logger.warning("Not the leader any more: %s of %s is left to the leader", job, planned)
            return None

        async def record(session: AsyncSession) -> None:
            await record_run(
                session, job=job, scheduled_for=planned, runner=self.runner, now=self.clock.now()
            )

        try:
            result = await run(record)
        except AlreadyRanError:
            logger.info("%s planned for %s already ran elsewhere: skipped", job, planned)
            return None
        self.runs[job] = self.runs.get(job, 0) + 1
        return result
