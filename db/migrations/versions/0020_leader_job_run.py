"""the scheduled runs, one row per job and planned fire time (the leader's fence)

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06 07:10:00.000000

Several replicas elect one leader to run the scheduler, but during a split brain (a stalled
leader waking up after another took over) two may fire the same job. Each scheduled run first
inserts its (job, scheduled_for) here; the unique key lets exactly one of them go on.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "job_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job", sa.String(length=32), nullable=False),
        sa.Column("scheduled_for", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("runner", sa.String(length=80), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("job", "scheduled_for", name="uq_job_run_job_scheduled_for"),
    )


def downgrade() -> None:
    op.drop_table("job_run")
