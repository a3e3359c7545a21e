"""The incremental chair-alert scan: marks written with the change, only marked items
re-assessed, the same states and alerts as a full scan, and never on the Save's path."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiogram.methods import EditMessageText
from aiogram.utils.i18n import I18n
from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

import bot.risk.alerts as alerts_module
from bot.app.config import Settings
from bot.core.clock import FrozenClock
from bot.core.errors import UnchangedError
from bot.core.parsing import NewItem
from bot.reporting.service import (
    Draft,
    NothingToConfirmError,
    confirm_unchanged,
    needs_explanation,
    save_update,
    start_round,
)
from bot.risk.alerts import enqueue_chair_alerts
from bot.risk.dismissals import DismissRefusedError, dismiss_reason
from bot.risk.rules import DISMISSIBLE_REASONS, RiskReason, RiskThresholds
from bot.roadmap.service import add_item, assign_item, change_deadline
from bot.scheduling.jobs import NIGHTLY_ALERTS, Jobs, build_scheduler
from bot.scheduling.schedule import WeeklyTime
from bot.telegram.callbacks import DialogAction, OpenItem, PickCause, PickStatus
from db import queries
from db.engine import SessionMaker, create_engine, create_session_maker
from db.models import (
    ItemRiskState,
    Notification,
    Person,
    RiskDirty,
    RiskEvent,
    RoadmapItem,
    Role,
    StatusUpdate,
)
from tests.helpers.chat import ADMIN_ID, Chatter, invite_token, only_text, register_admin, rows
from tests.helpers.databases import migrated_database
from tests.helpers.risk_world import NOW, THRESHOLDS, TODAY, TZ, World, build_world

BUILD_MEMBER, SECRETARY = 901, 950
CHAIRS = ((5001, "ru"), (5002, "kk"))


async def populate(session: AsyncSession) -> World:
    """The risk world, a member in each department, a secretary and two chairs."""
    world = await build_world(session)
    people = [
        (BUILD_MEMBER, Role.MEMBER, world.departments["build"].id, "ru"),
        (SECRETARY, Role.SECRETARIAT, None, "ru"),
        *((telegram_id, Role.CHAIR, None, locale) for telegram_id, locale in CHAIRS),
    ]
    for telegram_id, role, department_id, locale in people:
        session.add(
            Person(
                telegram_id=telegram_id,
                display_name=f"Person {telegram_id}",
                role=role,
                department_id=department_id,
                locale=locale,
                created_at=NOW,
                updated_at=NOW,
            )
        )
    await session.commit()
    return world


async def scan(
    session: AsyncSession, i18n: I18n, now: datetime, *, only_changed: bool, cap: int = 2
) -> int:
    return await enqueue_chair_alerts(
        session,
        i18n=i18n,
        today=now.astimezone(TZ).date(),
        now=now,
        not_before=now,
        thresholds=THRESHOLDS,
        tz=TZ,
        hourly_cap=cap,
        only_changed=only_changed,
    )


async def marks(session: AsyncSession) -> list[tuple[int | None, int | None]]:
    found = await session.exec(select(RiskDirty).order_by(col(RiskDirty.id)))
    return [(mark.item_id, mark.department_id) for mark in found.all()]


async def forget_marks(session: AsyncSession) -> None:
    await session.exec(delete(RiskDirty))  # type: ignore[call-overload]
    await session.commit()


async def alert_rows(session: AsyncSession) -> list[Notification]:
    statement = select(Notification).where(Notification.kind == "alert")
    return list((await session.exec(statement.order_by(col(Notification.id)))).all())


# --- the marks ---------------------------------------------------------------------------


async def test_every_kind_of_change_marks_its_items_with_its_own_commit(
    session: AsyncSession,
) -> None:
    world = await populate(session)
    secretary = await queries.person_by_telegram_id(session, SECRETARY)
    member = await queries.person_by_telegram_id(session, BUILD_MEMBER)
    assert secretary is not None and member is not None
    build = world.departments["build"]
    item = world.items["2.1"]
    # The world's history went straight into the tables; the database marked each item with
    # an update (migration 0023), and nothing else.
    history = {update.item_id for update in (await session.exec(select(StatusUpdate))).all()}
    assert {item_id for item_id, _ in await marks(session)} == history
    assert all(department_id is None for _, department_id in await marks(session))
    await forget_marks(session)

    await start_round(session, actor=None, department=build, now=NOW, today=TODAY)
    await session.commit()
    assert await marks(session) == [(None, build.id)]  # a new request: the whole department

    draft = Draft(item_id=item.id, status="on_track", progress=50)  # type: ignore[arg-type]
    await save_update(session, person=member, draft=draft, now=NOW + timedelta(minutes=1))
    # the item, and the department: its request is answered, no longer a missed one
    assert (await marks(session))[1:] == [(item.id, None), (None, build.id)]

    later = NOW + timedelta(minutes=2)
    await confirm_unchanged(session, person=member, item_id=item.id, now=later)  # type: ignore[arg-type]
    assert (await marks(session))[3:] == [(item.id, None)]  # answered already: the item only

    await change_deadline(
        session, actor=secretary, item_code="2.1", deadline=date(2026, 1, 31), now=later
    )
    await assign_item(session, actor=secretary, item_code="2.1", department_code="edu", now=later)
    await session.commit()
    await dismiss_reason(
        session,
        actor=secretary,
        item_code="2.4",
        reason=RiskReason.DEADLINE_MOVED,
        text="Перенос согласован",
        today=TODAY,
        now=later,
        thresholds=THRESHOLDS,
        tz=TZ,
    )
    new = NewItem("3.1", "build", date(2025, 12, 1), "Жаңа", "Новый")
    added, _department = await add_item(session, actor=secretary, new=new, now=later)
    await session.commit()
    assert (await marks(session))[4:] == [
        (item.id, None),
        (item.id, None),
        (world.items["2.4"].id, None),
        (added.id, None),
    ]


# --- the scan -----------------------------------------------------------------------------


async def test_the_incremental_scan_reads_only_marked_items_and_consumes_the_marks(
    session: AsyncSession, i18n: I18n
) -> None:
    world = await populate(session)
    assert await scan(session, i18n, NOW, only_changed=True) == 2  # first of the day: full
    await world.update("1.1", TODAY, "blocked", 45, "Дожди", "other")
    await forget_marks(session)  # a change the scan is not told of stays unseen
    assert await scan(session, i18n, NOW, only_changed=True) == 0
    state = await session.get(ItemRiskState, world.items["1.1"].id)
    assert state is None  # healthy when last assessed

    await queries.mark_risk_dirty(session, now=NOW, item_ids=[world.items["1.1"].id])
    await session.commit()
    assert await scan(session, i18n, NOW, only_changed=True) == 2  # one alert per chair
    state = await session.get(ItemRiskState, world.items["1.1"].id)
    assert state is not None and state.state == "blocked"
    assert await marks(session) == []
    assert await scan(session, i18n, NOW, only_changed=True) == 0  # nothing marked, nothing done


async def test_a_mark_written_during_the_scan_waits_for_the_next_one(
    session: AsyncSession, session_maker: SessionMaker, i18n: I18n, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = await populate(session)
    await scan(session, i18n, NOW, only_changed=True)
    first, second = world.items["1.1"].id, world.items["2.5"].id
    await queries.mark_risk_dirty(session, now=NOW, item_ids=[first])
    await session.commit()
    real_assess = alerts_module.assess_items

    async def assess_while_a_save_commits(*args: Any, **kwargs: Any) -> Any:
        assert kwargs["item_ids"] == {first}
        async with session_maker() as other:  # a Save committing while the scan runs
            await queries.mark_risk_dirty(other, now=NOW, item_ids=[second])
            await other.commit()
        return await real_assess(*args, **kwargs)

    monkeypatch.setattr(alerts_module, "assess_items", assess_while_a_save_commits)
    await scan(session, i18n, NOW, only_changed=True)
    assert await marks(session) == [(second, None)]


async def test_a_request_mark_reassesses_what_requests_can_change(
    session: AsyncSession, i18n: I18n, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Requests count toward staleness only once the newest two are all unanswered: below
    that, only the department's items last seen stale are re-assessed; at it, every item."""
    world = await populate(session)
    await scan(session, i18n, NOW, only_changed=True)
    seen: list[Any] = []
    real_assess = alerts_module.assess_items

    async def spy(*args: Any, **kwargs: Any) -> Any:
        seen.append(kwargs["item_ids"])
        return await real_assess(*args, **kwargs)

    async def mark_build() -> None:
        await queries.mark_risk_dirty(session, now=NOW, department_ids=[build.id])
        await session.commit()
        await scan(session, i18n, NOW, only_changed=True)

    monkeypatch.setattr(alerts_module, "assess_items", spy)
    build = world.departments["build"]
    await mark_build()
    assert seen == [{world.items["2.1"].id}]  # the one stale item of the department

    await world.round_request("build", TODAY - timedelta(days=7), answered=False)
    await mark_build()
    assert seen[1:] == [{world.items["2.1"].id}]  # one missed request of two: still below
    await world.round_request("build", TODAY, answered=False)
    await mark_build()
    every = {item.id for item in world.items.values() if item.department_id == build.id}
    assert seen[2:] == [every] and len(every) == 6

    monkeypatch.setattr(alerts_module, "INCREMENTAL_LIMIT", 2)  # too many: one full scan
    await mark_build()
    assert seen[3] is None and await marks(session) == []


async def test_a_new_day_or_new_thresholds_make_the_next_scan_full(
    session: AsyncSession, i18n: I18n, monkeypatch: pytest.MonkeyPatch
) -> None:
    await populate(session)
    seen: list[Any] = []
    real_assess = alerts_module.assess_items

    async def spy(*args: Any, **kwargs: Any) -> Any:
        seen.append(kwargs["item_ids"])
        return await real_assess(*args, **kwargs)

    monkeypatch.setattr(alerts_module, "assess_items", spy)
    await scan(session, i18n, NOW, only_changed=True)
    await scan(session, i18n, NOW + timedelta(hours=5), only_changed=True)
    await scan(session, i18n, NOW + timedelta(days=1), only_changed=True)
    assert seen == [None, None]  # the first scan, and the next day's first
    await enqueue_chair_alerts(
        session,
        i18n=i18n,
        today=TODAY + timedelta(days=1),
        now=NOW + timedelta(days=1),
        not_before=NOW,
        thresholds=RiskThresholds(stale_days=30),
        tz=TZ,
        hourly_cap=2,
        only_changed=True,
    )
    assert seen == [None, None, None]


# --- incremental == full ------------------------------------------------------------------

Op = tuple[Any, ...]
STATUSES = ("on_track", "on_track", "at_risk", "blocked", "done")
SEEDS, BATCHES = 6, 20


def plan_batch(rng: random.Random, codes: list[str], now: datetime) -> tuple[list[Op], datetime]:
    """A few random changes, each with its moment: the same list is applied to both twins."""
    ops: list[Op] = []
    if rng.random() < 0.1:  # a new day: its first scan is full in both twins
        now = datetime.combine(
            now.astimezone(TZ).date() + timedelta(days=rng.randint(1, 9)), time(9), tzinfo=TZ
        ).astimezone(UTC)
    for _ in range(rng.randint(1, 5)):
        now += timedelta(minutes=rng.randint(1, 40))
        code = rng.choice(codes)
        kind = rng.choice(
            ("save", "save", "confirm", "deadline", "assign", "round", "round", "dismiss", "add")
        )
        if kind == "save":
            ops.append((kind, now, code, rng.choice(STATUSES), rng.randrange(0, 101, 10)))
        elif kind == "deadline":
            ops.append((kind, now, code, rng.randint(-30, 200)))
        elif kind in ("assign", "round"):
            ops.append((kind, now, code, rng.choice(("edu", "build"))))
        elif kind == "dismiss":
            ops.append((kind, now, code, rng.randrange(len(DISMISSIBLE_REASONS))))
        elif kind == "add":
            codes.append(f"7.{len(codes)}")
            ops.append((kind, now, codes[-1], rng.choice(("edu", "build")), rng.randint(-10, 200)))
        else:
            ops.append((kind, now, code))
    return ops, now


async def apply_op(session: AsyncSession, op: Op) -> None:
    """One change through the service that makes it in the bot (and writes its marks)."""
    kind, now, code, *args = op
    today = now.astimezone(TZ).date()
    secretary = await queries.person_by_telegram_id(session, SECRETARY)
    assert secretary is not None
    item = await queries.item_by_code(session, code)
    assert item is not None and item.id is not None
    members = await session.exec(
        select(Person).where(Person.role == Role.MEMBER, Person.department_id == item.department_id)
    )
    member = members.first()
    try:
        if kind == "save" and member is not None:
            status, progress = args
            explained = needs_explanation(status)
            draft = Draft(
                item_id=item.id,
                status=status,
                progress=progress,
                cause="other" if explained else None,
                comment="Причина" if explained else None,
            )
            await save_update(session, person=member, draft=draft, now=now)
        elif kind == "confirm" and member is not None:
            await confirm_unchanged(session, person=member, item_id=item.id, now=now)
        elif kind == "deadline":
            deadline = today + timedelta(days=args[0])
            await change_deadline(
                session, actor=secretary, item_code=code, deadline=deadline, now=now
            )
        elif kind == "assign":
            await assign_item(
                session, actor=secretary, item_code=code, department_code=args[0], now=now
            )
            await session.commit()
        elif kind == "round":
            department = await queries.department_by_code(session, args[0])
            await start_round(session, actor=None, department=department, now=now, today=today)
            await session.commit()
        elif kind == "dismiss":
            await dismiss_one(session, code, args[0], today, now)
    except (UnchangedError, NothingToConfirmError):
        await session.rollback()


async def dismiss_one(
    session: AsyncSession, code: str, first: int, today: date, now: datetime
) -> None:
    """Dismiss one of the item's dismissible reasons, if it has one (trying from `first`)."""
    reasons = sorted(DISMISSIBLE_REASONS)
    for reason in reasons[first:] + reasons[:first]:
        secretary = await queries.person_by_telegram_id(session, SECRETARY)  # a rollback expires
        assert secretary is not None
        try:
            await dismiss_reason(
                session,
                actor=secretary,
                item_code=code,
                reason=RiskReason(reason),
                text="Согласовано",
                today=today,
                now=now,
                thresholds=THRESHOLDS,
                tz=TZ,
            )
        except DismissRefusedError:
            await session.rollback()
            continue
        return


async def apply_add(session: AsyncSession, op: Op) -> None:
    _kind, now, code, department, days = op
    secretary = await queries.person_by_telegram_id(session, SECRETARY)
    assert secretary is not None
    deadline = now.astimezone(TZ).date() + timedelta(days=days)
    new = NewItem(code, department, deadline, f"Тармақ {code}", f"Пункт {code}")
    await add_item(session, actor=secretary, new=new, now=now)
    await session.commit()


async def picture(session_maker: SessionMaker) -> tuple[list[Any], list[Any], list[Any]]:
    """What the chair was told and what they will be sent, as comparable values."""
    async with session_maker() as session:
        states = sorted(
            (s.item_id, s.state, s.reasons, s.episode, s.updated_at)
            for s in (await session.exec(select(ItemRiskState))).all()
        )
        sent = sorted(
            (n.idempotency_key, n.person_id, n.payload, n.not_before)
            for n in await alert_rows(session)
        )
        events = sorted((e.id, e.handled_at) for e in (await session.exec(select(RiskEvent))).all())
    return states, sent, events


@pytest.mark.parametrize("seed", range(SEEDS))
async def test_incremental_scans_tell_the_chair_exactly_what_full_scans_do(
    backend: str, database_template: str | None, tmp_path: Path, i18n: I18n, seed: int
) -> None:
    """Twin databases get the same random changes; one is scanned incrementally, the other
    fully; after every scan their states, alerts and handled risk events are the same."""
    async with (
        migrated_database(backend, tmp_path, "incremental", database_template) as incremental_url,
        migrated_database(backend, tmp_path, "full", database_template) as full_url,
    ):
        engines = [create_engine(incremental_url), create_engine(full_url)]
        try:
            makers = [create_session_maker(engine) for engine in engines]
            for maker in makers:
                async with maker() as session:
                    world = await populate(session)
            rng = random.Random(seed)
            codes = sorted(world.items)
            now = NOW
            alerted = 0
            for _batch in range(BATCHES):
                ops, now = plan_batch(rng, codes, now)
                counts = []
                for maker, only_changed in zip(makers, (True, False), strict=True):
                    async with maker() as session:
                        for op in ops:
                            await (apply_add if op[0] == "add" else apply_op)(session, op)
                        counts.append(await scan(session, i18n, now, only_changed=only_changed))
                assert counts[0] == counts[1]
                alerted += counts[0]
                assert await picture(makers[0]) == await picture(makers[1])
            async with makers[0]() as session:
                assert await marks(session) == []
            assert alerted > 0  # the changes did reach the chair
        finally:
            for engine in engines:
                await engine.dispose()


# --- the jobs ------------------------------------------------------------------------------


async def join(chatter: Chatter, user_id: int, target: str) -> None:
    token = invite_token(only_text(await chatter.send(ADMIN_ID, f"/invite {target}")))
    await chatter.send(user_id, f"/start {token}")
    await chatter.press(user_id, "lang:ru")


HEAD, CHAIR = 2003, 5001


async def test_save_only_kicks_the_scan_and_a_crash_before_it_still_alerts_after_restart(
    chatter: Chatter,
    jobs: Jobs,
    session_maker: SessionMaker,
    i18n: I18n,
    settings: Settings,
    clock: FrozenClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await register_admin(chatter, "ru")
    await chatter.send(ADMIN_ID, "/adddept build Құрылыс басқармасы | Управление строительства")
    await chatter.send(ADMIN_ID, "/additem 2.1 build 2025-09-01 Көпір | Мост")
    await join(chatter, HEAD, "build")
    await join(chatter, CHAIR, "chair")
    assert await jobs.chair_alerts() == 0  # today's full scan: nothing at risk yet
    (item,) = await rows(session_maker, RoadmapItem)

    kicked: list[bool] = []
    monkeypatch.setattr(jobs, "alert_soon", lambda: kicked.append(True))  # then the crash
    await chatter.press(HEAD, OpenItem(item_id=item.id).pack())
    await chatter.press(HEAD, PickStatus(item_id=item.id, status="blocked").pack())
    await chatter.send(HEAD, "10")
    await chatter.press(HEAD, PickCause(item_id=item.id, cause="contractor").pack())
    await chatter.send(HEAD, "Подрядчик ушёл")
    await chatter.press(HEAD, DialogAction(item_id=item.id, action="skip").pack())
    saved = await chatter.press(HEAD, DialogAction(item_id=item.id, action="save").pack())
    assert any(isinstance(r, EditMessageText) and "✅" in r.text for r in saved)
    assert kicked == [True]  # the scan was asked for, not run: Save did not wait for it
    async with session_maker() as session:
        assert await alert_rows(session) == []
        assert (item.id, None) in await marks(session)  # committed with the update

    restarted = Jobs(session_maker=session_maker, i18n=i18n, settings=settings, clock=clock)
    await restarted.catch_up()  # the same day: no full scan is due, the marks are the work
    async with session_maker() as session:
        (alert,) = await alert_rows(session)
        assert alert.chat_id == CHAIR and "<b>2.1</b>" in alert.payload
        assert await marks(session) == []


async def test_the_nightly_full_scan_runs_every_day_and_waits_for_working_hours(
    session: AsyncSession, session_maker: SessionMaker, i18n: I18n, settings: Settings
) -> None:
    await populate(session)
    scheduler = build_scheduler(
        Jobs(session_maker=session_maker, i18n=i18n, settings=settings, clock=FrozenClock(NOW)),
        WeeklyTime(("mon",), time(10)),
    )
    nightly = scheduler.get_job("alerts_nightly")
    friday = datetime(2025, 6, 13, 12, tzinfo=TZ)
    fire = nightly.trigger.get_next_fire_time(None, friday)
    assert fire == datetime(2025, 6, 14, NIGHTLY_ALERTS.hour, NIGHTLY_ALERTS.minute, tzinfo=TZ)
    assert nightly.trigger.get_next_fire_time(fire, fire + timedelta(seconds=1)).day == 15

    clock = FrozenClock(fire.astimezone(UTC))  # Saturday 00:05
    jobs = Jobs(session_maker=session_maker, i18n=i18n, settings=settings, clock=clock)
    assert await jobs.nightly_alerts() == 2  # the grouped message for each chair
    monday_morning = datetime(2025, 6, 16, 9, tzinfo=TZ)
    async with session_maker() as fresh:
        assert {row.not_before for row in await alert_rows(fresh)} == {monday_morning}
