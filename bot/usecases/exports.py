"""What the secretariat takes out of the bot: the Road Map workbook, the risk report, the
empty import template, and how departments answer (/stats).

The writers are imported when they run: the bot's start does not pay for openpyxl or
python-docx.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import TYPE_CHECKING

from aiogram.utils.i18n import gettext as _

from bot.core.catalogs import SUPPORTED_LOCALES
from bot.core.clock import local_today
from bot.core.parsing import parse_int, parse_one_word
from bot.delivery.enqueue import enqueue_document
from bot.telegram.i18n import format_day
from bot.usecases.caller import Caller
from bot.usecases.ports import UseCaseContext
from db import queries

if TYPE_CHECKING:
    from bot.spreadsheets.stats import DepartmentStats


@dataclass(frozen=True)
class Export:
    """A file for the council's day `day` (its name carries the date)."""

    data: bytes
    day: date


async def export_roadmap(ctx: UseCaseContext) -> Export:
    """Items, their history and the departments in one workbook, in the current language."""
    from bot.spreadsheets.export import build_export_apart

    today = local_today(ctx.clock, ctx.tz)
    engine = ctx.session_maker.kw["bind"]
    data = await build_export_apart(engine, today=today, tz=ctx.tz, thresholds=ctx.thresholds)
    return Export(data, today)


async def risk_report(ctx: UseCaseContext, locale: str) -> Export:
    """The draft report on at-risk items for the central office, in `locale`."""
    from bot.spreadsheets.risk_report import build_risk_report_apart  # python-docx: on use

    today = local_today(ctx.clock, ctx.tz)
    with ctx.i18n.use_locale(locale):
        data = await build_risk_report_apart(
            ctx.session_maker.kw["bind"], today=today, tz=ctx.tz, thresholds=ctx.thresholds
        )
    return Export(data, today)


def report_locale(args: str | None, *, default: str) -> str | None:
    """The language /risk_report was asked for (`default` without one), None if unknown."""
    if not args:
        return default
    word = (parse_one_word(args) or "").lower()
    return word if word in SUPPORTED_LOCALES else None


# A department code for the template's example when the Road Map has no department yet.
EXAMPLE_DEPARTMENT_CODE = "edu"


async def import_template(ctx: UseCaseContext) -> bytes:
    """The empty workbook to fill in and send to /import, in the current language; its example
    row names a department of this Road Map and a deadline still ahead (the year's end)."""
    from bot.spreadsheets.texts import build_template

    async with ctx.session_maker() as session:
        departments = list(await queries.all_departments(session))
    code = departments[0].code if departments else EXAMPLE_DEPARTMENT_CODE
    today = ctx.today()
    year_end = date(today.year, 12, 31)
    deadline = year_end if (year_end - today).days >= 30 else date(today.year + 1, 12, 31)
    return build_template(code, deadline)


@dataclass(frozen=True)
class AnswerStats:
    rounds: int
    departments: list[DepartmentStats]


def stats_rounds(args: str | None) -> int | None:
    """How many rounds /stats was asked about: the default without arguments, None when the
    argument is not a number of rounds the statistics cover."""
    from bot.spreadsheets.stats import DEFAULT_ROUNDS, MAX_ROUNDS

    if not args:
        return DEFAULT_ROUNDS
    return parse_int(parse_one_word(args), 1, MAX_ROUNDS)


async def answer_stats(ctx: UseCaseContext, rounds: int) -> AnswerStats:
    """How each department answered its last `rounds` requests, the silent ones first."""
    from bot.spreadsheets.stats import department_stats

    async with ctx.session_maker() as session:
        rows = await department_stats(session, today=local_today(ctx.clock, ctx.tz), rounds=rounds)
    return AnswerStats(rounds, rows)


class ExportKind(StrEnum):
    ROADMAP = "roadmap"
    RISK_REPORT = "risk_report"


@dataclass(frozen=True)
class ExportSent:
    """The file is on its way to the caller's chat through the outbox."""

    kind: ExportKind
    filename: str


async def send_export(caller: Caller, kind: ExportKind) -> ExportSent:
    """The Road Map workbook or the risk report (in the caller's language), delivered into
    the caller's chat by the bot: the dashboard's export, since downloads inside a Telegram
    web view are unreliable. The same files as /export and /risk_report."""
    ctx, actor = caller.ctx, caller.actor
    locale = actor.locale if actor.locale in SUPPORTED_LOCALES else ctx.i18n.default_locale
    with ctx.i18n.use_locale(locale):
        if kind == ExportKind.ROADMAP:
            export = await export_roadmap(ctx)
            filename = f"roadmap-{export.day.isoformat()}.xlsx"
            caption = _("The Road Map as of {date}").format(date=format_day(export.day))
        else:
            export = await risk_report(ctx, locale)
            filename = f"risk-report-{export.day.isoformat()}-{locale}.docx"
            caption = _("The risk report as of {date}").format(date=format_day(export.day))
    now = ctx.clock.now()
    async with ctx.session_maker() as session:
        record = await queries.add_audit(
            session, at=now, action=f"export.{kind.value}", actor=actor, details=filename
        )
        await enqueue_document(
            session,
            key=f"export:{record.id}",
            kind="export",
            person=actor,
            data=export.data,
            filename=filename,
            caption=caption,
            now=now,
        )
        await session.commit()
    ctx.signals.wake_outbox()
    return ExportSent(kind, filename)
