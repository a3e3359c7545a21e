"""The Road Map as an Excel workbook the secretariat can filter, sort and forward.

Headers are in the reader's language (render inside a locale), dates are real Excel dates,
and text that Excel would take for a formula is written as text.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from datetime import date, datetime, tzinfo
from typing import TYPE_CHECKING, Any

from aiogram.utils.i18n import gettext as _
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.risk import forecast_views
from bot.risk.forecast_data import forecasts_for
from bot.risk.rules import RiskThresholds
from bot.spreadsheets.parse import Column
from bot.spreadsheets.stats import department_stats, latest_updates, risk_labels
from bot.spreadsheets.texts import COLUMN_HEADERS
from bot.telegram.i18n import pick_name
from bot.telegram.texts import cause_label, evidence_label, status_label
from db import queries
from db.ids import row_id
from db.models import Department, Person, RoadmapItem, StatusUpdate

if TYPE_CHECKING:
    from openpyxl.worksheet.worksheet import Worksheet

FORMULA_PREFIXES = ("=", "+", "-", "@")
DATE_FORMAT = "DD.MM.YYYY"
DATETIME_FORMAT = "DD.MM.YYYY HH:MM"
MAX_WIDTH = 60


def _local(moment: datetime, tz: tzinfo) -> datetime:
    """Excel has no time zones: local wall-clock time, without tzinfo."""
    return moment.astimezone(tz).replace(tzinfo=None)


def _write_row(sheet: Worksheet, values: Sequence[Any]) -> None:
    """Appends a row; strings that look like formulas stay text, dates get a date format."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE  # openpyxl loads on first use

    sheet.append([ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v for v in values])
    for cell in sheet[sheet.max_row]:
        if isinstance(cell.value, str) and cell.value.startswith(FORMULA_PREFIXES):
            cell.data_type = "s"
            cell.quotePrefix = True
        elif isinstance(cell.value, datetime):
            cell.number_format = DATETIME_FORMAT
        elif isinstance(cell.value, date):
            cell.number_format = DATE_FORMAT


def _finish(sheet: Worksheet, widths: Sequence[int]) -> None:
    """Bold header, frozen header row, filters on every column, readable widths."""
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = sheet.dimensions
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = min(width, MAX_WIDTH)


def _department_codes(
    lead: Department | None, co_executor_ids: Iterable[int], departments: dict[int, Department]
) -> str:
    """The lead's code, then the co-executors': the way the import reads a shared item."""
    codes = [lead.code] if lead else []
    codes += sorted(departments[i].code for i in co_executor_ids if i in departments)
    return ", ".join(codes)


async def build_export(
    session: AsyncSession, *, today: date, tz: tzinfo, thresholds: RiskThresholds
) -> bytes:
    """Items, History and Departments sheets, rendered in the current locale."""
    departments = {row_id(d): d for d in await queries.all_departments(session)}
    people = {p.id: p for p in (await session.exec(select(Person))).all()}
    items = (await session.exec(select(RoadmapItem).order_by(col(RoadmapItem.code)))).all()
    latest = await latest_updates(session)
    co_executors = await queries.co_executor_ids(session)
    risks = await risk_labels(session, today=today, year=None, tz=tz, thresholds=thresholds)
    forecasts = await forecasts_for(session, year=None, tz=tz)

    from openpyxl import Workbook  # openpyxl loads on first use

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _("Items")
    _write_row(
        sheet,
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
    )
    for item in items:
        department = departments.get(item.department_id)
        update = latest.get(row_id(item))
        author = people.get(update.author_id) if update else None
        _write_row(
            sheet,
            [
                item.code,
                item.title_kk,
                item.title_ru,
                _department_codes(department, co_executors.get(row_id(item), ()), departments),
                pick_name(department.name_kk, department.name_ru) if department else "",
                item.deadline,
                item.deadline_text or "",
                item.target or "",
                status_label(update.status) if update else _("no reports yet"),
                update.progress if update else None,
                "; ".join(risks.get(row_id(item), [])),
                _local(update.created_at, tz) if update else None,
                author.display_name if author else "",
                (update.comment or "") if update else "",
                _("yes") if item.archived else "",
                item.completion_form or "",
                item.costs or "",
                item.funding or "",
                *forecast_views.export_cells(forecasts.get(item.id)),  # type: ignore[arg-type]
            ],
        )
    widths = (10, 40, 40, 14, 30, 12, 24, 30, 20, 10, 30, 16, 20, 50, 10, 30, 24, 24)
    _finish(sheet, widths + forecast_views.EXPORT_WIDTHS)

    await _history_sheet(workbook.create_sheet(_("History")), session, tz, people, departments)
    await _departments_sheet(workbook.create_sheet(_("Departments")), session, today, tz)

    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


async def _history_sheet(
    sheet: Worksheet,
    session: AsyncSession,
    tz: tzinfo,
    people: dict[int | None, Person],
    departments: dict[int, Department],
) -> None:
    _write_row(
        sheet,
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
        ],
    )
    statement = (
        select(StatusUpdate, RoadmapItem.code, RoadmapItem.department_id)
        .join(RoadmapItem, col(RoadmapItem.id) == StatusUpdate.item_id)
        .order_by(col(StatusUpdate.created_at), col(StatusUpdate.id))
    )
    for update, code, department_id in (await session.exec(statement)).all():
        author = people.get(update.author_id)
        department = departments.get(department_id)
        _write_row(
            sheet,
            [
                code,
                _local(update.created_at, tz),
                pick_name(department.name_kk, department.name_ru) if department else "",
                author.display_name if author else "",
                status_label(update.status),
                update.progress,
                update.comment or "",
                cause_label(update.cause),
                evidence_label(update.evidence_kind, update.evidence_name)
                if update.evidence_kind
                else "",
            ],
        )
    _finish(sheet, (10, 16, 30, 20, 20, 10, 60, 20, 12))


async def _departments_sheet(
    sheet: Worksheet, session: AsyncSession, today: date, tz: tzinfo
) -> None:
    _write_row(
        sheet,
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
    )
    for stats in await department_stats(session, today=today):
        department = stats.department
        median = stats.median_answer
        _write_row(
            sheet,
            [
                department.code,
                pick_name(department.name_kk, department.name_ru),
                stats.requests,
                stats.answered,
                stats.share_answered,
                round(median.total_seconds() / 86400, 1) if median is not None else None,
                _local(stats.last_update, tz) if stats.last_update else None,
                stats.overdue_items,
            ],
        )
        sheet.cell(row=sheet.max_row, column=5).number_format = "0%"
    _finish(sheet, (14, 40, 10, 10, 12, 14, 16, 12))
