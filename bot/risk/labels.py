"""The risk reasons in words, in the current locale: the one home of their labels and texts."""

from __future__ import annotations

from datetime import date

from aiogram.utils.i18n import gettext as _

from bot.core.text import quote
from bot.risk import forecast_views
from bot.risk.rules import (
    ItemRisk,
    RiskReason,
    RiskThresholds,
    days_without_update,
    planned_progress,
)
from bot.telegram.i18n import format_day, ngettext
from bot.telegram.texts import cause_label, status_label


def reason_label(reason: RiskReason | str) -> str:
    """The reason's short name in the current locale."""
    labels: dict[str, str] = {
        RiskReason.DECLARED: _("risk declared by the department"),
        RiskReason.OVERDUE: _("overdue"),
        RiskReason.STALE: _("no recent update"),
        RiskReason.BEHIND_PLAN: _("behind plan"),
        RiskReason.FLAT: _("no progress"),
        RiskReason.DEADLINE_MOVED: _("deadline postponed"),
        RiskReason.FORECAST_LATE: _("forecast: late"),
    }
    return labels.get(reason, str(reason))


def reason_detail(risk: ItemRisk, reason: RiskReason, today: date) -> str:
    """The reason as a fact with its evidence: who said what and when, the dates, the figures."""
    facts = risk.facts
    if reason == RiskReason.DECLARED:
        stated = risk.stated_on or facts.latest_day
        text = _("the department reported “{status}” on {date}").format(
            status=status_label(risk.latest_status or ""),
            date=format_day(stated) if stated else "—",
        )
        if stated is not None and facts.latest_day is not None and facts.latest_day > stated:
            text += "; " + _("confirmed unchanged on {date}").format(
                date=format_day(facts.latest_day)
            )
        if risk.latest_cause:
            text += "; " + _("cause: {cause}").format(cause=cause_label(risk.latest_cause))
        return text
    if reason == RiskReason.OVERDUE:
        days = (today - risk.deadline).days
        return ngettext(
            "the deadline {date} passed {count} day ago",
            "the deadline {date} passed {count} days ago",
            days,
        ).format(date=format_day(risk.deadline), count=days)
    if reason == RiskReason.STALE:
        return "; ".join(_stale_evidence(risk, today))
    if reason == RiskReason.BEHIND_PLAN:
        expected = round(planned_progress(facts.start, facts.deadline, today))
        return _(
            "progress on {date}: {progress}%; by now the plan line expects {expected}%"
        ).format(
            progress=risk.latest_progress,
            date=format_day(facts.latest_day) if facts.latest_day else "—",
            expected=expected,
        )
    if reason == RiskReason.FLAT:
        return ngettext(
            "{count} report in a row without progress, at {progress}%",
            "{count} reports in a row without progress, at {progress}%",
            facts.flat_streak,
        ).format(count=facts.flat_streak, progress=risk.latest_progress)
    if reason == RiskReason.DEADLINE_MOVED:
        return ngettext(
            "deadline postponed {count} time",
            "deadline postponed {count} times",
            facts.postponements,
        ).format(count=facts.postponements)
    if reason == RiskReason.FORECAST_LATE:
        return forecast_views.reason_detail(risk, today)
    return reason_label(reason)


def _stale_evidence(risk: ItemRisk, today: date) -> list[str]:
    """What made the item stale: the quiet days, the unanswered requests, or both."""
    facts = risk.facts
    found = []
    days = days_without_update(facts, today)
    if days >= risk.thresholds.stale_days:
        if facts.latest_day is None:
            found.append(
                ngettext(
                    "no update yet: {count} day since {date}",
                    "no update yet: {count} days since {date}",
                    days,
                ).format(count=days, date=format_day(facts.quiet_since))
            )
        else:
            found.append(
                ngettext(
                    "last update on {date}, {count} day ago",
                    "last update on {date}, {count} days ago",
                    days,
                ).format(date=format_day(facts.quiet_since), count=days)
            )
    missed = facts.missed_requests
    if missed and len(missed) >= risk.thresholds.missed_rounds:
        found.append(
            ngettext(
                "{count} status request in a row unanswered ({dates})",
                "{count} status requests in a row unanswered ({dates})",
                len(missed),
            ).format(count=len(missed), dates=", ".join(format_day(day) for day in sorted(missed)))
        )
    return found


def reason_threshold(reason: RiskReason, thresholds: RiskThresholds) -> str | None:
    """The configured rule a computed reason crossed; None for facts (declared, overdue),
    which need no threshold."""
    if reason == RiskReason.STALE:
        return _(
            "threshold: days without an update — {days}; requests in a row unanswered — {rounds}"
        ).format(days=thresholds.stale_days, rounds=thresholds.missed_rounds)
    if reason == RiskReason.BEHIND_PLAN:
        return _("threshold: more than {points} percentage points behind the plan line").format(
            points=thresholds.behind_plan_points
        )
    if reason == RiskReason.FLAT:
        return _(
            "threshold: {rounds} reports in a row without progress, with the time left under "
            "{share}%"
        ).format(
            rounds=thresholds.flat_rounds, share=round(100 * thresholds.flat_remaining_fraction)
        )
    if reason == RiskReason.FORECAST_LATE:
        return forecast_views.reason_threshold(thresholds)
    if reason == RiskReason.DEADLINE_MOVED:
        if thresholds.postponements <= 0:
            return _("threshold: postponed after the department declared a risk")
        return ngettext(
            "threshold: postponed {count} time, or after the department declared a risk",
            "threshold: postponed {count} times, or after the department declared a risk",
            thresholds.postponements,
        ).format(count=thresholds.postponements)
    return None


def reasons_text(risk: ItemRisk, today: date) -> str:
    return "; ".join(reason_detail(risk, reason, today) for reason in risk.reasons)


def short_reasons(risk: ItemRisk) -> str:
    """The reasons' short names, for one line in the chair's summary."""
    return ", ".join(reason_label(reason) for reason in risk.reasons)


def reasons_explained(risk: ItemRisk, today: date) -> list[str]:
    """One line per reason: the fact with its evidence, then the threshold it crossed."""
    lines = []
    for reason in risk.reasons:
        line = reason_detail(risk, reason, today)
        threshold = reason_threshold(reason, risk.thresholds)
        if threshold:
            line += f" ({threshold})"
        lines.append(line)
    return lines


def risk_section(risk: ItemRisk, today: date) -> str:
    """The item card's risk part, HTML: each reason with its evidence and threshold."""
    if not risk.reasons:
        return ""
    lines = ["🔴 <b>" + _("At risk:") + "</b>"]
    lines += [f"• {quote(line)}" for line in reasons_explained(risk, today)]
    return "\n".join(lines)


def card_sections(risk: ItemRisk | None, today: date) -> str:
    """What the item card adds below its history: the forecast, then why it is at risk,
    each after a blank line (empty when there is neither)."""
    parts = [forecast_views.forecast_section(risk, today)]
    if risk is not None and risk.reasons:
        parts.append(risk_section(risk, today))
    return "".join("\n\n" + part for part in parts if part)
