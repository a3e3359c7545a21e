"""status updates indexed down to the id, so an item's newest update is one index step

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 01:40:00.000000

The assessment reads each item's newest update ordered by (created_at, id). On PostgreSQL the
old (item_id, created_at) index left the id to an extra sort per item (half of the time at
50,000 items); SQLite's index already ended in the rowid, so nothing changes there.
"""

from __future__ import annotations

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_status_update_item_created", table_name="status_update")
    op.create_index(
        "ix_status_update_item_created", "status_update", ["item_id", "created_at", "id"]
    )


def downgrade() -> None:
    op.drop_index("ix_status_update_item_created", table_name="status_update")
    op.create_index("ix_status_update_item_created", "status_update", ["item_id", "created_at"])
