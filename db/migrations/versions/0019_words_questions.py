"""a person's questions to the secretariat and their replies; items' short titles

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06 07:20:00.000000

`member_question` keeps what a person typed (or said in a voice message) outside a dialog
(issue 22, #14), whether or not they sent it on to the secretariat; `question_reply` keeps
each Telegram reply the secretariat gave to it. `roadmap_item.short_title_kk/_ru` are what
item buttons show when the secretariat set them (#16); without them a title is shortened by a
rule.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("roadmap_item", sa.Column("short_title_kk", sa.String(length=80), nullable=True))
    op.add_column("roadmap_item", sa.Column("short_title_ru", sa.String(length=80), nullable=True))
    op.create_table(
        "member_question",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("voice_file_id", sa.String(length=200), nullable=True),
        sa.Column("message_id", sa.BigInteger(), nullable=True),
        sa.Column("asked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_member_question_person_id", "member_question", ["person_id"])
    op.create_table(
        "question_reply",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=False),
        sa.Column("replied_by_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("replied_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["question_id"], ["member_question.id"]),
        sa.ForeignKeyConstraint(["replied_by_id"], ["person.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_question_reply_question_id", "question_reply", ["question_id"])


def downgrade() -> None:
    op.drop_index("ix_question_reply_question_id", table_name="question_reply")
    op.drop_table("question_reply")
    op.drop_index("ix_member_question_person_id", table_name="member_question")
    op.drop_table("member_question")
    op.drop_column("roadmap_item", "short_title_ru")
    op.drop_column("roadmap_item", "short_title_kk")
