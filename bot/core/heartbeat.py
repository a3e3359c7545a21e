"""The last successful getUpdates, kept in a small file so a health check reads it cheaply.

A file, not a table row: the poll loop writes it every few seconds, and the container's
health check must not wait for the database to tell whether the bot is still polling.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path


def record_poll(path: Path, moment: datetime) -> None:
    """Replace the file atomically, so a reader never sees half a timestamp."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.tmp")
    partial.write_text(moment.isoformat(), encoding="utf-8")
    os.replace(partial, path)


def last_poll(path: Path) -> datetime | None:
    """The recorded moment, or None when the bot has never polled (or the file is unreadable)."""
    try:
        moment = datetime.fromisoformat(path.read_text(encoding="utf-8").strip())
    except (OSError, ValueError):
        return None
    return moment if moment.tzinfo is not None else None
