"""End to end over HTTP (issue 22, #14): what a department head types outside a dialog is
kept; a message naming an item offers the item; any other text reaches the secretariat with
one tap, and the secretariat's Telegram reply comes back to the head, in both languages.
Asserted on the stored rows and on the messages each side sees."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlmodel import col, select

from bot.app.config import Settings
from bot.core.clock import FrozenClock
from bot.reporting.questions import question_of_copy
from bot.sandbox.emulator import BotApiEmulator
from bot.telegram.callbacks import OpenItem
from db.engine import SessionMaker
from db.models import MemberQuestion, QuestionReply, RoadmapItem
from tests.helpers.chat import ADMIN_ID
from tests.helpers.e2e import EDUCATION, build_world, live_bot, say, tap

HEAD = 4301


@dataclass(frozen=True)
class Words:
    language: str
    send: str
    offer: str
    names_items: str
    sent: str
    answered: str
    voice_offer: str
    voice_answered: str
    note_offer: str
    note_sent: str
    note_answered: str
    name_saved: str


KK = Words(
    language="Қазақша",
    send="Хатшылыққа жіберу",
    offer="Бұл хабарламаны хатшылыққа жіберейін бе?",
    names_items="Хабарламаңызда мына тармақтар аталған",
    sent="Хатшылыққа жіберілді",
    answered="Хатшылық «{question}» деген сұрағыңызға жауап берді:",
    voice_offer="Бұл дауыстық хабарламаны хатшылыққа жіберейін бе?",
    voice_answered="Хатшылық дауыстық хабарламаңызға жауап берді:",
    note_offer="Бұл бейнехабарды хатшылыққа жіберейін бе?",
    note_sent="Бейнехабарыңыз хатшылыққа жіберілді",
    note_answered="Хатшылық бейнехабарыңызға жауап берді:",
    name_saved="Рақмет. Хабарламалар мен жауаптарда сіз былай аталасыз:",
)
RU = Words(
    language="Русский",
    send="Отправить в секретариат",
    offer="Отправить это сообщение в секретариат?",
    names_items="В сообщении упомянуты эти пункты",
    sent="Отправлено в секретариат",
    answered="Секретариат ответил на ваш вопрос «{question}»:",
    voice_offer="Отправить это голосовое сообщение в секретариат?",
    voice_answered="Секретариат ответил на ваше голосовое сообщение:",
    note_offer="Отправить это видеосообщение в секретариат?",
    note_sent="Видеосообщение отправлено в секретариат",
    note_answered="Секретариат ответил на ваше видеосообщение:",
    name_saved="Спасибо. В уведомлениях и ответах вы будете указаны так:",
)


async def _rows(session_maker: SessionMaker) -> tuple[list[MemberQuestion], list[QuestionReply]]:
    async with session_maker() as session:
        asked = (await session.exec(select(MemberQuestion).order_by(col(MemberQuestion.id)))).all()
        replies = (await session.exec(select(QuestionReply))).all()
        return list(asked), list(replies)


async def reply_to_copy(
    emulator: BotApiEmulator, session_maker: SessionMaker, message_id: int, text: str
) -> None:
    """The secretary's Telegram reply to a question's copy, once the bot has noted which
    message the copy was: the outbox writes that just after Telegram answers the send, and a
    person replies seconds later, where the test could reply within the millisecond."""
    for _attempt in range(100):
        async with session_maker() as session:
            if await question_of_copy(session, ADMIN_ID, message_id) is not None:
                break
        await emulator.wait_idle()
    else:
        raise AssertionError(f"message {message_id} was never noted as a question's copy")
    emulator.send_text(ADMIN_ID, text, reply_to=message_id)


@pytest.mark.parametrize("words", [KK, RU], ids=["kk", "ru"])
async def test_a_question_reaches_the_secretariat_and_the_reply_comes_back(
    live_settings: Settings,
    clock: FrozenClock,
    emulator: BotApiEmulator,
    session_maker: SessionMaker,
    words: Words,
) -> None:
    async with live_bot(live_settings, clock, emulator):
        # Asked his name on joining, he asks questions first: they are not taken as his name.
        await build_world(
            emulator,
            [EDUCATION, "/additem 1.1 edu 2027-12-01 Мектеп салу | Строительство школы"],
            [(HEAD, "edu", words.language)],
        )

        # A message naming an item: the item's button, and the way to the secretariat too.
        offer = await say(emulator, HEAD, "1.1 бойынша мердігер ауысты, не істеу керек?")
        assert words.names_items in offer.text
        async with session_maker() as session:
            item = (await session.exec(select(RoadmapItem))).one()
        labels = [label for row in offer.buttons for label, _data in row]
        data = [data for row in offer.buttons for _label, data in row]
        assert data[0] == OpenItem(item_id=item.id).pack()  # type: ignore[arg-type]
        assert labels[-1].endswith(words.send)

        # Any other text: kept at once, sent only on the tap.
        question_text = "Когда следующее совещание по дорожной карте?"
        offer = await say(emulator, HEAD, question_text)
        assert words.offer in offer.text
        asked, _replies = await _rows(session_maker)
        assert [q.text for q in asked][-1] == question_text
        assert asked[-1].sent_at is None  # nothing went out before the tap
        assert not [m for m in emulator.messages(ADMIN_ID) if m.text.startswith("❓")]

        # The name question is still open: his first message that is a name answers it.
        saved = await say(emulator, HEAD, "Ерлан Омаров, басшы")
        assert words.name_saved in saved.text and "Ерлан Омаров, басшы" in saved.text

        sent = await tap(emulator, HEAD, offer, words.send)
        assert words.sent in sent.text and question_text in sent.text
        assert sent.buttons == []  # the offer cannot be sent twice
        copy = await emulator.next_message(ADMIN_ID)
        while not copy.text.startswith("❓"):
            copy = await emulator.next_message(ADMIN_ID)
        assert question_text in copy.text and "Управление образования" in copy.text

        # The secretariat answers with Telegram's Reply on the copy.
        answer = "В пятницу в 10:00, зал заседаний акимата"
        await reply_to_copy(emulator, session_maker, copy.message_id, answer)
        passed = await emulator.next_message(ADMIN_ID)
        assert passed.text.startswith("✅")
        back = await emulator.next_message(HEAD, timeout=15)  # through the outbox
        assert words.answered.format(question=question_text) in back.text
        assert answer in back.text

        asked, replies = await _rows(session_maker)
        question = asked[-1]
        assert question.sent_at is not None and question.text == question_text
        (reply,) = replies
        assert reply.question_id == question.id and reply.text == answer

        # A reply to any other message of the secretariat's is no answer to anyone.
        emulator.send_text(ADMIN_ID, "просто текст", reply_to=passed.message_id)
        await emulator.next_message(ADMIN_ID)
        assert len((await _rows(session_maker))[1]) == 1

        # A voice message outside a dialog: kept, and passed on as the voice itself.
        voice = emulator.send_voice(HEAD, duration=6)
        offer = await emulator.next_message(HEAD)
        assert words.voice_offer in offer.text
        await tap(emulator, HEAD, offer, words.send)
        copy = await emulator.next_message(ADMIN_ID)
        assert copy.kind == "voice" and (copy.caption or "").startswith("❓")
        await reply_to_copy(emulator, session_maker, copy.message_id, "Принято, перезвоню")
        await emulator.next_message(ADMIN_ID)
        back = await emulator.next_message(HEAD, timeout=15)  # through the outbox
        assert words.voice_answered in back.text and "Принято, перезвоню" in back.text
        asked, replies = await _rows(session_maker)
        assert asked[-1].voice_file_id == voice.voice["file_id"]  # type: ignore[index]
        assert asked[-1].text == "" and replies[-1].text == "Принято, перезвоню"

        # A video note outside a dialog: kept, passed on as the video note itself (which takes
        # no caption) followed by who asks; a reply to either reaches the person.
        note = emulator.send_video_note(HEAD, duration=9)
        offer = await emulator.next_message(HEAD)
        assert words.note_offer in offer.text
        asked, _replies = await _rows(session_maker)
        assert asked[-1].voice_file_id == note.video_note["file_id"]  # type: ignore[index]
        assert asked[-1].media_kind == "video_note" and asked[-1].sent_at is None
        sent = await tap(emulator, HEAD, offer, words.send)
        assert words.note_sent in sent.text
        copied_note = await emulator.next_message(ADMIN_ID)
        assert copied_note.kind == "video_note"
        assert copied_note.video_note["file_id"] == note.video_note["file_id"]  # type: ignore[index]
        notice = await emulator.next_message(ADMIN_ID)
        assert notice.text.startswith("❓") and "видеосообщение выше" in notice.text
        await reply_to_copy(
            emulator, session_maker, copied_note.message_id, "Видео посмотрел, согласен"
        )
        await emulator.next_message(ADMIN_ID)
        back = await emulator.next_message(HEAD, timeout=15)  # through the outbox
        assert words.note_answered in back.text and "Видео посмотрел, согласен" in back.text
        await reply_to_copy(emulator, session_maker, notice.message_id, "И ещё: жду отчёт")
        await emulator.next_message(ADMIN_ID)
        back = await emulator.next_message(HEAD, timeout=15)  # through the outbox
        assert words.note_answered in back.text and "жду отчёт" in back.text
        asked, replies = await _rows(session_maker)
        assert asked[-1].sent_at is not None
        assert [r.text for r in replies[-2:]] == ["Видео посмотрел, согласен", "И ещё: жду отчёт"]
        assert all(r.question_id == asked[-1].id for r in replies[-2:])
