"""The completion forecast in words, in the current locale: the item card, /dept, the digest,
the DOCX report and the export all take their texts from here."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from aiogram.utils.i18n import gettext as _
from babel.dates import format_date

from bot.core.text import quote, shorten
from bot.risk.forecast import P_LIKELY, P_SURE, Borrowed, Forecast, Outcome
from bot.risk.rules import ItemRisk, RiskThresholds
from bot.telegram.i18n import current_locale, format_day, ngettext, pick_name

LIKELY_LATE_SHOWN = 10
TITLE_LIMIT = 70


def short_day(day: date, today: date) -> str:
    """«14 қараша», «14 ноября»; another year's day in full («2026 ж. 30 сәуір»)."""
    if day.year != today.year:
        return format_day(day)
    return format_date(day, "d MMMM", locale=current_locale())


def percent(chance: float) -> str:
    return f"{round(100 * chance)}%"


def band_line(found: Forecast, today: date) -> str:
    """ "likely by 14 Nov · 85% sure by 20 Dec · chance to meet 31 Dec: 60%" (plain text)."""
    parts = []
    if found.p50 is not None:
        parts.append(_("likely by {date}").format(date=short_day(found.p50, today)))
    if found.p85 is not None:
        parts.append(
            _("{percent} sure by {date}").format(
                percent=percent(P_SURE), date=short_day(found.p85, today)
            )
        )
    elif found.p50 is not None:
        parts.append(_("{percent} sure: not within two years").format(percent=percent(P_SURE)))
    if found.chance is not None and found.deadline is not None:
        parts.append(
            _("chance to meet {date}: {chance}").format(
                date=short_day(found.deadline, today), chance=percent(found.chance)
            )
        )
    return " · ".join(parts)


def outcome_line(found: Forecast, today: date) -> str:
    """The forecast's first line, plain text."""
    if found.outcome == Outcome.NOT_ENOUGH:
        return _("not enough updates yet (it needs at least 3, a week or more apart)")
    if found.outcome == Outcome.STALLED:
        return _("stalled near the end: {progress} unchanged since {date}").format(
            progress=f"{found.progress}%",
            date=short_day(found.stalled_since or today, today),
        )
    if found.outcome == Outcome.NO_FINISH:
        return _("no finish in sight within two years at the recent pace")
    return band_line(found, today)


def notes(found: Forecast, today: date) -> list[str]:
    """What else the chair should know: the pace since start, setbacks, borrowed pace."""
    lines = []
    if found.pace_date is not None and found.outcome != Outcome.NOT_ENOUGH:
        lines.append(
            _("At the average pace since the start it is done by {date}.").format(
                date=short_day(found.pace_date, today)
            )
        )
    if found.setbacks:
        lines.append(
            ngettext(
                "Progress went back {count} time in recent weeks (counted as no progress).",
                "Progress went back {count} times in recent weeks (counted as no progress).",
                found.setbacks,
            ).format(count=found.setbacks)
        )
    if found.borrowed == Borrowed.DEPARTMENT:
        lines.append(_("Few weeks of its own yet: the department's recent pace fills in."))
    elif found.borrowed == Borrowed.ALL:
        lines.append(_("Few weeks of its own yet: all items' recent pace fills in."))
    return lines


def forecast_section(risk: ItemRisk | None, today: date) -> str:
    """The item card's forecast, HTML; empty for a done item or when none was computed."""
    found = risk.forecast if risk is not None else None
    if found is None or found.outcome == Outcome.DONE:
        return ""
    lines = ["📈 <b>" + _("Forecast:") + "</b> " + quote(outcome_line(found, today))]
    lines += [quote(line) for line in notes(found, today)]
    return "\n".join(lines)


def brief(found: Forecast | None, today: date) -> str:
    """A few words for a list (/dept): the chance to meet the deadline, or why there is none."""
    if found is None or found.outcome == Outcome.DONE:
        return ""
    if found.outcome == Outcome.NOT_ENOUGH:
        return _("forecast: not enough updates")
    if found.outcome == Outcome.STALLED:
        return _("forecast: stalled near the end")
    text = _("chance to meet the deadline: {chance}").format(chance=percent(found.chance or 0.0))
    if found.p50 is not None:
        text += ", " + _("likely by {date}").format(date=short_day(found.p50, today))
    return text


def by_chance(risk: ItemRisk) -> tuple[int, float]:
    """Sort key for /dept: the lowest chance to meet the deadline first; items without a
    chance (not enough updates, done) after them, in their former order."""
    found = risk.forecast
    if found is None or found.chance is None or found.outcome == Outcome.DONE:
        return (1, 0.0)
    return (0, found.chance)


def reason_detail(risk: ItemRisk, today: date) -> str:
    """The "forecast: late" reason with its numbers."""
    found = risk.forecast
    if found is None:
        return _("forecast: late")
    return outcome_line(found, today)


def reason_threshold(thresholds: RiskThresholds) -> str:
    return _("threshold: a chance to meet the deadline below {chance}").format(
        chance=percent(thresholds.forecast_probability)
    )


def likely_late_cutoff(thresholds: RiskThresholds) -> float:
    """The digest's early warning lists items below this chance: the rule's, or 50 % while
    the rule is off (the warning is shown, not counted as a risk)."""
    return thresholds.forecast_probability or P_LIKELY


@dataclass(frozen=True, slots=True)
class LikelyLate:
    """An item the digest warns about: not at risk by the rules, unlikely to meet its deadline."""

    item_id: int
    code: str
    title_kk: str
    title_ru: str
    department_id: int
    forecast: Forecast


def likely_late_lines(items: Sequence[LikelyLate], cutoff: float, today: date) -> list[str]:
    """The digest's "likely late" section, HTML lines (none when there is nothing to say)."""
    if not items:
        return []
    lines = [
        "",
        "<b>"
        + _("Likely late: chance to meet the deadline below {chance}").format(
            chance=percent(cutoff)
        )
        + "</b>",
    ]
    for entry in items[:LIKELY_LATE_SHOWN]:
        name = quote(shorten(pick_name(entry.title_kk, entry.title_ru), TITLE_LIMIT))
        lines.append(
            f"• <b>{quote(entry.code)}</b> {name} — "
            f"<i>{quote(outcome_line(entry.forecast, today))}</i>"
        )
    if len(items) > LIKELY_LATE_SHOWN:
        lines.append(_("…and {count} more").format(count=len(items) - LIKELY_LATE_SHOWN))
    return lines


def report_cell(found: Forecast | None, today: date) -> str:
    """The DOCX report's forecast column."""
    if found is None or found.outcome == Outcome.DONE:
        return ""
    return outcome_line(found, today)


def export_headers() -> list[str]:
    return [
        _("Likely date (P50)"),
        _("Date with 85 percent certainty (P85)"),
        _("Chance to meet the deadline, %"),
    ]


def export_cells(found: Forecast | None) -> list[object]:
    if found is None or found.outcome == Outcome.DONE:
        return [None, None, None]
    chance = round(100 * found.chance) if found.chance is not None else None
    return [found.p50, found.p85, chance]


EXPORT_WIDTHS = (14, 14, 12)
