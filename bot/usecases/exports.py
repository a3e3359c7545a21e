"""What the secretariat takes out of the bot: the Road Map workbook, the risk report, the
empty import template, and how departments answer (/stats).

The writers are imported when they run: the bot's start does not pay for openpyxl or
python-docx.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from bot.core.catalogs import SUPPORTED_LOCALES
from bot.core.clock import local_today
from bot.core.parsing import parse_int, parse_one_word
from bot.usecases.ports import UseCaseContext

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


def import_template() -> bytes:
    """The empty workbook to fill in and send to /import, in the current language."""
    from bot.spreadsheets.texts import build_template

    return build_template()


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
