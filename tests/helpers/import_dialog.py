"""Driving the import dialog in tests: a stand-in for Telegram's file storage and readers."""

from __future__ import annotations

import io
import itertools
from datetime import UTC, datetime
from typing import Any

import pytest
from aiogram.methods import EditMessageText, SendMessage
from aiogram.types import Chat, Document, Message, Update, User
from sqlmodel import select

from bot.core.clock import FrozenClock
from db.engine import SessionMaker
from db.models import Department
from tests.data.spreadsheets.workbooks import DEPARTMENTS
from tests.helpers.chat import ADMIN_ID, Chatter
from tests.helpers.mocked_bot import MockedBot

_ids = itertools.count(100_000)


async def seed_departments(session_maker: SessionMaker, clock: FrozenClock) -> dict[str, int]:
    """The directory of tests.data.spreadsheets.workbooks.DEPARTMENTS; codes to ids."""
    async with session_maker() as session:
        for code, (name_kk, name_ru) in DEPARTMENTS.items():
            session.add(
                Department(code=code, name_kk=name_kk, name_ru=name_ru, created_at=clock.now())
            )
        await session.commit()
    async with session_maker() as session:
        found = (await session.exec(select(Department))).all()
    return {department.code: department.id for department in found if department.id is not None}


def document_update(
    user_id: int, file_id: str, name: str, size: int, caption: str | None = None
) -> Update:
    message = Message(
        message_id=next(_ids),
        date=datetime.now(UTC),
        chat=Chat(id=user_id, type="private"),
        from_user=User(id=user_id, is_bot=False, first_name=f"User{user_id}", language_code="ru"),
        document=Document(
            file_id=file_id, file_unique_id=f"u-{file_id}", file_name=name, file_size=size
        ),
        caption=caption,
    )
    return Update(update_id=next(_ids), message=message)


class Files:
    """Stands in for Telegram's file storage: bot.download(file_id) returns what was 'uploaded'."""

    def __init__(self, bot: MockedBot, monkeypatch: pytest.MonkeyPatch) -> None:
        self.contents: dict[str, bytes] = {}
        self.downloads: list[str] = []
        monkeypatch.setattr(bot, "download", self.download)

    async def download(self, file: str, destination: Any = None, **kwargs: Any) -> io.BytesIO:
        self.downloads.append(file)
        return io.BytesIO(self.contents[file])


async def send_file(
    chatter: Chatter, files: Files, file_id: str, data: bytes, name: str, **kw: Any
) -> list[Any]:
    files.contents[file_id] = data
    update = document_update(ADMIN_ID, file_id, name, kw.pop("size", len(data)), **kw)
    await chatter.dispatcher.feed_update(chatter.bot, update)
    return chatter.bot.take()


def buttons(requests: list[Any]) -> list[str]:
    return [
        button.callback_data
        for request in requests
        if isinstance(request, SendMessage | EditMessageText) and request.reply_markup
        for row in request.reply_markup.inline_keyboard
        for button in row
    ]


def texts(requests: list[Any]) -> list[str]:
    return [r.text for r in requests if isinstance(r, SendMessage | EditMessageText)]
