"""End to end over HTTP (issue 23): alerts say who did what, and the chair's question comes back.

The demo Road Map, a ru chair and a kk deputy chair, an education head. The secretariat moves
one deadline far ahead (information: no alert) and one into the past (an overdue alert that
names the secretariat's move, not the department's last report). The chair asks the
department a question from the alert's card; the head sees it and answers "no change"; the
chair gets the answer with the head's name.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from bot.app.config import Settings
from bot.core.clock import FrozenClock
from bot.sandbox.emulator import BotApiEmulator
from bot.scheduling.jobs import Jobs
from db.engine import SessionMaker
from tests.helpers.chat import ADMIN_ID
from tests.helpers.e2e import build_world, demo_bot, nothing_for, say, tap

CHAIR, DEPUTY, HEAD = 4201, 4202, 4203
# Tuesday 10 June 2025, 11:00 in Almaty: a working day, after the daily scan's time.
LOAD = datetime(2025, 6, 10, 6, 0, tzinfo=UTC)


async def test_alerts_name_the_secretariat_and_the_chairs_question_comes_back(
    live_settings: Settings,
    clock: FrozenClock,
    emulator: BotApiEmulator,
    session_maker: SessionMaker,
) -> None:
    emulator.add_chat(HEAD, first_name="Бақытжан")
    async with demo_bot(live_settings, clock, emulator, session_maker, LOAD) as running:
        jobs: Jobs = running.application.dispatcher["jobs"]
        heads = [
            (CHAIR, "chair", "Русский"),
            (DEPUTY, "chair", "Қазақша"),
            (HEAD, "education", "Русский"),
        ]
        await build_world(emulator, heads=heads)
        assert await jobs.chair_alerts() == 0

        # One move far ahead by the council's decision, its reason typed with the command:
        # information on the card, no alarm; the head is told, with the reason.
        moved = await say(emulator, ADMIN_ID, "/deadline 5.1.3 01.09.2026 Решение совета №12")
        assert "Причина: Решение совета №12" in moved.text and "(1 человек)" in moved.text
        assert await jobs.chair_alerts() == 0
        assert await nothing_for(emulator, CHAIR) and await nothing_for(emulator, DEPUTY)
        card = await say(emulator, CHAIR, "/item 5.1.3")
        assert "изменил срок исполнения командой /deadline" in card.text
        assert "1 сентября 2026" in card.text and "🔴" not in card.text
        assert "Причина: Решение совета №12" in card.text
        assert card.button("Запросить обновление")
        told = await emulator.next_message(HEAD)
        assert "5.1.3" in told.text and "1 сентября 2026" in told.text
        assert "Причина: Решение совета №12" in told.text and "Секретариат (" in told.text

        # A move into the past, its reason asked for in one step: overdue, and the alert
        # names the secretariat's decision and its reason.
        why = await say(emulator, ADMIN_ID, "/deadline 5.2.2 01.06.2025")
        assert "Почему" in why.text and why.button("Перенести без причины")
        moved = await say(emulator, ADMIN_ID, "Подрядчик   расторг договор")
        assert "Причина: Подрядчик расторг договор" in moved.text and not moved.buttons
        assert await jobs.chair_alerts() == 2  # one for each chair
        alert = await emulator.next_message(CHAIR)
        assert "<b>5.2.2</b>" in alert.source
        assert "Секретариат (" in alert.text and "командой /deadline" in alert.text
        assert "Причина: Подрядчик расторг договор" in alert.text
        assert "Сообщил(а)" not in alert.text and "Последнее обновление:" in alert.text
        kk_alert = await emulator.next_message(DEPUTY)
        assert "Хатшылық (" in kk_alert.text and "/deadline командасымен" in kk_alert.text
        assert "Себебі: Подрядчик расторг договор" in kk_alert.text
        assert "Хабарлаған" not in kk_alert.text and "Соңғы жаңарту:" in kk_alert.text
        told = await emulator.next_message(HEAD)
        assert "5.2.2" in told.text and "Причина: Подрядчик расторг договор" in told.text

        # The card from the alert: [Ask for an update], then one message with a question.
        emulator.press_button(CHAIR, alert.message_id, alert.button("История"))
        card = await emulator.next_message(CHAIR)
        assert "Секретариат (" in card.text
        emulator.press_button(CHAIR, card.message_id, card.button("Запросить обновление"))
        asked = await emulator.next_message(CHAIR)
        assert "одним сообщением" in asked.text
        sent = await say(emulator, CHAIR, "Когда подпишут акт приёмки?")
        assert "Ваш вопрос по пункту 5.2.2 отправлен 1 сотруднику управления" in sent.text

        # The head sees the request and the question, and answers "no change".
        request = await emulator.next_message(HEAD)
        assert "просит обновить статус" in request.text
        question = await emulator.next_message(HEAD)
        assert "Когда подпишут акт приёмки?" in question.text and "5.2.2" in question.text
        started = time.monotonic()
        screen = await tap(emulator, HEAD, question, "Обновить статус")
        screen = await tap(emulator, HEAD, screen, "Без изменений")
        # 5.2.2 is overdue and was last reported on track: "no change" warns first (issue 22).
        assert "Срок исполнения прошёл" in screen.text
        await tap(emulator, HEAD, screen, "Всё равно сохранить")

        answer = await emulator.next_message(CHAIR, timeout=10)
        assert time.monotonic() - started < 10
        assert "ответ на ваш запрос по пункту 5.2.2" in answer.text
        assert "Ваш вопрос: «Когда подпишут акт приёмки?»" in answer.text
        assert "без изменений" in answer.text and "Ответил(а): Бақытжан" in answer.text
        assert answer.button("Карточка пункта")
        assert await nothing_for(emulator, DEPUTY)  # only the asker hears the answer

        # Answered: nobody is told "no answer" at the next working day's end.
        clock.set(datetime(2025, 6, 12, 6, 0, tzinfo=UTC))
        await jobs.chair_alerts()
        assert await nothing_for(emulator, CHAIR)
        await emulator.wait_idle()
        assert [request.summary() for request in emulator.errors] == []


async def test_an_unanswered_question_is_told_once_the_next_working_day_ends(
    live_settings: Settings,
    clock: FrozenClock,
    emulator: BotApiEmulator,
    session_maker: SessionMaker,
) -> None:
    async with demo_bot(live_settings, clock, emulator, session_maker, LOAD) as running:
        jobs: Jobs = running.application.dispatcher["jobs"]
        heads = [(DEPUTY, "chair", "Қазақша"), (HEAD, "education", "Русский")]
        await build_world(emulator, heads=heads)

        card = await say(emulator, DEPUTY, "/item 5.2.4")
        emulator.press_button(DEPUTY, card.message_id, card.button("сұрау"))
        asked = await emulator.next_message(DEPUTY)
        assert "бір хабармен" in asked.text
        await emulator.next_message(HEAD)  # the request; nobody answers

        clock.set(datetime(2025, 6, 11, 12, 0, tzinfo=UTC))  # Wed 17:00: not yet due
        await jobs.chair_alerts()
        assert await nothing_for(emulator, DEPUTY)
        clock.set(datetime(2025, 6, 12, 4, 5, tzinfo=UTC))  # Thu 09:05: Wednesday has ended
        await jobs.chair_alerts()
        told = await emulator.next_message(DEPUTY)
        assert "⏳" in told.text and "5.2.4" in told.text and "жауап бермеді" in told.text
        await jobs.chair_alerts()
        await jobs.nightly_alerts()
        assert await nothing_for(emulator, DEPUTY)  # once


async def test_dept_without_a_code_gives_buttons_and_takes_names_in_both_languages(
    live_settings: Settings,
    clock: FrozenClock,
    emulator: BotApiEmulator,
    session_maker: SessionMaker,
) -> None:
    async with demo_bot(live_settings, clock, emulator, session_maker, LOAD):
        heads = [(CHAIR, "chair", "Русский"), (DEPUTY, "chair", "Қазақша")]
        await build_world(emulator, heads=heads)

        choice = await say(emulator, CHAIR, "/dept")
        assert choice.text == "Выберите управление:"
        assert sum(len(row) for row in choice.buttons) == 12
        emulator.press_button(CHAIR, choice.message_id, choice.button("Образование"))
        opened = await emulator.next_message(CHAIR)
        assert "образования" in opened.text and "5.1.1" in opened.text

        by_name = await say(emulator, CHAIR, "/dept образование")
        assert "5.1.1" in by_name.text
        unknown = await say(emulator, CHAIR, "/dept космос")
        assert "не найдено" in unknown.text and "/departments" not in unknown.text
        assert unknown.buttons

        kk = await say(emulator, DEPUTY, "/dept білім")
        assert "5.1.1" in kk.text and "білім" in kk.text.lower()
        kk_choice = await say(emulator, DEPUTY, "/dept")
        assert kk_choice.text == "Басқарманы таңдаңыз:"
        await emulator.wait_idle()
        assert [request.summary() for request in emulator.errors] == []
