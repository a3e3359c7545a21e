"""assess_items against a real database (SQLite and PostgreSQL), and dismissals."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.risk.assess import assess_items, assess_tally, at_risk_counts
from bot.risk.digest import Category, summarize, summarize_tally
from bot.risk.dismissals import DismissRefusal, DismissRefusedError, dismiss_reason
from bot.risk.rules import RiskReason, RiskState
from db.models import (
    AuditLog,
    RiskDismissal,
)
from tests.helpers.risk_world import NOW, THRESHOLDS, TODAY, TZ, World, at, build_world


@pytest.fixture
async def world(session: AsyncSession) -> World:
    return await build_world(session)


async def test_each_rule_through_the_database(world: World, session: AsyncSession) -> None:
    risks = await assess_items(session, today=TODAY, year=2025, thresholds=THRESHOLDS, tz=TZ)
    by_code = {risk.code: risk for risk in risks.values()}
    assert set(by_code) == {"1.1", "1.2", "1.3", "1.4", "2.1", "2.2", "2.3", "2.4", "2.5"}
    assert {code: risk.reasons for code, risk in by_code.items() if risk.reasons} == {
        "1.2": [RiskReason.DECLARED],
        "1.3": [RiskReason.OVERDUE],
        "2.1": [RiskReason.STALE],
        "2.2": [RiskReason.BEHIND_PLAN],
        "2.3": [RiskReason.FLAT],
        "2.4": [RiskReason.DEADLINE_MOVED],
    }
    blocked = by_code["1.2"]
    assert blocked.state == RiskState.BLOCKED
    assert (blocked.latest_status, blocked.latest_progress) == ("blocked", 40)
    assert (blocked.latest_comment, blocked.latest_cause) == ("Нет <денег> & всё", "financing")
    assert blocked.latest_at == at(TODAY - timedelta(days=2))
    assert by_code["1.3"].state == RiskState.OVERDUE
    assert not by_code["2.5"].reported and by_code["2.5"].state == RiskState.NONE
    assert by_code["1.1"].facts.flat_streak == 0  # far from its deadline: not even asked
    assert by_code["2.3"].facts.flat_streak == 3
    everything = await assess_items(session, today=TODAY, thresholds=THRESHOLDS, tz=TZ, year=None)
    assert len(everything) == 10


async def test_unanswered_rounds_make_a_department_stale(
    world: World, session: AsyncSession
) -> None:
    await world.round_request("edu", TODAY - timedelta(days=20), answered=False)
    await world.round_request("edu", TODAY - timedelta(days=13), answered=True)
    await world.round_request("edu", TODAY - timedelta(days=6), answered=False)
    await session.commit()
    risks = await assess_items(session, today=TODAY, year=2025, thresholds=THRESHOLDS, tz=TZ)
    assert RiskReason.STALE not in risks[world.items["1.1"].id].reasons  # one of two answered
    await world.round_request("edu", TODAY - timedelta(days=1), answered=False)
    await session.commit()
    risks = await assess_items(session, today=TODAY, year=2025, thresholds=THRESHOLDS, tz=TZ)
    assert RiskReason.STALE in risks[world.items["1.1"].id].reasons
    assert RiskReason.STALE not in risks[world.items["2.2"].id].reasons  # the other department


async def test_history_as_of_an_earlier_day(world: World, session: AsyncSession) -> None:
    earlier = TODAY - timedelta(days=8)
    risks = await assess_items(
        session, today=earlier, year=2025, as_of_history=True, thresholds=THRESHOLDS, tz=TZ
    )
    by_code = {risk.code: risk for risk in risks.values()}
    assert "2.5" not in by_code  # created later
    assert by_code["1.2"].reasons == []  # it was on track a week ago
    counts = await at_risk_counts(
        session, days=[earlier, TODAY], year=2025, thresholds=THRESHOLDS, tz=TZ
    )
    assert counts[1] == 6 and counts[0] < counts[1]


async def test_dismissal_holds_until_the_item_changes(world: World, session: AsyncSession) -> None:
    secretary = world.author
    assert secretary is not None
    item, dismissal = await dismiss_reason(
        session,
        actor=secretary,
        item_code="2.1",
        reason=RiskReason.STALE,
        text="Подрядчик в отпуске, отчёт будет в понедельник",
        today=TODAY,
        now=NOW,
        thresholds=THRESHOLDS,
        tz=TZ,
    )
    assert dismissal.actor_id == secretary.id
    risks = await assess_items(session, today=TODAY, year=2025, thresholds=THRESHOLDS, tz=TZ)
    assert risks[item.id].reasons == [] and risks[item.id].dismissed == [RiskReason.STALE]
    audit = (await session.exec(select(AuditLog).where(AuditLog.action == "risk.dismiss"))).all()
    assert [entry.target for entry in audit] == ["2.1"]

    # Still dismissed a week later with no new data…
    later = await assess_items(
        session, today=TODAY + timedelta(days=7), year=2025, thresholds=THRESHOLDS, tz=TZ
    )
    assert later[item.id].reasons == []
    # …but a new update changes the item's data and the reason comes back when it applies.
    await world.update("2.1", TODAY, "on_track", 50)
    await session.commit()
    much_later = await assess_items(
        session, today=TODAY + timedelta(days=20), year=2025, thresholds=THRESHOLDS, tz=TZ
    )
    assert much_later[item.id].reasons == [RiskReason.STALE]


async def test_deadline_or_department_change_revives_a_dismissal(
    world: World, session: AsyncSession
) -> None:
    assert world.author is not None
    await dismiss_reason(
        session,
        actor=world.author,
        item_code="2.4",
        reason=RiskReason.DEADLINE_MOVED,
        text="Перенос согласован с акимом",
        today=TODAY,
        now=NOW,
        thresholds=THRESHOLDS,
        tz=TZ,
    )
    item = world.items["2.4"]
    assert (await assess_items(session, today=TODAY, year=2025, thresholds=THRESHOLDS, tz=TZ))[
        item.id
    ].reasons == []
    item.department_id = world.departments["edu"].id  # type: ignore[assignment]
    session.add(item)
    await session.commit()
    risks = await assess_items(session, today=TODAY, year=2025, thresholds=THRESHOLDS, tz=TZ)
    assert risks[item.id].reasons == [RiskReason.DEADLINE_MOVED]


async def test_the_digests_tally_is_the_same_assessment(
    world: World, session: AsyncSession
) -> None:
    """Only the items at risk in full, the others counted: a done item, one never reported
    and one whose every reason is dismissed are counted, not kept."""
    assert world.author is not None
    item, _dismissal = await dismiss_reason(
        session,
        actor=world.author,
        item_code="2.1",
        reason=RiskReason.STALE,
        text="Подрядчик в отпуске",
        today=TODAY,
        now=NOW,
        thresholds=THRESHOLDS,
        tz=TZ,
    )
    risks = await assess_items(session, today=TODAY, year=2025, thresholds=THRESHOLDS, tz=TZ)
    tally = await assess_tally(session, today=TODAY, year=2025, thresholds=THRESHOLDS, tz=TZ)
    assert tally.at_risk == {key: risk for key, risk in risks.items() if risk.reasons}
    assert item.id not in tally.at_risk and len(tally.at_risk) == 5
    assert sum(tally.others.values()) == len(risks) - 5
    summary = summarize_tally(tally)
    assert summary == summarize(risks)
    assert summary.counts[Category.DONE] and summary.counts[Category.NOT_REPORTED]


async def test_the_tally_counts_done_items_it_never_reads(
    world: World, session: AsyncSession
) -> None:
    """The done items are counted per department from the item counts, not sent as rows: a
    department with only done items, an archived done item, another year's done item and an
    item reopened after "done" (its newest update counts) all land where the full
    assessment puts them."""
    await world.department("arch")
    for code in ("3.1", "3.2", "3.3"):
        await world.item(code, "arch", date(2025, 4, 1))
        await world.update(code, date(2025, 3, 20), "done", 100)
    world.items["3.3"].archived = True
    await world.item("3.4", "arch", date(2026, 4, 1))
    await world.update("3.4", date(2025, 3, 20), "done", 100)
    await world.update("1.1", TODAY - timedelta(days=30), "done", 100)  # older than its newest
    await world.item("1.5", "edu", date(2025, 12, 31))
    await world.update("1.5", TODAY - timedelta(days=9), "done", 100)
    await world.update("1.5", TODAY - timedelta(days=2), "at_risk", 80, cause="financing")
    await session.commit()
    risks = await assess_items(session, today=TODAY, year=2025, thresholds=THRESHOLDS, tz=TZ)
    summary = summarize_tally(
        await assess_tally(session, today=TODAY, year=2025, thresholds=THRESHOLDS, tz=TZ)
    )
    assert summary == summarize(risks)
    done = {dept: counts[Category.DONE] for dept, counts in summary.by_department.items()}
    edu, arch = world.departments["edu"].id, world.departments["arch"].id
    assert done[edu] == 1 and done[arch] == 2  # 1.4; 3.1 and 3.2
    assert summary.by_department[edu][Category.AT_RISK] == 2  # 1.2 blocked, 1.5 reopened


@pytest.mark.parametrize(
    ("code", "reason", "refusal"),
    [
        ("1.2", RiskReason.DECLARED, DismissRefusal.NOT_DISMISSIBLE),
        ("1.3", RiskReason.OVERDUE, DismissRefusal.NOT_DISMISSIBLE),
        ("1.1", RiskReason.STALE, DismissRefusal.NOT_APPLICABLE),
        ("7.7", RiskReason.STALE, DismissRefusal.UNKNOWN_ITEM),
    ],
)
async def test_what_cannot_be_dismissed(
    world: World, session: AsyncSession, code: str, reason: RiskReason, refusal: DismissRefusal
) -> None:
    assert world.author is not None
    with pytest.raises(DismissRefusedError) as raised:
        await dismiss_reason(
            session,
            actor=world.author,
            item_code=code,
            reason=reason,
            text="x",
            today=TODAY,
            now=NOW,
            thresholds=THRESHOLDS,
            tz=TZ,
        )
    assert raised.value.refusal == refusal
    assert (await session.exec(select(RiskDismissal))).all() == []
