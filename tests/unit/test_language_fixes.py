"""Issue 22, language-34019b8.md: the fixes that do not need a chat (K11, K13/R11, B3, B7)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from aiogram.utils.i18n import I18n

from bot.app.doctor import check_backlog
from bot.core.catalogs import load_translations
from bot.scheduling.reminders import _item_buttons
from bot.telegram.i18n import in_locale
from bot.workdays.holiday_names import holiday_label
from db.models import RoadmapItem

NOW = datetime(2025, 3, 3, 6, 0, tzinfo=UTC)


def test_k11_a_date_as_a_time_adverbial_takes_kuni(i18n: I18n) -> None:
    text = i18n.gettext("the department reported “{status}” on {date}", locale="kk")
    assert text == "басқарма {date} күні хабарлады: «{status}»"


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        ("kk", "Жіберу кезегінде: 3 хабар; ең ескісі 15 минуттан бері күтіп тұр."),
        ("ru", "В очереди на отправку: 3 сообщения; самое давнее ждёт 15 минут."),
    ],
)
def test_k13_r11_the_doctors_outbox_line_says_each_word_once(locale: str, expected: str) -> None:
    check = check_backlog(3, NOW - timedelta(minutes=15), NOW, load_translations(locale))
    assert check.text == expected


def test_b3_reminder_buttons_are_cut_at_a_word_with_an_ellipsis(i18n: I18n) -> None:
    title = "Строительство инженерных сетей индустриальной зоны «Оңтүстік»"
    item = RoadmapItem(
        id=7,
        code="1.1.2",
        title_kk=title,
        title_ru=title,
        department_id=1,
        deadline=date(2025, 12, 1),
        year=2025,
        created_at=NOW,
    )
    with in_locale(i18n, "ru"):
        (row,) = _item_buttons([item]).inline_keyboard
    label = row[0].text
    assert label == "1.1.2 · Строительство инженерных сетей…"


@pytest.mark.parametrize(
    ("name", "locale", "expected"),
    [
        ("Eid al-Adha (estimated)", "kk", "Құрбан айт (күні болжамды)"),
        ("Eid al-Adha (estimated)", "ru", "Курбан айт (дата ориентировочная)"),
        ("Victory Day; Capital Day", "ru", "День Победы; День столицы"),
        ("Some Future Holiday", "ru", "Some Future Holiday"),  # unknown: as the package wrote it
    ],
)
def test_b7_holiday_names_come_from_our_catalog(name: str, locale: str, expected: str) -> None:
    assert holiday_label(name, load_translations(locale).gettext) == expected
