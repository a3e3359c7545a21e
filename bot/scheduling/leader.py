"""One leader among the bot's replicas for the work that must run once: the scheduler, the
start-up catch-up and the outbox drain (one sender keeps the rate limiter exact).

On PostgreSQL every replica holds a connection of its own (never one from the pool) and
tries `pg_try_advisory_lock` on a fixed key; the lock belongs to that session, so whoever
holds it leads until the session ends. The holder pings every `interval` seconds and steps
down at once when a ping fails or the connection closes; the server ends a session idle for
`3 × interval` (`idle_session_timeout`), so a leader that stalls (SIGSTOP, a frozen machine)
loses the lock within one lease and a follower, trying every `interval`, takes over. The
holder trusts itself only `2 × interval` after its last confirmed ping, measured from before
the ping was sent, so it stops believing before the server can let anyone else in.

A session-level advisory lock needs a real session: PgBouncer in transaction mode hands each
transaction to any server connection and would break it (the README says so).

The same connection LISTENs on one channel, so any replica can tell the leader something
(`/schedule` moved the round, new messages wait in the outbox): `announce`.

On SQLite (one process by construction) `SoleLeader` always leads.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from bot.core.faults import FaultLog

logger = logging.getLogger(__name__)

# A fixed 64-bit key for pg_try_advisory_lock: "RoadMapL" in ASCII, one per database.
LEADER_LOCK_KEY = 0x526F61644D61704C
CHANNEL = "roadmap_bot"
CHECK_INTERVAL = 3.0  # seconds between pings (leader) and lock attempts (followers)

Connect = Callable[..., Awaitable[Any]]
Monotonic = Callable[[], float]
Sleep = Callable[[float], Awaitable[object]]


class Duties(Protocol):
    """What the leader runs: started when elected, stopped at once when deposed."""

    async def start(self) -> None: ...

    def stop(self) -> None: ...

    async def notice(self, message: str) -> None:
        """Another replica announced something (see `Leadership.announce`)."""
        ...


class Leadership(Protocol):
    """What /metrics reads: `leading` (this replica leads now) and `elections` (how many
    times it became the leader since it started)."""

    @property
    def leading(self) -> bool: ...

    @property
    def elections(self) -> int: ...

    async def confirm(self) -> bool: ...

    async def run(self, duties: Duties) -> None: ...

    async def announce(self, message: str) -> None:
        """Tell the leader (wherever it runs, this process included)."""
        ...


class SoleLeader:
    """SQLite: one process, always the leader; announcements go straight to its duties."""

    leading = True

    def __init__(self) -> None:
        self._duties: Duties | None = None
        self.elections = 0

    async def confirm(self) -> bool:
        return True

    async def run(self, duties: Duties) -> None:
        """Start the duties and lead until cancelled."""
        self._duties = duties
        self.elections += 1
        await duties.start()
        await asyncio.Event().wait()

    async def announce(self, message: str) -> None:
        if self._duties is not None:
            await self._duties.notice(message)


class PostgresLeader:
    """Leadership by a session-level advisory lock on a dedicated asyncpg connection."""

    def __init__(
        self,
        dsn: str,
        *,
        key: int = LEADER_LOCK_KEY,
        channel: str = CHANNEL,
        interval: float = CHECK_INTERVAL,
        connect: Connect | None = None,
        monotonic: Monotonic = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.dsn = dsn
        self.key = key
        self.channel = channel
        self.interval = interval
        self._connect = connect
        self._monotonic = monotonic
        self._sleep = sleep
        self._connection: Any = None
        self._use = asyncio.Lock()  # one statement at a time on the connection
        self._holding = False  # the lock is ours (as far as the last check knew)
        self._elected = False  # the duties were started
        self._confirmed_at = float("-inf")
        self._duties: Duties | None = None
        self._notices: set[asyncio.Task[None]] = set()
        self.faults = FaultLog(logger, "Leader election")
        self.elections = 0  # how many times this process became the leader

    @property
    def lease(self) -> float:
        """How long the server keeps an idle session (and with it the lock)."""
        return 3 * self.interval

    @property
    def leading(self) -> bool:
        """Holding the lock, confirmed recently enough that nobody else can hold it yet."""
        return self._holding and self._monotonic() - self._confirmed_at < 2 * self.interval

    async def confirm(self) -> bool:
        """Leading, asked the server now if the last check is too old to trust (a loop held
        up on a busy machine): a job about to fire must not be skipped by a leader that is
        merely late, nor run by one that lost the lock."""
        if self.leading or not self._holding:
            return self.leading
        started = self._monotonic()
        try:
            async with self._use:
                await self._connection.fetchval("SELECT 1", timeout=self.interval)
        except Exception as error:
            self.faults.failed(error)
            self._depose("its database connection failed")
            await self._close()
            return False
        self._confirmed_at = started
        return self.leading

    async def run(self, duties: Duties) -> None:
        """Check forever; cancelling steps down and closes the connection."""
        self._duties = duties
        try:
            while True:
                await self.check()
                await self._sleep(self.interval)
        finally:
            await self.close()

    async def close(self) -> None:
        """Step down and end the session (the server releases the lock with it)."""
        self._depose("the bot is stopping")
        await self._close()

    async def check(self) -> None:
        """One turn: connect if needed; a follower tries the lock, the leader pings."""
        try:
            if self._connection is None or self._connection.is_closed():
                self._depose("its database connection closed")
                await self._open()
            started = self._monotonic()
            async with self._use:
                if self._holding:
                    await self._connection.fetchval("SELECT 1", timeout=self.interval)
                else:
                    won = await self._connection.fetchval(
                        "SELECT pg_try_advisory_lock($1)", self.key, timeout=self.interval
                    )
                    self._holding = bool(won)
                    if won:
                        self.elections += 1
            self._confirmed_at = started
        except Exception as error:  # the database went away, a timeout: a follower again
            self.faults.failed(error)
            self._depose("its database connection failed")
            await self._close()
            return
        self.faults.succeeded()
        if self._holding and self._duties is not None and not self._elected:
            self._elected = True
            logger.info("This replica is the leader: it runs the scheduler and the outbox")
            await self._duties.start()

    def _depose(self, why: str) -> None:
        """Stop the leader's work at once (synchronously: no job starts after this)."""
        self._holding = False
        if self._elected:
            self._elected = False
            logger.warning("This replica is no longer the leader: %s", why)
            if self._duties is not None:
                self._duties.stop()

    def _connector(self) -> Connect:
        if self._connect is not None:
            return self._connect
        import asyncpg  # PostgreSQL bots only

        connect: Connect = asyncpg.connect
        return connect

    async def _open(self) -> None:
        settings = {
            "application_name": f"roadmap-bot-leader:{os.getpid()}",
            "idle_session_timeout": str(int(self.lease * 1000)),
        }
        try:
            connection = await self._connector()(
                self.dsn, timeout=self.interval * 2, server_settings=settings
            )
        except Exception as error:
            if "idle_session_timeout" not in str(error):
                raise
            # PostgreSQL before 14: a dead leader still loses the lock with its connection,
            # but a frozen one keeps it until it wakes (the fence still stops a second run).
            logger.warning("PostgreSQL has no idle_session_timeout: a frozen leader stays one")
            del settings["idle_session_timeout"]
            connection = await self._connector()(
                self.dsn, timeout=self.interval * 2, server_settings=settings
            )
        self._connection = connection
        self._connection.add_termination_listener(self._terminated)
        await self._connection.add_listener(self.channel, self._heard)

    def _terminated(self, _connection: Any) -> None:
        if self._holding:
            self._depose("its database connection was closed by the server")

    def _heard(self, _connection: Any, _pid: int, _channel: str, payload: str) -> None:
        if self._elected and self._duties is not None:
            task = asyncio.get_running_loop().create_task(self._hear(self._duties, payload))
            self._notices.add(task)
            task.add_done_callback(self._notices.discard)

    async def _hear(self, duties: Duties, payload: str) -> None:
        try:
            await duties.notice(payload)
        except Exception:  # a background task has nobody to raise to
            logger.exception("The leader could not act on %r", payload)

    async def _close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(connection.close(), timeout=self.interval)
            if not connection.is_closed():
                connection.terminate()

    async def announce(self, message: str) -> None:
        """NOTIFY the channel; every replica hears it, the leader acts on it. Without a
        connection of its own yet, a short-lived one carries it."""
        async with self._use:
            connection = self._connection
            if connection is not None and not connection.is_closed():
                await connection.execute("SELECT pg_notify($1, $2)", self.channel, message)
                return
        once = await self._connector()(self.dsn, timeout=self.interval * 2)
        try:
            await once.execute("SELECT pg_notify($1, $2)", self.channel, message)
        finally:
            await once.close()


def asyncpg_dsn(database_url: str) -> str:
    """The SQLAlchemy URL (postgresql+asyncpg://…) as asyncpg's own connect takes it."""
    from sqlalchemy.engine import make_url

    return make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)


def leadership_for(database_url: str, *, interval: float = CHECK_INTERVAL) -> Leadership:
    """PostgreSQL elects a leader among the replicas; SQLite is one process, always leading."""
    if database_url.startswith("postgresql"):
        return PostgresLeader(asyncpg_dsn(database_url), interval=interval)
    return SoleLeader()
