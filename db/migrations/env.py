"""Alembic environment. The bot passes an open connection in `config.attributes["connection"]`."""

from __future__ import annotations

from alembic import context

from db.models import SQLModel

target_metadata = SQLModel.metadata


def run_migrations(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `python -m bot migrate` (db.migrate.upgrade)")
run_migrations(connection)
