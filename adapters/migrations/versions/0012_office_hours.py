"""Office hours: whether a queued notification, and a message, goes out outside them.

`notifications.urgent`: the rule marks the step urgent (`urgent: true` on the rule or on
a ladder step), so it is composed and sent at once, office hours or not.
`messages.urgent`: the message is sent outside office hours too (an urgent step, a login
link, an alert to the administrator). Rows stored before are not urgent: pending ones
wait for office hours like every new reminder.

Revision ID: 0012
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ("notifications", "messages"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("urgent", sa.Boolean, nullable=False, server_default=sa.false()))


def downgrade() -> None:
    for table in ("messages", "notifications"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("urgent")
