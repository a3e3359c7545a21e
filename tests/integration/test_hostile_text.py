"""A title or a name typed with a right-to-left override or control characters is stored
without them, so the chair's alert, card and summary read as written."""

from __future__ import annotations

from db.engine import SessionMaker
from db.models import Person, RoadmapItem
from tests.helpers.chat import ADMIN_ID, Chatter, register_admin, rows

RLO = "\u202e"


async def test_a_typed_override_never_reaches_the_database(
    chatter: Chatter, session_maker: SessionMaker
) -> None:
    await register_admin(chatter, "ru")
    await chatter.send(ADMIN_ID, "/adddept edu Білім басқармасы | Управление образования")
    await chatter.send(
        ADMIN_ID, f"/additem 1.1 edu 2025-06-01 Мектеп {RLO}салу\x07 | Строительство {RLO}школы"
    )
    (item,) = await rows(session_maker, RoadmapItem)
    assert (item.title_kk, item.title_ru) == ("Мектеп салу", "Строительство школы")


async def test_a_name_with_an_override_is_stored_clean(
    chatter: Chatter, session_maker: SessionMaker
) -> None:
    from aiogram.types import User

    original = chatter._user
    chatter._user = lambda user_id, code: User(  # type: ignore[method-assign]
        id=user_id, is_bot=False, first_name=f"Әли{RLO}\x00", last_name="Ким", language_code=code
    )
    try:
        await register_admin(chatter, "ru")
    finally:
        chatter._user = original  # type: ignore[method-assign]
    (admin,) = await rows(session_maker, Person)
    assert admin.display_name == "Әли Ким"
