"""Counting what reaches the database: SQL statements and commits, with SQLAlchemy events.

`commits` counts the commits that carry a write. The session middleware ends its read-only
transaction before the handler runs (so an update holds no pooled connection while a use case
opens its own); that commit writes nothing and is not a commit of data.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine


@contextmanager
def counted(engine: AsyncEngine) -> Iterator[dict[str, int]]:
    counts = {"statements": 0, "commits": 0}
    wrote = [False]

    def statement(_connection: Any, _cursor: Any, sql: str, *_: Any) -> None:
        counts["statements"] += 1
        if not sql.lstrip().upper().startswith("SELECT"):
            wrote[0] = True

    def commit(*_: Any) -> None:
        if wrote[0]:
            counts["commits"] += 1
        wrote[0] = False

    def rollback(*_: Any) -> None:
        wrote[0] = False

    event.listen(engine.sync_engine, "before_cursor_execute", statement)
    event.listen(engine.sync_engine, "commit", commit)
    event.listen(engine.sync_engine, "rollback", rollback)
    try:
        yield counts
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", statement)
        event.remove(engine.sync_engine, "commit", commit)
        event.remove(engine.sync_engine, "rollback", rollback)


@contextmanager
def server_trips(engine: AsyncEngine, monkeypatch: Any) -> Iterator[dict[str, int]]:
    """PostgreSQL's round trips: each statement, and each BEGIN, COMMIT and ROLLBACK that
    asyncpg sends (counted at its transaction object, so a read that opened no transaction
    counts once)."""
    from asyncpg.transaction import Transaction

    counts = {"trips": 0}
    for name in ("start", "commit", "rollback"):
        original = getattr(Transaction, name)

        async def counted_call(self: Any, _original: Any = original) -> None:
            counts["trips"] += 1
            await _original(self)

        monkeypatch.setattr(Transaction, name, counted_call)

    def statement(*_: Any) -> None:
        counts["trips"] += 1

    event.listen(engine.sync_engine, "before_cursor_execute", statement)
    try:
        yield counts
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", statement)
        monkeypatch.undo()
