"""the name and position an invitation carries; why the secretariat moved a deadline

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 07:10:00.000000

`invite.full_name` and `invite.position` (`/invite edu Name Surname, position`) become the
person's own when the link is opened. `deadline_change.reason` is the secretariat's free-text
reason (`/deadline CODE DATE reason`, an import's reason column), shown on the card, in the
alerts and to the department's head.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("invite") as batch:
        batch.add_column(sa.Column("full_name", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("position", sa.String(length=200), nullable=True))
    with op.batch_alter_table("deadline_change") as batch:
        batch.add_column(sa.Column("reason", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("deadline_change") as batch:
        batch.drop_column("reason")
    with op.batch_alter_table("invite") as batch:
        batch.drop_column("position")
        batch.drop_column("full_name")
