"""What /readyz asks and what /metrics refreshes, built from the application's parts (the
endpoints themselves are bot/web/operations.py, which may not touch the database)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.metrics import LEADER, OUTBOX
from db.engine import SessionMaker
from db.migrate import current_revisions, expected_heads
from db.outbox import outbox_counts

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from bot.scheduling.leader import Leadership
    from bot.web.operations import Collector, Probe

OUTBOX_STATES = ("pending", "sent", "failed", "dropped")


def readiness_probes(engine: AsyncEngine, redis: Redis | None) -> dict[str, Probe]:
    """The database at this code's schema, and Redis when it is used (webhook mode)."""

    async def database() -> str | None:
        current = await current_revisions(engine)
        expected = expected_heads()
        if current != expected:
            return f"schema at {sorted(current)}, this version needs {sorted(expected)}"
        return None

    probes: dict[str, Probe] = {"database": database}
    if redis is not None:

        async def ping() -> str | None:
            return None if await redis.ping() else "no PONG"

        probes["redis"] = ping
    return probes


def outbox_collector(session_maker: SessionMaker) -> Collector:
    """Sets the outbox gauge, one value per state, from the notification table."""

    async def collect() -> None:
        async with session_maker() as session:
            counts = await outbox_counts(session)
        for state in OUTBOX_STATES:
            OUTBOX.set(counts.get(state, 0), state=state)

    return collect


def leader_collector(leadership: Leadership) -> Collector:
    """Sets the leader gauge: 1 while this replica holds the lock (runs the singletons)."""

    async def collect() -> None:
        LEADER.set(1 if leadership.leading else 0)

    return collect
