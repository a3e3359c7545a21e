"""The sandbox's clock: it runs with the wall clock from where it was set, never backwards."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.sandbox.clock import SandboxClock


def test_it_starts_where_it_is_set_and_runs_on() -> None:
    ahead = datetime.now(UTC) + timedelta(days=10)
    clock = SandboxClock(ahead)
    assert timedelta(0) <= clock.now() - ahead < timedelta(seconds=5)


def test_time_never_runs_backwards() -> None:
    clock = SandboxClock()
    later = datetime.now(UTC) + timedelta(days=3)
    clock.set(later)
    clock.set(later - timedelta(days=2))
    assert clock.now() >= later


def test_a_naive_moment_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        SandboxClock().set(datetime(2026, 1, 1))
