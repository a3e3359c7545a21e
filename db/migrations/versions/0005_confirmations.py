"""status updates that confirm the previous one ("no change"), the evidence's file name,
time away with a deputy, and round requests excused because everybody was away

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 22:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("status_update", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("confirmation", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(sa.Column("evidence_name", sa.String(length=256), nullable=True))
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.add_column(sa.Column("away_until", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("deputy_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key("fk_person_deputy_id_person", "person", ["deputy_id"], ["id"])
    with op.batch_alter_table("round_request", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("excused", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("round_request", schema=None) as batch_op:
        batch_op.drop_column("excused")
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.drop_constraint("fk_person_deputy_id_person", type_="foreignkey")
        batch_op.drop_column("deputy_id")
        batch_op.drop_column("away_until")
    with op.batch_alter_table("status_update", schema=None) as batch_op:
        batch_op.drop_column("evidence_name")
        batch_op.drop_column("confirmation")
