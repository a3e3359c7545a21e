"""outbox indexes for the claim: due order, and a chat's earlier pending messages

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 22:10:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_notification_due", table_name="notification")
    op.create_index("ix_notification_due", "notification", ["state", "not_before", "id"])
    op.create_index("ix_notification_chat_order", "notification", ["chat_id", "state", "id"])


def downgrade() -> None:
    op.drop_index("ix_notification_chat_order", table_name="notification")
    op.drop_index("ix_notification_due", table_name="notification")
    op.create_index("ix_notification_due", "notification", ["state", "not_before"])
