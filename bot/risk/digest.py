"""The Road Map digest: counts for a year, then the at-risk items by department, with why.

Texts are rendered in the current locale and split into messages at item boundaries, each
message balanced HTML within Telegram's limit. The weekly digest goes through the outbox.
"""

from __future__ import annotations

import base64
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from enum import StrEnum

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from babel.dates import format_date
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.parsing import DbId, SmallInt
from bot.delivery.enqueue import enqueue_message
from bot.reporting.views import cause_label
from bot.risk.assess import (
    DEFAULT_TZ,
    ItemRisk,
    RiskReason,
    RiskThresholds,
    assess_items,
    at_risk_counts,
    days_without_update,
    planned_progress,
    reason_label,
)
from bot.telegram.i18n import current_locale, format_day, in_locale, ngettext, pick_name
from bot.telegram.texts import (
    TELEGRAM_TEXT_LIMIT,
    department_name,
    quote,
    status_label,
    visible_length,
)
from db import outbox
from db.models import Department, ItemStatus, Person, Role

TITLE_LIMIT = 200
ITEM_BUTTONS_PER_PART = 40
CHART_WEEKS = 8


class ChairItem(CallbackData, prefix="ci"):
    """Open an item's card and history from a digest or an alert."""

    item_id: DbId


class ChairDepartment(CallbackData, prefix="cd"):
    department_id: DbId
    year: SmallInt


class AskUpdate(CallbackData, prefix="cu"):
    """Ask the item's department for a status update now."""

    item_id: DbId


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
    """What the digest counts. `at_risk` includes the overdue items."""

    total: int = 0
    counts: Counter[Category] = field(default_factory=Counter)
    by_department: dict[int, Counter[Category]] = field(default_factory=dict)
    at_risk_items: list[ItemRisk] = field(default_factory=list)

    @property
    def at_risk(self) -> int:
        return self.counts[Category.AT_RISK] + self.counts[Category.OVERDUE]


def code_key(code: str) -> tuple[tuple[int, int | str], ...]:
    """`2.10` after `2.9`: numbers compare as numbers."""
    return tuple((0, int(part)) if part.isdigit() else (1, part) for part in re.split(r"[.]", code))


def summarize(risks: dict[int, ItemRisk]) -> Summary:
    summary = Summary()
    for risk in risks.values():
        kind = category(risk)
        summary.total += 1
        summary.counts[kind] += 1
        summary.by_department.setdefault(risk.department_id, Counter())[kind] += 1
        if risk.reasons:
            summary.at_risk_items.append(risk)
    summary.at_risk_items.sort(key=lambda risk: code_key(risk.code))
    return summary


def reason_detail(risk: ItemRisk, reason: RiskReason, today: date) -> str:
    """The reason with what makes it concrete: the cause, the days, the points."""
    facts = risk.facts
    if reason == RiskReason.DECLARED:
        label = status_label(risk.latest_status or "")
        return f"{label} ({cause_label(risk.latest_cause)})" if risk.latest_cause else label
    if reason == RiskReason.OVERDUE:
        days = (today - risk.deadline).days
        return ngettext("overdue by {count} day", "overdue by {count} days", days).format(
            count=days
        )
    if reason == RiskReason.STALE:
        days = days_without_update(facts, today)
        if facts.latest_day is None:
            return ngettext("no report for {count} day", "no report for {count} days", days).format(
                count=days
            )
        return ngettext("no update for {count} day", "no update for {count} days", days).format(
            count=days
        )
    if reason == RiskReason.BEHIND_PLAN:
        expected = round(planned_progress(facts.start, facts.deadline, today))
        return _("behind plan: {progress}% instead of {expected}%").format(
            progress=risk.latest_progress, expected=expected
        )
    if reason == RiskReason.FLAT:
        return ngettext(
            "no progress in {count} report", "no progress in {count} reports", facts.flat_streak
        ).format(count=facts.flat_streak)
    if reason == RiskReason.DEADLINE_MOVED:
        return ngettext(
            "deadline postponed {count} time",
            "deadline postponed {count} times",
            facts.postponements,
        ).format(count=facts.postponements)
    return reason_label(reason)


def reasons_text(risk: ItemRisk, today: date) -> str:
    return "; ".join(reason_detail(risk, reason, today) for reason in risk.reasons)


def short_title(risk: ItemRisk) -> str:
    title = pick_name(risk.title_kk, risk.title_ru)
    return title if len(title) <= TITLE_LIMIT else title[: TITLE_LIMIT - 1].rstrip() + "…"


def item_line(risk: ItemRisk, today: date) -> str:
    """One at-risk item, one line of balanced HTML: the unit messages are split at."""
    code, title, reasons = quote(risk.code), quote(short_title(risk)), reasons_text(risk, today)
    return f"• <b>{code}</b> {title} — <i>{quote(reasons)}</i>"


@dataclass(frozen=True)
class Block:
    """Lines that stay in one message; `continued` is repeated on top of a new message."""

    lines: tuple[str, ...]
    item_ids: tuple[int, ...] = ()
    continued: str | None = None


@dataclass
class Part:
    text: str
    item_ids: list[int]


def split_blocks(blocks: Iterable[Block], limit: int = TELEGRAM_TEXT_LIMIT) -> list[Part]:
    """Join blocks into messages within the limit, never cutting a block (an item) in two."""
    parts: list[Part] = []
    lines: list[str] = []
    ids: list[int] = []

    def size(candidate: list[str]) -> int:
        return visible_length("\n".join(candidate))

    for block in blocks:
        if lines and size([*lines, *block.lines]) > limit:
            parts.append(Part("\n".join(lines), ids))
            lines, ids = [], []
        if not lines:
            body = list(block.lines)
            while body and not body[0].strip():
                body.pop(0)
            if block.continued:
                body.insert(0, block.continued)
            if size(body) > limit:
                raise ValueError("a single item is longer than a Telegram message")
            lines = body
        else:
            lines.extend(block.lines)
        ids.extend(block.item_ids)
    if lines:
        parts.append(Part("\n".join(lines), ids))
    return parts


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


def digest_blocks(
    summary: Summary, departments: dict[int, Department], *, year: int, today: date
) -> list[Block]:
    header = [
        _("<b>Road Map {year}: summary as of {date}</b>").format(year=year, date=format_day(today)),
        *count_lines(summary),
    ]
    blocks = [Block(tuple(header))]
    if not summary.at_risk_items:
        blocks.append(Block(("", _("No items are at risk."))))
        return blocks
    blocks.append(Block(("", _("<b>At-risk items by department</b>"))))
    grouped: dict[int, list[ItemRisk]] = {}
    for risk in summary.at_risk_items:
        grouped.setdefault(risk.department_id, []).append(risk)
    order = sorted(
        grouped,
        key=lambda dept: (-len(grouped[dept]), department_name(departments.get(dept)).lower()),
    )
    for dept in order:
        risks = grouped[dept]
        name = quote(department_name(departments.get(dept)))
        heading = "<b>{name}</b> — {count}".format(
            name=name,
            count=ngettext("{count} item at risk", "{count} items at risk", len(risks)).format(
                count=len(risks)
            ),
        )
        continued = _("<b>{name}</b> (continued)").format(name=name)
        first, *rest = risks
        blocks.append(Block(("", heading, item_line(first, today)), (first.item_id,)))
        blocks.extend(Block((item_line(risk, today),), (risk.item_id,), continued) for risk in rest)
    return blocks


@dataclass
class DigestMessage:
    text: str
    markup: InlineKeyboardMarkup | None


def digest_keyboard(
    item_ids: Sequence[int],
    codes: dict[int, str],
    departments: Sequence[tuple[int, str]],
    year: int,
) -> InlineKeyboardMarkup | None:
    builder = InlineKeyboardBuilder()
    shown = list(item_ids)[:ITEM_BUTTONS_PER_PART]
    for item_id in shown:
        builder.button(text=codes[item_id], callback_data=ChairItem(item_id=item_id))
    sizes = [4] * (len(shown) // 4) + ([len(shown) % 4] if len(shown) % 4 else [])
    for department_id, label in departments:
        builder.button(
            text=label, callback_data=ChairDepartment(department_id=department_id, year=year)
        )
    sizes += [1] * len(departments)
    if not sizes:
        return None
    builder.adjust(*sizes)
    return builder.as_markup()


def render_digest(
    summary: Summary, departments: dict[int, Department], *, year: int, today: date
) -> list[DigestMessage]:
    """The digest in the current locale: messages with item buttons, departments on the last."""
    parts = split_blocks(digest_blocks(summary, departments, year=year, today=today))
    codes = {risk.item_id: risk.code for risk in summary.at_risk_items}
    department_ids = []
    for risk in summary.at_risk_items:
        if risk.department_id not in department_ids:
            department_ids.append(risk.department_id)
    buttons = [
        (dept, "🏛 " + department_name(departments.get(dept))[:60]) for dept in department_ids
    ]
    messages = []
    for number, part in enumerate(parts):
        last = number == len(parts) - 1
        markup = digest_keyboard(part.item_ids, codes, buttons if last else [], year)
        messages.append(DigestMessage(part.text, markup))
    return messages


async def departments_by_id(session: AsyncSession) -> dict[int, Department]:
    rows = (await session.exec(select(Department))).all()
    return {row.id: row for row in rows if row.id is not None}


def chart_days(today: date, year: int, weeks: int = CHART_WEEKS) -> list[date]:
    """The same weekday in each of the last weeks, within the year."""
    last = min(today, date(year, 12, 31))
    days = [last - timedelta(weeks=back) for back in range(weeks - 1, -1, -1)]
    return [day for day in days if day.year == year] or [last]


@dataclass
class DigestData:
    """Everything a digest needs, computed once and rendered per reader."""

    year: int
    today: date
    summary: Summary
    departments: dict[int, Department]
    weekly: list[tuple[date, int]]


async def collect_digest(
    session: AsyncSession,
    *,
    today: date,
    year: int,
    thresholds: RiskThresholds | None = None,
    tz: tzinfo = DEFAULT_TZ,
    with_weekly: bool = True,
) -> DigestData:
    risks = await assess_items(session, today=today, year=year, thresholds=thresholds, tz=tz)
    summary = summarize(risks)
    weekly: list[tuple[date, int]] = []
    if with_weekly and summary.total:
        days = chart_days(today, year)
        counts = await at_risk_counts(
            session, days=days[:-1], year=year, thresholds=thresholds, tz=tz
        )
        weekly = [*zip(days[:-1], counts, strict=True), (days[-1], summary.at_risk)]
    return DigestData(year, today, summary, await departments_by_id(session), weekly)


def render_chart_png(data: DigestData) -> bytes:
    """The digest's chart in the current locale."""
    from bot.risk.chart import ChartBar, render_chart

    bars = [
        ChartBar(label=department_name(data.departments.get(dept)), counts=dict(counts))
        for dept, counts in data.summary.by_department.items()
    ]
    locale = current_locale()
    weekly = [(format_date(day, "d MMM", locale=locale), count) for day, count in data.weekly]
    return render_chart(bars=bars, weekly=weekly, year=data.year)


def chart_caption(data: DigestData) -> str:
    return _("Road Map {year}: items by department and at-risk items week by week").format(
        year=data.year
    )


async def digest_readers(session: AsyncSession) -> list[Person]:
    statement = (
        select(Person)
        .where(
            col(Person.role).in_([Role.CHAIR, Role.SECRETARIAT]),
            col(Person.active).is_(True),
            col(Person.blocked_bot).is_(False),
        )
        .order_by(col(Person.id))
    )
    return list((await session.exec(statement)).all())


async def enqueue_weekly_digest(
    session: AsyncSession,
    *,
    i18n: I18n,
    today: date,
    now: datetime,
    not_before: datetime,
    thresholds: RiskThresholds | None = None,
    tz: tzinfo = DEFAULT_TZ,
) -> int:
    """The week's digest and chart for every active chair and secretariat person.

    Keys carry the ISO week, so running the job twice in a week adds nothing. Returns the
    number of notifications added.
    """
    readers = await digest_readers(session)
    if not readers:
        return 0
    data = await collect_digest(session, today=today, year=today.year, thresholds=thresholds, tz=tz)
    iso = today.isocalendar()
    week = f"{iso.year}-W{iso.week:02d}"
    added = 0
    charts: dict[str, str] = {}
    for person in readers:
        locale = person.locale or i18n.default_locale
        with in_locale(i18n, locale):
            messages = render_digest(data.summary, data.departments, year=data.year, today=today)
            if data.summary.total and locale not in charts:
                charts[locale] = base64.b64encode(render_chart_png(data)).decode("ascii")
            caption = chart_caption(data)
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
        if locale in charts:
            added += await outbox.enqueue(
                session,
                key=f"digest:{week}:{person.id}:chart",
                kind="digest",
                chat_id=person.telegram_id,
                person_id=person.id,
                method="sendPhoto",
                params={
                    "photo": {"base64": charts[locale], "filename": "summary.png"},
                    "caption": caption,
                },
                now=now,
                not_before=not_before,
            )
    await session.commit()
    return added
