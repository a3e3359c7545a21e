"""Each risk reason reads as a fact: what happened, when, and the threshold it crossed."""

from __future__ import annotations

from datetime import date

import pytest
from aiogram.utils.i18n import I18n

from bot.risk.labels import reason_detail, reason_threshold, reasons_explained, risk_section
from bot.risk.rules import ItemFacts, ItemRisk, RiskReason, RiskThresholds, risk_reasons, risk_state
from bot.telegram.i18n import format_day, in_locale

TODAY = date(2025, 6, 2)
T = RiskThresholds()


def risk_of(facts: ItemFacts, thresholds: RiskThresholds = T) -> ItemRisk:
    reasons = risk_reasons(facts, TODAY, thresholds)
    return ItemRisk(
        item_id=1,
        code="1.1",
        title_kk="Тармақ",
        title_ru="Пункт",
        department_id=1,
        deadline=facts.deadline,
        year=2025,
        facts=facts,
        reasons=reasons,
        state=risk_state(reasons, facts.latest_status),
        thresholds=thresholds,
        latest_update_id=1 if facts.latest_day else None,
        latest_status=facts.latest_status,
        latest_progress=facts.latest_progress,
        latest_cause="financing" if facts.latest_status == "blocked" else None,
    )


def ru(i18n: I18n, risk: ItemRisk, reason: RiskReason) -> str:
    assert reason in risk.reasons
    with in_locale(i18n, "ru"):
        return plain(reason_detail(risk, reason, TODAY))


def plain(text: str) -> str:
    """Babel puts a narrow no-break space before «г.»; compare with ordinary spaces."""
    return text.replace("\u202f", " ").replace("\xa0", " ")


def test_declared_names_the_status_the_day_and_the_cause(i18n: I18n) -> None:
    facts = ItemFacts(
        deadline=date(2025, 12, 31),
        start=date(2025, 1, 1),
        latest_status="blocked",
        latest_progress=40,
        latest_day=date(2025, 5, 31),
    )
    text = ru(i18n, risk_of(facts), RiskReason.DECLARED)
    assert text == "управление сообщило 31 мая 2025 г.: «не будет выполнено»; причина: " + (
        i18n.gettext("financing", locale="ru")
    )


def test_overdue_names_the_deadline_and_how_long_ago(i18n: I18n) -> None:
    facts = ItemFacts(
        deadline=date(2025, 5, 30),
        start=date(2025, 1, 1),
        latest_status="on_track",
        latest_progress=90,
        latest_day=date(2025, 6, 1),
    )
    text = ru(i18n, risk_of(facts), RiskReason.OVERDUE)
    assert text == "срок исполнения (30 мая 2025 г.) истёк 3 дня назад"
    with in_locale(i18n, "kk"):
        kazakh = reason_detail(risk_of(facts), RiskReason.OVERDUE, TODAY)
    assert plain(kazakh) == plain(
        f"орындау мерзімі ({format_day(date(2025, 5, 30), 'kk')}) өткеніне 3 күн болды"
    )


def test_stale_by_quiet_days_names_the_last_update(i18n: I18n) -> None:
    facts = ItemFacts(
        deadline=date(2025, 12, 31),
        start=date(2025, 1, 1),
        latest_status="on_track",
        latest_progress=45,
        latest_day=date(2025, 5, 13),
    )
    assert ru(i18n, risk_of(facts), RiskReason.STALE) == (
        "последнее обновление 13 мая 2025 г., 20 дней назад"
    )


def test_never_reported_counts_from_the_day_the_item_was_added(i18n: I18n) -> None:
    facts = ItemFacts(deadline=date(2025, 12, 31), start=date(2025, 5, 1), created=date(2025, 5, 1))
    assert ru(i18n, risk_of(facts), RiskReason.STALE) == (
        "обновлений ещё не было: прошло 32 дня (отсчёт с 1 мая 2025 г.)"
    )


def test_stale_by_missed_requests_names_their_dates_and_never_zero_days(i18n: I18n) -> None:
    """The "0 days" / "-31 days" texts came from rounds-based staleness printed as days."""
    facts = ItemFacts(
        deadline=date(2026, 6, 1),
        start=date(2026, 1, 1),  # an item of next year: its quiet days are not counted yet
        missed_requests=(date(2025, 5, 26), date(2025, 5, 19)),
    )
    text = ru(i18n, risk_of(facts), RiskReason.STALE)
    assert text == "2 запроса подряд без ответа (19 мая 2025 г., 26 мая 2025 г.)"
    assert "0 дн" not in text and "-" not in text


def test_behind_plan_names_the_progress_its_day_and_the_plan_line(i18n: I18n) -> None:
    facts = ItemFacts(
        deadline=date(2025, 10, 1),
        start=date(2025, 1, 1),
        latest_status="on_track",
        latest_progress=5,
        latest_day=date(2025, 6, 1),
    )
    assert ru(i18n, risk_of(facts), RiskReason.BEHIND_PLAN) == (
        "ход исполнения 5% на 1 июня 2025 г.; по плану сейчас должно быть 56%"
    )


def test_flat_names_the_reports_and_their_progress(i18n: I18n) -> None:
    facts = ItemFacts(
        deadline=date(2025, 7, 1),
        start=date(2025, 1, 1),
        latest_status="on_track",
        latest_progress=70,
        latest_day=date(2025, 6, 1),
        flat_streak=3,
    )
    assert ru(i18n, risk_of(facts), RiskReason.FLAT) == (
        "3 обновления подряд без продвижения, на уровне 70%"
    )


@pytest.mark.parametrize(
    ("reason", "expected"),
    [
        (RiskReason.STALE, "порог: дней без обновлений — 60; запросов подряд без ответа — 3"),
        (RiskReason.BEHIND_PLAN, "порог: отставание от линии плана более чем на 40 п. п."),
        (
            RiskReason.FLAT,
            "порог: обновлений подряд без продвижения — 4, при остатке срока менее 25%",
        ),
        (RiskReason.DECLARED, None),
        (RiskReason.OVERDUE, None),
        # issue 23: the postponement rule is configurable, its threshold shown like the others
        (
            RiskReason.DEADLINE_MOVED,
            "порог: перенос 2 раза или перенос после заявленного управлением риска",
        ),
    ],
)
def test_thresholds_name_the_configured_values(
    i18n: I18n, reason: RiskReason, expected: str | None
) -> None:
    thresholds = RiskThresholds(60, 3, 40, 4, 0.25)
    with in_locale(i18n, "ru"):
        assert reason_threshold(reason, thresholds) == expected


def test_the_item_card_section_lists_each_reason_with_its_threshold(i18n: I18n) -> None:
    facts = ItemFacts(
        deadline=date(2025, 10, 1),
        start=date(2025, 1, 1),
        latest_status="on_track",
        latest_progress=5,
        latest_day=date(2025, 5, 1),
        postponements=2,  # issue 23: one move is information, two a reason (by default)
    )
    risk = risk_of(facts)
    assert risk.reasons == [RiskReason.STALE, RiskReason.BEHIND_PLAN, RiskReason.DEADLINE_MOVED]
    with in_locale(i18n, "ru"):
        lines = reasons_explained(risk, TODAY)
        section = risk_section(risk, TODAY)
    assert len(lines) == 3
    assert lines[0].endswith("(порог: дней без обновлений — 14; запросов подряд без ответа — 2)")
    assert "п. п." in lines[1]
    assert lines[2] == (
        "срок переносился 2 раза "
        "(порог: перенос 2 раза или перенос после заявленного управлением риска)"
    )
    assert section.split("\n")[0] == "🔴 <b>Есть риск невыполнения:</b>"
    assert section.count("\n• ") == 3
