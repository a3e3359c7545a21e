"""status updates that confirm the previous one ("no change"), and the evidence's file name

Revision ID: 0005_confirmations
Revises: 0004
Create Date: 2026-12-01 22:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_confirmations"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("status_update", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("confirmation", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(sa.Column("evidence_name", sa.String(length=256), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("status_update", schema=None) as batch_op:
        batch_op.drop_column("evidence_name")
        batch_op.drop_column("confirmation")
