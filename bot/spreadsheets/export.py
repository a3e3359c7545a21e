"""The Road Map as an Excel workbook the secretariat can filter, sort and forward.

Headers are in the reader's language (render inside a locale), dates are real Excel dates,
and text that Excel would take for a formula is written as text.

The rows are read in partitions and each is written into the zipped sheet as it arrives:
memory stays at one partition plus the zipped file. All of it runs on the loop it is given:
the bot calls `build_export_apart`, which gives it a loop and an engine of its own in a worker
thread (`bot/spreadsheets/apart.py`), so the bot's loop only shares the interpreter with it.
"""

from __future__ import annotations

import asyncio
import io
import threading
from collections.abc import AsyncGenerator, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any

import sqlalchemy as sa
from aiogram.utils.i18n import gettext as _
from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import aliased
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.risk import forecast_views
from bot.risk.forecast import Forecast
from bot.risk.forecast_cache import every_forecast
from bot.risk.rules import RiskThresholds
from bot.spreadsheets.apart import run_apart
from bot.spreadsheets.parse import Column
from bot.spreadsheets.stats import (
    DepartmentStats,
    department_stats,
    risk_labels,
)
from bot.spreadsheets.texts import COLUMN_HEADERS
from bot.spreadsheets.xlsx_stream import EXCEL_MAX_ROWS, XlsxSheet, XlsxStream
from bot.telegram.i18n import pick_name
from bot.telegram.texts import cause_label, evidence_label, status_label
from db import queries
from db.models import Department, Person, RoadmapItem, StatusUpdate

PARTITION = 5_000  # rows read per trip: a few milliseconds of the loop's time
ITEM_WIDTHS = (10, 40, 40, 14, 30, 12, 24, 30, 20, 10, 30, 16, 20, 50, 10, 30, 24, 24)
HISTORY_WIDTHS = (10, 16, 30, 20, 20, 10, 60, 20, 12, 30)
DEPARTMENT_WIDTHS = (14, 40, 10, 10, 12, 14, 16, 12)


class _LocalTimes:
    """`_local` for half a million moments: a zone's offset changes only on the hour, so it
    is looked up once per UTC hour and the rest is one parse and one addition."""

    def __init__(self, tz: tzinfo) -> None:
        self.tz = tz
        self.offsets: dict[str, timedelta] = {}

    def __call__(self, moment: datetime | str) -> datetime:
        if not isinstance(moment, str):
            return _local(moment, self.tz)
        value = datetime.fromisoformat(moment)
        if value.tzinfo is not None:
            return value.astimezone(self.tz).replace(tzinfo=None)
        hour = moment[:13]
        offset = self.offsets.get(hour)
        if offset is None:
            utc = value.replace(minute=0, second=0, microsecond=0, tzinfo=UTC)
            offset = self.offsets[hour] = utc.astimezone(self.tz).utcoffset() or timedelta()
        return value + offset


def _local(moment: datetime | str, tz: tzinfo) -> datetime:
    """Excel has no time zones: local wall-clock time, without tzinfo. A stored moment is UTC;
    the streamed columns come as SQLite's text (see `_raw`), parsed here in the worker."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(tz).replace(tzinfo=None)


def _raw(column: Any, label: str | None = None) -> Any:
    """A timestamp column without SQLAlchemy's per-row parsing on the loop (SQLite's text is
    parsed by `_local` in the worker thread; PostgreSQL's driver returns datetimes anyway)."""
    return sa.type_coerce(column, sa.String).label(label or column.key)


def _department_codes(
    lead: Department | None, co_executor_ids: Iterable[int], departments: dict[int, Department]
) -> str:
    """The lead's code, then the co-executors': the way the import reads a shared item."""
    codes = [lead.code] if lead else []
    codes += sorted(departments[i].code for i in co_executor_ids if i in departments)
    return ", ".join(codes)


@dataclass(frozen=True)
class _Facts:
    """What the workbook needs besides the streamed rows: small, read before writing."""

    departments: dict[int, Department]
    authors: dict[int, str]
    co_executors: dict[int, list[int]]
    risks: dict[int, list[str]]
    forecasts: dict[int, Forecast]
    stats: list[DepartmentStats]
    tz: tzinfo
    history_skipped: int


def _items_statement() -> Any:
    """Every item with its newest update (by time, then id: the one the database's trigger
    keeps in `last_update_id`), ordered by code."""
    newest = StatusUpdate.__table__.c  # type: ignore[attr-defined]
    return (
        sa.select(
            col(RoadmapItem.code),
            col(RoadmapItem.title_kk),
            col(RoadmapItem.title_ru),
            col(RoadmapItem.id),
            col(RoadmapItem.department_id),
            col(RoadmapItem.deadline),
            col(RoadmapItem.deadline_text),
            col(RoadmapItem.target),
            col(RoadmapItem.archived),
            col(RoadmapItem.completion_form),
            col(RoadmapItem.costs),
            col(RoadmapItem.funding),
            newest.status,
            newest.progress,
            _raw(newest.created_at),
            newest.author_id,
            newest.comment,
        )
        .outerjoin(StatusUpdate, newest.id == RoadmapItem.last_update_id)
        .order_by(col(RoadmapItem.code))
    )


def _history_statement(skip: int) -> Any:
    """Every update, oldest first, with its item's code and department; for a correction, the
    time of the report it corrects, and for a corrected report, when it was corrected."""
    original = aliased(StatusUpdate)
    corrections = (
        sa.select(
            col(StatusUpdate.corrects_id).label("original_id"),
            func.min(StatusUpdate.created_at).label("corrected_at"),
        )
        .where(col(StatusUpdate.corrects_id).is_not(None))
        .group_by(col(StatusUpdate.corrects_id))
        .subquery()
    )
    statement = (
        sa.select(
            col(RoadmapItem.code),
            _raw(col(StatusUpdate.created_at)),
            col(RoadmapItem.department_id),
            col(StatusUpdate.author_id),
            col(StatusUpdate.status),
            col(StatusUpdate.progress),
            col(StatusUpdate.comment),
            col(StatusUpdate.cause),
            col(StatusUpdate.evidence_kind),
            col(StatusUpdate.evidence_name),
            _raw(col(original.created_at), "original_at"),
            _raw(corrections.c.corrected_at, "corrected_at"),
        )
        .join(RoadmapItem, col(RoadmapItem.id) == StatusUpdate.item_id)
        .outerjoin(original, col(original.id) == StatusUpdate.corrects_id)
        .outerjoin(corrections, corrections.c.original_id == StatusUpdate.id)
        .order_by(col(StatusUpdate.created_at), col(StatusUpdate.id))
    )
    return statement.offset(skip) if skip else statement


async def _partitions(session: AsyncSession, statement: Any) -> AsyncGenerator[Sequence[Any], None]:
    result = await session.stream(statement)
    try:
        async for rows in result.partitions(PARTITION):
            yield rows
    finally:
        await result.close()


async def build_export_apart(
    engine: AsyncEngine, *, today: date, tz: tzinfo, thresholds: RiskThresholds
) -> bytes:
    """`build_export` apart from the bot's loop (`run_apart`): at 50,000 items the reads, the
    labels and the forecasts take seconds of the interpreter. When the caller is cancelled
    (the bot stops), the worker stops at its next partition."""
    stopped = threading.Event()

    async def build(session: AsyncSession) -> bytes:
        return await build_export(
            session, today=today, tz=tz, thresholds=thresholds, stopped=stopped
        )

    try:
        return await run_apart(engine, build)
    finally:
        stopped.set()


async def build_export(
    session: AsyncSession,
    *,
    today: date,
    tz: tzinfo,
    thresholds: RiskThresholds,
    stopped: threading.Event | None = None,
) -> bytes:
    """Items, History and Departments sheets, rendered in the current locale, read and written
    on the running loop (the bot runs it apart: `build_export_apart`). The History sheet keeps
    the newest updates an Excel sheet can hold. `stopped`: set by another thread to stop
    between partitions."""
    history_count = (await session.exec(select(func.count()).select_from(StatusUpdate))).one()
    facts = _Facts(
        departments={d.id: d for d in await queries.all_departments(session) if d.id is not None},
        authors={
            person_id: name
            for person_id, name in (await session.exec(select(Person.id, Person.display_name)))
            if person_id is not None
        },
        co_executors=await queries.co_executor_ids(session),
        risks=await risk_labels(session, today=today, year=None, tz=tz, thresholds=thresholds),
        forecasts=await every_forecast(session, year=None, tz=tz),
        stats=list(await department_stats(session, today=today)),
        tz=tz,
        history_skipped=max(0, history_count - (EXCEL_MAX_ROWS - 1)),
    )
    buffer = io.BytesIO()
    with XlsxStream(buffer) as book:
        items = book.sheet(
            _("Items"), ITEM_WIDTHS + forecast_views.EXPORT_WIDTHS, inline_columns=(2, 3)
        )
        await _write_partitions(session, _items_statement(), _items_writer(items, facts), stopped)
        history = book.sheet(_("History"), HISTORY_WIDTHS)
        await _write_partitions(
            session,
            _history_statement(facts.history_skipped),
            _history_writer(history, facts),
            stopped,
        )
        _departments_sheet(
            book.sheet(_("Departments"), DEPARTMENT_WIDTHS, percent_columns=(5,)), facts
        )
    return buffer.getvalue()


async def _write_partitions(
    session: AsyncSession,
    statement: Any,
    write: Callable[[Sequence[Any]], None],
    stopped: threading.Event | None,
) -> None:
    """Each partition written as it is read; stops between partitions once `stopped` is set."""
    async for rows in _partitions(session, statement):
        if stopped is not None and stopped.is_set():
            raise asyncio.CancelledError
        write(rows)


def _items_writer(sheet: XlsxSheet, facts: _Facts) -> Callable[[Sequence[Any]], None]:
    """Writes the Items sheet's header; returns what writes a partition of its rows."""
    sheet.append(
        [
            _(COLUMN_HEADERS[Column.CODE]),
            _(COLUMN_HEADERS[Column.TITLE_KK]),
            _(COLUMN_HEADERS[Column.TITLE_RU]),
            _(COLUMN_HEADERS[Column.DEPARTMENT]),
            _("Department"),
            _(COLUMN_HEADERS[Column.DEADLINE]),
            _(COLUMN_HEADERS[Column.DEADLINE_TEXT]),
            _(COLUMN_HEADERS[Column.TARGET]),
            _("Status"),
            _("Progress, %"),
            _("Risk reasons"),
            _("Last update"),
            _("Author"),
            _("Comment"),
            _("Archived"),
            _(COLUMN_HEADERS[Column.COMPLETION_FORM]),
            _(COLUMN_HEADERS[Column.COSTS]),
            _(COLUMN_HEADERS[Column.FUNDING]),
            *forecast_views.export_headers(),
        ],
        header=True,
    )
    departments, local = facts.departments, _LocalTimes(facts.tz)
    names = {i: pick_name(d.name_kk, d.name_ru) for i, d in departments.items()}
    statuses: dict[str, str] = {}
    no_reports, archived = _("no reports yet"), _("yes")

    def write(rows: Sequence[Any]) -> None:
        for row in rows:
            (code, title_kk, title_ru, item_id, department_id, deadline, deadline_text) = row[:7]
            (target, is_archived, completion_form, costs, funding) = row[7:12]
            (status, progress, created_at, author_id, comment) = row[12:]
            if status is not None and status not in statuses:
                statuses[status] = status_label(status)
            sheet.append(
                [
                    code,
                    title_kk,
                    title_ru,
                    _department_codes(
                        departments.get(department_id),
                        facts.co_executors.get(item_id, ()),
                        departments,
                    ),
                    names.get(department_id, ""),
                    deadline,
                    deadline_text,
                    target,
                    statuses[status] if status is not None else no_reports,
                    progress,
                    "; ".join(facts.risks.get(item_id, [])),
                    local(created_at) if created_at is not None else None,
                    facts.authors.get(author_id, "") if author_id is not None else "",
                    comment,
                    archived if is_archived else "",
                    completion_form or "",
                    costs or "",
                    funding or "",
                    *forecast_views.export_cells(facts.forecasts.get(item_id)),
                ]
            )

    return write


def _history_writer(sheet: XlsxSheet, facts: _Facts) -> Callable[[Sequence[Any]], None]:
    """Writes the History sheet's header; returns what writes a partition of its rows."""
    sheet.append(
        [
            _(COLUMN_HEADERS[Column.CODE]),
            _("Date and time"),
            _("Department"),
            _("Author"),
            _("Status"),
            _("Progress, %"),
            _("Comment"),
            _("Cause"),
            _("Evidence"),
            _("Correction"),
        ],
        header=True,
    )
    local = _LocalTimes(facts.tz)
    names = {i: pick_name(d.name_kk, d.name_ru) for i, d in facts.departments.items()}
    labels: dict[tuple[str, str | None], tuple[str, str]] = {}

    def write(rows: Sequence[Any]) -> None:
        for row in rows:
            (code, created_at, department_id, author_id, status, progress, comment) = row[:7]
            (cause, evidence_kind, evidence_name, original_at, corrected_at) = row[7:]
            label = labels.get((status, cause))
            if label is None:
                label = labels[(status, cause)] = (status_label(status), cause_label(cause))
            sheet.append(
                [
                    code,
                    local(created_at),
                    names.get(department_id, ""),
                    facts.authors.get(author_id, ""),
                    label[0],
                    progress,
                    comment,
                    label[1],
                    evidence_label(evidence_kind, evidence_name) if evidence_kind else "",
                    _correction_note(original_at, corrected_at, facts.tz),
                ]
            )

    return write


def _correction_note(original_at: Any, corrected_at: Any, tz: tzinfo) -> str:
    """A correction names the report it corrects, a corrected report when it was corrected:
    the history keeps both, and a reader tells the current one at a glance."""
    notes = []
    if original_at is not None:
        notes.append(
            _("correction of the entry of {moment}").format(moment=_moment(original_at, tz))
        )
    if corrected_at is not None:
        notes.append(_("corrected on {moment}").format(moment=_moment(corrected_at, tz)))
    return "; ".join(notes)


def _moment(moment: datetime | str, tz: tzinfo) -> str:
    return f"{_local(moment, tz):%d.%m.%Y %H:%M}"


def _departments_sheet(sheet: XlsxSheet, facts: _Facts) -> None:
    sheet.append(
        [
            _(COLUMN_HEADERS[Column.DEPARTMENT]),
            _("Department"),
            _("Requests"),
            _("Answered"),
            _("Share answered"),
            _("Median time to answer, days"),
            _("Last update"),
            _("Overdue items"),
        ],
        header=True,
    )
    for stats in facts.stats:
        department = stats.department
        median = stats.median_answer
        sheet.append(
            [
                department.code,
                pick_name(department.name_kk, department.name_ru),
                stats.requests,
                stats.answered,
                stats.share_answered,
                round(median.total_seconds() / 86400, 1) if median is not None else None,
                _local(stats.last_update, facts.tz) if stats.last_update else None,
                stats.overdue_items,
            ]
        )
