"""The dashboard's column and indexes: `overdue_from`, the instant an item falls overdue
with the time it spent paused added (overdue_at + paused_seconds), kept by the store on
every write, so that "overdue at an instant" is one comparison in SQL; and two indexes
covering the dashboard's counts: items found, by unit, kind and instant, and items
closed (an item in a final state entered it when it was closed), by state and instant.

Existing rows are filled from their overdue_at and paused_seconds, in batches.

Revision ID: 0010
Revises: 0006
"""

from datetime import UTC, timedelta

import sqlalchemy as sa
from alembic import op

from adapters.schema import UTCDateTime

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_BATCH = 10_000


def upgrade() -> None:
    with op.batch_alter_table("items") as batch:
        batch.add_column(sa.Column("overdue_from", UTCDateTime))
    items = sa.table("items", sa.column("id", sa.Integer), sa.column("overdue_at", UTCDateTime),
                     sa.column("paused_seconds", sa.Integer), sa.column("overdue_from", UTCDateTime))
    conn = op.get_bind()
    # Rows never paused: the same instant, copied by the database itself.
    conn.execute(sa.update(items).where(items.c.paused_seconds == 0).values(overdue_from=items.c.overdue_at))
    # Paused rows (few): the sum in Python, exact on every database.
    after = 0
    while True:
        rows = conn.execute(
            sa.select(items.c.id, items.c.overdue_at, items.c.paused_seconds)
            .where(items.c.paused_seconds != 0, items.c.overdue_at.is_not(None), items.c.id > after)
            .order_by(items.c.id).limit(_BATCH)).all()
        if not rows:
            break
        for row in rows:
            start = row.overdue_at.astimezone(UTC)
            conn.execute(sa.update(items).where(items.c.id == row.id)
                         .values(overdue_from=start + timedelta(seconds=row.paused_seconds)))
        after = rows[-1].id
    op.create_index("ix_items_found", "items", ["unit", "kind", "found_at"])
    op.create_index("ix_items_closed", "items", ["state", "entered_at", "workflow", "kind", "unit", "found_at"])


def downgrade() -> None:
    op.drop_index("ix_items_closed", "items")
    op.drop_index("ix_items_found", "items")
    with op.batch_alter_table("items") as batch:
        batch.drop_column("overdue_from")
