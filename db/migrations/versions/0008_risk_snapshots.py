"""department short names and the weekly risk snapshots

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 22:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("department") as batch:
        batch.add_column(sa.Column("short_name_kk", sa.String(length=80), nullable=True))
        batch.add_column(sa.Column("short_name_ru", sa.String(length=80), nullable=True))
    op.create_table(
        "risk_snapshot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("on_track", sa.Integer(), nullable=False),
        sa.Column("at_risk", sa.Integer(), nullable=False),
        sa.Column("overdue", sa.Integer(), nullable=False),
        sa.Column("not_reported", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("year", "day", name="uq_risk_snapshot_year_day"),
    )


def downgrade() -> None:
    op.drop_table("risk_snapshot")
    with op.batch_alter_table("department") as batch:
        batch.drop_column("short_name_ru")
        batch.drop_column("short_name_kk")
