"""A stored row's id as a plain `int`.

SQLModel types a primary key `int | None`, because a new row has none until it is flushed; every
row read from the database or flushed to it has one. `row_id` says so once, checked, instead of
a `type: ignore` wherever an id is passed on.
"""

from __future__ import annotations

from typing import Protocol


class StoredRow(Protocol):
    @property
    def id(self) -> int | None: ...


def row_id(row: StoredRow) -> int:
    """The row's primary key; a row that was never flushed is a bug, named here."""
    if row.id is None:
        raise ValueError(f"this {type(row).__name__} has no id: it was never flushed")
    return row.id
