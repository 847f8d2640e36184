"""Extension requests (延期申请): one row per request, answered in place, at most one
pending per item.

Revision ID: 0009
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

from adapters.schema import Id, UTCDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "extensions",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("item_id", Id, sa.ForeignKey("items.id"), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("requested_by", sa.String(128), nullable=False),
        sa.Column("requested_at", UTCDateTime, nullable=False),
        sa.Column("deadline", sa.Text, nullable=False),
        sa.Column("new_due", sa.Date, nullable=False),
        sa.Column("old_due", sa.Date),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("answered_by", sa.String(128)),
        sa.Column("answered_at", UTCDateTime),
        sa.Column("answer_note", sa.Text),
    )
    op.create_index("ix_extensions_item", "extensions", ["item_id"])
    op.create_index("ix_extensions_status", "extensions", ["status"])
    op.create_index("uq_extensions_pending", "extensions", ["item_id"], unique=True,
                    postgresql_where=sa.text("status = 'pending'"), sqlite_where=sa.text("status = 'pending'"))


def downgrade() -> None:
    op.drop_table("extensions")
