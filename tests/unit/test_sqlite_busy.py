"""SQLite's "database is locked" on the first write of a transaction is tried again, a bounded
number of times, at the connection (db/sqlite_connection.py): every write path of the bot
gets it, not only the outbox's."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from db.sqlite_connection import BUSY_RETRIES, execute_when_free


def open_pair(tmp_path: Path) -> tuple[sqlite3.Connection, sqlite3.Connection]:
    path = tmp_path / "busy.db"
    holder = sqlite3.connect(path, timeout=0)
    holder.execute("PRAGMA journal_mode=WAL")
    holder.execute("CREATE TABLE lease (id INTEGER PRIMARY KEY, until TEXT)")
    holder.execute("INSERT INTO lease VALUES (1, 'then')")
    holder.commit()
    writer = sqlite3.connect(path, timeout=0)  # no busy wait: the refusal comes at once
    return holder, writer


def test_a_write_refused_for_a_lock_is_tried_again_once_the_lock_is_free(tmp_path: Path) -> None:
    holder, writer = open_pair(tmp_path)
    holder.execute("BEGIN IMMEDIATE")  # a long writer (an import) holds the lock
    holder.execute("UPDATE lease SET until = 'import'")
    pauses: list[float] = []

    def pause(seconds: float) -> None:
        pauses.append(seconds)
        if len(pauses) == 2:
            holder.commit()  # the import ends

    cursor = writer.cursor()
    execute_when_free(
        writer, cursor.execute, "UPDATE lease SET until = ? WHERE id = 1", ("now",), sleep=pause
    )
    writer.commit()
    assert pauses == [0.1, 0.2]
    assert holder.execute("SELECT until FROM lease").fetchone() == ("now",)


def test_the_wait_is_bounded(tmp_path: Path) -> None:
    holder, writer = open_pair(tmp_path)
    holder.execute("BEGIN IMMEDIATE")
    pauses: list[float] = []
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        execute_when_free(
            writer,
            writer.cursor().execute,
            "UPDATE lease SET until = 'x'",
            (),
            sleep=pauses.append,
        )
    assert len(pauses) == BUSY_RETRIES
    holder.rollback()


def test_a_statement_inside_an_open_transaction_is_never_repeated_alone(tmp_path: Path) -> None:
    holder, reader = open_pair(tmp_path)
    reader.execute("BEGIN")  # a transaction that read first: its snapshot is older than
    reader.execute("SELECT until FROM lease").fetchall()
    holder.execute("UPDATE lease SET until = 'newer'")  # this writer's commit
    holder.commit()
    pauses: list[float] = []
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        execute_when_free(
            reader, reader.cursor().execute, "UPDATE lease SET until = 'y'", (), sleep=pauses.append
        )
    assert pauses == []  # only the whole transaction could be repeated (db/busy.py)
    reader.rollback()
