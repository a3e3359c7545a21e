"""Kazakhstan's working weekend days: the Saturdays and Sundays a government decree makes
working days when it moves the day off elsewhere.

The holiday table (`kazakhstan.py`, from the `holidays` package) lists the moved day off (say,
Friday 3 January 2025) but not the weekend day that becomes a working day in exchange (Sunday
5 January 2025), so the calendar derives those from its "substituted from" entries and adds
the decrees below, which cover years the package may lack. `/holiday workday <date>` adds any other.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date

from bot.workdays.kazakhstan import kazakhstan_holidays

# Decrees of the Government of Kazakhstan on moving days off (five-day working week):
#   2024: Saturday 4 May is a working day, Wednesday 8 May a day off;
#   2025: Sunday 5 January is a working day, Friday 3 January a day off;
#   2026: no transfer was decreed as of the January 2026 calendar (1–4 January are days off
#         without one); add later decrees here or with /holiday workday.
OFFICIAL_WORKING_WEEKENDS: frozenset[date] = frozenset({date(2024, 5, 4), date(2025, 1, 5)})

_SUBSTITUTED = re.compile(r"substituted from (\d{2})/(\d{2})/(\d{4})")


def working_weekends(years: Iterable[int]) -> frozenset[date]:
    """Weekend days that are working days in `years`: the decrees above and every weekend day
    the holiday table names as the source of a moved day off."""
    years = list(years)
    known = kazakhstan_holidays(years)
    derived = set()
    for name in known.values():
        for month, day, year in _SUBSTITUTED.findall(name):
            moved_from = date(int(year), int(month), int(day))
            if moved_from.weekday() >= 5:
                derived.add(moved_from)
    official = {day for day in OFFICIAL_WORKING_WEEKENDS if day.year in years}
    return frozenset(derived | official)
