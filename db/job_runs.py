"""The fence of scheduled runs: a (job, scheduled_for) row inserted before a run does anything.

Two leaders during a split brain (a stalled one waking after another took over) may both fire
the job planned for the same moment; the unique key lets exactly one insert, and the other
run does nothing. The insert is a transaction of its own, retried while SQLite is locked.
"""

from __future__ import annotations

from datetime import UTC, datetime

from db.busy import retry_when_busy
from db.engine import SessionMaker, upsert_insert
from db.models import JobRun


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
