"""Words outside a dialog (issue 22, #14), beyond the end-to-end journey: who gets the offer,
what the buttons open, and a long question passed on whole in the database and within one
message in the chat."""

from __future__ import annotations

import json

from aiogram.methods import SendMessage
from sqlmodel import select

from bot.core.text import visible_length
from bot.telegram.callbacks import ChairItem, OpenItem, SendQuestion
from db.engine import SessionMaker
from db.models import MemberQuestion, Notification
from tests.helpers.chat import ADMIN_ID, invite_token, only_text, rows
from tests.helpers.reporting_world import EDU_DEPUTY, World, buttons

CHAIR = 2101
STRANGER = 2199


async def test_who_is_offered_what(world: World, session_maker: SessionMaker) -> None:
    chatter = world.chatter
    token = invite_token(only_text(await chatter.send(ADMIN_ID, "/invite chair")))
    await chatter.send(CHAIR, f"/start {token}")
    await chatter.press(CHAIR, "lang:ru")
    chatter.bot.take()

    # A member: his own department's item opens the dialog; another's is not offered.
    (offer,) = await chatter.send(EDU_DEPUTY, "Вопрос по 1.1 и по 2.1")
    assert buttons(offer)[0] == OpenItem(item_id=world.items["1.1"]).pack()
    assert len(buttons(offer)) == 2 and buttons(offer)[1].startswith("qs:")
    # The chair: the item's card.
    (offer,) = await chatter.send(CHAIR, "Что с 2.1?")
    assert buttons(offer)[0] == ChairItem(item_id=world.items["2.1"]).pack()
    # The secretariat and strangers get the fallback; nothing of theirs is a question.
    (fallback,) = await chatter.send(ADMIN_ID, "просто текст")
    assert fallback.reply_markup is None
    (stranger,) = await chatter.send(STRANGER, "здравствуйте")
    assert str(STRANGER) in stranger.text
    asked = await rows(session_maker, MemberQuestion)
    assert [q.text for q in asked] == ["Вопрос по 1.1 и по 2.1", "Что с 2.1?"]

    # Someone else's button sends nothing; a second tap neither.
    mine = SendQuestion(question_id=asked[0].id).pack()  # type: ignore[arg-type]
    await chatter.press(CHAIR, mine)
    assert all(q.sent_at is None for q in await rows(session_maker, MemberQuestion))
    await chatter.press(EDU_DEPUTY, mine)
    await chatter.press(EDU_DEPUTY, mine)
    async with session_maker() as session:
        copies = (
            await session.exec(select(Notification).where(Notification.kind == "question"))
        ).all()
    assert len(copies) == 1 and copies[0].chat_id == ADMIN_ID


async def test_a_long_question_is_kept_whole_and_passed_on_in_one_message(
    world: World, session_maker: SessionMaker
) -> None:
    chatter = world.chatter
    text = "\n".join(f"Строка {n}: " + "подробности " * 20 for n in range(17))
    assert len(text) > 4000
    (offer,) = [r for r in await chatter.send(EDU_DEPUTY, text) if isinstance(r, SendMessage)]
    (question,) = await rows(session_maker, MemberQuestion)
    assert question.text == text  # nothing lost in the database
    await chatter.press(EDU_DEPUTY, buttons(offer)[-1])
    async with session_maker() as session:
        (copy,) = (
            await session.exec(select(Notification).where(Notification.kind == "question"))
        ).all()
    sent = json.loads(copy.payload)["params"]["text"]
    assert visible_length(sent) <= 4096 and "Строка 0:\u0020" in sent and "\nСтрока 1:" in sent
