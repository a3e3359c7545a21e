"""rounds, risk events and the outbox

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 16:19:15.226310
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "notification",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("not_before", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("telegram_message_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("idempotency_key"),
    )
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.create_index("ix_notification_due", ["state", "not_before"], unique=False)
        batch_op.create_index(batch_op.f("ix_notification_kind"), ["kind"], unique=False)
        batch_op.create_index(batch_op.f("ix_notification_person_id"), ["person_id"], unique=False)

    op.create_table(
        "status_round",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_by_id", sa.Integer(), nullable=True),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("trigger", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["department.id"],
        ),
        sa.ForeignKeyConstraint(
            ["started_by_id"],
            ["person.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("status_round", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_status_round_started_at"), ["started_at"], unique=False
        )

    op.create_table(
        "risk_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("status_update_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("previous_status", sa.String(length=16), nullable=True),
        sa.Column("previous_progress", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("handled_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["roadmap_item.id"],
        ),
        sa.ForeignKeyConstraint(
            ["status_update_id"],
            ["status_update.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("status_update_id"),
    )
    with op.batch_alter_table("risk_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_risk_event_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_risk_event_item_id"), ["item_id"], unique=False)

    op.create_table(
        "round_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("item_count", sa.Integer(), nullable=False),
        sa.Column("people_count", sa.Integer(), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["department.id"],
        ),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["status_round.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("round_id", "department_id"),
    )
    with op.batch_alter_table("round_request", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_round_request_department_id"), ["department_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_round_request_requested_at"), ["requested_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_round_request_round_id"), ["round_id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("round_request", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_round_request_round_id"))
        batch_op.drop_index(batch_op.f("ix_round_request_requested_at"))
        batch_op.drop_index(batch_op.f("ix_round_request_department_id"))

    op.drop_table("round_request")
    with op.batch_alter_table("risk_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_risk_event_item_id"))
        batch_op.drop_index(batch_op.f("ix_risk_event_created_at"))

    op.drop_table("risk_event")
    with op.batch_alter_table("status_round", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_status_round_started_at"))

    op.drop_table("status_round")
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notification_person_id"))
        batch_op.drop_index(batch_op.f("ix_notification_kind"))
        batch_op.drop_index("ix_notification_due")

    op.drop_table("notification")
