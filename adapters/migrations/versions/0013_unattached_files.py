"""Evidence files that nothing names may be taken back: a file kept for an event that
then failed to be written (the item changed meanwhile, the transaction failed, the
item's file limit counted again in it) is removed again (engine.evidence.Keeper).

`evidence_blobs` stays append-only for every file an attachment names, as its file or
as its thumbnail: UPDATE is refused always, DELETE of such a file is refused by the
database itself. An index on `attachments.thumbnail` answers "does anything name this
file" without a scan.

Revision ID: 0013
Revises: 0012
"""

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

_NAMED = "EXISTS (SELECT 1 FROM attachments WHERE sha256 = OLD.sha256 OR thumbnail = OLD.sha256)"
_MESSAGE = "evidence_blobs is append-only for a file an attachment names"

SQLITE_UP = [
    "DROP TRIGGER evidence_blobs_no_delete",
    f"CREATE TRIGGER evidence_blobs_no_delete BEFORE DELETE ON evidence_blobs WHEN {_NAMED} "
    f"BEGIN SELECT RAISE(ABORT, '{_MESSAGE}'); END",
]
SQLITE_DOWN = [
    "DROP TRIGGER evidence_blobs_no_delete",
    "CREATE TRIGGER evidence_blobs_no_delete BEFORE DELETE ON evidence_blobs "
    "BEGIN SELECT RAISE(ABORT, 'evidence_blobs is append-only'); END",
]
PG_UP = [
    "DROP TRIGGER evidence_blobs_no_change ON evidence_blobs",
    "CREATE TRIGGER evidence_blobs_no_update BEFORE UPDATE ON evidence_blobs "
    "FOR EACH ROW EXECUTE FUNCTION evidence_append_only()",
    "CREATE FUNCTION evidence_blob_named() RETURNS trigger LANGUAGE plpgsql AS "
    f"$$ BEGIN IF {_NAMED} THEN RAISE EXCEPTION '{_MESSAGE}: %', OLD.sha256; END IF; RETURN OLD; END $$",
    "CREATE TRIGGER evidence_blobs_no_delete BEFORE DELETE ON evidence_blobs "
    "FOR EACH ROW EXECUTE FUNCTION evidence_blob_named()",
]
PG_DOWN = [
    "DROP TRIGGER evidence_blobs_no_delete ON evidence_blobs",
    "DROP FUNCTION evidence_blob_named()",
    "DROP TRIGGER evidence_blobs_no_update ON evidence_blobs",
    "CREATE TRIGGER evidence_blobs_no_change BEFORE UPDATE OR DELETE ON evidence_blobs "
    "FOR EACH ROW EXECUTE FUNCTION evidence_append_only()",
]


def upgrade() -> None:
    op.create_index("ix_attachments_thumbnail", "attachments", ["thumbnail"])
    for statement in SQLITE_UP if op.get_bind().dialect.name == "sqlite" else PG_UP:
        op.execute(statement)


def downgrade() -> None:
    for statement in SQLITE_DOWN if op.get_bind().dialect.name == "sqlite" else PG_DOWN:
        op.execute(statement)
    op.drop_index("ix_attachments_thumbnail", "attachments")
