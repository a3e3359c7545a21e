"""End to end over HTTP (issue 22, "every word kept"): Telegram's *Edit* of a comment, a
caption, a sentence typed where a button is expected, a voice message and a sticker, in both
languages; each asserted on the stored rows and on the messages the head sees."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from bot.app.config import Settings
from bot.core.clock import FrozenClock
from bot.sandbox.emulator import BotApiEmulator, Message
from db.engine import SessionMaker
from tests.helpers.chat import ADMIN_ID
from tests.helpers.e2e import (
    EDUCATION,
    At,
    build_world,
    edit_of,
    live_bot,
    say,
    tap,
    updates_of,
    walk,
)

HEAD = 4201


@dataclass(frozen=True)
class Words:
    """What the head of each language sees and presses."""

    language: str
    on_track: str
    kept: str
    edited: str
    offer: str
    correct: str
    corrected: str
    voice_hint: str
    sticker: str


KK = Words(
    language="Қазақша",
    on_track="Жоспар бойынша",
    kept="Түсініктемеңіз сақталды",
    edited="Жобадағы түсініктеме түзетілген мәтінге ауыстырылды",
    offer="Сақталған жаңартуды түзету керек пе?",
    correct="Түзету",
    corrected="Түзетілді",
    voice_hint="Қысқаша түсініктемені мәтінмен де жазыңыз",
    sticker="Рахмет",
)
RU = Words(
    language="Русский",
    on_track="По плану",
    kept="Ваш комментарий сохранён",
    edited="Комментарий в черновике заменён исправленным текстом",
    offer="Исправить сохранённое обновление?",
    correct="Исправить",
    corrected="Исправлено",
    voice_hint="Напишите, пожалуйста, и короткий комментарий текстом",
    sticker="Спасибо",
)


async def _set_up(emulator: BotApiEmulator, words: Words) -> None:
    commands = [
        EDUCATION,
        "/additem 1.1 edu 2025-12-01 Мектеп салу | Строительство школы",
        "/additem 1.2 edu 2025-12-01 Балабақша | Детский сад",
        "/additem 1.3 edu 2025-12-01 Спорт залы | Спортзал",
    ]
    await build_world(emulator, commands, [(HEAD, "edu", words.language)])


async def _typed(emulator: BotApiEmulator, card: Message, text: str) -> tuple[Message, Message]:
    """The head types an answer; the sent message and the card, shown again in place."""
    sent = emulator.send_text(HEAD, text)
    return sent, await edit_of(emulator, HEAD, card.message_id)


@pytest.mark.parametrize("words", [KK, RU], ids=["kk", "ru"])
async def test_an_edit_follows_the_draft_and_corrects_a_saved_comment(
    live_settings: Settings,
    clock: FrozenClock,
    emulator: BotApiEmulator,
    session_maker: SessionMaker,
    words: Words,
) -> None:
    async with live_bot(live_settings, clock, emulator):
        await _set_up(emulator, words)
        screen = await say(emulator, HEAD, "/report 1.1")
        screen = await walk(emulator, HEAD, screen, words.on_track, "50%")
        comment, card = await _typed(emulator, screen, "40 мектеп қосылды")
        assert "40 мектеп қосылды" in card.text

        # Telegram's Edit while the draft is open: the card follows in place, and says so.
        emulator.edit_text(HEAD, comment.message_id, "45 мектеп қосылды, 3-і тексерілуде")
        edited_card = await edit_of(emulator, HEAD, card.message_id)
        assert "45 мектеп қосылды" in edited_card.text and "40 мектеп" not in edited_card.text
        notice = await emulator.next_message(HEAD)
        assert words.edited in notice.text
        done = await tap(emulator, HEAD, edited_card, edited_card.buttons[0][0][0])  # Save
        assert "1.2" in done.text  # saved: the next item opens in place

        # An edit after Save: offered as a correction, which is its own history entry.
        emulator.edit_text(HEAD, comment.message_id, "47 мектеп қосылды")
        offer = await emulator.next_message(HEAD)
        assert words.offer in offer.text and "45 мектеп" in offer.text and "47 мектеп" in offer.text
        answer = await tap(emulator, HEAD, offer, words.correct)
        assert words.corrected in answer.text and "47 мектеп" in answer.text

        card = await say(emulator, ADMIN_ID, "/item 1.1")
        assert "47 мектеп қосылды" in card.text
        await emulator.wait_idle()
        assert [request.summary() for request in emulator.errors] == []

    original, correction = await updates_of(session_maker, "1.1")
    assert (original.comment, original.corrected) == ("45 мектеп қосылды, 3-і тексерілуде", True)
    assert original.message_id == comment.message_id
    assert (correction.comment, correction.corrects_id) == ("47 мектеп қосылды", original.id)
    assert (correction.status, correction.progress) == (original.status, original.progress)
    assert correction.author_id == original.author_id and not correction.corrected


@pytest.mark.parametrize("words", [KK, RU], ids=["kk", "ru"])
async def test_free_text_captions_voice_and_stickers_are_kept(
    live_settings: Settings,
    clock: FrozenClock,
    emulator: BotApiEmulator,
    session_maker: SessionMaker,
    words: Words,
) -> None:
    sentence = "Работы идут, готовность 80%, сдадим к 25 декабря"
    async with live_bot(live_settings, clock, emulator):
        await _set_up(emulator, words)

        # A sentence at the status step: kept as the comment, its 80% offered as one tap.
        screen = await say(emulator, HEAD, "/report 1.1")
        _sent, screen = await _typed(emulator, screen, sentence)
        assert words.kept in screen.text and sentence in screen.text
        screen = await tap(emulator, HEAD, screen, words.on_track)
        assert screen.buttons[0][0][0] == "80%?"
        screen = await tap(emulator, HEAD, screen, "80%?")
        assert sentence in screen.text
        await tap(emulator, HEAD, screen, screen.buttons[0][0][0])  # Save

        # A photo's caption is the comment when none was given; a later file's is its label.
        screen = await say(emulator, HEAD, "/report 1.2")
        screen = await walk(emulator, HEAD, screen, words.on_track, "50%")
        emulator.send_photo(HEAD, b"\xff\xd8\xff scan", caption="Жалоба участника, скан")
        screen = await edit_of(emulator, HEAD, screen.message_id)
        assert "Жалоба участника, скан" in screen.text
        emulator.send_document(HEAD, b"%PDF-1.4 act", "akt.pdf", caption="Акт приёмки")
        screen = await edit_of(emulator, HEAD, screen.message_id)
        assert "Акт приёмки (akt.pdf)" in screen.text
        await tap(emulator, HEAD, screen, screen.buttons[0][0][0])  # Save
        card = await say(emulator, ADMIN_ID, "/item 1.2")
        assert "Жалоба участника, скан" in card.text and "Акт приёмки (akt.pdf)" in card.text

        # A voice message in the dialog is evidence; the head is asked for a few typed words.
        screen = await say(emulator, HEAD, "/report 1.3")
        emulator.send_voice(HEAD)
        screen = await edit_of(emulator, HEAD, screen.message_id)
        assert words.voice_hint in screen.text
        await walk(emulator, HEAD, screen, words.on_track, "25%", At(0, 0))  # Save

        # A sticker outside the dialog: a short friendly answer, not the generic /help hint.
        emulator.send_sticker(HEAD)
        reply = await emulator.next_message(HEAD)
        assert words.sticker in reply.text and "/help" not in reply.text

        await emulator.wait_idle()
        assert [request.summary() for request in emulator.errors] == []

    (typed,) = await updates_of(session_maker, "1.1")
    assert (typed.status, typed.progress, typed.comment) == ("on_track", 80, sentence)
    (captioned,) = await updates_of(session_maker, "1.2")
    assert captioned.comment == "Жалоба участника, скан"
    assert captioned.evidence_kind == "document"
    assert captioned.evidence_name == "Акт приёмки (akt.pdf)"
    (spoken,) = await updates_of(session_maker, "1.3")
    assert (spoken.evidence_kind, spoken.progress, spoken.comment) == ("voice", 25, None)
