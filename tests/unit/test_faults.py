"""Faults told apart from bugs, bounded logging with backoff, and the token masked everywhere
(pure: no database, no Telegram)."""

from __future__ import annotations

import errno
import logging
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError

from bot.app.logs import RedactSecretFilter
from bot.core.clock import FrozenClock
from bot.core.faults import (
    DATABASE_LOCKED,
    DATABASE_UNREACHABLE,
    DISK_FULL,
    READ_ONLY,
    FaultLog,
    fault_kind,
    is_storage_fault,
)
from bot.core.secrets import mask_token, scrub
from bot.telegram.heartbeat import PollHeartbeat

TOKEN = "123456789:AAE-abcdefghijklmnopqrstuvwxyz012345"


def wrapped(message: str) -> OperationalError:
    return OperationalError("UPDATE notification SET ...", {}, sqlite3.OperationalError(message))


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (wrapped("database or disk is full"), DISK_FULL),
        (wrapped("attempt to write a readonly database"), READ_ONLY),
        (wrapped("database is locked"), DATABASE_LOCKED),
        (OSError(errno.ENOSPC, "No space left on device"), DISK_FULL),
        (OSError(errno.EROFS, "Read-only file system"), READ_ONLY),
        (
            ConnectionRefusedError(111, "Connect call failed ('127.0.0.1', 5432)"),
            DATABASE_UNREACHABLE,
        ),
        (RuntimeError("the cannot-save path of a bug"), "RuntimeError"),
    ],
)
def test_faults_are_told_apart_from_bugs(error: BaseException, kind: str) -> None:
    assert fault_kind(error) == kind
    assert is_storage_fault(error) == (kind != "RuntimeError")


def test_a_wrapped_fault_is_found_through_its_cause() -> None:
    try:
        try:
            raise OSError(errno.ENOSPC, "No space left on device")
        except OSError as inner:
            raise RuntimeError("could not write") from inner
    except RuntimeError as outer:
        assert fault_kind(outer) == DISK_FULL


class Ticks:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_fault_storm_is_a_few_lines_a_minute(caplog: pytest.LogCaptureFixture) -> None:
    """Thousands of failures of two kinds in a minute: one line each, then the summary; the
    retry delay doubles from 1 s to a minute."""
    ticks = Ticks()
    faults = FaultLog(logging.getLogger("test.faults"), "Outbox", clock=ticks)
    delays = []
    with caplog.at_level(logging.INFO, logger="test.faults"):
        for n in range(3000):
            ticks.now = n * 0.02
            error = wrapped("database is locked") if n % 2 else OSError(errno.EROFS, "ro")
            delays.append(faults.failed(error))
        faults.succeeded()
        faults.succeeded()  # nothing failing: no line
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 3 <= 10, lines
    assert "read-only storage" in lines[0] and "database locked" in lines[1]
    assert "recovered after 60 s" in lines[2]
    assert delays[:7] == [1, 2, 4, 8, 16, 32, 60] and max(delays) == 60
    assert faults.failed(wrapped("database is locked")) == 1  # the backoff starts over


def test_a_long_fault_reminds_every_ten_minutes(caplog: pytest.LogCaptureFixture) -> None:
    ticks = Ticks()
    faults = FaultLog(logging.getLogger("test.faults"), "Outbox", clock=ticks)
    with caplog.at_level(logging.INFO, logger="test.faults"):
        for second in range(3600):
            ticks.now = float(second)
            faults.failed(wrapped("database is locked"))
    assert len(caplog.records) == 1 + 5  # an hour: the first line, one every ten minutes


def test_an_unknown_error_gets_its_traceback_once(caplog: pytest.LogCaptureFixture) -> None:
    faults = FaultLog(logging.getLogger("test.faults"), "Outbox")
    with caplog.at_level(logging.INFO, logger="test.faults"):
        for _ in range(5):
            faults.failed(ValueError("a bug"))
    assert len(caplog.records) == 1 and caplog.records[0].exc_info is not None


def test_tokens_are_masked_in_any_text() -> None:
    assert mask_token(TOKEN) == "123456789:***"
    assert mask_token("not-a-token") == "***"
    page = (
        f"<pre>Cannot GET /bot{TOKEN}/getMe</pre> and 987654321:ZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ"
    )
    cleaned = scrub(page, TOKEN)
    assert TOKEN not in cleaned and "AAE-abc" not in cleaned and "ZZZZ" not in cleaned
    assert "/bot123456789:***/getMe" in cleaned and "987654321:***" in cleaned
    assert scrub("item 12:30, ratio 3:1") == "item 12:30, ratio 3:1"


def test_the_log_filter_masks_messages_and_tracebacks() -> None:
    secret_filter = RedactSecretFilter(TOKEN)
    try:
        raise ValueError(f"Cannot decode the answer of https://proxy/bot{TOKEN}/getMe")
    except ValueError as error:
        record = logging.LogRecord(
            "x",
            logging.ERROR,
            __file__,
            1,
            "failed: %s",
            (error,),
            exc_info=(type(error), error, error.__traceback__),
        )
    assert secret_filter.filter(record)
    text = logging.Formatter().format(record)
    assert TOKEN not in text and "123456789:***" in text
    assert "Traceback" in text  # kept: only the secret is masked


class FailingRequest:
    def __init__(self) -> None:
        self.calls = 0

    async def __call__(self, bot: Any, method: Any) -> str:
        self.calls += 1
        return "updates"


async def test_a_heartbeat_file_that_cannot_be_written_never_stops_polling(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A full disk (ENOSPC) under the heartbeat file: every getUpdates still gets its answer,
    and the fault is one line, with one more when the disk has room again."""
    from datetime import timedelta

    from aiogram.methods import GetUpdates

    import bot.telegram.heartbeat as heartbeat

    clock = FrozenClock(datetime(2025, 3, 3, 4, 0, tzinfo=UTC))
    disk_full = True
    real_record = heartbeat.record_poll

    def record(path: Path, moment: datetime) -> None:
        if disk_full:
            raise OSError(errno.ENOSPC, "No space left on device")
        real_record(path, moment)

    monkeypatch.setattr(heartbeat, "record_poll", record)
    middleware = PollHeartbeat(tmp_path / "last-poll", clock)
    request = FailingRequest()
    with caplog.at_level(logging.INFO, logger="bot.telegram.heartbeat"):
        for _ in range(100):  # many minutes of polling on a full disk
            assert await middleware(request, None, GetUpdates()) == "updates"  # type: ignore[arg-type]
            clock.advance(timedelta(seconds=10))
        disk_full = False
        assert await middleware(request, None, GetUpdates()) == "updates"  # type: ignore[arg-type]
    assert request.calls == 101
    assert (tmp_path / "last-poll").read_text() == clock.now().isoformat()
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 2 and "disk full" in messages[0] and "recovered" in messages[1]


async def test_a_failing_background_task_is_logged_once_and_started_again(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from bot.core.supervise import keep_trying

    attempts = 0
    waits: list[float] = []

    async def work() -> None:
        nonlocal attempts
        attempts += 1
        if attempts <= 5:
            raise OSError(errno.ENOSPC, "No space left on device")

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    with caplog.at_level(logging.INFO, logger="bot.core.supervise"):
        await keep_trying("Catch-up", work, sleep=sleep)
    assert attempts == 6 and waits == [1, 2, 4, 8, 16]
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 2 and "disk full" in messages[0] and "recovered" in messages[1]
