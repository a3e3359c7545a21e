"""asyncpg without BEGIN and ROLLBACK around a session that only reads.

SQLAlchemy's asyncpg adapter opens a transaction before the first statement of every
connection use, so a read is three server round trips (BEGIN, SELECT, ROLLBACK): a dialog
step's two reads cost six trips for two statements. Under PostgreSQL's default READ COMMITTED
every statement takes its own snapshot anyway, so a plain SELECT outside a transaction sees
exactly what it would inside one. Here a plain SELECT issued while no transaction is open runs
on its own; the first statement that is not one (a write, SET LOCAL, a locking SELECT ... FOR
UPDATE, set_config) opens the transaction as before, and everything after it runs inside.
Server-side cursors (streamed reads) always open one: asyncpg needs it for a cursor.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy.dialects.postgresql.asyncpg import (
    AsyncAdapt_asyncpg_connection,
    AsyncAdapt_asyncpg_cursor,
)

# A SELECT that locks rows, takes an advisory lock, sets a setting for the transaction
# (set_config(..., true), as the outbox's claim does) or moves a sequence needs its transaction.
_NEEDS_TRANSACTION = re.compile(
    r"\bFOR\s+(UPDATE|NO\s+KEY\s+UPDATE|SHARE|KEY\s+SHARE)\b"
    r"|pg_advisory|set_config|nextval|setval",
    re.IGNORECASE,
)


def plain_read(operation: str) -> bool:
    """A SELECT that needs no transaction of its own (see _NEEDS_TRANSACTION)."""
    return operation.lstrip()[:6].upper() == "SELECT" and not _NEEDS_TRANSACTION.search(operation)


class ReadWithoutBeginCursor(AsyncAdapt_asyncpg_cursor):
    __slots__ = ()

    async def _prepare_and_execute(self, operation: str, parameters: Any) -> None:
        connection = self._adapt_connection
        if connection._transaction is not None or not plain_read(operation):
            await super()._prepare_and_execute(operation, parameters)  # type: ignore[no-untyped-call]
            return
        isolation = connection.isolation_level
        connection.isolation_level = "autocommit"  # the adapter then starts no transaction
        try:
            await super()._prepare_and_execute(operation, parameters)  # type: ignore[no-untyped-call]
        finally:
            connection.isolation_level = isolation


class ReadWithoutBeginConnection(AsyncAdapt_asyncpg_connection):
    __slots__ = ()
    _cursor_cls = ReadWithoutBeginCursor


def read_without_begin(dbapi_connection: Any, _record: Any) -> None:
    """The pool's "connect" hook: new asyncpg connections read without BEGIN."""
    if type(dbapi_connection) is AsyncAdapt_asyncpg_connection:
        dbapi_connection.__class__ = ReadWithoutBeginConnection
