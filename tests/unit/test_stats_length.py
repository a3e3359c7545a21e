"""Issue 22 (#23): /stats for the demo's 12 departments, each asked 8 times with people
registered (every figure shown), fits a phone screen: under 1,500 characters, one message."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from aiogram.utils.i18n import I18n

from bot.roadmap.demo import load_demo_data
from bot.spreadsheets.stats import DepartmentStats
from bot.telegram.i18n import in_locale
from bot.usecases.exports import AnswerStats
from db.models import Department
from handlers.views.spreadsheets import stats

NOW = datetime(2025, 12, 1, 6, 0, tzinfo=UTC)


def _demo_stats() -> list[DepartmentStats]:
    rows = []
    for number, entry in enumerate(load_demo_data()["departments"], start=1):
        department = Department(
            id=number,
            code=entry["code"],
            name_kk=entry["name_kk"],
            name_ru=entry["name_ru"],
            short_name_kk=entry.get("short_name_kk"),
            short_name_ru=entry.get("short_name_ru"),
            created_at=NOW,
        )
        rows.append(DepartmentStats(department, 8, 5, timedelta(hours=30), NOW, 3, people=2))
    return rows


@pytest.mark.parametrize("locale", ["kk", "ru"])
def test_stats_of_twelve_departments_fit_1500_characters(i18n: I18n, locale: str) -> None:
    departments = _demo_stats()
    assert len(departments) == 12
    with in_locale(i18n, locale):
        messages = stats(AnswerStats(8, departments), ZoneInfo("Asia/Almaty"))
    assert len(messages) == 1
    shown = re.sub(r"<[^>]+>", "", messages[0])
    assert len(shown) < 1500, len(shown)
    codes = [f"<code>{row.department.code}</code>" for row in departments]
    assert all(messages[0].count(code) == 1 for code in codes)
