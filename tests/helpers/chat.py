"""Talking to the bot in tests: the admin, a chat driver, a virtual timer, replies and rows."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

from aiogram import Dispatcher
from aiogram.methods import (
    EditMessageText,
    SendMessage,
)
from aiogram.types import CallbackQuery, Chat, Message, Update, User
from sqlmodel import select

from db.engine import SessionMaker
from tests.helpers.mocked_bot import BOT_ID, MockedBot

TEST_TOKEN = f"{BOT_ID}:TEST_TOKEN_abcdefghijklmnopqrstuvwxyz0123"


ADMIN_ID = 111


START_MOMENT = datetime(2025, 3, 3, 4, 0, tzinfo=UTC)


class VirtualTimer:
    """A monotonic clock whose sleep moves time instead of waiting."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


class Chatter:
    """Feeds updates from simulated people into the Dispatcher and collects the replies."""

    def __init__(self, dispatcher: Dispatcher, bot: MockedBot) -> None:
        self.dispatcher = dispatcher
        self.bot = bot
        self._ids = itertools.count(1)

    def _user(self, user_id: int, language_code: str | None) -> User:
        return User(
            id=user_id, is_bot=False, first_name=f"User{user_id}", language_code=language_code
        )

    def message_update(
        self, user_id: int, text: str, *, language_code: str | None = "ru"
    ) -> Update:
        """The Update a person's message arrives as (built apart, so a benchmark can time the
        dispatcher alone)."""
        message = Message(
            message_id=next(self._ids),
            date=datetime.now(UTC),
            chat=Chat(id=user_id, type="private"),
            from_user=self._user(user_id, language_code),
            text=text,
        )
        return Update(update_id=next(self._ids), message=message)

    def callback_update(
        self, user_id: int, data: str, *, message_id: int = 1, language_code: str | None = "ru"
    ) -> Update:
        """The Update a button press arrives as."""
        message = Message(
            message_id=message_id,
            date=datetime.now(UTC),
            chat=Chat(id=user_id, type="private"),
            text="…",
        )
        query = CallbackQuery(
            id=str(next(self._ids)),
            from_user=self._user(user_id, language_code),
            chat_instance="ci",
            message=message,
            data=data,
        )
        return Update(update_id=next(self._ids), callback_query=query)

    async def feed(self, update: Update) -> list[Any]:
        await self.dispatcher.feed_update(self.bot, update)
        return self.bot.take()

    async def send(self, user_id: int, text: str, *, language_code: str | None = "ru") -> list[Any]:
        return await self.feed(self.message_update(user_id, text, language_code=language_code))

    async def press(
        self, user_id: int, data: str, *, message_id: int = 1, language_code: str | None = "ru"
    ) -> list[Any]:
        update = self.callback_update(
            user_id, data, message_id=message_id, language_code=language_code
        )
        return await self.feed(update)


def only_text(requests: list) -> str:
    texts = [r.text for r in requests if isinstance(r, SendMessage | EditMessageText)]
    assert len(texts) == 1, requests
    return texts[0]


async def rows(session_maker: SessionMaker, model: type) -> list:
    async with session_maker() as session:
        return list((await session.exec(select(model))).all())


async def register_admin(chatter: Chatter, locale: str = "ru") -> None:
    await chatter.send(ADMIN_ID, "/start")
    await chatter.press(ADMIN_ID, f"lang:{locale}")


def invite_token(text: str) -> str:
    return text.split("?start=")[1].split()[0]
