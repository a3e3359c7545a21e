"""One assessment for every view: on random roadmaps, /summary, the alerts, /dept, /item, the
chart, /export and /risk_report report the same items at risk and the same counts."""

from __future__ import annotations

import asyncio
import io
import tempfile
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from aiogram.utils.i18n import I18n
from docx import Document
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from sqlmodel import select

from bot.risk.alerts import enqueue_chair_alerts
from bot.risk.assess import assess_item, assess_items
from bot.risk.digest import (
    Category,
    at_risk_by_department,
    collect_digest,
    digest_blocks,
    summarize,
)
from bot.risk.rules import RiskThresholds
from bot.spreadsheets.export import build_export
from bot.spreadsheets.risk_report import build_risk_report
from bot.telegram.i18n import build_i18n, in_locale
from db.engine import create_engine, create_session_maker
from db.models import (
    DeadlineChange,
    Department,
    ItemRiskState,
    Person,
    RoadmapItem,
    Role,
    RoundRequest,
    StatusRound,
    StatusUpdate,
)
from tests.helpers.databases import migrated_sqlite_file

TZ = ZoneInfo("Asia/Almaty")
TODAY = date(2025, 6, 2)
NOW = datetime.combine(TODAY, time(10), tzinfo=TZ).astimezone(UTC)
STATUSES = ("on_track", "on_track", "at_risk", "blocked", "done")


def at(day: date) -> datetime:
    return datetime.combine(day, time(11), tzinfo=TZ).astimezone(UTC)


updates = st.lists(
    st.tuples(st.integers(1, 150), st.sampled_from(STATUSES), st.integers(0, 100)), max_size=4
)
items = st.lists(
    st.fixed_dictionaries(
        {
            "department": st.integers(0, 2),
            "deadline": st.integers(-40, 200),
            "created": st.integers(5, 160),
            "updates": updates,
            "postponed": st.booleans(),
        }
    ),
    min_size=1,
    max_size=10,
)
rounds = st.lists(st.tuples(st.integers(0, 2), st.integers(1, 40), st.booleans()), max_size=5)
thresholds = st.builds(
    RiskThresholds,
    stale_days=st.integers(7, 60),
    missed_rounds=st.integers(1, 3),
    behind_plan_points=st.integers(10, 60),
    flat_rounds=st.integers(2, 3),
    flat_remaining_fraction=st.sampled_from([0.2, 1 / 3, 0.5]),
)


async def check(roadmap: list[dict], requests: list[tuple], limits: RiskThresholds) -> None:
    i18n: I18n = build_i18n("kk")
    with tempfile.TemporaryDirectory() as folder:
        engine = create_engine(migrated_sqlite_file(Path(folder) / "bot.db"))
        try:
            async with create_session_maker(engine)() as session:
                await fill(session, roadmap, requests)
                await compare(session, i18n, limits)
        finally:
            await engine.dispose()


async def fill(session, roadmap: list[dict], requests: list[tuple]) -> None:  # type: ignore[no-untyped-def]
    departments = []
    for number in range(3):
        department = Department(
            code=f"d{number}", name_kk=f"Бөлім {number}", name_ru=f"Отдел {number}", created_at=NOW
        )
        session.add(department)
        departments.append(department)
    await session.flush()
    author = Person(
        telegram_id=1, display_name="A", role=Role.MEMBER, created_at=NOW, updated_at=NOW
    )
    chair = Person(telegram_id=2, display_name="C", role=Role.CHAIR, created_at=NOW, updated_at=NOW)
    session.add_all([author, chair])
    await session.flush()
    for number, entry in enumerate(roadmap):
        deadline = TODAY + timedelta(days=entry["deadline"])
        item = RoadmapItem(
            code=f"{entry['department'] + 1}.{number + 1}",
            title_kk=f"Тармақ {number}",
            title_ru=f"Пункт {number}",
            department_id=departments[entry["department"]].id,  # type: ignore[arg-type]
            deadline=deadline,
            year=2025,
            created_at=at(TODAY - timedelta(days=entry["created"])),
        )
        session.add(item)
        await session.flush()
        for days_ago, status, progress in entry["updates"]:
            session.add(
                StatusUpdate(
                    item_id=item.id,  # type: ignore[arg-type]
                    author_id=author.id,  # type: ignore[arg-type]
                    status=status,
                    progress=100 if status == "done" else progress,
                    created_at=at(TODAY - timedelta(days=min(days_ago, entry["created"]))),
                )
            )
        if entry["postponed"]:
            session.add(
                DeadlineChange(
                    item_id=item.id,  # type: ignore[arg-type]
                    old_deadline=deadline - timedelta(days=30),
                    new_deadline=deadline,
                    changed_at=at(TODAY - timedelta(days=3)),
                )
            )
    for department, days_ago, answered in requests:
        status_round = StatusRound(started_at=at(TODAY - timedelta(days=days_ago)))
        session.add(status_round)
        await session.flush()
        session.add(
            RoundRequest(
                round_id=status_round.id,  # type: ignore[arg-type]
                department_id=departments[department].id,  # type: ignore[arg-type]
                item_count=1,
                people_count=1,
                requested_at=at(TODAY - timedelta(days=days_ago)),
                answered_at=at(TODAY - timedelta(days=days_ago - 1)) if answered else None,
            )
        )
    await session.commit()


async def compare(session, i18n: I18n, limits: RiskThresholds) -> None:  # type: ignore[no-untyped-def]
    risks = await assess_items(session, today=TODAY, year=2025, thresholds=limits, tz=TZ)
    codes = {risk.item_id: risk.code for risk in risks.values()}
    expected = {risk.code for risk in risks.values() if risk.reasons}
    again = await assess_items(session, today=TODAY, year=2025, thresholds=limits, tz=TZ)
    assert {risk.code for risk in again.values() if risk.reasons} == expected  # no flip-flop

    # /summary: its counts and its department headings; the chart: the same categories.
    data = await collect_digest(session, today=TODAY, year=2025, thresholds=limits, tz=TZ)
    summary = data.summary
    assert summary == summarize(risks)  # the digest's small form of the same assessment
    assert summary.at_risk == len(expected)
    assert sum(summary.counts.values()) == summary.total == len(risks)
    charted = sum(
        counts[Category.AT_RISK] + counts[Category.OVERDUE]
        for counts in summary.by_department.values()
    )
    assert charted == len(expected)
    with in_locale(i18n, "ru"):
        grouped = at_risk_by_department(summary, data.departments)
        blocks = digest_blocks(summary, data.departments, year=2025, today=TODAY)
    assert sum(len(dept_risks) for _dept, dept_risks in grouped) == len(expected)
    assert [block.keys for block in blocks if block.keys] == [(dept,) for dept, _r in grouped]

    # /dept: each department's own view, and /item: each item's.
    for department in data.departments:
        own = {k: r for k, r in risks.items() if r.department_id == department}
        assert {r.code for r in summarize(own).at_risk_items} == {
            r.code for r in own.values() if r.code in expected
        }
    for item_id, code in codes.items():
        single = await assess_item(
            session, item_id=item_id, year=2025, today=TODAY, thresholds=limits, tz=TZ
        )
        assert single is not None and bool(single.reasons) == (code in expected)

    # Alerts: the items whose state the chair was told about.
    await enqueue_chair_alerts(
        session,
        i18n=i18n,
        today=TODAY,
        now=NOW,
        not_before=NOW,
        thresholds=limits,
        tz=TZ,
        hourly_cap=100,
    )
    states = (await session.exec(select(ItemRiskState))).all()
    assert {codes[s.item_id] for s in states if s.state != "none"} == expected

    # /export and /risk_report.
    with in_locale(i18n, "ru"):
        workbook = load_workbook(
            io.BytesIO(await build_export(session, today=TODAY, tz=TZ, thresholds=limits))
        )
        report = Document(
            io.BytesIO(await build_risk_report(session, today=TODAY, tz=TZ, thresholds=limits))
        )
    header, *rows = list(workbook.worksheets[0].iter_rows(values_only=True))
    reasons = header.index(i18n.gettext("Risk reasons", locale="ru"))
    assert {row[0] for row in rows if row[reasons]} == expected
    reported = {row.cells[1].text.split(" ")[0] for t in report.tables for row in t.rows[1:]}
    assert reported == expected


@settings(
    max_examples=10,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],  # a failure is shown as found
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(roadmap=items, requests=rounds, limits=thresholds)
def test_every_view_reports_the_same_items_at_risk(
    roadmap: list[dict], requests: list[tuple], limits: RiskThresholds
) -> None:
    asyncio.run(check(roadmap, requests, limits))
