"""One leader among replicas (bot/scheduling/leader.py), the fence of scheduled runs
(bot/scheduling/fence.py) and `/schedule` reaching the leader by NOTIFY.

The leader tests run against the PostgreSQL server of TEST_DATABASE_URL, each with a lock key
and a channel of its own (the server is shared); the fence runs on both backends.
"""

from __future__ import annotations

import asyncio
import os
import random
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, time, timedelta

import asyncpg
import pytest
from aiogram.utils.i18n import I18n
from sqlmodel import select

from bot.app.config import Settings
from bot.core.clock import FrozenClock
from bot.delivery.worker import DeliveryWorker
from bot.scheduling.duties import LeaderDuties
from bot.scheduling.fence import PLANNED_RUN, Fence, Record, planned_time_executor
from bot.scheduling.jobs import Jobs, LateScheduler, build_scheduler
from bot.scheduling.leader import PostgresLeader, SoleLeader, asyncpg_dsn
from bot.scheduling.schedule import ROUND_SCHEDULE_KEY, WeeklyTime
from db.engine import SessionMaker
from db.job_runs import claim_run
from db.models import AppSetting, JobRun, StatusRound

needs_postgres = pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL"), reason="TEST_DATABASE_URL is not set"
)


class RecordedDuties:
    """Duties that only remember what they were told."""

    def __init__(self) -> None:
        self.started = 0
        self.stopped = 0
        self.notices: list[str] = []
        self.heard = asyncio.Event()

    @property
    def running(self) -> bool:
        return self.started > self.stopped

    async def start(self) -> None:
        self.started += 1

    def stop(self) -> None:
        self.stopped += 1

    async def notice(self, message: str) -> None:
        self.notices.append(message)
        self.heard.set()


class ManualClock:
    """Monotonic seconds that move only when told."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def dsn() -> str:
    return asyncpg_dsn(os.environ["TEST_DATABASE_URL"])


@pytest.fixture
async def make_leader(dsn: str) -> AsyncIterator[Callable[..., PostgresLeader]]:
    """Leaders on one lock key and channel of this test's own, closed afterwards."""
    key = random.randint(1, 2**62)
    channel = f"test_{uuid.uuid4().hex[:12]}"
    made: list[PostgresLeader] = []

    def make(**kwargs: object) -> PostgresLeader:
        leader = PostgresLeader(dsn, key=key, channel=channel, **kwargs)  # type: ignore[arg-type]
        made.append(leader)
        return leader

    yield make
    for leader in made:
        await leader.close()


async def elect(leader: PostgresLeader, duties: RecordedDuties) -> None:
    """What `run` does before its first pause."""
    leader._duties = duties
    await leader.check()


async def until(condition: Callable[[], Awaitable[bool]], seconds: float = 10.0) -> None:
    """Poll a condition that another process (the server) makes true; fail after `seconds`."""
    deadline = asyncio.get_running_loop().time() + seconds
    while not await condition():
        assert asyncio.get_running_loop().time() < deadline, "the condition never held"
        await asyncio.sleep(0.05)


@needs_postgres
async def test_of_two_replicas_exactly_one_leads(
    make_leader: Callable[..., PostgresLeader],
) -> None:
    first, second = make_leader(), make_leader()
    first_duties, second_duties = RecordedDuties(), RecordedDuties()
    await elect(first, first_duties)
    await elect(second, second_duties)
    for _turn in range(3):
        await first.check()
        await second.check()
    assert (first.leading, second.leading) == (True, False)
    assert (first_duties.started, second_duties.started) == (1, 0)


@needs_postgres
async def test_when_the_leaders_connection_dies_it_stops_and_the_other_takes_over(
    make_leader: Callable[..., PostgresLeader], dsn: str
) -> None:
    first, second = make_leader(), make_leader()
    first_duties, second_duties = RecordedDuties(), RecordedDuties()
    await elect(first, first_duties)
    await elect(second, second_duties)
    assert first.leading and first_duties.running
    pid = first._connection.get_server_pid()
    admin = await asyncpg.connect(dsn)
    try:
        await admin.fetchval("SELECT pg_terminate_backend($1)", pid)
    finally:
        await admin.close()

    async def deposed() -> bool:  # at once, by the connection's end: no check needed
        return not first_duties.running

    await until(deposed)
    assert not first.leading and first_duties.stopped == 1

    async def took_over() -> bool:
        await second.check()
        return second.leading

    await until(took_over)
    assert second_duties.running
    await first.check()  # reconnected: a follower now
    assert not first.leading and first_duties.started == 1


@needs_postgres
async def test_a_leader_trusts_itself_only_for_a_while_then_asks_the_server(
    make_leader: Callable[..., PostgresLeader],
) -> None:
    monotonic = ManualClock()
    leader = make_leader(monotonic=monotonic)
    await elect(leader, RecordedDuties())
    assert leader.leading
    monotonic.now += 2 * leader.interval  # the check loop was held up
    assert not leader.leading
    assert await leader.confirm()  # still holding the lock: confirmed, leading again
    assert leader.leading


@needs_postgres
async def test_a_stalled_leader_loses_the_lock_within_one_lease(
    make_leader: Callable[..., PostgresLeader],
) -> None:
    """The server ends the stalled leader's idle session (idle_session_timeout = one lease):
    the follower takes over, and the old leader, waking, finds out and stops."""
    stalled, follower = make_leader(interval=0.4), make_leader(interval=0.4)
    stalled_duties, follower_duties = RecordedDuties(), RecordedDuties()
    await elect(stalled, stalled_duties)
    await elect(follower, follower_duties)
    assert stalled.leading
    began = asyncio.get_running_loop().time()

    async def took_over() -> bool:
        await follower.check()  # the stalled one does not check at all
        return follower.leading

    await until(took_over)
    assert asyncio.get_running_loop().time() - began < stalled.lease + 3 * follower.interval
    assert not stalled.leading  # its own trust ran out before the server let anyone in
    await stalled.check()
    assert stalled_duties.stopped == 1 and not stalled._holding


@needs_postgres
async def test_an_announcement_reaches_the_leader_only(
    make_leader: Callable[..., PostgresLeader],
) -> None:
    leader, follower = make_leader(), make_leader()
    leader_duties, follower_duties = RecordedDuties(), RecordedDuties()
    await elect(leader, leader_duties)
    await elect(follower, follower_duties)
    await follower.announce("outbox")
    await asyncio.wait_for(leader_duties.heard.wait(), timeout=10)
    assert leader_duties.notices == ["outbox"]
    assert follower_duties.notices == []


async def test_on_sqlite_the_one_process_leads_and_hears_itself() -> None:
    leader = SoleLeader()
    duties = RecordedDuties()
    leading = asyncio.create_task(leader.run(duties))
    await asyncio.sleep(0)  # not a wait: hands the loop to the task
    assert leader.leading and await leader.confirm() and duties.running
    await leader.announce("schedule")
    assert duties.notices == ["schedule"]
    assert not leading.done()  # it leads until the bot stops
    leading.cancel()


async def test_two_runs_of_one_job_and_time_make_one_effect(
    session_maker: SessionMaker, clock: FrozenClock
) -> None:
    """Two leaders during a split brain fire the same planned round at once: one goes on."""
    planned = datetime(2025, 3, 3, 5, 0, tzinfo=UTC)
    effects: list[str] = []

    def fence(runner: str) -> Fence:
        return Fence(
            session_maker=session_maker, leadership=SoleLeader(), clock=clock, runner=runner
        )

    async def effect() -> None:
        effects.append("round")

    first = fence("a").guard("round", effect)
    second = fence("b").guard("round", effect)
    token = PLANNED_RUN.set(planned)
    try:
        await asyncio.gather(first(), second())
    finally:
        PLANNED_RUN.reset(token)
    assert effects == ["round"]
    # Another planned time, or another job, is another run.
    assert await claim_run(
        session_maker,
        job="round",
        scheduled_for=planned + timedelta(days=7),
        runner="a",
        now=planned,
    )
    assert await claim_run(
        session_maker, job="digest", scheduled_for=planned, runner="a", now=planned
    )
    async with session_maker() as session:
        runs = (await session.exec(select(JobRun))).all()
    keys = sorted((run.job, run.scheduled_for.astimezone(UTC)) for run in runs)
    assert keys == [
        ("digest", planned),
        ("round", planned),
        ("round", planned + timedelta(days=7)),
    ]


async def test_a_replica_that_is_not_the_leader_runs_nothing(
    session_maker: SessionMaker, clock: FrozenClock
) -> None:
    class Follower(SoleLeader):
        leading = False

        async def confirm(self) -> bool:
            return False

    fence = Fence(session_maker=session_maker, leadership=Follower(), clock=clock, runner="f")
    assert not await fence.admit("round", clock.now())
    async with session_maker() as session:
        assert (await session.exec(select(JobRun))).all() == []


async def test_the_scheduler_hands_each_job_its_planned_fire_time() -> None:
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    seen: list[datetime | None] = []
    done = asyncio.Event()

    async def job() -> None:
        seen.append(PLANNED_RUN.get())
        done.set()

    planned = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=30)
    scheduler = AsyncIOScheduler(timezone=UTC, executors={"default": planned_time_executor()})
    scheduler.add_job(job, "date", run_date=planned, misfire_grace_time=3600)
    scheduler.start()
    try:
        await asyncio.wait_for(done.wait(), timeout=10)
    finally:
        scheduler.shutdown(wait=False)
    assert seen == [planned]
    assert PLANNED_RUN.get() is None  # set for the job's task only


@needs_postgres
@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
async def test_schedule_on_a_follower_moves_the_leaders_round_job(
    make_leader: Callable[..., PostgresLeader],
    jobs: Jobs,
    outbox: DeliveryWorker,
    session_maker: SessionMaker,
    settings: Settings,
    clock: FrozenClock,
) -> None:
    leader, follower = make_leader(), make_leader()
    leader_scheduler = LateScheduler(jobs, announce=leader.announce)
    follower_scheduler = LateScheduler(jobs, announce=follower.announce)
    duties = LeaderDuties(jobs, leader_scheduler, outbox)
    leader._duties = duties
    await leader.check()
    follower._duties = LeaderDuties(jobs, follower_scheduler, outbox)
    await follower.check()
    try:

        async def started() -> bool:
            return leader_scheduler.scheduler is not None

        await until(started)
        assert follower_scheduler.scheduler is None
        moved = WeeklyTime(("wed",), time(15))
        async with session_maker() as session:  # what /schedule stores
            session.add(
                AppSetting(key=ROUND_SCHEDULE_KEY, value=str(moved), updated_at=clock.now())
            )
            await session.commit()
        await follower_scheduler.reschedule_rounds(moved)

        async def reloaded() -> bool:
            scheduler = leader_scheduler.scheduler
            assert scheduler is not None
            trigger = scheduler.get_job("round").trigger
            fire = trigger.get_next_fire_time(None, datetime(2025, 3, 3, tzinfo=UTC))
            return bool(fire.astimezone(UTC) == datetime(2025, 3, 5, 10, 0, tzinfo=UTC))

        await until(reloaded)
    finally:
        duties.stop()
        await asyncio.sleep(0)  # let the cancelled outbox give its claims back


async def test_every_scheduled_job_runs_once_when_two_leaders_fire_it(
    session_maker: SessionMaker,
    settings: Settings,
    clock: FrozenClock,
    i18n: I18n,
    outbox: DeliveryWorker,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The round, the daily scan, the digest, the alert scans and the nightly scan: each built
    by two replicas' schedulers and fired by both for one planned time, runs once."""
    effects: Counter[str] = Counter()

    def replica(runner: str) -> Jobs:
        jobs = Jobs(
            session_maker=session_maker, i18n=i18n, settings=settings, clock=clock, outbox=outbox
        )
        for method in ("daily_scan", "weekly_digest", "chair_alerts"):

            async def effect(name: str = method, **_: object) -> None:
                effects[name] += 1

            monkeypatch.setattr(jobs, method, effect)

        async def round_effect(fence: Record | None = None) -> None:
            async with session_maker() as session:  # the round's transaction, fence and all
                if fence is not None:
                    await fence(session)
                await session.commit()
            effects["scheduled_round"] += 1

        monkeypatch.setattr(jobs, "scheduled_round", round_effect)
        jobs.fence = Fence(
            session_maker=session_maker, leadership=SoleLeader(), clock=clock, runner=runner
        )
        return jobs

    schedulers = [build_scheduler(replica(name), WeeklyTime(("mon",), time(10))) for name in "ab"]
    ids = [job.id for job in schedulers[0].get_jobs()]
    assert set(ids) == {"round", "daily_scan", "digest", "alerts", "alerts_nightly"}
    planned = datetime(2025, 3, 3, 5, 0, tzinfo=UTC)
    token = PLANNED_RUN.set(planned)
    try:
        for job_id in ids:
            await asyncio.gather(*(s.get_job(job_id).func() for s in schedulers))
    finally:
        PLANNED_RUN.reset(token)
    # The nightly scan is the full alert scan: chair_alerts twice in all, once per job.
    assert effects == {
        "scheduled_round": 1,
        "daily_scan": 1,
        "weekly_digest": 1,
        "chair_alerts": 2,
    }
    async with session_maker() as session:
        assert len((await session.exec(select(JobRun))).all()) == len(ids)


@needs_postgres
@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
async def test_a_deposed_leader_stops_its_scheduler_and_outbox_at_once(
    make_leader: Callable[..., PostgresLeader], jobs: Jobs, outbox: DeliveryWorker, dsn: str
) -> None:
    leader = make_leader()
    scheduler = LateScheduler(jobs)
    duties = LeaderDuties(jobs, scheduler, outbox)
    leader._duties = duties
    await leader.check()
    await duties.caught_up()
    assert scheduler.scheduler is not None and scheduler.scheduler.running
    assert duties.running
    running = scheduler.scheduler
    admin = await asyncpg.connect(dsn)
    try:
        await admin.fetchval("SELECT pg_terminate_backend($1)", leader._connection.get_server_pid())
    finally:
        await admin.close()

    async def deposed() -> bool:
        return not duties.running

    await until(deposed)
    assert scheduler.scheduler is None and not running.running
    await duties.settle()  # the outbox stopped and gave its claims back


async def test_two_leaders_firing_the_weekly_round_make_one_round(
    session_maker: SessionMaker, settings: Settings, clock: FrozenClock, i18n: I18n
) -> None:
    def replica(runner: str) -> Jobs:
        jobs = Jobs(session_maker=session_maker, i18n=i18n, settings=settings, clock=clock)
        jobs.fence = Fence(
            session_maker=session_maker, leadership=SoleLeader(), clock=clock, runner=runner
        )
        return jobs

    planned = datetime(2025, 3, 3, 5, 0, tzinfo=UTC)
    await asyncio.gather(replica("a").fenced_round(planned), replica("b").fenced_round(planned))
    async with session_maker() as session:
        assert len((await session.exec(select(StatusRound))).all()) == 1
        assert len((await session.exec(select(JobRun))).all()) == 1


async def test_a_round_cut_off_before_its_commit_leaves_no_fence_behind(
    session_maker: SessionMaker, settings: Settings, clock: FrozenClock, i18n: I18n
) -> None:
    """The fence row is in the round's own transaction: a leader killed before the round was
    committed leaves nothing that would stop the next leader's catch-up."""
    fence = Fence(session_maker=session_maker, leadership=SoleLeader(), clock=clock, runner="a")
    planned = datetime(2025, 3, 3, 5, 0, tzinfo=UTC)

    async def cut_off(record: Record) -> None:
        async with session_maker() as session:
            await record(session)
            raise ConnectionResetError("the process died here")

    with pytest.raises(ConnectionResetError):
        await fence.within("round", planned, cut_off)
    jobs = Jobs(session_maker=session_maker, i18n=i18n, settings=settings, clock=clock)
    jobs.fence = fence
    await jobs.fenced_round(planned)
    async with session_maker() as session:
        assert len((await session.exec(select(StatusRound))).all()) == 1
