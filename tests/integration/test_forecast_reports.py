"""The forecast on the demo roadmap: the export's columns and the DOCX report's column in both
languages, and the "forecast: late" rule when it is on (explained, dismissible)."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from aiogram.utils.i18n import I18n
from docx import Document
from openpyxl import load_workbook
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.risk.assess import assess_items
from bot.risk.dismissals import dismiss_reason
from bot.risk.labels import reasons_explained
from bot.risk.rules import RiskReason, RiskThresholds
from bot.roadmap.demo import seed_demo
from bot.spreadsheets.export import build_export
from bot.spreadsheets.risk_report import build_risk_report
from bot.telegram.i18n import in_locale
from db.models import Person, Role

LOAD = datetime(2025, 6, 10, 6, 0, tzinfo=UTC)
TODAY = date(2025, 6, 10)
TZ = ZoneInfo("Asia/Almaty")


async def test_export_has_p50_p85_and_the_chance(session: AsyncSession, i18n: I18n) -> None:
    await seed_demo(session, now=LOAD, tz=TZ)
    for locale in ("kk", "ru"):
        with in_locale(i18n, locale):
            data = await build_export(session, today=TODAY, tz=TZ, thresholds=RiskThresholds())
        rows = list(load_workbook(io.BytesIO(data)).worksheets[0].iter_rows(values_only=True))
        header = rows[0]
        assert header[-3:] == tuple(
            i18n.gettext(text, locale=locale)
            for text in (
                "Likely date (P50)",
                "Date with 85 percent certainty (P85)",
                "Chance to meet the deadline, %",
            )
        )
        by_code = {row[0]: row for row in rows[1:]}
        # The card's numbers (tests/test_e2e_forecast.py): 13 and 18 August, 0 %.
        assert by_code["9.1.1"][-3:] == (datetime(2025, 8, 13), datetime(2025, 8, 18), 0)
        assert by_code["2.3.1"][-3:] == (None, None, None)  # done
        assert by_code["6.1.3"][-3:] == (None, None, None)  # two reports: no forecast yet


async def test_the_docx_report_has_a_forecast_column(session: AsyncSession, i18n: I18n) -> None:
    await seed_demo(session, now=LOAD, tz=TZ)
    flat_item = {  # 4.1.4: at 70 % for three rounds, below the stall guard's 80 %
        "ru": "вероятно, к 2 сентября · с вероятностью 85% — к 24 октября · "
        "шанс уложиться в срок 25 июня: 0%",
        "kk": "2 қыркүйек күніне дейін орындалуы ықтимал · 85% ықтималдықпен 24 қазан күніне "
        "дейін · 25 маусым мерзіміне үлгеру ықтималдығы: 0%",
    }
    for locale, words in (("ru", "прогноз"), ("kk", "болжам")):
        with in_locale(i18n, locale):
            data = await build_risk_report(session, today=TODAY, tz=TZ, thresholds=RiskThresholds())
        (table,) = Document(io.BytesIO(data)).tables
        cells = [[cell.text for cell in row.cells] for row in table.rows]
        assert cells[0][-1].lower() == words
        by_code = {row[1].split()[0]: row[-1] for row in cells[1:]}
        assert by_code["4.1.4"] == flat_item[locale]


async def test_forecast_late_when_on_is_explained_and_dismissible(
    session: AsyncSession, i18n: I18n
) -> None:
    await seed_demo(session, now=LOAD, tz=TZ)
    actor = Person(
        telegram_id=77,
        display_name="Хатшы",
        role=Role.SECRETARIAT,
        created_at=LOAD,
        updated_at=LOAD,
    )
    session.add(actor)
    await session.commit()
    on = RiskThresholds(forecast_probability=0.5)
    assert "9.1.1" not in await at_risk_codes(session, RiskThresholds())  # off by default
    risks = await assess_items(session, today=TODAY, year=2025, thresholds=on, tz=TZ)
    late = {risk.code for risk in risks.values() if RiskReason.FORECAST_LATE in risk.reasons}
    assert {"9.1.1", "2.2.2", "10.1.1", "5.2.1"} <= late
    (risk,) = [risk for risk in risks.values() if risk.code == "9.1.1"]
    with in_locale(i18n, "ru"):
        (line,) = reasons_explained(risk, TODAY)
    assert line == (
        "вероятно, к 13 августа · с вероятностью 85% — к 18 августа · "
        "шанс уложиться в срок 26 июля: 0% (порог: шанс уложиться в срок ниже 50%)"
    )
    await dismiss_reason(
        session,
        actor=actor,
        item_code="9.1.1",
        reason=RiskReason.FORECAST_LATE,
        text="Подрядчик усилил бригаду",
        today=TODAY,
        now=LOAD,
        thresholds=on,
        tz=TZ,
    )
    assert "9.1.1" not in await at_risk_codes(session, on)


async def at_risk_codes(session: AsyncSession, thresholds: RiskThresholds) -> set[str]:
    risks = await assess_items(session, today=TODAY, year=2025, thresholds=thresholds, tz=TZ)
    return {risk.code for risk in risks.values() if risk.reasons}
