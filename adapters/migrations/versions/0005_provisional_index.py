"""An index on the items whose deadline is provisional (counted into a year whose holiday
arrangement was not known), so that the daemon finds them when the calendar learns the
year without reading every item. Partial: such items are few among many.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_items_provisional", "items", ["provisional"],
                    postgresql_where=sa.text("provisional"), sqlite_where=sa.text("provisional = 1"))


def downgrade() -> None:
    op.drop_index("ix_items_provisional", "items")
