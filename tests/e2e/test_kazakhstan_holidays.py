"""Kazakhstan's holidays loaded alone: the same days and names as the `holidays` package's own
loader, without importing the other countries (checked in a fresh interpreter)."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import holidays
import pytest

from bot.workdays.kazakhstan import kazakhstan_holidays

YEARS = range(2022, 2031)


@pytest.mark.parametrize("language", [None, "en_US", "kk", "ru"])
def test_the_same_days_and_names_as_the_packages_own_loader(language: str | None) -> None:
    ours = kazakhstan_holidays(YEARS, language=language)
    theirs = holidays.country_holidays("KZ", years=YEARS, language=language)
    assert dict(ours) == dict(theirs)
    assert len(ours) > 9 * 10  # ten or more days a year: not an empty table


def test_years_are_filled_in_on_demand_like_the_packages() -> None:
    lazy = kazakhstan_holidays()
    assert date(2025, 3, 21) in lazy  # Nauryz
    assert date(2031, 12, 16) in lazy  # Independence Day, a year nobody asked for up front
    assert lazy.get(date(2025, 1, 1)) == holidays.country_holidays("KZ").get(date(2025, 1, 1))


LOAD_A_CALENDAR = """
import json, sys
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo
from bot.workdays.calendar import WorkCalendar

calendar = WorkCalendar(ZoneInfo("Asia/Almaty"))
days = [calendar.is_working_day(date(2025, 1, 3)), calendar.is_working_day(date(2025, 1, 5))]
countries = [name for name in sys.modules if name.startswith("holidays.countries.")]
print(json.dumps({"days": days, "countries": countries}))
"""


def test_a_working_calendar_imports_no_other_country() -> None:
    done = subprocess.run(
        [sys.executable, "-c", LOAD_A_CALENDAR],
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    loaded = json.loads(done.stdout.splitlines()[-1])
    assert loaded["days"] == [False, True]  # 3 January 2025 off, Sunday 5 January worked
    assert loaded["countries"] == []
