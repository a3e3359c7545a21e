"""every new status update marks its item for the chair's alert scan, kept by the database

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-06 13:00:00.000000

A report, a "no change", a correction, the bulk confirmations: whatever inserts into
`status_update` changed the item's risk inputs, and each of them added a `risk_dirty` mark for
the item in the same transaction, one more statement (on PostgreSQL one more round trip) in
every Save. The trigger adds that mark with the insert, in the same transaction, with the
update's own time, so no writer can forget it. Marks for other causes (a deadline, a round,
an import, a dismissal) are still written by their code.
"""

from __future__ import annotations

from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

_MARK = (
    "INSERT INTO risk_dirty (item_id, department_id, created_at) "
    "VALUES (NEW.item_id, NULL, NEW.created_at)"
)


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION status_update_marks_risk() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN {_MARK}; RETURN NULL; END $$"
        )
        op.execute(
            "CREATE TRIGGER status_update_marks_risk AFTER INSERT ON status_update "
            "FOR EACH ROW EXECUTE FUNCTION status_update_marks_risk()"
        )
    else:
        op.execute(
            "CREATE TRIGGER status_update_marks_risk AFTER INSERT ON status_update "
            f"BEGIN {_MARK}; END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER status_update_marks_risk ON status_update")
        op.execute("DROP FUNCTION status_update_marks_risk()")
    else:
        op.execute("DROP TRIGGER status_update_marks_risk")
