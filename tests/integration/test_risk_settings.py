"""The configured RISK_* thresholds reach every view: /summary, alerts, /export, /risk_report
and the chart report the same items on the demo roadmap with non-default settings."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiogram.methods import SendDocument, SendMessage
from aiogram.utils.i18n import I18n
from docx import Document
from openpyxl import load_workbook
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.app.config import Settings
from bot.core.clock import FrozenClock
from bot.risk import chart, digest
from bot.risk.assess import assess_items
from bot.risk.rules import RiskThresholds
from bot.roadmap.demo import seed_demo
from bot.scheduling.jobs import Jobs
from db.models import Notification, Person, Role
from tests.helpers.chat import ADMIN_ID, TEST_TOKEN, Chatter

LOAD = datetime(2025, 6, 10, 6, 0, tzinfo=UTC)
CHAIR = 5001
SECRETARY = 5002
TZ = ZoneInfo("Asia/Almaty")


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        bot_token=TEST_TOKEN,
        database_url=database_url,
        admin_ids=str(ADMIN_ID),
        risk_stale_days=60,
        risk_behind_plan_points=60,
    )


async def expected_codes(session: AsyncSession, thresholds: RiskThresholds) -> set[str]:
    risks = await assess_items(session, today=LOAD.date(), year=2025, thresholds=thresholds, tz=TZ)
    return {risk.code for risk in risks.values() if risk.reasons}


def document_bytes(requests: list[Any]) -> bytes:
    (document,) = [r for r in requests if isinstance(r, SendDocument)]
    return bytes(document.document.data)


async def test_every_view_uses_the_configured_thresholds(
    session: AsyncSession,
    settings: Settings,
    chatter: Chatter,
    clock: FrozenClock,
    jobs: Jobs,
    i18n: I18n,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock.set(LOAD)
    await seed_demo(session, now=LOAD, tz=settings.tz)
    for telegram_id, role in ((CHAIR, Role.CHAIR), (SECRETARY, Role.SECRETARIAT)):
        session.add(
            Person(
                telegram_id=telegram_id,
                display_name=str(role),
                role=role,
                locale="ru",
                created_at=LOAD,
                updated_at=LOAD,
            )
        )
    await session.commit()
    configured = await expected_codes(session, settings.risk_thresholds)
    default = await expected_codes(session, RiskThresholds())
    assert len(default) == 12 and len(configured) == 10 and configured < default

    drawn: list[dict[str, int]] = []

    class Spy(chart.Chart):
        def __init__(self, counts: list[dict[str, int]], weekly: list[int]) -> None:
            drawn.extend(counts)
            super().__init__(counts, weekly)

    monkeypatch.setattr(digest, "Chart", Spy)
    summary = await chatter.send(CHAIR, "/summary")
    text = "\n".join(r.text for r in summary if isinstance(r, SendMessage))
    warning = i18n.gettext("Likely late: chance to meet the deadline below {chance}", locale="ru")
    text = text.split(warning.format(chance="50%"))[0]  # the forecast's warning comes after
    listed = {line.split("<b>")[1].split("</b>")[0] for line in text.split("\n") if "• " in line}
    assert listed == configured
    assert sum(counts.get("at_risk", 0) + counts.get("overdue", 0) for counts in drawn) == 10

    assert await jobs.chair_alerts() > 0
    alerted = (await session.exec(select(Notification).where(Notification.kind == "alert"))).all()
    codes = "\n".join(row.payload for row in alerted)
    assert all(code in codes for code in configured)
    assert not any(f"<b>{code}</b>" in codes for code in default - configured)

    workbook = load_workbook(io.BytesIO(document_bytes(await chatter.send(SECRETARY, "/export"))))
    rows = list(workbook.worksheets[0].iter_rows(values_only=True))
    reasons_column = rows[0].index(i18n.gettext("Risk reasons", locale="ru"))
    exported = {row[0] for row in rows[1:] if row[reasons_column]}
    assert exported == configured

    report = Document(io.BytesIO(document_bytes(await chatter.send(SECRETARY, "/risk_report ru"))))
    (table,) = report.tables
    reported = {row.cells[1].text.split(" ")[0] for row in table.rows[1:]}
    assert reported == configured
