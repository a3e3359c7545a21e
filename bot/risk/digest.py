"""The Road Map digest: counts for a year, then the at-risk items by department, with why.

Texts are rendered in the current locale and split into messages at item boundaries, each
message balanced HTML within Telegram's limit. The weekly digest goes through the outbox.
"""

from __future__ import annotations

import asyncio
import base64
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from enum import StrEnum

import sqlalchemy as sa
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from babel.dates import format_date
from sqlalchemy import distinct, func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.text import (
    TELEGRAM_CAPTION_LIMIT,
    Block,
    quote,
    shorten,
    split_blocks,
    visible_length,
)
from bot.delivery.enqueue import enqueue_message, enqueue_photo
from bot.people import recipients
from bot.risk.assess import RiskTally, assess_items, assess_tally
from bot.risk.chart import Chart, ChartTexts, chart_texts
from bot.risk.forecast import unlikely
from bot.risk.forecast_cache import screened_forecasts
from bot.risk.forecast_views import LikelyLate, likely_late_cutoff, likely_late_lines
from bot.risk.labels import reasons_text, short_reasons
from bot.risk.rules import SEVERITY, ItemRisk, RiskReason, RiskThresholds
from bot.telegram.callbacks import ChairDepartment, ChairItem
from bot.telegram.i18n import current_locale, format_day, in_locale, ngettext, pick_name
from bot.telegram.texts import department_short_name
from db.models import Department, ItemStatus, RiskSnapshot, RoadmapItem, RoundRequest

TITLE_LIMIT = 200
SUMMARY_TITLE_LIMIT = 70
WORST_PER_DEPARTMENT = 3
DEPARTMENT_BUTTON_LIMIT = 26
DEPARTMENT_BUTTONS = 40  # Telegram shows at most 100 buttons; /departments lists the rest
ITEM_BUTTONS_PER_PART = 40
CHART_WEEKS = 8


class Category(StrEnum):
    """Exactly one per item; the order is the stacking order of the chart."""

    DONE = "done"
    ON_TRACK = "on_track"
    AT_RISK = "at_risk"
    OVERDUE = "overdue"
    NOT_REPORTED = "not_reported"


def category(risk: ItemRisk) -> Category:
    if risk.latest_status == ItemStatus.DONE:
        return Category.DONE
    if RiskReason.OVERDUE in risk.reasons:
        return Category.OVERDUE
    if risk.reasons:
        return Category.AT_RISK
    if not risk.reported:
        return Category.NOT_REPORTED
    return Category.ON_TRACK


@dataclass
class Summary:
    """What the digest counts. `at_risk` includes the overdue items; `at_risk_items` are in
    code order (`code_key`)."""

    total: int = 0
    counts: Counter[Category] = field(default_factory=Counter)
    by_department: dict[int, Counter[Category]] = field(default_factory=dict)
    at_risk_items: list[ItemRisk] = field(default_factory=list)
    # The early warning: items not at risk by the other rules, unlikely to meet the deadline;
    # shown, not counted, so two summaries of the same assessment are equal without it.
    likely_late: list[LikelyLate] = field(default_factory=list, compare=False)
    likely_late_below: float = field(default=0.0, compare=False)

    @property
    def at_risk(self) -> int:
        return self.counts[Category.AT_RISK] + self.counts[Category.OVERDUE]


def code_key(code: str) -> tuple[tuple[int, int | str], ...]:
    """`2.10` after `2.9`: numbers compare as numbers."""
    return tuple((0, int(part)) if part.isdigit() else (1, part) for part in re.split(r"[.]", code))


def summarize(risks: dict[int, ItemRisk]) -> Summary:
    tally: dict[tuple[int, Category], int] = {}
    at_risk = []
    for risk in risks.values():
        key = (risk.department_id, category(risk))
        tally[key] = tally.get(key, 0) + 1
        if risk.reasons:
            at_risk.append(risk)
    return _summary(tally, at_risk)


def summarize_tally(tally: RiskTally) -> Summary:
    """The same summary as `summarize` of the full assessment, from its small form."""
    counted: dict[tuple[int, Category], int] = {}
    for (dept, status), count in tally.others.items():
        kind = (
            Category.DONE
            if status == ItemStatus.DONE
            else Category.NOT_REPORTED
            if status is None
            else Category.ON_TRACK
        )
        counted[dept, kind] = counted.get((dept, kind), 0) + count
    for risk in tally.at_risk.values():
        key = (risk.department_id, category(risk))
        counted[key] = counted.get(key, 0) + 1
    return _summary(counted, list(tally.at_risk.values()))


def _summary(tally: dict[tuple[int, Category], int], at_risk: list[ItemRisk]) -> Summary:
    """Counted in plain dicts first (a Counter update per item costs more), departments in
    id order whatever order the items came in."""
    summary = Summary(at_risk_items=sorted(at_risk, key=lambda risk: code_key(risk.code)))
    for (dept, kind), count in sorted(tally.items()):
        summary.total += count
        summary.counts[kind] += count
        summary.by_department.setdefault(dept, Counter())[kind] += count
    return summary


def short_title(risk: ItemRisk) -> str:
    return shorten(pick_name(risk.title_kk, risk.title_ru), TITLE_LIMIT)


def item_line(risk: ItemRisk, today: date) -> str:
    """One at-risk item, one line of balanced HTML: the unit messages are split at."""
    code, title, reasons = quote(risk.code), quote(short_title(risk)), reasons_text(risk, today)
    return f"• <b>{code}</b> {title} — <i>{quote(reasons)}</i>"


def count_lines(summary: Summary) -> list[str]:
    counts = summary.counts
    lines = [
        ngettext("{count} item in total", "{count} items in total", summary.total).format(
            count=summary.total
        ),
        "✅ " + _("done: {count}").format(count=counts[Category.DONE]),
        "🟢 " + _("on track: {count}").format(count=counts[Category.ON_TRACK]),
    ]
    at_risk = "🔴 " + _("at risk: {count}").format(count=summary.at_risk)
    if counts[Category.OVERDUE]:
        at_risk += " " + _("(overdue: {count})").format(count=counts[Category.OVERDUE])
    lines.append(at_risk)
    lines.append("⚪ " + _("not reported yet: {count}").format(count=counts[Category.NOT_REPORTED]))
    return lines


def summary_line(risk: ItemRisk) -> str:
    """One of a department's worst items in the summary: code, a short title, short reasons."""
    title = shorten(pick_name(risk.title_kk, risk.title_ru), SUMMARY_TITLE_LIMIT)
    return f"• <b>{quote(risk.code)}</b> {quote(title)} — <i>{quote(short_reasons(risk))}</i>"


def digest_blocks(
    summary: Summary,
    departments: dict[int, Department],
    *,
    year: int,
    today: date,
    grouped: list[tuple[int, list[ItemRisk]]] | None = None,
) -> list[Block]:
    """Totals, then per department (most at-risk first): the count and its worst few items.
    `grouped`: `at_risk_by_department`'s answer, when the caller already has it."""
    header = [
        _("<b>Road Map {year}: summary as of {date}</b>").format(year=year, date=format_day(today)),
        *count_lines(summary),
    ]
    blocks = [Block(tuple(header))]
    late = likely_late_lines(summary.likely_late, summary.likely_late_below, today)
    if not summary.at_risk_items:
        blocks.append(Block(("", _("No items are at risk."))))
        return blocks + [Block((line,)) for line in late]
    blocks.append(Block(("", _("<b>At-risk items by department</b>"))))
    if grouped is None:
        grouped = at_risk_by_department(summary, departments)
    for dept, risks in grouped:
        name = quote(department_short_name(departments.get(dept)))
        count = ngettext("{count} item at risk", "{count} items at risk", len(risks)).format(
            count=len(risks)
        )
        lines = ["", f"<b>{name}</b> — {count}"]
        lines += [summary_line(risk) for risk in risks[:WORST_PER_DEPARTMENT]]
        if len(risks) > WORST_PER_DEPARTMENT:
            more = len(risks) - WORST_PER_DEPARTMENT
            lines.append(_("…and {count} more").format(count=more))
        blocks.append(Block(tuple(lines), (dept,)))
    return blocks + [Block((line,)) for line in late]


def at_risk_by_department(
    summary: Summary, departments: dict[int, Department]
) -> list[tuple[int, list[ItemRisk]]]:
    """Departments with items at risk, most first, each with its items worst first."""
    grouped: dict[int, list[ItemRisk]] = {}
    for risk in summary.at_risk_items:
        grouped.setdefault(risk.department_id, []).append(risk)
    order = sorted(
        grouped,
        key=lambda dept: (-len(grouped[dept]), department_short_name(departments.get(dept))),
    )
    return [(dept, sorted(grouped[dept], key=worst_first)) for dept in order]


def worst_first(risk: ItemRisk) -> tuple[int, int]:
    """Overdue before "will not be met" before at risk; more reasons first; then by code: the
    summary's items are in code order and sorting is stable, so equal ones stay by code
    (without computing a code key per item for every sort)."""
    return (-SEVERITY[risk.state], -len(risk.reasons))


@dataclass
class DigestMessage:
    text: str
    markup: InlineKeyboardMarkup | None


def items_keyboard(item_ids: Sequence[int], codes: dict[int, str]) -> InlineKeyboardMarkup | None:
    """A button per item (its code), four to a row: a department's view."""
    shown = list(item_ids)[:ITEM_BUTTONS_PER_PART]
    if not shown:
        return None
    builder = InlineKeyboardBuilder()
    for item_id in shown:
        builder.button(text=codes[item_id], callback_data=ChairItem(item_id=item_id))
    builder.adjust(4)
    return builder.as_markup()


def department_keyboard(
    counts: Sequence[tuple[int, int]], departments: dict[int, Department], year: int
) -> InlineKeyboardMarkup | None:
    """A button per department with items at risk, for the drill-down, two to a row."""
    if not counts:
        return None
    builder = InlineKeyboardBuilder()
    for dept, count in counts[:DEPARTMENT_BUTTONS]:
        name = shorten(department_short_name(departments.get(dept)), DEPARTMENT_BUTTON_LIMIT)
        builder.button(
            text=f"{name} · {count}",
            callback_data=ChairDepartment(department_id=dept, year=year),
        )
    builder.adjust(2)
    return builder.as_markup()


def render_digest(
    summary: Summary,
    departments: dict[int, Department],
    *,
    year: int,
    today: date,
    week: WeekChanges | None = None,
) -> list[DigestMessage]:
    """The digest in the current locale: the week's changes first (when known), then the
    standing picture, in as few messages as fit (one for the demo), with the department
    buttons on the last."""
    grouped = at_risk_by_department(summary, departments)
    blocks = digest_blocks(summary, departments, year=year, today=today, grouped=grouped)
    if week is not None:
        blocks.insert(0, Block((week_line(week), "")))
    parts = split_blocks(blocks)
    counts = [(dept, len(risks)) for dept, risks in grouped]
    keyboard = department_keyboard(counts, departments, year)
    return [
        DigestMessage(part.text, keyboard if number == len(parts) - 1 else None)
        for number, part in enumerate(parts)
    ]


async def departments_by_id(session: AsyncSession) -> dict[int, Department]:
    rows = (await session.exec(select(Department))).all()
    return {row.id: row for row in rows if row.id is not None}


def chart_days(today: date, year: int, weeks: int = CHART_WEEKS) -> list[date]:
    """The same weekday in each of the last weeks, within the year."""
    last = min(today, date(year, 12, 31))
    days = [last - timedelta(weeks=back) for back in range(weeks - 1, -1, -1)]
    return [day for day in days if day.year == year] or [last]


@dataclass(frozen=True)
class WeekChanges:
    """What changed since the last Friday (the digest's first line): items newly at risk and
    newly overdue, items no longer at risk and why, departments that left a request of the
    week unanswered."""

    since: date
    newly_at_risk: int = 0
    newly_overdue: int = 0
    done: int = 0
    dismissed: int = 0
    recovered: int = 0
    silent_departments: int = 0

    @property
    def no_longer_at_risk(self) -> int:
        return self.done + self.dismissed + self.recovered


def last_friday(today: date) -> date:
    """The Friday before `today` (a week ago on a Friday): where "this week" starts."""
    return today - timedelta(days=(today.weekday() - 4) % 7 or 7)


def week_line(week: WeekChanges) -> str:
    """«Since 29 Nov: +4 at risk, −2 no longer (1 done, 1 dismissed, 0 recovered), …»"""
    return _(
        "<b>Since {date}:</b> newly at risk: {new}; newly overdue: {overdue}; no longer at "
        "risk: {gone} (done {done}, dismissed {dismissed}, recovered {recovered}); "
        "departments that did not answer: {silent}"
    ).format(
        date=format_day(week.since),
        new=week.newly_at_risk,
        overdue=week.newly_overdue,
        gone=week.no_longer_at_risk,
        done=week.done,
        dismissed=week.dismissed,
        recovered=week.recovered,
        silent=week.silent_departments,
    )


async def week_changes(
    session: AsyncSession,
    *,
    today: date,
    year: int,
    thresholds: RiskThresholds,
    tz: tzinfo,
    at_risk_now: dict[int, ItemRisk],
) -> WeekChanges:
    """Compare the items at risk now with what was known at the end of the last Friday (only
    its items at risk are kept: the rest, done ones first, are only counted)."""
    since = last_friday(today)
    then = (
        await assess_tally(
            session, today=since, year=year, thresholds=thresholds, tz=tz, as_of_history=True
        )
    ).at_risk
    was_at_risk = {item_id for item_id, risk in then.items() if risk.reasons}
    was_overdue = {item_id for item_id, risk in then.items() if RiskReason.OVERDUE in risk.reasons}
    overdue_now = {
        item_id for item_id, risk in at_risk_now.items() if RiskReason.OVERDUE in risk.reasons
    }
    newly_overdue = overdue_now - was_overdue
    newly = set(at_risk_now) - was_at_risk - newly_overdue
    left = was_at_risk - set(at_risk_now)
    done = dismissed = 0
    if left:
        for risk in (
            await assess_items(
                session, today=today, year=year, thresholds=thresholds, tz=tz, item_ids=left
            )
        ).values():
            if risk.latest_status == ItemStatus.DONE:
                done += 1
            elif risk.dismissed:
                dismissed += 1
    silent = await session.exec(
        select(func.count(distinct(col(RoundRequest.department_id)))).where(
            col(RoundRequest.requested_at) >= _end_of(since, tz),
            col(RoundRequest.answered_at).is_(None),
            col(RoundRequest.excused).is_(False),
        )
    )
    return WeekChanges(
        since,
        newly_at_risk=len(newly),
        newly_overdue=len(newly_overdue),
        done=done,
        dismissed=dismissed,
        recovered=len(left) - done - dismissed,
        silent_departments=int(silent.one()),
    )


def _end_of(day: date, tz: tzinfo) -> datetime:
    return datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=tz)


@dataclass
class DigestData:
    """Everything a digest needs, computed once and rendered per reader."""

    year: int
    today: date
    summary: Summary
    departments: dict[int, Department]
    weekly: list[tuple[date, int]]
    week: WeekChanges | None = None


async def collect_digest(
    session: AsyncSession,
    *,
    today: date,
    year: int,
    thresholds: RiskThresholds,
    tz: tzinfo,
    with_weekly: bool = True,
) -> DigestData:
    tally = await assess_tally(session, today=today, year=year, thresholds=thresholds, tz=tz)
    summary = summarize_tally(tally)
    summary.likely_late_below = likely_late_cutoff(thresholds)
    summary.likely_late = await likely_late(
        session, tally, today=today, year=year, tz=tz, below=summary.likely_late_below
    )
    weekly: list[tuple[date, int]] = []
    week = None
    if with_weekly and summary.total:
        weekly = [*await stored_weeks(session, year=year, before=today), (today, summary.at_risk)]
        week = await week_changes(
            session,
            today=today,
            year=year,
            thresholds=thresholds,
            tz=tz,
            at_risk_now=tally.at_risk,
        )
    return DigestData(year, today, summary, await departments_by_id(session), weekly, week)


async def likely_late(
    session: AsyncSession, tally: RiskTally, *, today: date, year: int, tz: tzinfo, below: float
) -> list[LikelyLate]:
    """The items no rule but the forecast holds at risk whose chance to meet the deadline is
    below `below`, the least likely first."""
    at_risk_otherwise = [
        item_id
        for item_id, risk in tally.at_risk.items()
        if any(reason != RiskReason.FORECAST_LATE for reason in risk.reasons)
    ]
    found = await screened_forecasts(
        session, year=year, tz=tz, skip=set(at_risk_otherwise), since_deadline=today
    )
    late = {item_id: entry for item_id, entry in found.items() if unlikely(entry, below)}
    if not late:
        return []
    # Plain columns: thousands of ORM objects would cost more than the forecasts' lookup.
    columns = sa.select(
        col(RoadmapItem.id),
        col(RoadmapItem.code),
        col(RoadmapItem.title_kk),
        col(RoadmapItem.title_ru),
        col(RoadmapItem.department_id),
    ).where(col(RoadmapItem.id).in_(list(late)))
    entries = [
        LikelyLate(item_id, code, title_kk, title_ru, department_id, late[item_id])
        for item_id, code, title_kk, title_ru, department_id in (
            await (await session.connection()).execute(columns)
        ).all()
        if item_id is not None
    ]
    entries.sort(key=lambda entry: code_key(entry.code))
    entries.sort(key=lambda entry: entry.forecast.chance or 0.0)
    return entries


async def stored_weeks(
    session: AsyncSession, *, year: int, before: date, weeks: int = CHART_WEEKS - 1
) -> list[tuple[date, int]]:
    """The at-risk counts the weekly job stored before `before`, oldest first."""
    statement = (
        select(col(RiskSnapshot.day), col(RiskSnapshot.at_risk))
        .where(RiskSnapshot.year == year, col(RiskSnapshot.day) < before)
        .order_by(col(RiskSnapshot.day).desc())
        .limit(weeks)
    )
    return [(day, count) for day, count in reversed((await session.exec(statement)).all())]


async def save_snapshot(session: AsyncSession, data: DigestData, now: datetime) -> None:
    """Store today's counts for the trend (once per day; a rerun updates them)."""
    counts = data.summary.counts
    statement = select(RiskSnapshot).where(
        RiskSnapshot.year == data.year, RiskSnapshot.day == data.today
    )
    snapshot = (await session.exec(statement)).first() or RiskSnapshot(
        year=data.year,
        day=data.today,
        created_at=now,
        total=0,
        done=0,
        on_track=0,
        at_risk=0,
        overdue=0,
        not_reported=0,
    )
    snapshot.total = data.summary.total
    snapshot.done = counts[Category.DONE]
    snapshot.on_track = counts[Category.ON_TRACK]
    snapshot.at_risk = data.summary.at_risk
    snapshot.overdue = counts[Category.OVERDUE]
    snapshot.not_reported = counts[Category.NOT_REPORTED]
    snapshot.created_at = now
    session.add(snapshot)


def render_chart_png(data: DigestData) -> bytes:
    """The digest's chart in the current locale."""
    return Chart(*_chart_numbers(data)).pngs([_chart_words(data)])[0]


def render_chart_pngs(data: DigestData, i18n: I18n, locales: Sequence[str]) -> dict[str, bytes]:
    """The digest's chart in each of `locales`: drawn once, only the words drawn per locale."""
    words = []
    for locale in locales:
        with in_locale(i18n, locale):
            words.append(_chart_words(data))
    return dict(zip(locales, Chart(*_chart_numbers(data)).pngs(words), strict=True))


def _chart_numbers(data: DigestData) -> tuple[list[dict[str, int]], list[int]]:
    """What the chart shows in every language: each department's counts, the weekly counts."""
    counts = [
        {str(kind): count for kind, count in counts.items()}
        for counts in data.summary.by_department.values()
    ]
    return counts, [count for _day, count in data.weekly]


def _chart_words(data: DigestData) -> ChartTexts:
    """The chart's words in the current locale, the departments in `_chart_numbers`' order."""
    locale = current_locale()
    return chart_texts(
        bar_labels=[
            department_short_name(data.departments.get(dept)) for dept in data.summary.by_department
        ],
        week_labels=[format_date(day, "d MMM", locale=locale) for day, _count in data.weekly],
        year=data.year,
        at_risk=data.summary.at_risk,
    )


def chart_caption(data: DigestData) -> str:
    """Exactly what the chart shows: the week-by-week panel only once it is drawn."""
    if len(data.weekly) >= 2:
        return _("Road Map {year}: items by department and at-risk items week by week").format(
            year=data.year
        )
    return _("Road Map {year}: items by department; ⚠ — at risk or overdue").format(year=data.year)


def chart_with_caption(
    data: DigestData, messages: list[DigestMessage]
) -> tuple[DigestMessage, list[DigestMessage]]:
    """The chart's caption and what still goes as messages after it: a one-message summary
    that fits Telegram's caption limit becomes the caption itself, with its buttons."""
    if len(messages) == 1 and visible_length(messages[0].text) <= TELEGRAM_CAPTION_LIMIT:
        return messages[0], []
    return DigestMessage(chart_caption(data), None), messages


async def enqueue_weekly_digest(
    session: AsyncSession,
    *,
    i18n: I18n,
    today: date,
    now: datetime,
    not_before: datetime,
    thresholds: RiskThresholds,
    tz: tzinfo,
) -> int:
    """The week's digest and chart for every active chair and secretariat person.

    Keys carry the ISO week, so running the job twice in a week adds nothing. Returns the
    number of notifications added.
    """
    data = await collect_digest(session, today=today, year=today.year, thresholds=thresholds, tz=tz)
    if data.summary.total:
        await save_snapshot(session, data, now)
    readers = await recipients.chair_and_secretariat(session)
    iso = today.isocalendar()
    week = f"{iso.year}-W{iso.week:02d}"
    added = 0
    charts: dict[str, str] = {}
    locales = list(dict.fromkeys(person.locale or i18n.default_locale for person in readers))
    if data.summary.total and locales:
        # One drawing for all the readers' languages, in a worker thread: the bot keeps
        # answering meanwhile.
        pngs = await asyncio.to_thread(render_chart_pngs, data, i18n, locales)
        charts = {locale: base64.b64encode(png).decode("ascii") for locale, png in pngs.items()}
    for person in readers:
        locale = person.locale or i18n.default_locale
        with in_locale(i18n, locale):
            messages = render_digest(
                data.summary, data.departments, year=data.year, today=today, week=data.week
            )
            caption, messages = chart_with_caption(data, messages)
        if locale in charts:  # the chart first, the text as its caption when it fits
            added += await enqueue_photo(
                session,
                key=f"digest:{week}:{person.id}:chart",
                kind="digest",
                person=person,
                photo=charts[locale],
                filename="summary.png",
                caption=caption.text,
                keyboard=caption.markup,
                now=now,
                not_before=not_before,
            )
        for number, message in enumerate(messages, start=1):
            added += await enqueue_message(
                session,
                key=f"digest:{week}:{person.id}:{number}",
                kind="digest",
                person=person,
                text=message.text,
                keyboard=message.markup,
                now=now,
                not_before=not_before,
            )
    await session.commit()
    return added
