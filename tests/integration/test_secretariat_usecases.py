"""The secretariat's use cases called directly, as the web dashboard and the scheduler will:
plain arguments in, a plain outcome out, each in its own transaction, signals recorded."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest
from aiogram.utils.i18n import I18n
from sqlmodel import select

from bot.core.clock import FrozenClock
from bot.core.errors import UnchangedError, UnknownDepartmentError, UnknownItemError
from bot.core.weekly import WeeklyTime
from bot.scheduling.jobs import Jobs
from bot.usecases import imports, roadmap, rounds
from bot.usecases.caller import Caller, Policy, Refused
from bot.usecases.ports import UseCaseContext
from db.engine import SessionMaker
from db.models import AuditLog, Department, Notification, Person, RoadmapItem, Role, StatusRound
from tests.data.spreadsheets.workbooks import roadmap_rows, xlsx
from tests.helpers.chat import rows
from tests.helpers.import_dialog import seed_departments

ALMATY_TZ = "Asia/Almaty"


class RecordedSignals:
    def __init__(self) -> None:
        self.calls: list[str] = []

    def alert_soon(self) -> None:
        self.calls.append("alert_soon")

    def wake_outbox(self) -> None:
        self.calls.append("wake_outbox")


@pytest.fixture
def signals() -> RecordedSignals:
    return RecordedSignals()


@pytest.fixture
def ctx(
    session_maker: SessionMaker, clock: FrozenClock, i18n: I18n, signals: RecordedSignals
) -> UseCaseContext:
    from zoneinfo import ZoneInfo

    return UseCaseContext(
        session_maker=session_maker,
        clock=clock,
        tz=ZoneInfo(ALMATY_TZ),
        i18n=i18n,
        signals=signals,
    )


@pytest.fixture
async def caller(ctx: UseCaseContext, clock: FrozenClock) -> Caller:
    """The secretariat, with the demo's departments, one item, and a member in edu."""
    departments = await seed_departments(ctx.session_maker, clock)
    async with ctx.session_maker() as session:
        secretary = Person(
            telegram_id=10,
            display_name="Secretary",
            role=Role.SECRETARIAT,
            created_at=clock.now(),
            updated_at=clock.now(),
        )
        member = Person(
            telegram_id=11,
            display_name="Head",
            role=Role.MEMBER,
            department_id=departments["edu"],
            locale="ru",
            created_at=clock.now(),
            updated_at=clock.now(),
        )
        item = RoadmapItem(
            code="1.1.1",
            title_kk="Мектеп",
            title_ru="Школа",
            department_id=departments["edu"],
            deadline=date(2025, 9, 1),
            year=2025,
            created_at=clock.now(),
        )
        session.add_all([secretary, member, item])
        await session.commit()
    policy = Policy(
        admin_ids=frozenset(),
        invite_ttl=timedelta(days=7),
        round_schedule=WeeklyTime(("mon",), time(10)),
    )
    return Caller(ctx=ctx, policy=policy, person=secretary)


async def test_request_round_announces_before_queueing_and_wakes_the_outbox(
    caller: Caller, ctx: UseCaseContext, signals: RecordedSignals, session_maker: SessionMaker
) -> None:
    heard: list[int] = []

    async def announce(outcome: rounds.RoundOutcome) -> None:
        # The round is committed, its requests not queued yet.
        heard.append(len(await rows(session_maker, StatusRound)))
        assert await rows(session_maker, Notification) == []

    outcome = await rounds.request_round(
        ctx, actor=caller.actor, department_code="edu", announce=announce
    )
    assert not isinstance(outcome, Refused)
    assert heard == [1]
    assert outcome.people_count == 1
    assert [n.chat_id for n in await rows(session_maker, Notification)] == [11]
    assert signals.calls == ["wake_outbox"]  # one batch: woken once, after the commit


async def test_request_round_refuses_an_unknown_department_and_writes_nothing(
    caller: Caller, ctx: UseCaseContext, signals: RecordedSignals, session_maker: SessionMaker
) -> None:
    outcome = await rounds.request_round(ctx, actor=caller.actor, department_code="nosuch")
    assert isinstance(outcome, Refused)
    assert isinstance(outcome.error, UnknownDepartmentError)
    assert await rows(session_maker, StatusRound) == []
    assert signals.calls == []


async def test_the_weekly_round_is_the_same_use_case(
    caller: Caller,
    jobs: Jobs,
    monkeypatch: pytest.MonkeyPatch,
    session_maker: SessionMaker,
) -> None:
    triggers: list[str] = []
    request_round = rounds.request_round

    async def recorded(*args: object, **kwargs: object) -> object:
        triggers.append(str(kwargs["trigger"]))
        return await request_round(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr("bot.scheduling.jobs.request_round", recorded)
    assert await jobs.scheduled_round() > 0
    assert triggers == ["schedule"]
    (recorded_round,) = await rows(session_maker, StatusRound)
    assert recorded_round.trigger == "schedule" and recorded_round.queued_at is not None


async def test_move_deadline_and_assign_say_what_changed_or_why_not(
    caller: Caller, session_maker: SessionMaker
) -> None:
    moved = await roadmap.move_deadline(caller, "1.1.1", date(2025, 12, 1))
    assert isinstance(moved, roadmap.DeadlineMoved)
    assert (moved.change.old_deadline, moved.change.new_deadline) == (
        date(2025, 9, 1),
        date(2025, 12, 1),
    )
    again = await roadmap.move_deadline(caller, "1.1.1", date(2025, 12, 1))
    assert isinstance(again, Refused) and isinstance(again.error, UnchangedError)
    missing = await roadmap.move_deadline(caller, "9.9.9", date(2025, 12, 1))
    assert isinstance(missing, Refused) and isinstance(missing.error, UnknownItemError)

    assigned = await roadmap.assign_item(caller, "1.1.1", "culture")
    assert isinstance(assigned, roadmap.ItemOwned) and assigned.department.code == "culture"
    audit = [(e.action, e.details) for e in await rows(session_maker, AuditLog)]
    assert ("item.assign", "edu -> culture") in audit
    async with session_maker() as session:
        item = (await session.exec(select(RoadmapItem))).one()
        culture = (await session.exec(select(Department).where(Department.code == "culture"))).one()
    assert item.department_id == culture.id and item.deadline == date(2025, 12, 1)


async def test_apply_writes_only_what_the_dry_run_showed(
    caller: Caller, ctx: UseCaseContext, session_maker: SessionMaker
) -> None:
    data = xlsx(roadmap_rows(5))
    checked = await imports.check_import(ctx, data, "r.xlsx")
    assert isinstance(checked, imports.ImportChecked)
    assert checked.annotated is None  # no skipped or guessed rows: nothing to annotate
    assert len(checked.plan.new) == 4  # 1.1.1 is already there

    stale = await imports.apply_import(
        ctx, data, "r.xlsx", sheet=checked.sheet, digest="not the dry run", actor=caller.actor
    )
    assert isinstance(stale, imports.ImportChanged)
    assert stale.check.digest == checked.digest
    assert len(await rows(session_maker, RoadmapItem)) == 1

    applied = await imports.apply_import(
        ctx, data, "r.xlsx", sheet=checked.sheet, digest=checked.digest, actor=caller.actor
    )
    assert isinstance(applied, imports.ImportApplied)
    assert (applied.created, applied.skipped) == (4, 0)
    assert len(await rows(session_maker, RoadmapItem)) == 5
    (entry,) = [e for e in await rows(session_maker, AuditLog) if e.action == "import.apply"]
    assert entry.actor_telegram_id == 10 and entry.target == "r.xlsx"


async def test_a_file_that_is_no_road_map_is_refused_before_the_database(
    ctx: UseCaseContext,
) -> None:
    refused = await imports.check_import(ctx, b"", "empty.csv")
    assert isinstance(refused, imports.FileRefused)
