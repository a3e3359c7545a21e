"""The report on at-risk items for the party's central office, as an editable DOCX draft.

Rendered in the current locale (the handler and the command line choose it), so the same
function writes the Kazakh and the Russian version.
"""

from __future__ import annotations

import asyncio
import io
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, tzinfo
from typing import Any
from xml.sax.saxutils import escape

import sqlalchemy as sa
from aiogram.utils.i18n import gettext as _
from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement, parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.shared import Cm, Pt
from docx.table import Table
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.risk.digest import code_key
from bot.risk.forecast import Forecast
from bot.risk.forecast_cache import every_forecast
from bot.risk.forecast_views import report_cell
from bot.risk.rules import RiskThresholds, is_item_overdue
from bot.spreadsheets.apart import run_apart
from bot.spreadsheets.stats import newest_first, risk_labels
from bot.telegram.i18n import format_day, pick_name
from bot.telegram.texts import cause_label
from db import queries
from db.models import ItemStatus, RoadmapItem, StatusUpdate

DECLARED = frozenset({ItemStatus.AT_RISK, ItemStatus.BLOCKED})

_XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


@dataclass(frozen=True)
class RiskRow:
    code: str
    title: str
    department: str
    deadline: date
    reasons: list[str]
    cause: str
    explanation: str
    forecast: str = ""


@dataclass(frozen=True)
class YearTotals:
    """items = done + on_track + at_risk + no_reports; overdue and declared are parts of
    at_risk."""

    items: int
    done: int
    on_track: int
    at_risk: int
    no_reports: int
    overdue: int
    declared: int


@dataclass(frozen=True)
class _Read:
    """What the report is made of, as read: plain rows, sorted out in `_tally`."""

    departments: dict[int | None, Any]
    items: Sequence[Any]
    latest: Sequence[Any]
    explained: Sequence[Any]
    risks: dict[int, list[str]]
    forecasts: dict[int, Forecast]


async def collect_risk_rows(
    session: AsyncSession, *, today: date, year: int, tz: tzinfo, thresholds: RiskThresholds
) -> tuple[YearTotals, list[RiskRow]]:
    """The year's totals and every at-risk item, ordered by code."""
    read = await _read(session, today=today, year=year, tz=tz, thresholds=thresholds)
    return _tally(read, today=today, tz=tz)


async def _read(
    session: AsyncSession, *, today: date, year: int, tz: tzinfo, thresholds: RiskThresholds
) -> _Read:
    departments = {d.id: d for d in await queries.all_departments(session)}
    connection = await session.connection()
    items = (
        await connection.execute(
            sa.select(
                col(RoadmapItem.id),
                col(RoadmapItem.code),
                col(RoadmapItem.title_kk),
                col(RoadmapItem.title_ru),
                col(RoadmapItem.department_id),
                col(RoadmapItem.deadline),
            ).where(col(RoadmapItem.year) == year, col(RoadmapItem.archived).is_(False))
        )
    ).all()
    latest = await _newest_reports(session, year)
    risks = await risk_labels(session, today=today, year=year, tz=tz, thresholds=thresholds)
    explained = await _newest_explanations(session, list(risks))
    forecasts = await every_forecast(session, year=year, tz=tz, only=set(risks))
    return _Read(departments, items, latest, explained, risks, forecasts)


def _tally(read: _Read, *, today: date, tz: tzinfo) -> tuple[YearTotals, list[RiskRow]]:
    """The totals and the rows (in the current locale) from what was read."""
    departments, items, risks = read.departments, read.items, read.risks
    latest = {row.item_id: row for row in read.latest}
    explained = {row.item_id: row for row in read.explained}
    kinds: Counter[str] = Counter()  # exclusive, so that the totals add up
    rows: list[RiskRow] = []
    for item in items:
        update = latest.get(item.id)
        reasons = risks.get(item.id)
        if update is not None and update.status == ItemStatus.DONE:
            kinds["done"] += 1
        elif reasons:
            kinds["at_risk"] += 1
            status = update.status if update is not None else None
            kinds["overdue"] += is_item_overdue(item.deadline, status, today, archived=False)
            declared = update is not None and update.status in DECLARED
            kinds["declared"] += declared
        elif update is None:
            kinds["no_reports"] += 1
        else:
            kinds["on_track"] += 1
        if not reasons:
            continue
        department = departments.get(item.department_id)
        comment = explained.get(item.id)
        explanation = ""
        if comment is not None and comment.comment:
            when = format_day(comment.created_at.astimezone(tz).date())
            explanation = f"{comment.comment} ({when})"
        rows.append(
            RiskRow(
                code=item.code,
                title=pick_name(item.title_kk, item.title_ru),
                department=pick_name(department.name_kk, department.name_ru) if department else "",
                deadline=item.deadline,
                reasons=reasons,
                cause=cause_label(update.cause) if update else "",
                explanation=explanation,
                forecast=report_cell(read.forecasts.get(item.id), today),
            )
        )
    rows.sort(key=lambda row: code_key(row.code))
    totals = YearTotals(
        items=len(items),
        done=kinds["done"],
        on_track=kinds["on_track"],
        at_risk=kinds["at_risk"],
        no_reports=kinds["no_reports"],
        overdue=kinds["overdue"],
        declared=kinds["declared"],
    )
    return totals, rows


_WIDTHS = tuple(Cm(width) for width in (1.0, 5.5, 3.8, 2.4, 3.5, 2.5, 3.8, 4.2))


def _cell_xml(value: str, twips: int) -> str:
    """One cell as python-docx writes it (a width, a paragraph, a run); a line break or a tab
    in the text becomes Word's own, as `cell.text` does."""
    escaped = escape(_XML_ILLEGAL.sub("", value))
    run = '<w:t xml:space="preserve">'
    text = f"{run}{escaped}</w:t>".replace("\n", f"</w:t><w:br/>{run}").replace(
        "\t", f"</w:t><w:tab/>{run}"
    )
    return (
        f'<w:tc><w:tcPr><w:tcW w:w="{twips}" w:type="dxa"/></w:tcPr>'
        f"<w:p><w:r>{text}</w:r></w:p></w:tc>"
    )


def _add_rows(table: Table, rows: Iterable[Sequence[str]]) -> None:
    """The body rows as one piece of XML: python-docx's own API (add_row, cell.text, cell.width)
    walks the whole table for every cell and took 5 s for a thousand rows."""
    twips = [width.twips for width in _WIDTHS]
    body = "".join(
        "<w:tr>" + "".join(_cell_xml(v, t) for v, t in zip(values, twips, strict=True)) + "</w:tr>"
        for values in rows
    )
    if body:
        wrapper = parse_xml(f"<w:tbl {nsdecls('w')}>{body}</w:tbl>")
        for row in list(wrapper):
            table._tbl.append(row)


async def _newest_reports(session: AsyncSession, year: int) -> Sequence[Any]:
    """The newest report of each of the year's items (the one the database's trigger keeps in
    `last_update_id`), as plain rows (item_id, status, cause, comment, created_at): no ORM
    object is built on the loop, no report but the newest is read."""
    update = StatusUpdate.__table__.c  # type: ignore[attr-defined]
    statement = (
        sa.select(update.item_id, update.status, update.cause, update.comment, update.created_at)
        .join(RoadmapItem, col(RoadmapItem.last_update_id) == update.id)
        .where(col(RoadmapItem.year) == year)
    )
    return (await (await session.connection()).execute(statement)).all()


_CHUNK = 1_000  # item ids per statement, far below the databases' parameter limits


async def _newest_explanations(session: AsyncSession, item_ids: list[int]) -> list[Any]:
    """The newest report with a comment of each of these items (the at-risk ones), as plain
    rows like `_newest_reports`'; a corrected report is left out, its correction stands."""
    found: list[Any] = []
    connection = await session.connection()
    for start in range(0, len(item_ids), _CHUNK):
        chunk = item_ids[start : start + _CHUNK]
        ranked = (
            sa.select(
                col(StatusUpdate.item_id),
                col(StatusUpdate.status),
                col(StatusUpdate.cause),
                col(StatusUpdate.comment),
                col(StatusUpdate.created_at),
                newest_first(),
            )
            .where(
                col(StatusUpdate.item_id).in_(chunk),
                col(StatusUpdate.corrected).is_(False),  # its correction stands for it
                col(StatusUpdate.comment).is_not(None),
                col(StatusUpdate.comment) != "",
            )
            .subquery()
        )
        statement = sa.select(
            ranked.c.item_id,
            ranked.c.status,
            ranked.c.cause,
            ranked.c.comment,
            ranked.c.created_at,
        ).where(ranked.c.rank == 1)
        found += (await connection.execute(statement)).all()
    return found


def _repeat_header(table: Table) -> None:
    """The header row repeats on every page of a long table; python-docx has no API for it."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    properties = table.rows[0]._tr.get_or_add_trPr()
    marker = OxmlElement("w:tblHeader")
    marker.set(qn("w:val"), "true")
    properties.append(marker)


def render_risk_report(totals: YearTotals, rows: list[RiskRow], *, today: date, year: int) -> bytes:
    """A landscape A4 draft: title, date, totals, the table of at-risk items."""

    document = Document()
    section = document.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Cm(29.7), Cm(21.0)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Cm(1.5))
    document.styles["Normal"].font.size = Pt(10)

    document.add_heading(
        _("Road Map {year}: items at risk of not being met").format(year=year), level=1
    )
    _page_numbers(section)
    document.add_paragraph(_("To: ____________________________________"))
    document.add_paragraph(_("As of {date}").format(date=format_day(today)))

    document.add_heading(_("Totals for the year"), level=2)
    document.add_paragraph(_("Items in the Road Map: {count}").format(count=totals.items))
    for line in (
        _("Done: {count}").format(count=totals.done),
        _("On track: {count}").format(count=totals.on_track),
        _("At risk of not being met: {count}").format(count=totals.at_risk)
        + " ("
        + _("of them overdue: {overdue}; declared by the department: {declared}").format(
            overdue=totals.overdue, declared=totals.declared
        )
        + ")",
        _("No reports yet: {count}").format(count=totals.no_reports),
    ):
        document.add_paragraph(line, style="List Bullet")

    document.add_heading(_("Items at risk"), level=2)
    if not rows:
        document.add_paragraph(_("No items are at risk."))
    else:
        headers = (
            "№",
            _("Item"),
            _("Responsible department"),
            _("Deadline"),
            _("Risk reasons"),
            _("Cause given by the department"),
            _("Department's latest explanation"),
            _("Forecast"),
        )
        table = document.add_table(rows=1, cols=len(headers))
        table.style = "Table Grid"
        for cell, header, width in zip(table.rows[0].cells, headers, _WIDTHS, strict=True):
            cell.text = ""
            cell.paragraphs[0].add_run(header).bold = True
            cell.width = width
        _repeat_header(table)
        _add_rows(
            table,
            (
                (
                    str(number),
                    f"{row.code} {row.title}",
                    row.department,
                    format_day(row.deadline),
                    "; ".join(row.reasons),
                    row.cause,
                    row.explanation,
                    row.forecast,
                )
                for number, row in enumerate(rows, start=1)
            ),
        )

    document.add_paragraph()
    document.add_paragraph(
        _("Position: ________________   Signature: ____________   Full name: ________________")
    )
    document.add_paragraph(_("Date: ____________"))
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _page_numbers(section: Any) -> None:
    """A PAGE field centred in the footer: Word fills in the number on every page."""
    paragraph = section.footer.paragraphs[0]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), "PAGE")
    run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = "1"
    run.append(text)
    field.append(run)
    paragraph._p.append(field)


async def build_risk_report_apart(
    engine: AsyncEngine, *, today: date, tz: tzinfo, thresholds: RiskThresholds
) -> bytes:
    """`build_risk_report` apart from the bot's loop (`run_apart`): judging a year's items
    and reading a thousand at-risk items' reports take the interpreter a second."""

    async def build(session: AsyncSession) -> bytes:
        return await build_risk_report(session, today=today, tz=tz, thresholds=thresholds)

    return await run_apart(engine, build)


async def build_risk_report(
    session: AsyncSession, *, today: date, tz: tzinfo, thresholds: RiskThresholds
) -> bytes:
    """The report for the current year, in the current locale. The rows are read on the
    loop; sorting them out and drawing the document (a thousand rows take python-docx a
    second) happen in a worker thread, so the bot answers others meanwhile. `to_thread`
    copies the context: the thread writes in the reader's locale."""
    read = await _read(session, today=today, year=today.year, tz=tz, thresholds=thresholds)

    def draw() -> bytes:
        totals, rows = _tally(read, today=today, tz=tz)
        return render_risk_report(totals, rows, today=today, year=today.year)

    return await asyncio.to_thread(draw)
