"""Secretariat basics: departments, items, deadlines and cards, with nothing half-written."""

from __future__ import annotations

from datetime import timedelta

import pytest
from aiogram.methods import SendMessage
from aiogram.utils.i18n import I18n

from bot.core.clock import FrozenClock
from bot.core.text import TELEGRAM_TEXT_LIMIT, visible_length
from bot.telegram.i18n import in_locale
from bot.telegram.menus import ADD_DEPARTMENT, ADD_ITEM, ASSIGN, DEADLINE
from bot.telegram.texts import usage_line
from db.engine import SessionMaker
from db.models import AuditLog, DeadlineChange, Department, RoadmapItem, StatusUpdate
from tests.helpers.chat import ADMIN_ID, Chatter, invite_token, only_text, register_admin, rows

HEAD = 777


@pytest.fixture
async def admin(chatter: Chatter) -> Chatter:
    await register_admin(chatter, "ru")
    await chatter.send(ADMIN_ID, "/adddept edu Білім басқармасы | Управление образования")
    await chatter.send(ADMIN_ID, "/adddept build Құрылыс басқармасы | Управление строительства")
    return chatter


def usage(i18n: I18n, spec) -> str:  # type: ignore[no-untyped-def]
    with in_locale(i18n, "ru"):
        return usage_line(spec)


@pytest.mark.parametrize(
    ("command", "spec"),
    [
        ("/adddept", ADD_DEPARTMENT),
        ("/adddept edu", ADD_DEPARTMENT),
        ("/adddept edu Только одно название", ADD_DEPARTMENT),
        ("/adddept chair A | B", ADD_DEPARTMENT),
        ("/additem 1.1 edu 2025-09-01 Только казахский", ADD_ITEM),
        ("/additem 1.1 edu 31.02.2025 A | B", ADD_ITEM),
        ("/additem 1.1 edu", ADD_ITEM),
        ("/assign 1.1", ASSIGN),
        ("/deadline 1.1 завтра", DEADLINE),
        ("/deadline 1.1", DEADLINE),
    ],
)
async def test_wrong_arguments_get_a_usage_line(
    admin: Chatter, session_maker: SessionMaker, i18n: I18n, command: str, spec
) -> None:  # type: ignore[no-untyped-def]
    before = len(await rows(session_maker, AuditLog))
    assert only_text(await admin.send(ADMIN_ID, command)) == usage(i18n, spec)
    assert len(await rows(session_maker, AuditLog)) == before
    assert len(await rows(session_maker, Department)) == 2
    assert await rows(session_maker, RoadmapItem) == []


async def test_items_deadlines_and_assignment(
    admin: Chatter, session_maker: SessionMaker, i18n: I18n, clock: FrozenClock
) -> None:
    added = only_text(
        await admin.send(
            ADMIN_ID, "/additem 2.3.1 edu 01.09.2025 Мектеп <салу> & жөндеу | Школа <№5> & сад"
        )
    )
    assert "Школа &lt;№5&gt; &amp; сад" in added  # escaped, and in the reader's language
    (item,) = await rows(session_maker, RoadmapItem)
    assert (item.code, item.year, str(item.deadline)) == ("2.3.1", 2025, "2025-09-01")
    assert item.title_kk == "Мектеп <салу> & жөндеу"

    duplicate = only_text(await admin.send(ADMIN_ID, "/additem 2.3.1 build 2025-10-01 A | B"))
    assert "2.3.1" in duplicate
    unknown = only_text(await admin.send(ADMIN_ID, "/additem 9.9 nosuch 2025-10-01 A | B"))
    assert "nosuch" in unknown
    assert len(await rows(session_maker, RoadmapItem)) == 1

    # Without a reason: "why?" first, and nothing moves until it comes (or is skipped).
    why = only_text(await admin.send(ADMIN_ID, "/deadline 2.3.1 2025-12-15"))
    assert "2.3.1" in why and await rows(session_maker, DeadlineChange) == []
    empty = only_text(await admin.send(ADMIN_ID, "   "))
    assert "500" in empty and await rows(session_maker, DeadlineChange) == []
    moved = only_text(await admin.send(ADMIN_ID, "Решение совета <№12>"))
    assert "1 сентября 2025" in moved.replace("\u202f", " ")
    assert "15 декабря 2025" in moved.replace("\u202f", " ")
    assert "Решение совета &lt;№12&gt;" in moved
    await admin.send(ADMIN_ID, "/deadline 2.3.1 20.12.2025 Подрядчик сменился")
    same = only_text(await admin.send(ADMIN_ID, "/deadline 2.3.1 2025-12-20"))
    assert same == i18n.gettext("The item already has this deadline.", locale="ru")
    late = only_text(await admin.send(ADMIN_ID, "/deadline 2.3.1 2025-12-25"))
    assert "2.3.1" in late
    clock.advance(timedelta(hours=1))
    not_moved = only_text(await admin.send(ADMIN_ID, "поздно"))
    assert "/deadline" in not_moved
    # [Move without a reason] moves it; a second (late) tap moves nothing more.
    only_text(await admin.send(ADMIN_ID, "/deadline 2.3.1 2025-12-30"))
    skipped = await admin.press(ADMIN_ID, "dls")
    assert "30 декабря 2025" in only_text(skipped).replace("\u202f", " ")
    assert "/deadline" in only_text(await admin.press(ADMIN_ID, "dls"))
    changes = await rows(session_maker, DeadlineChange)
    assert [(str(c.old_deadline), str(c.new_deadline), c.reason) for c in changes] == [
        ("2025-09-01", "2025-12-15", "Решение совета <№12>"),
        ("2025-12-15", "2025-12-20", "Подрядчик сменился"),
        ("2025-12-20", "2025-12-30", None),
    ]

    assigned = only_text(await admin.send(ADMIN_ID, "/assign 2.3.1 build"))
    assert "Управление строительства" in assigned
    (item,) = await rows(session_maker, RoadmapItem)
    departments = {d.code: d.id for d in await rows(session_maker, Department)}
    assert item.department_id == departments["build"]
    actions = [entry.action for entry in await rows(session_maker, AuditLog)]
    assert actions.count("item.deadline") == 3 and "item.assign" in actions


async def test_item_card_days_left_and_overdue(
    admin: Chatter, session_maker: SessionMaker, clock: FrozenClock
) -> None:
    await admin.send(ADMIN_ID, "/additem 1.1 edu 2025-03-05 Тармақ | Пункт")
    card = only_text(await admin.send(ADMIN_ID, "/item 1.1"))
    assert "Пункт" in card and "Управление образования" in card and "2 дня" in card
    clock.advance(timedelta(days=23))  # 26 March: 21 days overdue
    card = only_text(await admin.send(ADMIN_ID, "/item 1.1"))
    assert "21 день" in card

    (item,) = await rows(session_maker, RoadmapItem)
    person_id = 1
    async with session_maker() as session:
        session.add(
            StatusUpdate(
                item_id=item.id,
                author_id=person_id,
                status="at_risk",
                progress=40,
                comment="Подрядчик <ООО> сорвал сроки",
                created_at=clock.now(),
            )
        )
        await session.commit()
    card = only_text(await admin.send(ADMIN_ID, "/item 1.1"))
    assert "40%" in card and "Подрядчик &lt;ООО&gt;" in card
    assert "26 марта 2025" in card.replace("\u202f", " ")


async def test_the_invitation_ends_its_sentence_once_in_each_language(admin: Chatter) -> None:
    """A Russian long date ends in «г.»: a full stop after it would be «г..»."""
    ru = only_text(await admin.send(ADMIN_ID, "/invite edu"))
    assert ru.endswith("г.") and "г.." not in ru
    await admin.send(ADMIN_ID, "/language")
    await admin.press(ADMIN_ID, "lang:kk")
    kk = only_text(await admin.send(ADMIN_ID, "/invite edu"))
    assert not kk.endswith("..") and kk != ru


async def test_member_sees_only_their_department(
    admin: Chatter, session_maker: SessionMaker, i18n: I18n
) -> None:
    await admin.send(ADMIN_ID, "/additem 1.1 edu 2025-09-01 Мектеп | Школа")
    await admin.send(ADMIN_ID, "/additem 2.1 build 2025-09-01 Көпір | Мост")
    token = invite_token(only_text(await admin.send(ADMIN_ID, "/invite edu")))
    await admin.send(HEAD, f"/start {token}")
    await admin.press(HEAD, "lang:kk")
    own = only_text(await admin.send(HEAD, "/item 1.1"))
    assert "Мектеп" in own
    other = only_text(await admin.send(HEAD, "/item 2.1"))
    # the same answer as for a code that does not exist: nothing learned about other departments
    hidden = i18n.gettext("There is no item {code} among your department's items.", locale="kk")
    assert other == hidden.format(code="2.1")
    missing = only_text(await admin.send(HEAD, "/item 9.9"))
    assert missing == hidden.format(code="9.9")
    assert "Көпір" not in other
    refusals = [e for e in await rows(session_maker, AuditLog) if e.action == "refused.item"]
    assert [e.target for e in refusals] == ["2.1"]


async def test_long_lists_are_split_within_telegram_limits(
    admin: Chatter, session_maker: SessionMaker
) -> None:
    async with session_maker() as session:
        for number in range(120):
            session.add(
                Department(
                    code=f"d{number:03d}",
                    name_kk="Ұзын атауы бар басқарма & <бөлім> " * 2,
                    name_ru="Управление с очень длинным названием & <отдел> " * 2,
                    created_at=admin.dispatcher["clock"].now(),
                )
            )
        await session.commit()
    requests = await admin.send(ADMIN_ID, "/departments")
    messages = [r.text for r in requests if isinstance(r, SendMessage)]
    assert len(messages) > 1
    assert all(visible_length(text) <= TELEGRAM_TEXT_LIMIT for text in messages)
    assert sum(text.count("<code>") for text in messages) == 122
    assert all(text.count("<code>") == text.count("</code>") for text in messages)


async def test_unexpected_error_still_gets_an_answer(
    admin: Chatter, i18n: I18n, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("database exploded")

    monkeypatch.setattr("handlers.items.item_card", broken)
    reply = only_text(await admin.send(ADMIN_ID, "/item 1.1"))
    assert reply == i18n.gettext(
        "Sorry, something went wrong on our side. Nothing was lost: please try again. "
        "If it happens again, tell the secretariat.",
        locale="ru",
    )
