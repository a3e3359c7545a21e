"""The Road Map as an Excel workbook the secretariat can filter, sort and forward.

Headers are in the reader's language (render inside a locale), dates are real Excel dates,
and text that Excel would take for a formula is written as text.

The rows are read in partitions on the event loop (each a short trip to the database) and
written by a worker thread, which pulls the next partition only when it has written the last:
at 50,000 items with half a million reports the loop is never held for more than one
partition, and memory stays at one partition plus the zipped file.
"""

from __future__ import annotations

import asyncio
import io
import threading
from collections.abc import AsyncGenerator, Iterable, Iterator, Sequence
from concurrent.futures import CancelledError as FutureCancelled
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from typing import Any

import sqlalchemy as sa
from aiogram.utils.i18n import gettext as _
from sqlalchemy import func
from sqlalchemy.orm import aliased
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.risk import forecast_views
from bot.risk.forecast import Forecast
from bot.risk.forecast_data import forecasts_for
from bot.risk.rules import RiskThresholds
from bot.spreadsheets.parse import Column
from bot.spreadsheets.stats import (
    DepartmentStats,
    department_stats,
    newest_first,
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
    """Every item with its newest update (by time, then id), ordered by code."""
    ranked = (  # a corrected report is never the current one: its correction stands for it
        sa.select(col(StatusUpdate.id).label("update_id"), newest_first())
        .where(col(StatusUpdate.corrected).is_(False))
        .subquery()
    )
    newest = (
        sa.select(StatusUpdate)
        .join(ranked, ranked.c.update_id == StatusUpdate.id)
        .where(ranked.c.rank == 1)
        .subquery()
    )
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
            newest.c.status,
            newest.c.progress,
            _raw(newest.c.created_at),
            newest.c.author_id,
            newest.c.comment,
        )
        .outerjoin(newest, newest.c.item_id == RoadmapItem.id)
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


class _Puller:
    """Runs in the worker thread: each partition is read by the event loop, on request."""

    def __init__(self, loop: asyncio.AbstractEventLoop, session: AsyncSession) -> None:
        self.loop = loop
        self.session = session
        self.stopped = threading.Event()

    def _await(self, awaitable: Any) -> Any:
        if self.stopped.is_set():
            raise asyncio.CancelledError
        future = asyncio.run_coroutine_threadsafe(awaitable, self.loop)
        try:
            return future.result()
        except FutureCancelled as cancelled:
            raise asyncio.CancelledError from cancelled

    def rows(self, statement: Any) -> Iterator[Sequence[Any]]:
        partitions = _partitions(self.session, statement)
        try:
            while (chunk := self._await(anext(partitions, None))) is not None:
                yield from chunk
        finally:
            if not self.loop.is_closed():
                asyncio.run_coroutine_threadsafe(partitions.aclose(), self.loop).result()


async def build_export(
    session: AsyncSession, *, today: date, tz: tzinfo, thresholds: RiskThresholds
) -> bytes:
    """Items, History and Departments sheets, rendered in the current locale, written off the
    event loop. The History sheet keeps the newest updates an Excel sheet can hold."""
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
        forecasts=await forecasts_for(session, year=None, tz=tz),
        stats=list(await department_stats(session, today=today)),
        tz=tz,
        history_skipped=max(0, history_count - (EXCEL_MAX_ROWS - 1)),
    )
    puller = _Puller(asyncio.get_running_loop(), session)
    try:  # to_thread copies the context: the thread renders in the reader's locale
        return await asyncio.to_thread(_write_workbook, facts, puller)
    finally:
        puller.stopped.set()


def _write_workbook(facts: _Facts, puller: _Puller) -> bytes:
    buffer = io.BytesIO()
    with XlsxStream(buffer) as book:
        _items_sheet(
            book.sheet(_("Items"), ITEM_WIDTHS + forecast_views.EXPORT_WIDTHS), facts, puller
        )
        _history_sheet(book.sheet(_("History"), HISTORY_WIDTHS), facts, puller)
        _departments_sheet(
            book.sheet(_("Departments"), DEPARTMENT_WIDTHS, percent_columns=(5,)), facts
        )
    return buffer.getvalue()


def _items_sheet(sheet: XlsxSheet, facts: _Facts, puller: _Puller) -> None:
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
    departments, tz = facts.departments, facts.tz
    names = {i: pick_name(d.name_kk, d.name_ru) for i, d in departments.items()}
    statuses: dict[str, str] = {}
    no_reports, archived = _("no reports yet"), _("yes")
    for row in puller.rows(_items_statement()):
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
                    departments.get(department_id), facts.co_executors.get(item_id, ()), departments
                ),
                names.get(department_id, ""),
                deadline,
                deadline_text,
                target,
                statuses[status] if status is not None else no_reports,
                progress,
                "; ".join(facts.risks.get(item_id, [])),
                _local(created_at, tz) if created_at is not None else None,
                facts.authors.get(author_id, "") if author_id is not None else "",
                comment,
                archived if is_archived else "",
                completion_form or "",
                costs or "",
                funding or "",
                *forecast_views.export_cells(facts.forecasts.get(item_id)),
            ]
        )


def _history_sheet(sheet: XlsxSheet, facts: _Facts, puller: _Puller) -> None:
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
    tz = facts.tz
    names = {i: pick_name(d.name_kk, d.name_ru) for i, d in facts.departments.items()}
    labels: dict[tuple[str, str | None], tuple[str, str]] = {}
    for row in puller.rows(_history_statement(facts.history_skipped)):
        (code, created_at, department_id, author_id, status, progress, comment) = row[:7]
        (cause, evidence_kind, evidence_name, original_at, corrected_at) = row[7:]
        label = labels.get((status, cause))
        if label is None:
            label = labels[(status, cause)] = (status_label(status), cause_label(cause))
        sheet.append(
            [
                code,
                _local(created_at, tz),
                names.get(department_id, ""),
                facts.authors.get(author_id, ""),
                label[0],
                progress,
                comment,
                label[1],
                evidence_label(evidence_kind, evidence_name) if evidence_kind else "",
                _correction_note(original_at, corrected_at, tz),
            ]
        )


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
