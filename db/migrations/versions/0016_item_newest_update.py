"""each item keeps its newest update's id, time and whether it is "done", kept by the database

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 06:00:00.000000

After a Save the dialog moves to the department's first waiting item. Found through the
newest update of every item on the way, that walk cost an index probe (or two) into
`status_update` per item already reported this round, so it grew with the department (and a
department's done items were walked for ever). With the newest update's time and "done" on
the item, kept by a trigger on every insert into `status_update` (whoever inserts it: a Save,
"no change", the bulk confirmations, the demo, a test), the walk reads one index only: its
key leaves done items out, and the items reported since the request are skipped inside the
index without reading a row. "Newest" is the order used everywhere: created_at, then id.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

_NEWER = (
    "(roadmap_item.last_update_at IS NULL OR roadmap_item.last_update_at < NEW.created_at "
    "OR (roadmap_item.last_update_at = NEW.created_at AND roadmap_item.last_update_id < NEW.id))"
)
_SET = (
    "last_update_id = NEW.id, last_update_at = NEW.created_at, "
    "last_update_done = (NEW.status = 'done')"
)


def upgrade() -> None:
    # Plain ALTER TABLE ... ADD COLUMN: a batch copy of roadmap_item (SQLite) would drop the
    # table under the foreign keys that point at it.
    op.add_column("roadmap_item", sa.Column("last_update_id", sa.Integer(), nullable=True))
    op.add_column(
        "roadmap_item", sa.Column("last_update_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column(
        "roadmap_item",
        sa.Column("last_update_done", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    newest = (
        "(SELECT s.id FROM status_update s WHERE s.item_id = roadmap_item.id "
        "ORDER BY s.created_at DESC, s.id DESC LIMIT 1)"
    )
    op.execute(f"UPDATE roadmap_item SET last_update_id = {newest}")
    op.execute(
        "UPDATE roadmap_item SET "
        "last_update_at = (SELECT s.created_at FROM status_update s "
        "WHERE s.id = roadmap_item.last_update_id), "
        "last_update_done = COALESCE((SELECT s.status = 'done' FROM status_update s "
        "WHERE s.id = roadmap_item.last_update_id), false) "
        "WHERE last_update_id IS NOT NULL"
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION roadmap_item_newest_update() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN UPDATE roadmap_item SET {_SET} WHERE roadmap_item.id = NEW.item_id "
            f"AND {_NEWER}; RETURN NULL; END $$"
        )
        op.execute(
            "CREATE TRIGGER status_update_newest AFTER INSERT ON status_update "
            "FOR EACH ROW EXECUTE FUNCTION roadmap_item_newest_update()"
        )
    else:
        op.execute(
            "CREATE TRIGGER status_update_newest AFTER INSERT ON status_update BEGIN "
            f"UPDATE roadmap_item SET {_SET} WHERE roadmap_item.id = NEW.item_id AND {_NEWER}; "
            "END"
        )
    op.drop_index("ix_roadmap_item_department_deadline", table_name="roadmap_item")
    op.create_index(
        "ix_roadmap_item_department_waiting",
        "roadmap_item",
        ["department_id", "archived", "last_update_done", "deadline", "code", "last_update_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_roadmap_item_department_waiting", table_name="roadmap_item")
    op.create_index(
        "ix_roadmap_item_department_deadline",
        "roadmap_item",
        ["department_id", "archived", "deadline", "code"],
    )
    op.execute(
        "DROP TRIGGER status_update_newest"
        + (" ON status_update" if op.get_bind().dialect.name == "postgresql" else "")
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION roadmap_item_newest_update()")
    # Plain ALTER TABLE ... DROP COLUMN (SQLite 3.35+): a batch copy of roadmap_item would
    # drop the table under the foreign keys that point at it.
    for column in ("last_update_done", "last_update_id", "last_update_at"):
        op.drop_column("roadmap_item", column)
