"""The risk reasons in words, in the current locale: the one home of their labels and texts."""

from __future__ import annotations

from datetime import date

from aiogram.utils.i18n import gettext as _

from bot.reporting.views import cause_label
from bot.risk.rules import ItemRisk, RiskReason, days_without_update, planned_progress
from bot.telegram.i18n import ngettext
from bot.telegram.texts import status_label


def reason_label(reason: RiskReason | str) -> str:
    """The reason's short name in the current locale."""
    labels = {
        RiskReason.DECLARED: _("risk declared by the department"),
        RiskReason.OVERDUE: _("overdue"),
        RiskReason.STALE: _("no recent update"),
        RiskReason.BEHIND_PLAN: _("behind plan"),
        RiskReason.FLAT: _("no progress"),
        RiskReason.DEADLINE_MOVED: _("deadline postponed"),
    }
    return labels.get(reason, str(reason))  # type: ignore[call-overload]


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
