"""Items remember where they came from (an obligation period, a spreadsheet row), once.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("items") as batch:
        batch.add_column(sa.Column("origin", sa.String(255)))
    op.create_index("uq_items_origin", "items", ["origin"], unique=True)


def downgrade() -> None:
    op.drop_index("uq_items_origin", "items")
    with op.batch_alter_table("items") as batch:
        batch.drop_column("origin")
