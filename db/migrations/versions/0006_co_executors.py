"""co-executor departments of an item and the deadline as the Road Map words it

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 22:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "item_co_executor",
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["department_id"], ["department.id"]),
        sa.ForeignKeyConstraint(["item_id"], ["roadmap_item.id"]),
        sa.PrimaryKeyConstraint("item_id", "department_id"),
    )
    op.create_index(
        op.f("ix_item_co_executor_department_id"),
        "item_co_executor",
        ["department_id"],
        unique=False,
    )
    with op.batch_alter_table("roadmap_item") as batch:
        batch.add_column(
            sa.Column("deadline_text", sa.String(length=200), nullable=False, server_default="")
        )


def downgrade() -> None:
    with op.batch_alter_table("roadmap_item") as batch:
        batch.drop_column("deadline_text")
    op.drop_index(op.f("ix_item_co_executor_department_id"), table_name="item_co_executor")
    op.drop_table("item_co_executor")
