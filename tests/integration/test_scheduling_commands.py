"""/schedule and /holiday, the scheduler's wiring, catch-up at start and unreachable people."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, time
from unittest.mock import AsyncMock
from zoneinfo import ZoneInfo

import pytest
from aiogram.methods import GetUpdates
from sqlmodel import select

from bot.app.config import Settings
from bot.app.factory import after_first_poll
from bot.core.clock import FrozenClock
from bot.delivery.worker import DeliveryWorker
from bot.roadmap.demo import seed_demo
from bot.scheduling.jobs import Jobs, LateScheduler, build_scheduler
from bot.scheduling.schedule import WeeklyTime, round_schedule
from bot.telegram.heartbeat import PollingStarted
from db.engine import SessionMaker
from db.models import (
    AuditLog,
    CalendarOverride,
    Department,
    Notification,
    Person,
    RoundRequest,
    StatusRound,
)
from tests.helpers.chat import ADMIN_ID, Chatter, only_text, register_admin, rows
from tests.helpers.mocked_bot import MockedBot


def next_round(scheduler: LateScheduler) -> datetime:
    assert scheduler.scheduler is not None
    trigger = scheduler.scheduler.get_job("round").trigger
    moment: datetime = trigger.get_next_fire_time(None, datetime(2025, 3, 3, tzinfo=UTC))
    return moment.astimezone(UTC)


async def test_schedule_command_persists_and_reschedules(
    chatter: Chatter, session_maker: SessionMaker, settings: Settings, jobs: Jobs
) -> None:
    await register_admin(chatter, "ru")
    current = only_text(await chatter.send(ADMIN_ID, "/schedule"))
    assert "понедельник 10:00" in current
    scheduler = LateScheduler(jobs)
    chatter.dispatcher["scheduler"] = scheduler
    listening = asyncio.Event()
    scheduler.start_after(listening)
    listening.set()
    saved = only_text(await chatter.send(ADMIN_ID, "/schedule tue,fri 11:30"))
    assert "вторник, пятница 11:30" in saved
    assert next_round(scheduler) == datetime(2025, 3, 4, 6, 30, tzinfo=UTC)
    async with session_maker() as session:
        assert str(await round_schedule(session, settings.round_schedule)) == "tue,fri 11:30"
    wrong = only_text(await chatter.send(ADMIN_ID, "/schedule every day"))
    assert "/schedule" in wrong
    actions = [e.action for e in await rows(session_maker, AuditLog)]
    assert actions.count("schedule.rounds") == 1
    scheduler.shutdown()


async def test_a_schedule_sent_before_the_scheduler_starts_waits_for_it(
    chatter: Chatter, jobs: Jobs
) -> None:
    """The scheduler starts after the first poll: a /schedule in that moment must not be
    lost between the start reading the old schedule and the command saving the new one."""
    await register_admin(chatter, "ru")
    scheduler = LateScheduler(jobs)
    chatter.dispatcher["scheduler"] = scheduler
    listening = asyncio.Event()
    scheduler.start_after(listening)
    sending = asyncio.create_task(chatter.send(ADMIN_ID, "/schedule wed 15:00"))
    for _turn in range(20):  # not a wait: hands the loop to the task, to run as far as it can
        await asyncio.sleep(0)
    assert not sending.done()  # saved, and waiting to move the job
    assert scheduler.scheduler is None
    listening.set()
    assert "среда 15:00" in only_text(await sending)
    assert next_round(scheduler) == datetime(2025, 3, 5, 10, 0, tzinfo=UTC)
    scheduler.shutdown()


async def test_holiday_command(chatter: Chatter, session_maker: SessionMaker) -> None:
    await register_admin(chatter, "ru")
    listing = only_text(await chatter.send(ADMIN_ID, "/holiday"))
    assert "8 марта 2025" in listing.replace("\u202f", " ") or "10 марта 2025" in listing.replace(
        "\u202f", " "
    )
    await chatter.send(ADMIN_ID, "/holiday add 2025-04-02")
    await chatter.send(ADMIN_ID, "/holiday remove 29.03.2025")
    overrides = {o.day: o.day_off for o in await rows(session_maker, CalendarOverride)}
    assert overrides == {date(2025, 4, 2): True, date(2025, 3, 29): False}
    assert "/holiday" in only_text(await chatter.send(ADMIN_ID, "/holiday add 2025-02-30"))


async def test_scheduler_jobs_fire_in_almaty_time(jobs: Jobs) -> None:
    scheduler = build_scheduler(jobs, WeeklyTime(("mon",), time(10)))
    start = datetime(2025, 3, 3, 0, 0, tzinfo=UTC)
    scan = scheduler.get_job("daily_scan").trigger.get_next_fire_time(None, start)
    assert scan.astimezone(UTC) == datetime(2025, 3, 3, 4, 30, tzinfo=UTC)  # 09:30 UTC+5
    round_ = scheduler.get_job("round").trigger.get_next_fire_time(None, start)
    assert round_.astimezone(UTC) == datetime(2025, 3, 3, 5, 0, tzinfo=UTC)


async def test_catch_up_runs_a_missed_round_once(
    jobs: Jobs, session_maker: SessionMaker, clock: FrozenClock
) -> None:
    async with session_maker() as session:  # the roadmap was in the bot on Saturday
        saturday = datetime(2025, 3, 1, 6, 0, tzinfo=UTC)
        session.add(
            Department(code="edu", name_kk="Білім", name_ru="Образование", created_at=saturday)
        )
        await session.commit()
    clock.set(datetime(2025, 3, 4, 8, 0, tzinfo=UTC))  # Tuesday 13:00: Monday's round was missed
    await jobs.catch_up()
    await jobs.catch_up()  # a second restart the same day
    rounds = await rows(session_maker, StatusRound)
    assert [r.trigger for r in rounds] == ["schedule"]


async def test_a_fresh_install_has_no_missed_round(
    jobs: Jobs, session_maker: SessionMaker, clock: FrozenClock
) -> None:
    """The demo loaded on Tuesday: Monday's round was due before the roadmap was in the bot."""
    tuesday = datetime(2025, 3, 4, 8, 0, tzinfo=UTC)
    clock.set(tuesday)
    await jobs.catch_up()  # an empty database
    async with session_maker() as session:
        await seed_demo(session, now=tuesday, tz=ZoneInfo("Asia/Almaty"))
    await jobs.catch_up()
    assert await rows(session_maker, StatusRound) == []
    assert await rows(session_maker, RoundRequest) == []


async def test_blocked_person_is_reported_once_and_unblocked_when_they_write(
    chatter: Chatter,
    session_maker: SessionMaker,
    jobs: Jobs,
    outbox: DeliveryWorker,
    bot: MockedBot,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from aiogram.exceptions import TelegramForbiddenError
    from aiogram.methods import SendMessage

    await register_admin(chatter, "ru")
    await chatter.send(ADMIN_ID, "/adddept edu Білім | Образование")
    await chatter.send(ADMIN_ID, "/additem 1.1 edu 2025-05-01 Мектеп | Школа")
    token = only_text(await chatter.send(ADMIN_ID, "/invite edu")).split("?start=")[1].split()[0]
    await chatter.send(5005, f"/start {token}")
    await chatter.press(5005, "lang:ru")
    outbox.on_unreachable = jobs.notify_unreachable
    original = bot.recording._answer

    def refuse_member(method):  # type: ignore[no-untyped-def]
        if isinstance(method, SendMessage) and int(method.chat_id) == 5005:
            raise TelegramForbiddenError(
                method=method, message="Forbidden: bot was blocked by the user"
            )
        return original(method)

    monkeypatch.setattr(bot.recording, "_answer", refuse_member)
    await chatter.send(ADMIN_ID, "/request_now")
    await chatter.send(ADMIN_ID, "/request_now")
    await outbox.drain_all()
    notices = [n for n in await rows(session_maker, Notification) if n.kind == "unreachable"]
    assert len(notices) == 1 and notices[0].state == "sent"
    member = next(p for p in await rows(session_maker, Person) if p.telegram_id == 5005)
    assert member.blocked_bot is True
    monkeypatch.setattr(bot.recording, "_answer", original)
    await chatter.send(5005, "/help")
    async with session_maker() as session:
        member = (await session.exec(select(Person).where(Person.telegram_id == 5005))).one()
    assert member.blocked_bot is False


async def test_catch_up_sends_a_missed_digest_once_in_its_week(
    chatter: Chatter, jobs: Jobs, session_maker: SessionMaker, clock: FrozenClock
) -> None:
    await register_admin(chatter, "ru")
    await chatter.send(ADMIN_ID, "/adddept edu Білім | Образование")
    await chatter.send(ADMIN_ID, "/additem 1.1 edu 2025-05-01 Мектеп | Школа")
    clock.set(datetime(2025, 3, 8, 6, 0, tzinfo=UTC))  # Saturday: Friday's digest was missed
    await jobs.catch_up()
    await jobs.catch_up()
    digests = [n for n in await rows(session_maker, Notification) if n.kind == "digest"]
    assert digests and len({n.idempotency_key for n in digests}) == len(digests)
    assert all(n.idempotency_key.startswith("digest:2025-W10:") for n in digests)
    clock.set(datetime(2025, 3, 10, 6, 0, tzinfo=UTC))  # Monday: a new week, nothing to catch up
    before = len(await rows(session_maker, Notification))
    await jobs.catch_up()
    after = [n for n in await rows(session_maker, Notification) if n.kind == "digest"]
    assert len(after) == len(digests) and before >= len(digests)


async def test_the_start_catches_up_only_once_its_first_poll_is_out(
    jobs: Jobs, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A restarted bot listens first: the scheduler and the catch-up (a round, a digest, the
    day's full alert scan) wait for the first getUpdates, not for the other start-up calls."""
    bot = MockedBot()
    polling = PollingStarted()
    bot.session.middleware(polling)
    catch_up = AsyncMock()
    monkeypatch.setattr(jobs, "catch_up", catch_up)
    scheduler = LateScheduler(jobs)
    starting = asyncio.create_task(after_first_poll(polling, jobs, scheduler))
    await bot.get_me()
    await bot.delete_webhook()
    for _turn in range(5):  # not a wait: hands the loop to the task, to run as far as it can
        await asyncio.sleep(0)
    assert not polling.event.is_set()
    assert not starting.done()
    assert scheduler.scheduler is None
    catch_up.assert_not_awaited()

    await bot(GetUpdates(timeout=10))
    await starting
    catch_up.assert_awaited_once()
    assert scheduler.scheduler is not None and scheduler.scheduler.running
    assert {job.id for job in scheduler.scheduler.get_jobs()} >= {"round", "digest", "alerts"}
    scheduler.shutdown()


async def test_a_scheduler_that_cannot_start_says_so_in_the_log(
    jobs: Jobs, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """It starts in a background task: without its own log line the failure would show only
    at shutdown, while the bot ran without rounds, reminders or digests."""

    def broken(_jobs: Jobs, _schedule: WeeklyTime) -> None:
        raise RuntimeError("no scheduler today")

    monkeypatch.setattr("bot.scheduling.jobs.build_scheduler", broken)
    scheduler = LateScheduler(jobs)
    listening = asyncio.Event()
    listening.set()
    with pytest.raises(RuntimeError):
        await scheduler.start_after(listening)
    assert "The scheduler did not start" in caplog.text
    assert scheduler.scheduler is None
