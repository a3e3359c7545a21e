"""the completion forecasts kept per item, computed when an item's history changes

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 06:00:00.000000

The digest's "likely late" section read every report of the year and simulated thousands of
items on each run; the alert scan now stores each item's screened forecast when its history
changes, and the digest reads them.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "forecast_cache",
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("inputs", sa.String(length=64), nullable=False),
        sa.Column("calendar", sa.String(length=64), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=False),
        sa.Column("screened_in", sa.Boolean(), nullable=False),
        sa.Column("forecast", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("item_id"),
    )


def downgrade() -> None:
    op.drop_table("forecast_cache")
