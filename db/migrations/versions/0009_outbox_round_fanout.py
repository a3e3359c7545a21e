"""a round's requests are queued after the round is recorded: when they were

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 01:20:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("status_round") as batch:
        batch.add_column(sa.Column("queued_at", sa.DateTime(timezone=True), nullable=True))
    # Every earlier round was recorded and queued in one transaction.
    op.execute("UPDATE status_round SET queued_at = started_at")


def downgrade() -> None:
    with op.batch_alter_table("status_round") as batch:
        batch.drop_column("queued_at")
