"""a saved update can be corrected: the comment's message, the correction's original

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 05:30:00.000000

A head who edits (Telegram's *Edit*) a comment that was already saved is offered a
correction. It is a history entry of its own (`corrects_id`: the update it corrects, with
its own author and time); the original stays, marked `corrected`. `message_id` is the chat
message the comment came from, so an edit can find the update it belongs to.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("status_update") as batch:
        batch.add_column(sa.Column("message_id", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("corrects_id", sa.Integer(), nullable=True))
        batch.add_column(
            sa.Column("corrected", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.create_foreign_key(
            "fk_status_update_corrects_id", "status_update", ["corrects_id"], ["id"]
        )
    op.create_index("ix_status_update_author_message", "status_update", ["author_id", "message_id"])


def downgrade() -> None:
    op.drop_index("ix_status_update_author_message", table_name="status_update")
    with op.batch_alter_table("status_update") as batch:
        batch.drop_constraint("fk_status_update_corrects_id", type_="foreignkey")
        batch.drop_column("corrected")
        batch.drop_column("corrects_id")
        batch.drop_column("message_id")
