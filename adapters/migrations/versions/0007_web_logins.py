"""The web workbench: login links (hashed, single-use), sessions, the login-page rate
limit, and an index for 我的待办 (open items by overdue instant).

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

from adapters.schema import UTCDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "web_logins",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("person", sa.String(128), nullable=False),
        sa.Column("purpose", sa.String(16), nullable=False),
        sa.Column("next_path", sa.String(255)),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("expires_at", UTCDateTime, nullable=False),
        sa.Column("used_at", UTCDateTime),
    )
    op.create_table(
        "web_sessions",
        sa.Column("id_hash", sa.String(64), primary_key=True),
        sa.Column("person", sa.String(128), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("expires_at", UTCDateTime, nullable=False),
        sa.Column("ended_at", UTCDateTime),
    )
    op.create_table(
        "web_asks",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("person", sa.String(128)),
        sa.Column("client", sa.String(64), nullable=False),
    )
    op.create_index("ix_web_asks_at", "web_asks", ["at"])
    op.create_index("ix_items_state_overdue_at", "items", ["state", "overdue_at"])


def downgrade() -> None:
    op.drop_index("ix_items_state_overdue_at", "items")
    op.drop_index("ix_web_asks_at", "web_asks")
    op.drop_table("web_asks")
    op.drop_table("web_sessions")
    op.drop_table("web_logins")
