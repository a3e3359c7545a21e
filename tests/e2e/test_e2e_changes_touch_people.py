"""End to end over HTTP (issue 22, #24, #28, #11, #12, #20): changes the secretariat makes
reach the people they touch, in each person's language.

- /assign tells the head who lost the item and the head who gained it; an /assign to a
  department with nobody registered says so.
- /revoke asks first, naming the person, and the revoked person is told.
- /away with nobody else in the department asks for a deputy; an unknown deputy gets the
  secretariat's invitation hint.
- /request_now does not ask again for an item answered minutes ago, and says so.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlmodel import select

from bot.app.config import Settings
from bot.core.clock import FrozenClock
from bot.sandbox.emulator import BotApiEmulator
from db.engine import SessionMaker
from db.models import Notification, Person
from tests.data.spreadsheets.workbooks import xlsx
from tests.helpers.chat import ADMIN_ID
from tests.helpers.e2e import (
    EDUCATION,
    EarlierReport,
    build_world,
    join,
    live_bot,
    say,
    seed_reports,
    tap,
)

KK_HEAD = 4601  # education, reads Kazakh
RU_HEAD = 4602  # transport, reads Russian


async def _set_up(emulator: BotApiEmulator) -> None:
    commands = [
        EDUCATION,
        "/adddept tr Көлік басқармасы | Управление транспорта",
        "/adddept con Құрылыс басқармасы | Управление строительства",
        "/additem 1.1 edu 2025-12-01 Мектеп салу | Строительство школы",
        "/additem 1.2 edu 2025-12-01 Балабақша салу | Строительство детского сада",
        "/additem 2.1 tr 2025-12-01 Автобус сатып алу | Закупка автобусов",
    ]
    await build_world(emulator, commands)
    emulator.send_text(KK_HEAD, "/start", first_name="Айгүл", language_code="kk")
    await emulator.next_message(KK_HEAD)  # no access yet
    await join(emulator, KK_HEAD, "edu", "Қазақша")
    await join(emulator, RU_HEAD, "tr", "Русский")


async def test_assignment_reaches_both_heads_and_an_empty_department_is_named(
    live_settings: Settings, clock: FrozenClock, emulator: BotApiEmulator
) -> None:
    async with live_bot(live_settings, clock, emulator):
        await _set_up(emulator)

        answer = await say(emulator, ADMIN_ID, "/assign 1.1 tr")
        assert "Управление транспорта" in answer.text
        assert "никто не зарегистрирован" not in answer.text
        lost = await emulator.next_message(KK_HEAD)
        assert lost.text.startswith("📌 1.1 «Мектеп салу»")
        assert "басқа басқармаға бекітілді: Көлік басқармасы" in lost.text
        assert "Мектеп салу" in lost.text
        gained = await emulator.next_message(RU_HEAD)
        assert "передан вашему управлению (ранее: Управление образования)" in gained.text
        assert "Строительство школы" in gained.text and "/myitems" in gained.text

        nobody = await say(emulator, ADMIN_ID, "/assign 2.1 con")
        assert "В этом управлении ещё никто не зарегистрирован" in nobody.text
        assert "/invite con" in nobody.text
        moved_away = await emulator.next_message(RU_HEAD)
        assert "передан другому управлению: Управление строительства" in moved_away.text

        await emulator.wait_idle()
        assert [request.summary() for request in emulator.errors] == []


async def test_an_import_that_moves_items_tells_both_heads_once(
    live_settings: Settings, clock: FrozenClock, emulator: BotApiEmulator
) -> None:
    async with live_bot(live_settings, clock, emulator):
        await _set_up(emulator)
        rows = [
            {
                "code": "1.1",
                "title_kk": "Мектеп салу",
                "title_ru": "Строительство школы",
                "department": "tr",  # was edu's
                "deadline": date(2025, 12, 1),
            },
            {
                "code": "1.2",
                "title_kk": "Балабақша салу",
                "title_ru": "Строительство детского сада",
                "department": "tr",  # was edu's
                "deadline": date(2025, 12, 1),
            },
        ]
        await say(emulator, ADMIN_ID, "/import")
        emulator.send_document(
            ADMIN_ID,
            xlsx(rows),
            "roadmap.xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        dry_run = await emulator.next_message(ADMIN_ID)
        while not dry_run.buttons:
            dry_run = await emulator.next_edit(ADMIN_ID)
        await tap(emulator, ADMIN_ID, dry_run, dry_run.buttons[0][0][0])  # Apply

        # One message each, listing both items (not one message per item).
        lost = await emulator.next_message(KK_HEAD)
        assert lost.text.startswith("📌 2 тармақ енді басқа басқармаларға бекітілді")
        assert "1.1 «Мектеп салу» → Көлік" in lost.text
        assert "1.2 «Балабақша салу» → Көлік" in lost.text
        gained = await emulator.next_message(RU_HEAD)
        assert gained.text.startswith("📌 2 пункта переданы вашему управлению")
        assert "1.1 «Строительство школы» (ранее: Управление образования)" in gained.text
        assert "1.2 «Строительство детского сада»" in gained.text
        await emulator.wait_idle()
        assert [m.text for m in emulator.messages(KK_HEAD)].count(lost.text) == 1
        assert len([m for m in emulator.messages(RU_HEAD) if m.text.startswith("📌")]) == 1

        await emulator.wait_idle()
        assert [request.summary() for request in emulator.errors] == []


async def test_new_items_reach_their_department_by_additem_and_by_import(
    live_settings: Settings, clock: FrozenClock, emulator: BotApiEmulator
) -> None:
    """/additem tells the item's department; an import's new rows reach each head in one
    message, 20 named and the rest counted, in his language (issue 22, #24)."""
    async with live_bot(live_settings, clock, emulator):
        await _set_up(emulator)

        await say(
            emulator, ADMIN_ID, "/additem 1.3 edu 2026-03-01 Саябақ салу | Строительство парка"
        )
        added = await emulator.next_message(KK_HEAD)
        assert added.text.startswith("🆕 Басқармаңызға жаңа тармақ қосылды: 1.3 «Саябақ салу»")
        assert "/myitems" in added.text

        rows = [
            {
                "code": f"2.{number}",
                "title_kk": f"Аялдама {number}",
                "title_ru": f"Остановка №{number}",
                "department": "tr",
                "deadline": date(2026, 6, 1),
            }
            for number in range(2, 24)  # 22 new items for transport
        ]
        rows.append(
            {
                "code": "1.4",
                "title_kk": "Спорт залы",
                "title_ru": "Спортзал",
                "department": "edu",
                "deadline": date(2026, 6, 1),
            }
        )
        await say(emulator, ADMIN_ID, "/import")
        emulator.send_document(
            ADMIN_ID,
            xlsx(rows),
            "roadmap.xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        dry_run = await emulator.next_message(ADMIN_ID)
        while not dry_run.buttons:
            dry_run = await emulator.next_edit(ADMIN_ID)
        await tap(emulator, ADMIN_ID, dry_run, dry_run.buttons[0][0][0])  # Apply

        listed = await emulator.next_message(RU_HEAD)
        assert listed.text.startswith("🆕 Вашему управлению добавлено 22 новых пункта")
        assert "2.2 «Остановка №2», срок" in listed.text
        assert "2.21 «Остановка №21»" in listed.text and "2.22 «" not in listed.text
        assert "…и ещё 2." in listed.text
        one = await emulator.next_message(KK_HEAD)
        assert one.text.startswith("🆕 Басқармаңызға жаңа тармақ қосылды: 1.4 «Спорт залы»")
        await emulator.wait_idle()
        assert len([m for m in emulator.messages(RU_HEAD) if m.text.startswith("🆕")]) == 1
        assert len([m for m in emulator.messages(KK_HEAD) if m.text.startswith("🆕")]) == 2
        assert [request.summary() for request in emulator.errors] == []


async def test_revoke_asks_with_the_name_and_tells_the_revoked_person(
    live_settings: Settings,
    clock: FrozenClock,
    emulator: BotApiEmulator,
    session_maker: SessionMaker,
) -> None:
    async with live_bot(live_settings, clock, emulator):
        await _set_up(emulator)

        question = await say(emulator, ADMIN_ID, f"/revoke {KK_HEAD}")
        assert "Айгүл" in question.text and "Управление образования" in question.text
        async with session_maker() as session:
            head = (await session.exec(select(Person).where(Person.telegram_id == KK_HEAD))).one()
            assert head.active  # nothing happens before the confirmation

        kept = await tap(emulator, ADMIN_ID, question, "Отмена")
        assert kept.text == "Ничего не изменено: доступ сохранён."

        question = await say(emulator, ADMIN_ID, f"/revoke {KK_HEAD}")
        done = await tap(emulator, ADMIN_ID, question, "Отозвать доступ")
        assert done.text.startswith("Доступ отозван: Айгүл")
        told = await emulator.next_message(KK_HEAD)
        assert told.text.startswith("🔒 Кеңес хатшылығы сіздің Жол картасы ботына рұқсатыңызды")

        await emulator.wait_idle()
        assert [request.summary() for request in emulator.errors] == []
    async with session_maker() as session:
        head = (await session.exec(select(Person).where(Person.telegram_id == KK_HEAD))).one()
        assert not head.active


@pytest.mark.parametrize(
    ("head", "alone", "unknown_deputy"),
    [
        (KK_HEAD, "Басқармаңызда ботқа тіркелген басқа қызметкер жоқ", "әлі тіркелмеген"),
        (RU_HEAD, "В управлении больше никого нет в боте", "ещё не зарегистрирован"),
    ],
    ids=["kk", "ru"],
)
async def test_away_alone_asks_for_a_deputy_and_an_unknown_deputy_gets_the_invite_hint(
    live_settings: Settings,
    clock: FrozenClock,
    emulator: BotApiEmulator,
    head: int,
    alone: str,
    unknown_deputy: str,
) -> None:
    code = "edu" if head == KK_HEAD else "tr"
    async with live_bot(live_settings, clock, emulator):
        await _set_up(emulator)

        answer = await say(emulator, head, "/away 15.03.2025")
        assert alone in answer.text
        assert f"/invite {code}" in answer.text and "/away 15.03.2025 @" in answer.text

        answer = await say(emulator, head, "/away 15.03.2025 @aigerim_zam")
        assert unknown_deputy in answer.text and f"/invite {code}" in answer.text

        await emulator.wait_idle()
        assert [request.summary() for request in emulator.errors] == []


@pytest.mark.parametrize(
    ("language", "alone", "unknown_deputy"),
    [
        ("Қазақша", "Бұл басқармада ботқа тіркелген басқа қызметкер жоқ", "әлі тіркелмеген"),
        ("Русский", "В этом управлении больше никого нет в боте", "ещё не зарегистрирован"),
    ],
    ids=["kk", "ru"],
)
async def test_setaway_warns_the_secretariat_when_nobody_else_answers(
    live_settings: Settings,
    clock: FrozenClock,
    emulator: BotApiEmulator,
    language: str,
    alone: str,
    unknown_deputy: str,
) -> None:
    """/setaway of the only member warns as /away does; a deputy who has not joined gets
    the invitation hint; a second member in the bot stops the warning (issue 22, #11, #12)."""
    async with live_bot(live_settings, clock, emulator):
        await _set_up(emulator)
        picker = await say(emulator, ADMIN_ID, "/language")
        await tap(emulator, ADMIN_ID, picker, language)

        answer = await say(emulator, ADMIN_ID, f"/setaway {RU_HEAD} 15.03.2025")
        assert alone in answer.text
        assert "/invite tr" in answer.text
        assert f"/setaway {RU_HEAD} 15.03.2025 @" in answer.text

        answer = await say(emulator, ADMIN_ID, f"/setaway {RU_HEAD} 15.03.2025 @aigerim_zam")
        assert unknown_deputy in answer.text and "/invite tr" in answer.text

        await join(emulator, 4603, "tr", "Русский")
        answer = await say(emulator, ADMIN_ID, f"/setaway {RU_HEAD} 16.03.2025")
        assert "⚠️" not in answer.text and "/invite" not in answer.text

        await emulator.wait_idle()
        assert [request.summary() for request in emulator.errors] == []


async def test_request_now_skips_items_answered_minutes_ago(
    live_settings: Settings,
    clock: FrozenClock,
    emulator: BotApiEmulator,
    session_maker: SessionMaker,
) -> None:
    async with live_bot(live_settings, clock, emulator):
        await _set_up(emulator)
        # The education head answered 1.1 and 1.2.
        answered = dict.fromkeys(("1.1", "1.2"), EarlierReport("on_track", 40))
        await seed_reports(session_maker, KK_HEAD, clock.now(), answered)
        clock.advance(timedelta(minutes=10))

        confirmation = await say(emulator, ADMIN_ID, "/request_now")
        assert "2 пункта не запрошены повторно: обновлены за последние 10 мин." in confirmation.text
        assert "у 1 управления" in confirmation.text  # transport only
        request = await emulator.next_message(RU_HEAD)
        assert "2.1" in str(request.buttons)

        again = await say(emulator, ADMIN_ID, "/request_now edu")
        assert again.text.startswith("Никому не отправлено: все открытые пункты недавно обновлены.")

        await emulator.wait_idle()
        assert [request.summary() for request in emulator.errors] == []
    async with session_maker() as session:
        rounds_to_kk = (
            await session.exec(
                select(Notification).where(
                    Notification.chat_id == KK_HEAD, Notification.kind == "round"
                )
            )
        ).all()
    assert rounds_to_kk == []
