"""Faults of the machine (a full or read-only disk, a database that is down or locked) told
apart from bugs, and logged so that an outage is a few lines, not a storm.

A background loop that meets a fault reports it to its `FaultLog`: the first failure of each
kind is one line, the same kind again is counted, not printed (a reminder at most every ten
minutes), and the first success after it is one summary line. The loop waits `next_delay`
between attempts: 1 s, doubling to a minute. Plain code: no framework, no database.
"""

from __future__ import annotations

import errno
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.core.secrets import scrub

DISK_FULL = "disk full"
READ_ONLY = "read-only storage"
DATABASE_LOCKED = "database locked"
DATABASE_UNREACHABLE = "database unreachable"
DATABASE_UNOPENABLE = "database file cannot be opened"
STORAGE_FAULTS = frozenset(
    {DISK_FULL, READ_ONLY, DATABASE_LOCKED, DATABASE_UNREACHABLE, DATABASE_UNOPENABLE}
)

# Substrings of the messages SQLite, PostgreSQL and the drivers give, by kind.
_MARKERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (DISK_FULL, ("database or disk is full", "no space left on device", "could not extend file")),
    (
        READ_ONLY,
        (
            "attempt to write a readonly database",
            "read-only file system",
            "read-only transaction",
            "readonly database",
        ),
    ),
    (DATABASE_LOCKED, ("database is locked", "database table is locked")),
    (DATABASE_UNOPENABLE, ("unable to open database file",)),
    (
        DATABASE_UNREACHABLE,
        (
            "connection refused",
            "connect call failed",
            "connection was closed",
            "connection is closed",
            "connection reset",
            "terminating connection",
            "the database system is",
            "server closed the connection",
            "cannot connect",
            "could not connect",
            "connection does not exist",
            "underlying connection is closed",
            "disk i/o error",
        ),
    ),
)
_ERRNO_KINDS = {
    errno.ENOSPC: DISK_FULL,
    errno.EDQUOT: DISK_FULL,
    errno.EROFS: READ_ONLY,
    errno.ECONNREFUSED: DATABASE_UNREACHABLE,
    errno.ECONNRESET: DATABASE_UNREACHABLE,
    errno.EHOSTUNREACH: DATABASE_UNREACHABLE,
}


def _chain(error: BaseException) -> list[BaseException]:
    """The error and what it wraps (SQLAlchemy's `orig`, causes, contexts), each once."""
    seen: list[BaseException] = []
    pending: list[BaseException | None] = [error]
    while pending:
        current = pending.pop()
        if current is None or any(current is known for known in seen) or len(seen) > 8:
            continue
        seen.append(current)
        orig = getattr(current, "orig", None)
        pending.extend(
            [
                orig if isinstance(orig, BaseException) else None,
                current.__cause__,
                current.__context__,
            ]
        )
    return seen


def fault_kind(error: BaseException) -> str:
    """The kind of an error: one of the storage faults above, or the exception's class name."""
    for link in _chain(error):
        number = getattr(link, "errno", None)
        if isinstance(number, int) and number in _ERRNO_KINDS:
            return _ERRNO_KINDS[number]
        text = str(link).lower()
        for kind, markers in _MARKERS:
            if any(marker in text for marker in markers):
                return kind
        if isinstance(link, ConnectionError | TimeoutError):
            return DATABASE_UNREACHABLE
    return type(error).__name__


def is_storage_fault(error: BaseException) -> bool:
    """The disk or the database failed, not the code: retrying later will work."""
    return fault_kind(error) in STORAGE_FAULTS


class CoordinationUnavailableError(Exception):
    """Redis (webhook mode's update claims and chat locks) did not answer: the update is
    refused with a 503 so Telegram sends it again, instead of being answered with an apology
    and dropped."""


def first_line(error: BaseException) -> str:
    """The error's first line without secrets, for a one-line log or a checklist."""
    text = str(error).strip()
    return scrub(text.splitlines()[0] if text else type(error).__name__)[:300]


@dataclass
class _Open:
    since: float
    count: int = 0
    reminded_at: float = 0.0


@dataclass
class FaultLog:
    """Bounded logging and backoff for one background activity (`what`, e.g. "Outbox")."""

    logger: logging.Logger
    what: str
    first_delay: float = 1.0
    max_delay: float = 60.0
    remind_every: float = 600.0
    clock: Callable[[], float] = time.monotonic
    _open: dict[str, _Open] = field(default_factory=dict)
    _delay: float = 0.0

    @property
    def failing(self) -> bool:
        return bool(self._open)

    def failed(self, error: BaseException) -> float:
        """Record a failure; the seconds to wait before the next attempt."""
        kind = fault_kind(error)
        now = self.clock()
        state = self._open.get(kind)
        if state is None:
            state = self._open[kind] = _Open(since=now, reminded_at=now)
            known = kind in STORAGE_FAULTS
            self.logger.warning(
                "%s: %s (%s); retrying with backoff, one line when it clears",
                self.what,
                kind,
                first_line(error),
                # A bug deserves its traceback once; a machine fault does not.
                exc_info=None if known else error,
            )
        elif now - state.reminded_at >= self.remind_every:
            self.logger.warning(
                "%s: still failing (%s), %d attempts in %.0f s",
                self.what,
                kind,
                state.count + 1,
                now - state.since,
            )
            state.reminded_at = now
        state.count += 1
        self._delay = self.first_delay if self._delay == 0 else self._delay * 2
        self._delay = min(self._delay, self.max_delay)
        return self._delay

    def succeeded(self) -> None:
        """Record a success: the summary line if something was failing, and the backoff reset."""
        self._delay = 0.0
        if not self._open:
            return
        now = self.clock()
        since = min(state.since for state in self._open.values())
        kinds = ", ".join(f"{kind} ×{state.count}" for kind, state in self._open.items())
        self.logger.warning("%s: recovered after %.0f s (%s)", self.what, now - since, kinds)
        self._open.clear()
