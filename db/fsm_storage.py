"""aiogram FSM storage in the bot's own database, so a dialog survives a restart.

SQLite deployments have no Redis; keeping the state beside the data also keeps one backup.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import (
    BaseStorage,
    DefaultKeyBuilder,
    KeyBuilder,
    StateType,
    StorageKey,
)

from db.engine import SessionMaker
from db.models import FsmRecord


class DatabaseStorage(BaseStorage):
    def __init__(self, session_maker: SessionMaker, key_builder: KeyBuilder | None = None) -> None:
        self.session_maker = session_maker
        self.key_builder = key_builder or DefaultKeyBuilder(with_destiny=True)

    async def _write(self, key: StorageKey, **values: Any) -> None:
        record_key = self.key_builder.build(key)
        async with self.session_maker() as session:
            record = await session.get(FsmRecord, record_key)
            if record is None:
                record = FsmRecord(key=record_key)
            for name, value in values.items():
                setattr(record, name, value)
            if record.state is None and record.data == "{}":
                if record in session:
                    await session.delete(record)
            else:
                session.add(record)
            await session.commit()

    async def _read(self, key: StorageKey) -> FsmRecord | None:
        async with self.session_maker() as session:
            return await session.get(FsmRecord, self.key_builder.build(key))

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        value = state.state if isinstance(state, State) else state
        await self._write(key, state=value)

    async def get_state(self, key: StorageKey) -> str | None:
        record = await self._read(key)
        return record.state if record else None

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        await self._write(key, data=json.dumps(dict(data), ensure_ascii=False))

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        record = await self._read(key)
        return json.loads(record.data) if record else {}

    async def close(self) -> None:
        """The engine belongs to the application, which disposes of it."""
