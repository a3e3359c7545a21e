"""roadmap items indexed in the worklist's order within their department (archived first)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 04:30:00.000000

After a Save the dialog moves to the department's first waiting item (deadline, then code).
With this index that is one walk that stops at the first match, instead of reading and
sorting every open item of the department (4,000+ in the largest); `archived` in the key
keeps the walk inside the index.
"""

from __future__ import annotations

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_roadmap_item_department_deadline",
        "roadmap_item",
        ["department_id", "archived", "deadline", "code"],
    )


def downgrade() -> None:
    op.drop_index("ix_roadmap_item_department_deadline", table_name="roadmap_item")
