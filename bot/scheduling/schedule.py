"""When things run: the previous fire time of a trigger, and (re-exported from
`bot.workdays.schedule`) the stored round schedule that `/schedule` changes; the weekly and
daily value types live in `bot.core.weekly`.

Settings parse `ROUND_SCHEDULE`, `DIGEST_SCHEDULE` and `REMINDER_TIME` with the same
functions `/schedule` uses, so a value the bot accepts at start is one it accepts in a chat.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot.core.weekly import DAYS as DAYS
from bot.core.weekly import WeeklyTime as WeeklyTime
from bot.core.weekly import parse_daily as parse_daily
from bot.core.weekly import parse_weekly as parse_weekly
from bot.workdays.schedule import ROUND_SCHEDULE_KEY as ROUND_SCHEDULE_KEY
from bot.workdays.schedule import round_schedule as round_schedule
from bot.workdays.schedule import save_round_schedule as save_round_schedule

if TYPE_CHECKING:
    from apscheduler.triggers.cron import CronTrigger


def previous_fire_time(trigger: CronTrigger, now: datetime, lookback: timedelta) -> datetime | None:
    """When the trigger last fired at or before `now`, looking back at most `lookback`."""
    fire = trigger.get_next_fire_time(None, now - lookback)
    last = None
    while fire is not None and fire <= now:
        last = fire
        fire = trigger.get_next_fire_time(fire, fire + timedelta(seconds=1))
    return last
