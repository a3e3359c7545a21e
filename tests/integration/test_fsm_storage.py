"""The FSM storage: one row per key, and inside a step (one update) read once, written once
with one commit; outside a step every call goes to the database."""

from __future__ import annotations

import pytest
from aiogram.fsm.storage.base import DefaultKeyBuilder, StorageKey
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select

from db.engine import SessionMaker
from db.fsm_storage import DatabaseStorage, StepIsolation
from db.models import FsmRecord
from tests.helpers.sql import counted

KEY = StorageKey(bot_id=1, chat_id=42, user_id=42)
KEY_TEXT = DefaultKeyBuilder(with_destiny=True).build(KEY)


async def rows(session_maker: SessionMaker) -> list[FsmRecord]:
    async with session_maker() as session:
        return list((await session.exec(select(FsmRecord))).all())


async def test_outside_a_step_every_call_is_stored(session_maker: SessionMaker) -> None:
    storage = DatabaseStorage(session_maker)
    await storage.set_state(KEY, "Dialog:status")
    await storage.set_data(KEY, {"item_id": 7, "title": "Жол <1>"})
    fresh = DatabaseStorage(session_maker)
    assert await fresh.get_state(KEY) == "Dialog:status"
    assert await fresh.get_data(KEY) == {"item_id": 7, "title": "Жол <1>"}
    await storage.set_state(KEY, None)
    await storage.set_data(KEY, {})
    assert await rows(session_maker) == []  # an empty dialog leaves no row


async def test_a_step_reads_once_and_writes_once(
    engine: AsyncEngine, session_maker: SessionMaker
) -> None:
    storage = DatabaseStorage(session_maker)
    await storage.set_data(KEY, {"item_id": 7})
    with counted(engine) as counts:
        async with storage.step(KEY):
            assert await storage.get_state(KEY) is None
            assert await storage.get_data(KEY) == {"item_id": 7}
            await storage.set_state(KEY, "Dialog:progress")
            await storage.update_data(KEY, {"status": "in_progress", "pair": (1, 2)})
            assert await storage.get_state(KEY) == "Dialog:progress"
            # data reads back as it will after a restart (JSON), within the step too
            assert await storage.get_data(KEY) == {
                "item_id": 7,
                "status": "in_progress",
                "pair": [1, 2],
            }
            assert counts == {"statements": 1, "commits": 0}
    assert counts == {"statements": 2, "commits": 1}
    fresh = DatabaseStorage(session_maker)
    assert await fresh.get_state(KEY) == "Dialog:progress"
    assert (await fresh.get_data(KEY))["status"] == "in_progress"


async def test_a_step_that_clears_the_dialog_deletes_the_row(
    engine: AsyncEngine, session_maker: SessionMaker
) -> None:
    storage = DatabaseStorage(session_maker)
    await storage.set_state(KEY, "Dialog:comment")
    with counted(engine) as counts:
        async with storage.step(KEY):
            await storage.set_state(KEY, None)
            await storage.set_data(KEY, {})
    assert counts == {"statements": 2, "commits": 1}
    assert await rows(session_maker) == []


async def test_a_step_that_only_reads_writes_nothing(
    engine: AsyncEngine, session_maker: SessionMaker
) -> None:
    storage = DatabaseStorage(session_maker)
    with counted(engine) as counts:
        async with storage.step(KEY):
            assert await storage.get_state(KEY) is None
            assert await storage.get_data(KEY) == {}
    assert counts == {"statements": 1, "commits": 0}
    assert await rows(session_maker) == []


async def test_a_failed_update_stores_nothing(session_maker: SessionMaker) -> None:
    storage = DatabaseStorage(session_maker)
    await storage.set_state(KEY, "Dialog:status")
    with pytest.raises(RuntimeError):
        async with storage.step(KEY):
            await storage.set_state(KEY, "Dialog:confirm")
            raise RuntimeError("the handler failed")
    assert await DatabaseStorage(session_maker).get_state(KEY) == "Dialog:status"


async def test_other_keys_are_not_served_by_the_step(session_maker: SessionMaker) -> None:
    storage = DatabaseStorage(session_maker)
    other = StorageKey(bot_id=1, chat_id=43, user_id=43)
    async with storage.step(KEY):
        await storage.set_state(other, "Dialog:status")  # stored at once
        assert await DatabaseStorage(session_maker).get_state(other) == "Dialog:status"


async def test_the_isolation_lock_is_a_step(
    engine: AsyncEngine, session_maker: SessionMaker
) -> None:
    storage = DatabaseStorage(session_maker)
    isolation = StepIsolation(storage)
    with counted(engine) as counts:
        async with isolation.lock(KEY):
            await storage.get_state(KEY)
            await storage.set_state(KEY, "Dialog:status")
            await storage.set_data(KEY, {"item_id": 1})
    assert counts == {"statements": 2, "commits": 1}
    assert await DatabaseStorage(session_maker).get_data(KEY) == {"item_id": 1}
    await isolation.close()


async def test_a_joined_session_commits_the_row_with_its_own_work(
    engine: AsyncEngine, session_maker: SessionMaker
) -> None:
    """A service's commit stores the dialog row in the same transaction: one commit."""
    storage = DatabaseStorage(session_maker)
    with counted(engine) as counts:
        async with storage.step(KEY), session_maker() as session:
            storage.join(session)
            await storage.set_state(KEY, "Dialog:status")
            session.add(FsmRecord(key="other", state="Dialog:done", data="{}"))
            await session.commit()
            assert {row.key for row in await rows(session_maker)} == {KEY_TEXT, "other"}
    assert counts["commits"] == 1, counts
    assert await DatabaseStorage(session_maker).get_state(KEY) == "Dialog:status"


async def test_what_changes_after_the_joined_commit_is_stored_when_the_step_ends(
    session_maker: SessionMaker,
) -> None:
    storage = DatabaseStorage(session_maker)
    async with storage.step(KEY), session_maker() as session:
        storage.join(session)
        await storage.set_state(KEY, "Dialog:status")
        await session.commit()
        await storage.set_data(KEY, {"message_id": 5})
    fresh = DatabaseStorage(session_maker)
    assert await fresh.get_state(KEY) == "Dialog:status"
    assert await fresh.get_data(KEY) == {"message_id": 5}


async def test_a_joined_session_rolled_back_still_leaves_the_row_to_the_step(
    session_maker: SessionMaker,
) -> None:
    """A refused save rolls back; the dialog it closed is still stored."""
    storage = DatabaseStorage(session_maker)
    await storage.set_state(KEY, "Dialog:confirm")
    async with storage.step(KEY), session_maker() as session:
        storage.join(session)
        await storage.set_state(KEY, None)
        await session.rollback()
    assert await rows(session_maker) == []
