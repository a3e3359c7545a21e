"""The fence of scheduled runs: a (job, scheduled_for) row inserted before a run does anything.

Two leaders during a split brain (a stalled one waking after another took over) may both fire
the job planned for the same moment; the unique key lets exactly one insert, and the other
run does nothing. The insert is a transaction of its own, retried while SQLite is locked.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.exc import IntegrityError

from db.busy import retry_when_busy
from db.engine import AsyncSession, SessionMaker, upsert_insert
from db.models import JobRun


class AlreadyRanError(Exception):
    """Another run of the same job and planned time was recorded first."""


async def claim_run(
    session_maker: SessionMaker, *, job: str, scheduled_for: datetime, runner: str, now: datetime
) -> bool:
    """Record this run of `job` planned for `scheduled_for`; False when another run of the
    same job and time was recorded first (then this one must do nothing)."""
    planned = scheduled_for.astimezone(UTC)

    async def transaction() -> bool:
        async with session_maker() as session:
            insert = upsert_insert(session)
            statement = (
                insert(JobRun)
                .values(job=job, scheduled_for=planned, started_at=now, runner=runner[:80])
                .on_conflict_do_nothing(index_elements=["job", "scheduled_for"])
            )
            result = await session.exec(statement)
            await session.commit()
        return bool(result.rowcount)

    return await retry_when_busy(transaction)


async def record_run(
    session: AsyncSession, *, job: str, scheduled_for: datetime, runner: str, now: datetime
) -> None:
    """Add this run's row to `session`'s transaction, so the run's own writes and its fence
    commit together or not at all; AlreadyRanError (the transaction is then spoiled: roll it
    back) when another run of the same job and time holds the key. On PostgreSQL a concurrent
    run's insert waits here until the first commits or rolls back."""
    await session.flush()  # the run's own rows first: a failure below is the fence's alone
    session.add(
        JobRun(
            job=job,
            scheduled_for=scheduled_for.astimezone(UTC),
            started_at=now,
            runner=runner[:80],
        )
    )
    try:
        await session.flush()
    except IntegrityError as error:
        raise AlreadyRanError(job) from error
