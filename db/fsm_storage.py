"""aiogram FSM storage in the bot's own database, so a dialog survives a restart.

SQLite deployments have no Redis; keeping the state beside the data also keeps one backup.

State and data live in one row per key. aiogram asks for them piecemeal (the state before
the handler, then get_data, set_state, set_data, update_data inside it), which would be a
round trip and a commit each. Inside a *step* — one update, while the dispatcher holds the
key's isolation lock (`StepIsolation`) — the row is read once, on the first question, and
written once, with one commit, when the update is done. Outside a step (a scheduled job, a
test) every call goes to the database at once, as before.

A step can also `join` the update's own session: then, when that session commits (a service
saving a report), the row's pending write goes into the same transaction, so the report and
the dialog's next state are stored together or not at all, in one commit.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, Mapping
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import (
    BaseEventIsolation,
    BaseStorage,
    DefaultKeyBuilder,
    KeyBuilder,
    StateType,
    StorageKey,
)
from aiogram.fsm.storage.memory import SimpleEventIsolation
from sqlalchemy import Table, bindparam, delete, event, select, update
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import Session
from sqlmodel.ext.asyncio.session import AsyncSession

from db.engine import SessionMaker, backend_insert
from db.models import FsmRecord

_EMPTY = "{}"
_TABLE: Table = FsmRecord.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class _Statements:
    """The row's four statements, built once per backend: on the table, not the ORM class, so
    running one costs a cached compile and no ORM bookkeeping (the step's hot path)."""

    read: Any
    update: Any
    delete: Any
    upsert: Any

    @classmethod
    def build(cls, backend: str) -> _Statements:
        key = _TABLE.c.key == bindparam("record_key")
        values: dict[str, Any] = {"state": bindparam("new_state"), "data": bindparam("new_data")}
        insert = backend_insert(backend)(_TABLE).values(key=bindparam("record_key"), **values)
        return cls(
            read=select(_TABLE.c.state, _TABLE.c.data).where(key),
            update=update(_TABLE).where(key).values(**values),
            delete=delete(_TABLE).where(key),
            # an upsert: a job may have written the key since it was read
            upsert=insert.on_conflict_do_update(
                index_elements=["key"],
                set_={"state": insert.excluded.state, "data": insert.excluded.data},
            ),
        )


_statements_by_backend: dict[str, _Statements] = {}


def _statements(backend: str) -> _Statements:
    statements = _statements_by_backend.get(backend)
    if statements is None:
        statements = _statements_by_backend[backend] = _Statements.build(backend)
    return statements


@dataclass
class _Row:
    """The key's row as the step sees it: what the database held, and what it should hold."""

    existed: bool
    state: str | None
    data: str  # JSON, so a value reads back exactly as it will after the next restart
    dirty: bool = False
    open: bool = True


_steps: ContextVar[dict[str, _Row] | None] = ContextVar("fsm_steps", default=None)


class DatabaseStorage(BaseStorage):
    def __init__(self, session_maker: SessionMaker, key_builder: KeyBuilder | None = None) -> None:
        self.session_maker = session_maker
        self.key_builder = key_builder or DefaultKeyBuilder(with_destiny=True)
        engine = session_maker.kw.get("bind")
        if not isinstance(engine, AsyncEngine):
            raise TypeError("DatabaseStorage needs a session maker bound to an AsyncEngine")
        # The row is read and written on a plain connection: no session to build and close.
        self.engine = engine
        self.statements = _statements(engine.dialect.name)
        # The row's one statement is a transaction of its own: on PostgreSQL without BEGIN and
        # COMMIT, one round trip instead of three (on SQLite it is one trip to aiosqlite's
        # thread either way).
        self._storing = (
            engine.execution_options(isolation_level="AUTOCOMMIT")
            if engine.dialect.name == "postgresql"
            else engine
        )

    @asynccontextmanager
    async def step(self, key: StorageKey) -> AsyncGenerator[None, None]:
        """Serve this key from one read and store it with one write when the block ends.
        The caller guarantees that nobody else handles the same key meanwhile (the lock)."""
        record_key = self.key_builder.build(key)
        steps = _steps.get()
        token = None
        if steps is None:
            steps = {}
            token = _steps.set(steps)
        try:
            yield  # an update that fails stores nothing of its step: nothing half-written
            row = steps.get(record_key)
            if row is not None and row.dirty:
                await self._store(record_key, row)
        finally:
            row = steps.pop(record_key, None)
            if row is not None:
                row.open = False
            if token is not None:
                _steps.reset(token)

    async def _load(self, record_key: str) -> _Row:
        async with self.engine.connect() as connection:
            result = await connection.execute(self.statements.read, {"record_key": record_key})
            found = result.first()
        if found is None:
            return _Row(existed=False, state=None, data=_EMPTY)
        return _Row(existed=True, state=found[0], data=found[1])

    async def _row(self, key: StorageKey) -> tuple[str, _Row, bool]:
        """The key's row, the step's copy when one is open; and whether it is the step's."""
        record_key = self.key_builder.build(key)
        steps = _steps.get()
        if steps is not None:
            row = steps.get(record_key)
            if row is None or not row.open:
                row = await self._load(record_key)
                steps[record_key] = row
            return record_key, row, True
        return record_key, await self._load(record_key), False

    def _statement(self, record_key: str, row: _Row) -> tuple[Any, dict[str, Any]] | None:
        """The one statement that stores the row, with its parameters: a delete of an emptied
        row, an update or an upsert; None when there is nothing to store (an empty row that
        never existed)."""
        if row.state is None and row.data == _EMPTY:
            if not row.existed:
                return None
            return self.statements.delete, {"record_key": record_key}
        values = {"record_key": record_key, "new_state": row.state, "new_data": row.data}
        return (self.statements.update if row.existed else self.statements.upsert), values

    @staticmethod
    def _stored(row: _Row) -> None:
        row.existed, row.dirty = not (row.state is None and row.data == _EMPTY), False

    async def _store(self, record_key: str, row: _Row) -> None:
        """One statement, committed, on a connection of its own."""
        statement = self._statement(record_key, row)
        if statement is not None:
            async with self._storing.connect() as connection:
                await connection.execute(*statement)
                await connection.commit()
        self._stored(row)

    def join(self, session: AsyncSession) -> None:
        """Let the open step's pending writes ride on `session`'s commits (the update's own
        session): whoever commits it also stores the dialog row, in the same transaction.
        Whatever changes after the last such commit is stored when the step ends, as before."""
        steps = _steps.get()
        if steps is None:
            return

        def carry(sync_session: Session) -> None:
            for record_key, row in steps.items():
                if row.open and row.dirty:
                    statement = self._statement(record_key, row)
                    if statement is not None:
                        sync_session.execute(*statement)
                    self._stored(row)

        event.listen(session.sync_session, "before_commit", carry)

    async def _write(self, key: StorageKey, **values: Any) -> None:
        record_key, row, in_step = await self._row(key)
        for name, value in values.items():
            setattr(row, name, value)
        row.dirty = True
        if not in_step:
            await self._store(record_key, row)

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        value = state.state if isinstance(state, State) else state
        await self._write(key, state=value)

    async def get_state(self, key: StorageKey) -> str | None:
        return (await self._row(key))[1].state

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        await self._write(key, data=json.dumps(dict(data), ensure_ascii=False))

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        data: dict[str, Any] = json.loads((await self._row(key))[1].data)
        return data

    async def close(self) -> None:
        """The engine belongs to the application, which disposes of it."""


class StepIsolation(BaseEventIsolation):
    """aiogram's one-update-at-a-time-per-key lock, with the key's storage step inside it:
    the dispatcher takes this lock before it reads the state and releases it after the
    handlers, so the whole update is one step."""

    def __init__(self, storage: DatabaseStorage, locks: BaseEventIsolation | None = None) -> None:
        self.storage = storage
        # In one process a lock in memory; across replicas one in Redis (webhook mode).
        self._locks = locks or SimpleEventIsolation()

    @asynccontextmanager
    async def lock(self, key: StorageKey) -> AsyncGenerator[None, None]:
        async with self._locks.lock(key), self.storage.step(key):
            yield

    async def close(self) -> None:
        await self._locks.close()
