"""Checking send schedules the way Telegram would."""

from __future__ import annotations


def overdraws(moments: list[float], rate: float, burst: float) -> int:
    """Sends a token bucket (Telegram's view) would refuse: what a real server answers 429."""
    tokens, last, refused = burst, 0.0, 0
    for moment in sorted(moments):
        tokens = min(burst, tokens + (moment - last) * rate)
        last = moment
        if tokens < 1 - 1e-9:
            refused += 1
        else:
            tokens -= 1
    return refused
