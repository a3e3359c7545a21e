"""The reporting tests' roadmap: three departments, six items (one title with `<`, `&`), two
education members (Kazakh and Russian) and a construction head, all joined by invitation."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from aiogram.methods import SendMessage
from sqlmodel import col, delete

from db.engine import SessionMaker
from db.models import Notification, RoadmapItem
from tests.helpers.chat import ADMIN_ID, Chatter, invite_token, only_text, register_admin, rows

EDU_HEAD, EDU_DEPUTY, BUILD_HEAD, HEALTH_HEAD = 2001, 2002, 2003, 2004


@dataclass
class World:
    chatter: Chatter
    items: dict[str, int]


async def join(chatter: Chatter, user_id: int, department: str, locale: str) -> None:
    token = invite_token(only_text(await chatter.send(ADMIN_ID, f"/invite {department}")))
    await chatter.send(user_id, f"/start {token}")
    await chatter.press(user_id, f"lang:{locale}")


@pytest.fixture
async def world(chatter: Chatter, session_maker: SessionMaker) -> World:
    await register_admin(chatter, "ru")
    for command in (
        "/adddept edu Білім басқармасы | Управление образования",
        "/adddept build Құрылыс басқармасы | Управление строительства",
        "/adddept health Денсаулық сақтау басқармасы | Управление здравоохранения",
        "/additem 1.1 edu 2025-06-01 Мектеп салу | Строительство школы",
        "/additem 1.2 edu 2025-04-01 Балабақша <№7> | Детский сад <№7> & ясли",
        "/additem 1.3 edu 2025-12-01 Спорт залы | Спортзал",
        "/additem 2.1 build 2025-09-01 Көпір | Мост",
        "/additem 2.2 build 2025-10-01 Жол | Дорога",
        "/additem 3.1 health 2025-11-01 Емхана | Поликлиника",
    ):
        await chatter.send(ADMIN_ID, command)
    await join(chatter, EDU_HEAD, "edu", "kk")
    await join(chatter, EDU_DEPUTY, "edu", "ru")
    await join(chatter, BUILD_HEAD, "build", "ru")
    chatter.bot.take()
    await _forget_join_notices(session_maker)
    items = {item.code: item.id for item in await rows(session_maker, RoadmapItem)}
    return World(chatter, items)


async def _forget_join_notices(session_maker: SessionMaker) -> None:
    """The secretariat's notices of who joined (issue 22) are not what these tests count:
    the world starts with an empty outbox, as it did before them."""
    async with session_maker() as session:
        await session.exec(delete(Notification).where(col(Notification.kind) == "joined"))  # type: ignore[call-overload]
        await session.commit()


def sent_to(requests: list, chat_id: int) -> list[SendMessage]:  # type: ignore[type-arg]
    return [r for r in requests if isinstance(r, SendMessage) and int(r.chat_id) == chat_id]


def buttons(request) -> list[str]:  # type: ignore[no-untyped-def]
    return [b.callback_data for row in request.reply_markup.inline_keyboard for b in row]
