"""A Bot whose session records every request and answers it like Telegram would.

For unit tests that feed updates straight into the Dispatcher: no network, but the same
method objects the real session would serialize.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncGenerator
from datetime import UTC, datetime
from typing import Any

from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.base import BaseSession
from aiogram.enums import ParseMode
from aiogram.methods import (
    EditMessageReplyMarkup,
    EditMessageText,
    GetMe,
    SendDocument,
    SendMessage,
    SendPhoto,
    TelegramMethod,
)
from aiogram.types import Chat, Message, User

BOT_ID = 7000000001
BOT_USERNAME = "roadmap_test_bot"


class RecordingSession(BaseSession):
    def __init__(self) -> None:
        super().__init__()
        self.requests: list[TelegramMethod[Any]] = []
        self._message_ids = itertools.count(1000)

    async def close(self) -> None:
        pass

    async def make_request(
        self, bot: Bot, method: TelegramMethod[Any], timeout: int | None = None
    ) -> Any:
        self.requests.append(method)
        return self._answer(method)

    async def stream_content(
        self,
        url: str,
        headers: dict[str, Any] | None = None,
        timeout: int = 30,
        chunk_size: int = 65536,
        raise_for_status: bool = True,
    ) -> AsyncGenerator[bytes, None]:
        yield b""

    def _answer(self, method: TelegramMethod[Any]) -> Any:
        if isinstance(method, GetMe):
            return User(id=BOT_ID, is_bot=True, first_name="Roadmap", username=BOT_USERNAME)
        if isinstance(method, SendMessage | SendDocument | SendPhoto):
            return Message(
                message_id=next(self._message_ids),
                date=datetime.now(UTC),
                chat=Chat(id=int(method.chat_id), type="private"),
                text=getattr(method, "text", None),
                reply_markup=method.reply_markup,
            )
        if isinstance(method, EditMessageText | EditMessageReplyMarkup):
            return Message(
                message_id=method.message_id or 0,
                date=datetime.now(UTC),
                chat=Chat(id=int(method.chat_id or 0), type="private"),
                text=getattr(method, "text", None),
                reply_markup=method.reply_markup,
            )
        return True


class MockedBot(Bot):
    def __init__(self) -> None:
        super().__init__(
            token=f"{BOT_ID}:TEST_TOKEN_abcdefghijklmnopqrstuvwxyz0123",
            session=RecordingSession(),
            default=DefaultBotProperties(parse_mode=ParseMode.HTML),
        )

    @property
    def recording(self) -> RecordingSession:
        assert isinstance(self.session, RecordingSession)
        return self.session

    def take(self) -> list[TelegramMethod[Any]]:
        """The requests made since the last call, oldest first."""
        requests = list(self.recording.requests)
        self.recording.requests.clear()
        return requests

    def texts(self) -> list[str]:
        return [m.text for m in self.take() if isinstance(m, SendMessage | EditMessageText)]
