"""Items and their append-only, hash-chained ledger.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

from adapters.schema import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

# The ledger is append-only at the database level too: UPDATE and DELETE are refused.
SQLITE_GUARDS = [
    "CREATE TRIGGER ledger_no_update BEFORE UPDATE ON ledger "
    "BEGIN SELECT RAISE(ABORT, 'ledger is append-only'); END",
    "CREATE TRIGGER ledger_no_delete BEFORE DELETE ON ledger "
    "BEGIN SELECT RAISE(ABORT, 'ledger is append-only'); END",
]
PG_GUARDS = [
    "CREATE FUNCTION ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS "
    "$$ BEGIN RAISE EXCEPTION 'ledger is append-only'; END $$",
    "CREATE TRIGGER ledger_no_change BEFORE UPDATE OR DELETE ON ledger "
    "FOR EACH ROW EXECUTE FUNCTION ledger_append_only()",
]


def upgrade() -> None:
    op.create_table(
        "items",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("workflow", sa.String(64), nullable=False),
        sa.Column("state", sa.String(64), nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("category", sa.String(64), nullable=False),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("unit", sa.String(128)),
        sa.Column("responsible", sa.String(128)),
        sa.Column("location", sa.Text),
        sa.Column("reporter", sa.String(128)),
        sa.Column("deadline", sa.Text),
        sa.Column("found_at", UTCDateTime, nullable=False),
        sa.Column("fields", sa.JSON, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("ledger_seq", sa.Integer, nullable=False),
        sa.Column("ledger_head", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_items_state", "items", ["state"])
    op.create_index("ix_items_unit", "items", ["unit"])
    op.create_index("ix_items_category", "items", ["category"])
    op.create_table(
        "ledger",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("item_id", Id, sa.ForeignKey("items.id"), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("event", sa.String(64), nullable=False),
        sa.Column("from_state", sa.String(64)),
        sa.Column("to_state", sa.String(64), nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("note", sa.Text),
        sa.Column("changes", sa.JSON, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.UniqueConstraint("item_id", "seq", name="uq_ledger_item_seq"),
    )
    guards = SQLITE_GUARDS if op.get_bind().dialect.name == "sqlite" else PG_GUARDS
    for statement in guards:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS ledger_no_change ON ledger")
        op.execute("DROP FUNCTION IF EXISTS ledger_append_only()")
    op.drop_table("ledger")
    op.drop_table("items")
