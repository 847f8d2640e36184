"""Message parts (inline images, attachments) and the record of stage reports sent.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

from adapters.schema import UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "message_parts",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("message_id", Id, sa.ForeignKey("messages.id"), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("content_type", sa.String(128), nullable=False),
        sa.Column("cid", sa.String(128)),
        sa.Column("data", sa.LargeBinary, nullable=False),
    )
    op.create_index("ix_message_parts_message_id", "message_parts", ["message_id"])
    op.create_table(
        "stage_reports",
        sa.Column("name", sa.String(128), primary_key=True),
        sa.Column("period", sa.String(16), primary_key=True),
        sa.Column("produced_at", UTCDateTime, nullable=False),
        sa.Column("recipients", sa.JSON, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("stage_reports")
    op.drop_index("ix_message_parts_message_id", "message_parts")
    op.drop_table("message_parts")
