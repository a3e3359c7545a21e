"""Kazakhstan's holidays loaded alone: the same days and names as the `holidays` package's own
loader, without importing the other countries; a working calendar over the years of the bot's
own table imports no part of the package (both checked in a fresh interpreter)."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import holidays
import pytest

from bot.workdays import kz_holidays
from bot.workdays.kazakhstan import package_holidays

YEARS = range(2022, 2031)


@pytest.mark.parametrize("language", [None, "en_US", "kk", "ru"])
def test_the_same_days_and_names_as_the_packages_own_loader(language: str | None) -> None:
    ours = package_holidays(YEARS, language=language)
    theirs = holidays.country_holidays("KZ", years=YEARS, language=language)
    assert dict(ours) == dict(theirs)
    assert len(ours) > 9 * 10  # ten or more days a year: not an empty table


def test_years_are_filled_in_on_demand_like_the_packages() -> None:
    lazy = package_holidays()
    assert date(2025, 3, 21) in lazy  # Nauryz
    assert date(2031, 12, 16) in lazy  # Independence Day, a year nobody asked for up front
    assert lazy.get(date(2025, 1, 1)) == holidays.country_holidays("KZ").get(date(2025, 1, 1))


LOAD_A_CALENDAR = """
import json, sys
from datetime import date, timedelta
from zoneinfo import ZoneInfo
from bot.workdays.calendar import WorkCalendar

calendar = WorkCalendar(ZoneInfo("Asia/Almaty"))
days = [calendar.is_working_day(date.fromisoformat(day)) for day in sys.argv[1:]]
holidays = sorted(name for name in sys.modules if name.split(".")[0] == "holidays")
print(json.dumps({"days": days, "holidays": holidays}))
"""


def load_a_calendar(*days: date) -> dict[str, Any]:
    """Which of `days` a fresh interpreter's working calendar finds working days, and which of
    the `holidays` package's modules it imported."""
    done = subprocess.run(
        [sys.executable, "-c", LOAD_A_CALENDAR, *(day.isoformat() for day in days)],
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    loaded: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return loaded


def test_a_working_calendar_within_the_table_imports_no_holidays_package() -> None:
    loaded = load_a_calendar(date(2025, 1, 3), date(2025, 1, 5))
    assert loaded["days"] == [False, True]  # 3 January 2025 off, Sunday 5 January worked
    assert loaded["holidays"] == []


def test_a_year_beyond_the_table_loads_kazakhstan_alone() -> None:
    independence_day = date(kz_holidays.LAST_YEAR + 1, 12, 16)
    assert independence_day.weekday() < 5  # else the day below proves nothing: pick another
    loaded = load_a_calendar(independence_day, independence_day + timedelta(days=1))
    assert loaded["days"] == [False, True]
    assert "holidays" in loaded["holidays"]  # the package answers for that year...
    countries = [name for name in loaded["holidays"] if name.startswith("holidays.countries.")]
    assert countries == []  # ...with Kazakhstan's module alone, not the other countries'
