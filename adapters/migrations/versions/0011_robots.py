"""Group robots (企业微信、钉钉) as a second channel: messages carry their channel and,
for a robot's message, the robot's facts; each robot's recent sends and hold (the rate
budget every daemon shares); which robot was given which notification (once each).

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

from adapters.schema import UTCDateTime

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("channel", sa.String(16), nullable=False, server_default="mail"))
        batch.add_column(sa.Column("robot", sa.JSON))
    op.create_table(
        "robot_budget",
        sa.Column("robot", sa.String(32), primary_key=True),
        sa.Column("held_until", UTCDateTime),
    )
    op.create_table(
        "robot_sends",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("robot", sa.String(32), nullable=False),
        sa.Column("at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_robot_sends_robot_at", "robot_sends", ["robot", "at"])
    op.create_table(
        "robot_steps",
        sa.Column("robot", sa.String(32), primary_key=True),
        sa.Column("notification_id", Id, primary_key=True),
        sa.Column("message_id", Id, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("robot_steps")
    op.drop_index("ix_robot_sends_robot_at", "robot_sends")
    op.drop_table("robot_sends")
    op.drop_table("robot_budget")
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("robot")
        batch.drop_column("channel")
