"""The bot's own table of Kazakhstan's holidays (bot/workdays/kz_holidays.py) says what the
installed `holidays` package says, for every year it covers: after the package is updated,
`python -m bot.workdays.kazakhstan` writes the table again."""

from __future__ import annotations

from datetime import date

import pytest

from bot.workdays import kz_holidays
from bot.workdays.kazakhstan import (
    GENERATED_YEARS,
    TABLE_YEARS,
    holidays_of_year,
    kazakhstan_holidays,
    package_holidays,
)

REGENERATE = "the table is out of date: run `python -m bot.workdays.kazakhstan`"


@pytest.mark.parametrize("year", TABLE_YEARS)
def test_each_year_of_the_table_matches_the_package(year: int) -> None:
    assert dict(holidays_of_year(year)) == dict(package_holidays(year, language="en_US")), (
        REGENERATE
    )


def test_the_table_covers_the_years_it_is_generated_for() -> None:
    assert TABLE_YEARS == GENERATED_YEARS, REGENERATE
    years = {date.fromisoformat(day).year for day in kz_holidays.HOLIDAYS}
    assert years == set(TABLE_YEARS)  # every year has its days: none was left empty


def test_years_are_merged_and_outside_the_table_come_from_the_package() -> None:
    both = kazakhstan_holidays([2024, 2025])
    assert both[date(2024, 5, 8)] == "Day off (substituted from 05/04/2024)"
    assert both[date(2025, 3, 21)] == "Nowruz Holiday"
    assert kazakhstan_holidays(2025) == {d: n for d, n in both.items() if d.year == 2025}
    beyond = kz_holidays.LAST_YEAR + 1
    assert kazakhstan_holidays(beyond) == dict(package_holidays(beyond, language="en_US"))
    assert date(beyond, 12, 16) in kazakhstan_holidays(beyond)  # Independence Day
