"""When an item will likely be done: a forecast from its own dated progress history.

Pure: dated progress in, dates and a probability out; no aiogram, no database. Time is counted
in working days (the calendar is passed in as `WorkingDays`), so holidays and the weekend do
not count as time to work in.

The method, in the words a chair reads:
- *pace since start* (Earned Schedule with PF = SPI(t)): at the average pace since the item
  started, it is done on a day. With PF = SPI(t) the estimate reduces to
  start + elapsed × 100 / progress, so it needs no plan line.
- *a band*: a Monte Carlo over the item's recent working-week gains (the last ≤ 8 weeks before
  its newest update, read off the progress line drawn between its updates). An item with
  fewer than 5 weekly gains borrows the rest from its department's gains, or from all items'
  when the department has too few: each draw is its own gain with probability own/5. A week
  that went backwards counts as 0 and is reported as a setback. Each trial resamples the gains
  (the average pace is itself uncertain), then adds weekly gains drawn from its resample until
  100 %; P50 and P85 are the days half and 85 % of the trials are done by, and the
  chance to meet the deadline is the share done by it. Seeded per (item, newest update), so
  the same data gives the same answer wherever it is computed.
- *guards*: fewer than 3 updates, or all within one working week, is "not enough updates";
  at 80 % or more with the last three updates unchanged (two rounds without a move) the item
  is "stalled near the end" and its earlier gains lend it no optimism (chance 0); when half
  the trials do not reach 100 % within two years there is "no finish in sight".
"""

from __future__ import annotations

import math
import random
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from enum import StrEnum
from itertools import accumulate

TRIALS = 200
RECENT_WEEKS = 8
OWN_GAINS_ENOUGH = 5
MIN_UPDATES = 3
WEEK = 5  # working days
HORIZON_WEEKS = 104  # two years of working weeks
STALL_PROGRESS = 80
STALL_ROUNDS = 2
P_LIKELY, P_SURE = 0.5, 0.85
_BLOCK_WEEKS = 8  # weeks drawn per trial at a time (see `_finish_offsets`)


class Outcome(StrEnum):
    NOT_ENOUGH = "not_enough"
    DONE = "done"
    STALLED = "stalled"
    NO_FINISH = "no_finish"
    FORECAST = "forecast"


class Borrowed(StrEnum):
    """Whose gains filled an item's pool besides its own."""

    NONE = "none"
    DEPARTMENT = "department"
    ALL = "all"


class WorkingDays:
    """Working days as consecutive numbers: `index(day)` counts the working days before
    `day`, `day_at(n)` is the working day numbered n. Grows on demand in either direction;
    one instance is shared by all the items of an assessment."""

    def __init__(self, is_working_day: Callable[[date], bool], first: date) -> None:
        self._is_working_day = is_working_day
        self._first = first.toordinal()
        self._next = self._first  # the first day not yet looked at
        self._days: list[int] = []  # ordinals of working days from `_first` on

    def _extend_to(self, ordinal: int) -> None:
        if ordinal < self._first:
            earlier = [
                day
                for day in range(ordinal, self._first)
                if self._is_working_day(date.fromordinal(day))
            ]
            self._days[:0] = earlier
            self._first = ordinal
        while self._next <= ordinal:
            if self._is_working_day(date.fromordinal(self._next)):
                self._days.append(self._next)
            self._next += 1

    def index(self, day: date) -> int:
        """Working days from the calendar's start to `day`, `day` not counted."""
        ordinal = day.toordinal()
        self._extend_to(ordinal)
        return bisect_left(self._days, ordinal)

    def last_index_by(self, day: date) -> int:
        """The number of the last working day on or before `day` (-1 if none)."""
        ordinal = day.toordinal()
        self._extend_to(ordinal)
        return bisect_right(self._days, ordinal) - 1

    def day_at(self, number: int) -> date:
        """The working day numbered `number` (numbers start at the calendar's first day)."""
        while number >= len(self._days):
            self._extend_to(self._next + 366)
        return date.fromordinal(self._days[max(0, number)])


@dataclass(frozen=True, slots=True)
class Gains:
    """An item's recent working-week gains (newest first, setbacks already clipped to 0)."""

    weekly: tuple[float, ...]
    setbacks: int


@dataclass(frozen=True, slots=True)
class Forecast:
    outcome: Outcome
    progress: int | None = None
    as_of: date | None = None  # the newest update's day
    deadline: date | None = None
    pace_date: date | None = None
    p50: date | None = None
    p85: date | None = None
    chance: float | None = None  # of being done by the deadline
    own_gains: int = 0
    borrowed: Borrowed = Borrowed.NONE
    setbacks: int = 0
    stalled_since: date | None = None

    @property
    def judged(self) -> bool:
        """Whether the forecast says anything about the deadline (a chance was computed)."""
        return self.chance is not None


NOT_ENOUGH = Forecast(Outcome.NOT_ENOUGH)


def unlikely(found: Forecast, probability: float) -> bool:
    """Less than `probability` to meet the deadline, by the item's own pace: at least 5 weeks
    of it (a forecast on borrowed gains is shown, not judged by), or a stall near the end."""
    if found.chance is None:
        return False
    if found.own_gains < OWN_GAINS_ENOUGH and found.outcome != Outcome.STALLED:
        return False
    return found.chance < probability


def daily_progress(history: Sequence[tuple[date, int]]) -> list[tuple[date, int]]:
    """The history in day order, one value per day (the day's last report)."""
    by_day: dict[date, int] = {}
    for day, progress in history:
        by_day[day] = progress
    return sorted(by_day.items())


def has_enough_updates(points: Sequence[tuple[int, int]]) -> bool:
    """At least 3 updates on different days, spanning at least one working week."""
    return len(points) >= MIN_UPDATES and points[-1][0] - points[0][0] >= WEEK


def _progress_at(points: Sequence[tuple[int, int]], x: float) -> float:
    """The progress line (straight between updates) at working day `x`."""
    positions = [position for position, _progress in points]
    right = bisect_left(positions, x)
    if right < len(points) and points[right][0] == x:
        return float(points[right][1])
    left_x, left_p = points[right - 1]
    right_x, right_p = points[right]
    return left_p + (right_p - left_p) * (x - left_x) / (right_x - left_x)


def weekly_gains(points: Sequence[tuple[int, int]], weeks: int = RECENT_WEEKS) -> Gains:
    """The gains of the last `weeks` whole working weeks before the newest update.

    `points` are (working-day number, progress), one per day, in order."""
    last = points[-1][0]
    first = points[0][0]
    gains: list[float] = []
    setbacks = 0
    end_value = float(points[-1][1])
    for back in range(weeks):
        start = last - WEEK * (back + 1)
        if start < first:
            break
        start_value = _progress_at(points, start)
        gain = end_value - start_value
        if gain < 0:
            setbacks += 1
            gain = 0.0
        gains.append(gain)
        end_value = start_value
    return Gains(tuple(gains), setbacks)


def stalled_since(points: Sequence[tuple[int, int]]) -> int | None:
    """The working day a stall near the end began: at ≥ 80 % and unchanged over the last
    `STALL_ROUNDS` rounds (that many updates after the one that reached the value)."""
    if len(points) < STALL_ROUNDS + 1:
        return None
    value = points[-1][1]
    if value < STALL_PROGRESS or value >= 100:
        return None
    tail = points[-(STALL_ROUNDS + 1) :]
    if any(progress != value for _x, progress in tail):
        return None
    since = len(points) - STALL_ROUNDS - 1
    while since > 0 and points[since - 1][1] == value:
        since -= 1
    return points[since][0]


def pace_finish(start: int, last: int, progress: int) -> float | None:
    """The working day the average pace since start reaches 100 % (None at 0 %)."""
    elapsed = last - start
    if progress <= 0 or elapsed <= 0:
        return None
    return start + elapsed * 100 / progress


@dataclass(frozen=True, slots=True)
class Pool:
    """What a trial's week can gain: the item's own gains, topped up from `fallback`."""

    own: tuple[float, ...]
    fallback: tuple[float, ...] = ()
    borrowed: Borrowed = Borrowed.NONE

    @property
    def own_share(self) -> float:
        if not self.fallback:
            return 1.0
        return min(1.0, len(self.own) / OWN_GAINS_ENOUGH)

    def never_moves(self) -> bool:
        return not any(self.own) and (self.own_share >= 1 or not any(self.fallback))


def make_pool(own: Sequence[float], department: Sequence[float], everyone: Sequence[float]) -> Pool:
    """The item's gains alone when it has 5 or more; else topped up from its department's,
    or from all items' when the department has fewer than 5 itself."""
    if len(own) >= OWN_GAINS_ENOUGH:
        return Pool(tuple(own))
    if len(department) >= OWN_GAINS_ENOUGH:
        return Pool(tuple(own), tuple(department), Borrowed.DEPARTMENT)
    if len(everyone) >= OWN_GAINS_ENOUGH:
        return Pool(tuple(own), tuple(everyone), Borrowed.ALL)
    return Pool(tuple(own))


def may_be_unlikely(points: Sequence[tuple[int, int]], deadline_index: int) -> bool:
    """False when the forecast from these points can be `unlikely` at no probability, known
    without a simulation: no chance computed (done, too few updates), fewer than 5 weeks of
    its own, or even its slowest recent week, every week until the deadline, finishes it (the
    simulation's chance is then exactly 1). `points`: (working-day number, progress), one per
    day, in order; `deadline_index`: `WorkingDays.last_index_by(deadline)`."""
    if not points or points[-1][1] >= 100 or not has_enough_updates(points):
        return False
    if stalled_since(points) is not None:
        return True
    gains = weekly_gains(points).weekly
    if len(gains) < OWN_GAINS_ENOUGH:
        return False
    whole_weeks = (deadline_index - points[-1][0]) // WEEK
    return min(gains) * whole_weeks < 100 - points[-1][1]


def _draw_table(pool: Pool) -> list[float]:
    """The pool as one list to draw from uniformly with the same weights: each own gain
    weighs 1/5 and the fallback's share the rest (each own gain repeated once per fallback
    gain, each fallback gain 5 - own times)."""
    if pool.own_share >= 1:
        return list(pool.own)
    own_count = len(pool.own)
    table = [gain for gain in pool.own for _ in range(len(pool.fallback))]
    return table + list(pool.fallback) * (OWN_GAINS_ENOUGH - own_count)


def _finish_offsets(pool: Pool, remaining: float, rng: random.Random, trials: int) -> list[float]:
    """Per trial, the working days after the newest update it reaches 100 % (inf: not
    within the horizon), sorted.

    Each trial first resamples the pool (as many gains as the item has, at least 5) and then
    draws its weeks from that resample: the trial's pace is itself uncertain, as the item's
    average pace is only known from a few weeks (weeks drawn straight from the pool would
    average out and give a band far too narrow). The weeks are drawn in blocks for every
    trial, finished or not, so the k-th week of the t-th trial uses the same random number
    whatever the remaining work: more progress can only finish a trial sooner (the property
    tests rely on it). 16-bit numbers straight from the generator's bytes are five times
    cheaper than `random.choices`; each entry's weight is exact to 1/65,536.
    """
    table = _draw_table(pool)
    size = len(table)
    width = max(len(pool.own), OWN_GAINS_ENOUGH)
    picks = memoryview(rng.randbytes(2 * trials * width)).cast("H")
    resampled = [table[number * size >> 16] for number in picks]
    sums = [0.0] * trials
    result = [math.inf] * trials
    active = list(range(trials))
    week = 0
    while active and week < HORIZON_WEEKS:
        block = min(_BLOCK_WEEKS, HORIZON_WEEKS - week)
        numbers = memoryview(rng.randbytes(2 * trials * block)).cast("H")
        still = []
        for trial in active:
            base, own = trial * block, trial * width
            gains = [
                resampled[own + (number * width >> 16)] for number in numbers[base : base + block]
            ]
            totals = list(accumulate(gains, initial=sums[trial]))
            step = bisect_left(totals, remaining)
            if step > block:
                sums[trial] = totals[-1]
                still.append(trial)
                continue
            before, gain = totals[step - 1], gains[step - 1]
            days = math.ceil(WEEK * (remaining - before) / gain - 1e-9)
            result[trial] = WEEK * (week + step - 1) + max(1, days)
        active = still
        week += block
    result.sort()
    return result


def _quantile(sorted_values: Sequence[float], share: float) -> float:
    return sorted_values[max(0, math.ceil(share * len(sorted_values)) - 1)]


def forecast(
    history: Sequence[tuple[date, int]],
    *,
    start: date,
    deadline: date,
    calendar: WorkingDays,
    seed: int | str,
    department_gains: Sequence[float] = (),
    all_gains: Sequence[float] = (),
    trials: int = TRIALS,
) -> Forecast:
    """The forecast for one item from its dated progress reports (any order)."""
    days = daily_progress(history)
    if not days:
        return NOT_ENOUGH
    points = [(calendar.index(day), progress) for day, progress in days]
    last_day, progress = days[-1]
    if progress >= 100:
        return Forecast(Outcome.DONE, progress, last_day, deadline, chance=1.0)
    if not has_enough_updates(points):
        return NOT_ENOUGH
    last = points[-1][0]
    start_x = calendar.index(start)
    pace = pace_finish(start_x, last, progress)
    pace_date = calendar.day_at(math.ceil(pace)) if pace is not None else None
    if pace is not None and pace - last > WEEK * HORIZON_WEEKS:
        pace_date = None
    gains = weekly_gains(points)
    base = Forecast(
        Outcome.FORECAST,
        progress,
        last_day,
        deadline,
        pace_date,
        own_gains=len(gains.weekly),
        setbacks=gains.setbacks,
    )
    stall = stalled_since(points)
    if stall is not None:
        return replace(
            base, outcome=Outcome.STALLED, chance=0.0, stalled_since=calendar.day_at(stall)
        )
    pool = make_pool(gains.weekly, department_gains, all_gains)
    base = replace(base, borrowed=pool.borrowed)
    if pool.never_moves():
        return replace(base, outcome=Outcome.NO_FINISH, chance=0.0)
    offsets = _finish_offsets(pool, 100 - progress, random.Random(str(seed)), trials)
    chance = bisect_right(offsets, calendar.last_index_by(deadline) - last) / len(offsets)
    likely, sure = _quantile(offsets, P_LIKELY), _quantile(offsets, P_SURE)
    if math.isinf(likely):
        return replace(base, outcome=Outcome.NO_FINISH, chance=chance)
    return replace(
        base,
        p50=calendar.day_at(last + int(likely)),
        p85=None if math.isinf(sure) else calendar.day_at(last + int(sure)),
        chance=chance,
    )
