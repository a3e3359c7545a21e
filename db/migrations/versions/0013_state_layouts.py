"""the action plan's completion form, costs and funding on an item; department aliases

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 05:00:00.000000

State action plans carry «Форма завершения», «Предполагаемые расходы» and «Источники
финансирования» beside each item; the import keeps them. Aliases are what a Road Map calls a
department («УО»), kept by the secretariat with /alias so every import resolves them.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("roadmap_item") as batch:
        batch.add_column(sa.Column("completion_form", sa.Text(), nullable=False, server_default=""))
        batch.add_column(
            sa.Column("costs", sa.String(length=300), nullable=False, server_default="")
        )
        batch.add_column(
            sa.Column("funding", sa.String(length=300), nullable=False, server_default="")
        )
    op.create_table(
        "department_alias",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("alias", sa.String(length=64), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["department_id"], ["department.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_department_alias_alias"), "department_alias", ["alias"], unique=True)
    op.create_index(
        op.f("ix_department_alias_department_id"),
        "department_alias",
        ["department_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_department_alias_department_id"), table_name="department_alias")
    op.drop_index(op.f("ix_department_alias_alias"), table_name="department_alias")
    op.drop_table("department_alias")
    with op.batch_alter_table("roadmap_item") as batch:
        batch.drop_column("funding")
        batch.drop_column("costs")
        batch.drop_column("completion_form")
