"""a person's video note outside a dialog is kept as a question, like a voice message

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-06 08:20:00.000000

`member_question.media_kind` says which spoken message `voice_file_id` holds: "video_note"
for a round video message (issue 22, #14), NULL for a voice message (every existing row).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("member_question", sa.Column("media_kind", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("member_question") as batch:
        batch.drop_column("media_kind")
