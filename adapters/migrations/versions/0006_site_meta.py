"""Facts about the database itself, kept as key/value rows.

`ledger_basis_from`: the first item id whose ledger records every change of its plan
basis (policy version, rule, due day, overdue instant). Items stored before this
revision recorded the basis only on some changes, so `rectify audit` replays the basis
from this id on and checks the older items' state and fields only.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    meta = op.create_table(
        "site_meta",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )
    top = op.get_bind().execute(sa.text("SELECT COALESCE(MAX(id), 0) FROM items")).scalar_one()
    op.bulk_insert(meta, [{"key": "ledger_basis_from", "value": str(int(top) + 1)}])


def downgrade() -> None:
    op.drop_table("site_meta")
