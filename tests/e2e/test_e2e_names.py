"""End to end over HTTP (issue 23, #36): people are named as the secretariat registered them.

A head invited with his name and position (`/invite education Бақытжан Сейітов, басшының
орынбасары`) is not asked again; a chair invited without one is asked once on joining and
answers; a deputy chair skips with one tap. The chair's question comes back "answered by:
name, position". In Kazakh and in Russian.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from sqlmodel import select

from bot.app.config import Settings
from bot.core.clock import FrozenClock
from bot.sandbox.emulator import BotApiEmulator, Message
from bot.scheduling.jobs import Jobs
from db.engine import SessionMaker
from db.models import Person
from tests.helpers.chat import ADMIN_ID
from tests.helpers.e2e import demo_bot, join, joined_notice, say, secretariat_starts, tap

CHAIR, DEPUTY, HEAD = 4301, 4302, 4303
LOAD = datetime(2025, 6, 10, 6, 0, tzinfo=UTC)  # Tuesday 11:00 in Almaty
HEAD_NAME = "Бақытжан Сейітов, басшының орынбасары"


@dataclass(frozen=True)
class Words:
    language: str
    asked: str
    skip: str
    saved: str
    skipped: str
    ask: str
    report: str
    no_change: str
    answered: str
    reported: str


KK = Words(
    "Қазақша",
    "аты-жөніңіз бен лауазымыңызды",
    "Өткізіп жіберу",
    "Рақмет. Хабарламалар мен жауаптарда сіз былай аталасыз: Айгүл Смағұлова, төраға орынбасары.",
    "Өткізіп жіберілді",
    "сұрау",
    "Жай-күйін жаңарту",
    "Өзгеріс жоқ",
    "Жауап берген: " + HEAD_NAME,
    "Хабарлаған: " + HEAD_NAME,
)
RU = Words(
    "Русский",
    "ваши ФИО и должность",
    "Пропустить",
    "Спасибо. В уведомлениях и ответах вы будете указаны так: Айгүл Смағұлова, төраға орынбасары.",
    "Пропущено",
    "Запросить обновление",
    "Обновить статус",
    "Без изменений",
    "Ответил(а): " + HEAD_NAME,
    "Сообщил(а): " + HEAD_NAME,
)


async def invited(emulator: BotApiEmulator, user: int, args: str, words: Words) -> Message:
    """The invitee's welcome after choosing his language."""
    return await join(emulator, user, args, words.language)


def button(screen: Message, data: str) -> str:
    """The label of the screen's button whose callback data contains `data`."""
    return next(label for row in screen.buttons for label, packed in row if data in (packed or ""))


@pytest.mark.parametrize("words", [KK, RU], ids=["kk", "ru"])
async def test_names_from_the_invite_or_asked_once_and_the_answer_names_the_head(
    live_settings: Settings,
    clock: FrozenClock,
    emulator: BotApiEmulator,
    session_maker: SessionMaker,
    words: Words,
) -> None:
    emulator.add_chat(HEAD, first_name="Бақытжан")
    async with demo_bot(live_settings, clock, emulator, session_maker, LOAD) as running:
        jobs: Jobs = running.application.dispatcher["jobs"]
        admin = await secretariat_starts(emulator)
        # Not invited: never asked; the secretariat's only button is [All commands].
        assert "И ещё" not in admin.text
        assert [label for row in admin.buttons for label, _data in row] == ["Все команды"]

        # Named by the invitation: not asked, and the secretariat's answer says for whom.
        invitation = await say(emulator, ADMIN_ID, f"/invite education {HEAD_NAME}")
        assert HEAD_NAME in invitation.text
        token = next(w for w in invitation.text.split() if "?start=" in w).split("?start=")[1]
        prompt = await say(emulator, HEAD, f"/start {token}")
        welcome = await tap(emulator, HEAD, prompt, words.language)
        assert words.asked not in welcome.text and not welcome.buttons
        await joined_notice(emulator)

        # Invited without a name: asked once; a bad answer is explained, a good one saved.
        chair = await invited(emulator, CHAIR, "chair", words)
        assert words.asked in chair.text and chair.button(words.skip)
        retry = await say(emulator, CHAIR, " , ")
        assert "200" in retry.text and retry.button(words.skip)
        saved = await say(emulator, CHAIR, "Айгүл  Смағұлова,  төраға орынбасары")
        assert saved.text == words.saved
        deputy = await invited(emulator, DEPUTY, "chair", words)
        emulator.press_button(DEPUTY, deputy.message_id, deputy.button(words.skip))
        await emulator.wait_idle()
        async with session_maker() as session:
            people = {
                p.telegram_id: p
                for p in (await session.exec(select(Person))).all()
                if p.telegram_id in (CHAIR, DEPUTY, HEAD)
            }
        assert (people[HEAD].full_name, people[HEAD].position) == (
            "Бақытжан Сейітов",
            "басшының орынбасары",
        )
        assert (people[CHAIR].full_name, people[CHAIR].position) == (
            "Айгүл Смағұлова",
            "төраға орынбасары",
        )
        assert people[DEPUTY].full_name is None
        # Skipped: the deputy's next words are not taken as his name.
        assert "5.2.4" in (await say(emulator, DEPUTY, "/item 5.2.4")).text

        # The chair asks; the head answers "no change"; the answer names him as registered.
        card = await say(emulator, CHAIR, "/item 5.2.4")
        emulator.press_button(CHAIR, card.message_id, card.button(words.ask))
        await emulator.next_message(CHAIR)  # "ask your question in one message"
        await say(emulator, CHAIR, "?")
        await emulator.next_message(HEAD)  # the request
        question = await emulator.next_message(HEAD)
        screen = await tap(emulator, HEAD, question, words.report)
        await tap(emulator, HEAD, screen, words.no_change)
        answer = await emulator.next_message(CHAIR, timeout=10)
        assert words.answered in answer.text

        # The head reports a risk: the chair's alert says who reported, as registered.
        assert await jobs.chair_alerts() == 0
        screen = await say(emulator, HEAD, "/report 5.2.4")
        # "At risk" keeps the reported percent and goes straight to the causes.
        screen = await tap(emulator, HEAD, screen, button(screen, ":at_risk"))
        screen = await tap(emulator, HEAD, screen, button(screen, "rc:"))  # a cause
        emulator.send_text(HEAD, "Мердігер кешігіп жатыр")
        screen = await emulator.next_edit(HEAD)
        await tap(emulator, HEAD, screen, button(screen, ":save"))
        await jobs.chair_alerts()  # the Save may have raised it already
        alert = await emulator.next_message(CHAIR, timeout=10)
        assert "5.2.4" in alert.text and words.reported in alert.text, alert.text
        await emulator.wait_idle()
        assert [request.summary() for request in emulator.errors] == []
