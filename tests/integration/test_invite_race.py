"""Twenty people opening one invitation link at once: one joins, every other one is told the
link was already used (the losing path used to read an expired invite: MissingGreenlet, and
the generic apology)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from aiogram.methods import SendMessage
from aiogram.types import Chat, Message, Update, User
from aiogram.utils.i18n import I18n

from db.engine import SessionMaker
from db.models import Person
from tests.helpers.chat import ADMIN_ID, Chatter, invite_token, only_text, register_admin, rows

USED = "This invitation link has already been used. Ask the secretariat for a new one."
PEOPLE = 20
FIRST = 5_000_001


def start_update(user_id: int, token: str) -> Update:
    return Update(
        update_id=user_id,
        message=Message(
            message_id=user_id,
            date=datetime.now(UTC),
            chat=Chat(id=user_id, type="private"),
            from_user=User(id=user_id, is_bot=False, first_name=f"U{user_id}", language_code="ru"),
            text=f"/start {token}",
        ),
    )


async def test_one_link_opened_by_twenty_at_once(
    chatter: Chatter, session_maker: SessionMaker, i18n: I18n
) -> None:
    await register_admin(chatter, "ru")
    await chatter.send(ADMIN_ID, "/adddept edu Білім басқармасы | Управление образования")
    token = invite_token(only_text(await chatter.send(ADMIN_ID, "/invite edu")))
    await asyncio.gather(
        *(
            chatter.dispatcher.feed_update(chatter.bot, start_update(FIRST + n, token))
            for n in range(PEOPLE)
        )
    )
    replies: dict[int, list[str]] = {}
    for request in chatter.bot.take():
        if isinstance(request, SendMessage):
            replies.setdefault(int(request.chat_id), []).append(str(request.text))
    assert sorted(replies) == [FIRST + n for n in range(PEOPLE)]  # everyone got an answer
    used = i18n.gettext(USED, locale="ru")
    losers = [chat for chat, texts in replies.items() if texts == [used]]
    winners = [chat for chat, texts in replies.items() if texts != [used]]
    assert len(losers) == PEOPLE - 1, replies
    joined = [p.telegram_id for p in await rows(session_maker, Person) if p.telegram_id != ADMIN_ID]
    assert joined == winners
