"""Which statements PostgreSQL may run without a transaction of their own."""

from __future__ import annotations

import pytest

from db.pg_connection import plain_read


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT person.id FROM person WHERE person.telegram_id = $1",
        "  select 1",
        "SELECT fsm_record.state FROM fsm_record WHERE key = $1 -- FORMAT",
    ],
)
def test_plain_reads(sql: str) -> None:
    assert plain_read(sql)


@pytest.mark.parametrize(
    "sql",
    [
        "INSERT INTO status_update (item_id) VALUES ($1)",
        "UPDATE fsm_record SET state = $1",
        "SET LOCAL jit = off",
        "SELECT id FROM notification WHERE due <= $1 FOR UPDATE SKIP LOCKED",
        "SELECT id FROM notification FOR NO KEY UPDATE",
        "SELECT id FROM item FOR share",
        "SELECT set_config('enable_sort', 'off', true), set_config('jit', 'off', true)",
        "SELECT pg_advisory_xact_lock(42)",
        "SELECT nextval('item_id_seq')",
        "WITH moved AS (DELETE FROM x RETURNING id) SELECT id FROM moved",
    ],
)
def test_statements_that_open_a_transaction(sql: str) -> None:
    assert not plain_read(sql)
