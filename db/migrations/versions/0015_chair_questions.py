"""who moved a deadline and how; the chair's questions to a department; names and positions

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 05:30:00.000000

`deadline_change.via` tells a move by /deadline from one by an import, so the card and the
alerts name the secretariat's decision instead of the last report. `item_question` keeps the
chair's [Ask for an update] (and its optional question) until the department answers.
`person.full_name` and `person.position` are what alerts say of who reported.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("person") as batch:
        batch.add_column(sa.Column("full_name", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("position", sa.String(length=200), nullable=True))
    with op.batch_alter_table("deadline_change") as batch:
        batch.add_column(
            sa.Column("via", sa.String(length=16), server_default="command", nullable=False)
        )
    with op.batch_alter_table("roadmap_item") as batch:
        batch.add_column(
            sa.Column("awaiting_answer", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    op.create_table(
        "item_question",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("asked_by_id", sa.Integer(), nullable=False),
        sa.Column("question", sa.Text(), nullable=True),
        sa.Column("asked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answer_id", sa.Integer(), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("overdue_told_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["item_id"], ["roadmap_item.id"]),
        sa.ForeignKeyConstraint(["asked_by_id"], ["person.id"]),
        sa.ForeignKeyConstraint(["answer_id"], ["status_update.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_item_question_open", "item_question", ["item_id", "answered_at"])


def downgrade() -> None:
    op.drop_index("ix_item_question_open", table_name="item_question")
    op.drop_table("item_question")
    with op.batch_alter_table("roadmap_item") as batch:
        batch.drop_column("awaiting_answer")
    with op.batch_alter_table("deadline_change") as batch:
        batch.drop_column("via")
    with op.batch_alter_table("person") as batch:
        batch.drop_column("position")
        batch.drop_column("full_name")
