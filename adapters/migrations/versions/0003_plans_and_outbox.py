"""Plans on the item row, stored policy versions, the outbox and daemon heartbeats.

Items gain their plan basis (rule, policy version, deadline) and clock facts
(assignment, entry into the current state, paused time) so that a plan needs only the
row, and the scheduler's cursor (planned_until, next_action_at, indexed). Existing items
get their assignment and state-entry times from their ledgers; they are bound to a
policy on their next transition or by `rectify policy apply`.

Revision ID: 0003
Revises: 0002
"""

from typing import Any

import sqlalchemy as sa
from alembic import op

from adapters.schema import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

ITEM_COLUMNS: list[tuple[str, Any, dict[str, Any]]] = [
    ("assigned_at", UTCDateTime, {}),
    ("entered_at", UTCDateTime, {}),
    ("paused_seconds", sa.Integer, {"nullable": False, "server_default": "0"}),
    ("rule", sa.String(128), {}),
    ("policy_version", sa.String(32), {}),
    ("started_at", UTCDateTime, {}),
    ("due", sa.Date, {}),
    ("overdue_at", UTCDateTime, {}),
    ("provisional", sa.Boolean, {"nullable": False, "server_default": sa.false()}),
    ("plan_note", sa.String(128), {}),
    ("planned_until", UTCDateTime, {}),
    ("next_action_at", UTCDateTime, {}),
]


def upgrade() -> None:
    with op.batch_alter_table("items") as batch:
        for name, type_, options in ITEM_COLUMNS:
            batch.add_column(sa.Column(name, type_, **options))
    op.create_index("ix_items_next_action_at", "items", ["next_action_at"])
    op.execute(
        "UPDATE items SET assigned_at = (SELECT MIN(l.at) FROM ledger l WHERE l.item_id = items.id "
        "AND (l.event = 'assign' OR l.to_state = 'assigned'))"
    )
    op.execute(
        "UPDATE items SET entered_at = (SELECT MAX(l.at) FROM ledger l WHERE l.item_id = items.id "
        "AND l.to_state = items.state)"
    )
    op.create_table(
        "policies",
        sa.Column("version", sa.String(32), primary_key=True),
        sa.Column("loaded_at", UTCDateTime, nullable=False),
        sa.Column("sources", sa.JSON, nullable=False),
    )
    op.create_table(
        "notifications",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("item_id", Id, sa.ForeignKey("items.id"), nullable=False),
        sa.Column("policy_version", sa.String(32), nullable=False),
        sa.Column("step_key", sa.String(32), nullable=False),
        sa.Column("step_at", UTCDateTime, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("label", sa.String(64), nullable=False),
        sa.Column("recipients", sa.JSON, nullable=False),
        sa.Column("late", sa.Boolean, nullable=False),
        sa.Column("queued_at", UTCDateTime, nullable=False),
        sa.Column("composed", sa.Boolean, nullable=False),
        sa.UniqueConstraint("item_id", "policy_version", "step_key", "step_at",
                            name="uq_notifications_step"),
    )
    op.create_index("ix_notifications_composed", "notifications", ["composed"])
    op.create_table(
        "messages",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("recipient_name", sa.String(128), nullable=False),
        sa.Column("recipient_email", sa.String(320), nullable=False),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("body_text", sa.Text, nullable=False),
        sa.Column("body_html", sa.Text),
        sa.Column("notifications", sa.JSON, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", UTCDateTime, nullable=False),
        sa.Column("last_error", sa.Text),
        sa.Column("sent_at", UTCDateTime),
    )
    op.create_index("ix_messages_status_next", "messages", ["status", "next_attempt_at"])
    op.create_table(
        "daemons",
        sa.Column("name", sa.String(128), primary_key=True),
        sa.Column("started_at", UTCDateTime, nullable=False),
        sa.Column("last_tick_at", UTCDateTime),
        sa.Column("last_tick_as_of", UTCDateTime),
        sa.Column("last_tick_seconds", sa.Float),
        sa.Column("policy_version", sa.String(32)),
        sa.Column("last_error", sa.Text),
    )


def downgrade() -> None:
    for table in ("daemons", "messages", "notifications", "policies"):
        op.drop_table(table)
    op.drop_index("ix_items_next_action_at", "items")
    with op.batch_alter_table("items") as batch:
        for name, _type, _options in reversed(ITEM_COLUMNS):
            batch.drop_column(name)
