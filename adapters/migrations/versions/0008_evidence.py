"""Evidence: files attached to items and their events, and a table to keep the files in.

`attachments`: one row per file attached to an item, to one of its ledger rows (seq) or
to the item itself (seq NULL), with what was read from its bytes (media type, size,
pixels, EXIF time and position) and who uploaded it when. `evidence_blobs`: the files
by SHA-256, for sites whose machines share only the database (`evidence.store:
database`, the default on PostgreSQL); sites on one machine keep them in a directory.

Revision ID: 0008
Revises: 0009 (extension requests, merged before it)
"""

import sqlalchemy as sa
from alembic import op

from adapters.schema import UTCDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

# Both tables are append-only, like the ledger: a file once attached, or kept, stays.
_TABLES = ("attachments", "evidence_blobs")
SQLITE_GUARDS = [
    f"CREATE TRIGGER {table}_no_{what} BEFORE {what.upper()} ON {table} "
    f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
    for table in _TABLES for what in ("update", "delete")
]
PG_GUARDS = [
    "CREATE FUNCTION evidence_append_only() RETURNS trigger LANGUAGE plpgsql AS "
    "$$ BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$",
    *(f"CREATE TRIGGER {table}_no_change BEFORE UPDATE OR DELETE ON {table} "
      "FOR EACH ROW EXECUTE FUNCTION evidence_append_only()" for table in _TABLES),
]


def upgrade() -> None:
    op.create_table(
        "evidence_blobs",
        sa.Column("sha256", sa.String(64), primary_key=True),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
        sa.Column("stored_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "attachments",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("item_id", Id, sa.ForeignKey("items.id"), nullable=False),
        sa.Column("seq", sa.Integer),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("media_type", sa.String(64), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("width", sa.Integer),
        sa.Column("height", sa.Integer),
        sa.Column("taken_at", sa.String(40)),
        sa.Column("latitude", sa.Float),
        sa.Column("longitude", sa.Float),
        sa.Column("thumbnail", sa.String(64)),
        sa.Column("uploaded_by", sa.String(128), nullable=False),
        sa.Column("uploaded_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_attachments_item", "attachments", ["item_id", "id"])
    op.create_index("ix_attachments_sha256", "attachments", ["sha256"])
    for statement in SQLITE_GUARDS if op.get_bind().dialect.name == "sqlite" else PG_GUARDS:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in _TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_change ON {table}")
        op.execute("DROP FUNCTION IF EXISTS evidence_append_only()")
    op.drop_index("ix_attachments_sha256", "attachments")
    op.drop_index("ix_attachments_item", "attachments")
    op.drop_table("attachments")
    op.drop_table("evidence_blobs")
