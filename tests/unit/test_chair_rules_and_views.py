"""The chair's pure parts: access rules, parsing, and the card's messages and buttons."""

from __future__ import annotations

from datetime import UTC, date, datetime

from aiogram.utils.i18n import I18n

from bot.core.parsing import Dismissal, parse_dismissal, parse_year
from bot.core.text import TELEGRAM_TEXT_LIMIT, visible_length
from bot.risk import views
from bot.roadmap.service import ItemCard
from bot.telegram.callbacks import AskUpdate, ResendEvidence
from bot.telegram.i18n import in_locale
from bot.usecases.access import can_see_item, may_ask_for_updates, sees_every_item
from db.models import Department, Person, RoadmapItem, Role, StatusUpdate
from tests.helpers.risk_world import TZ

MOMENT = datetime(2025, 6, 2, 5, tzinfo=UTC)


def someone(role: str, department_id: int | None = None) -> Person:
    return Person(
        id=1,
        telegram_id=1,
        display_name="P",
        role=role,
        department_id=department_id,
        created_at=MOMENT,
        updated_at=MOMENT,
    )


def test_access_rules() -> None:
    chair, secretary = someone(Role.CHAIR), someone(Role.SECRETARIAT)
    member = someone(Role.MEMBER, department_id=7)
    assert can_see_item(chair, 7) and can_see_item(secretary, 8)
    assert can_see_item(member, 7) and not can_see_item(member, 8)
    assert sees_every_item(chair) and not sees_every_item(member)
    assert may_ask_for_updates(secretary) and not may_ask_for_updates(member)


def test_parse_year_and_dismissal() -> None:
    assert parse_year(None, 2025) == 2025 and parse_year("  ", 2025) == 2025
    assert parse_year("2026", 2025) == 2026
    assert parse_year("26", 2025) is None and parse_year("2026 x", 2025) is None
    assert parse_year("１９９９", 2025) is None and parse_year("2101", 2025) is None
    assert parse_dismissal("2.1 stale  Подрядчик  отчитается ") == Dismissal(
        "2.1", "stale", "Подрядчик  отчитается"
    )
    assert parse_dismissal("2.1 stale") is None and parse_dismissal(None) is None


def card(history: int, comment: str, with_files: int = 0) -> ItemCard:
    item = RoadmapItem(
        id=5,
        code="1.2",
        title_kk="Тармақ",
        title_ru="Пункт",
        department_id=1,
        deadline=date(2025, 12, 31),
        year=2025,
        created_at=MOMENT,
    )
    department = Department(
        id=1, code="edu", name_kk="Білім", name_ru="Образование", created_at=MOMENT
    )
    updates = [
        (
            StatusUpdate(
                id=100 + n,
                item_id=5,
                author_id=1,
                status="on_track",
                progress=10,
                comment=comment,
                evidence_kind="photo" if n < with_files else None,
                evidence_file_id=f"file-{n}" if n < with_files else None,
                created_at=MOMENT,
            ),
            None,
        )
        for n in range(history)
    ]
    return ItemCard(item=item, department=department, history=updates)


def packed(reply: views.Reply) -> list[str]:
    if reply.markup is None:
        return []
    return [str(b.callback_data) for row in reply.markup.inline_keyboard for b in row]


def test_the_card_asks_first_then_offers_the_evidence(i18n: I18n) -> None:
    with in_locale(i18n, "ru"):
        typed = views.card_replies(card(3, "ok", with_files=2), None, date(2025, 6, 2), TZ)
        asked = views.card_replies(
            card(3, "ok", with_files=2), None, date(2025, 6, 2), TZ, ask=True
        )
        bare = views.card_replies(card(1, "ok"), None, date(2025, 6, 2), TZ, ask=False)
    evidence = [ResendEvidence(update_id=100).pack(), ResendEvidence(update_id=101).pack()]
    assert [r.text for r in typed] == [r.text for r in asked]  # one text, whatever the door
    assert packed(typed[-1]) == evidence
    assert packed(asked[-1]) == [AskUpdate(item_id=5).pack(), *evidence]
    assert bare[-1].markup is None


def test_a_long_card_is_split_with_the_buttons_on_the_last_message(i18n: I18n) -> None:
    with in_locale(i18n, "kk"):
        replies = views.card_replies(
            card(10, "ұзақ түсініктеме " * 60, with_files=1), None, date(2025, 6, 2), TZ, ask=True
        )
    assert len(replies) > 1
    assert all(visible_length(r.text) <= TELEGRAM_TEXT_LIMIT for r in replies)
    assert all(r.markup is None for r in replies[:-1]) and replies[-1].markup is not None
