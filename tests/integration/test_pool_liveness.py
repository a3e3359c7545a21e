"""PostgreSQL without a ping per checkout: a busy pool sends only the statements, and a
connection that died while idle is replaced before use, not handed to a handler."""

from __future__ import annotations

import pytest
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from db import engine as engine_module
from db.engine import create_engine


async def test_a_healthy_pool_is_not_pinged_and_a_dead_idle_connection_is_replaced(
    database_url: str, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if backend != "postgresql":
        pytest.skip("the liveness policy is PostgreSQL's")
    engine = create_engine(database_url, pool_size=1)
    statements: list[str] = []
    event.listen(engine.sync_engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    try:
        async with engine.connect() as connection:
            first_pid = (await connection.execute(text("SELECT pg_backend_pid()"))).scalar()
        for _ in range(3):  # back-to-back checkouts: no ping, the same connection
            async with engine.connect() as connection:
                pid = (await connection.execute(text("SELECT pg_backend_pid()"))).scalar()
            assert pid == first_pid
        assert statements == ["SELECT pg_backend_pid()"] * 4

        killer = create_async_engine(database_url, poolclass=NullPool)
        async with killer.connect() as other:  # the server restarts, say
            await other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first_pid})
        await killer.dispose()
        monkeypatch.setattr(engine_module, "PING_IF_IDLE_FOR", 0.0)  # everything is "idle"
        async with engine.connect() as connection:
            pid = (await connection.execute(text("SELECT pg_backend_pid()"))).scalar()
        assert pid != first_pid  # pinged, found dead, replaced: the statement did not fail
    finally:
        await engine.dispose()
