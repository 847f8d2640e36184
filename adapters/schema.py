"""The database tables (SQLAlchemy Core). Alembic migrations build exactly these."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect

metadata = MetaData()

# SQLite wants INTEGER PRIMARY KEY for its rowid alias; PostgreSQL gets a BIGINT identity.
Id = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, on every database."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def bind_processor(self, dialect: Dialect) -> Any:
        # One function per column, as for results: an import binds ten of these per row.
        if dialect.name == "sqlite":
            # The text SQLite's DATETIME would store, made in one step.
            def to_text(value: datetime | None) -> str | None:
                if value is None:
                    return None
                if value.tzinfo is None:
                    raise ValueError("naive datetime given to the store")
                return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")

            return to_text
        inner = self._unwrapped_dialect_impl(dialect).bind_processor(dialect)

        def process(value: datetime | None) -> Any:
            value = self.process_bind_param(value, dialect)
            return inner(value) if inner is not None and value is not None else value

        return process

    def result_processor(self, dialect: Dialect, coltype: Any) -> Any:
        # One function per column instead of TypeDecorator's two-level chain: an item row
        # has nine of these, read on every transition.
        inner = self._unwrapped_dialect_impl(dialect).result_processor(dialect, coltype)

        def process(value: Any) -> datetime | None:
            if value is None:
                return None
            if inner is not None:
                value = inner(value)
            return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

        return process


items = Table(
    "items",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("kind", String(16), nullable=False),
    Column("workflow", String(64), nullable=False),
    Column("state", String(64), nullable=False),
    Column("title", Text, nullable=False),
    Column("category", String(64), nullable=False, default=""),
    Column("level", String(16), nullable=False, default="一般"),
    Column("unit", String(128)),
    Column("responsible", String(128)),
    Column("location", Text),
    Column("reporter", String(128)),
    Column("deadline", Text),
    Column("found_at", UTCDateTime, nullable=False),
    Column("fields", JSON, nullable=False, default=dict),
    Column("version", Integer, nullable=False, default=1),
    Column("ledger_seq", Integer, nullable=False, default=0),
    Column("ledger_head", String(64), nullable=False, default=""),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("origin", String(255)),
    Column("assigned_at", UTCDateTime),
    Column("entered_at", UTCDateTime),
    Column("paused_seconds", Integer, nullable=False, default=0),
    Column("rule", String(128)),
    Column("policy_version", String(32)),
    Column("started_at", UTCDateTime),
    Column("due", Date),
    Column("overdue_at", UTCDateTime),
    Column("provisional", Boolean, nullable=False, default=False),
    Column("plan_note", String(128)),
    Column("planned_until", UTCDateTime),
    Column("next_action_at", UTCDateTime),
    Column("overdue_from", UTCDateTime),  # migration 0010: overdue_at + paused_seconds
    Index("ix_items_state", "state"),
    Index("ix_items_next_action_at", "next_action_at"),
    Index("uq_items_origin", "origin", unique=True),
    Index("ix_items_unit", "unit"),
    Index("ix_items_category", "category"),
    # Partial: only the few items counted into a year with no holiday arrangement yet.
    Index("ix_items_provisional", "provisional", postgresql_where=text("provisional"),
          sqlite_where=text("provisional = 1")),
    # The dashboard (migration 0010), both covering its counts: items found, in unit
    # order (so GROUP BY unit reads no rows), and items closed (in a final state, since
    # entered_at) by instant.
    Index("ix_items_found", "unit", "kind", "found_at"),
    Index("ix_items_closed", "state", "entered_at", "workflow", "kind", "unit", "found_at"),
)

ledger = Table(
    "ledger",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("item_id", Id, ForeignKey("items.id"), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("event", String(64), nullable=False),
    Column("from_state", String(64)),
    Column("to_state", String(64), nullable=False),
    Column("actor", String(128), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("note", Text),
    Column("changes", JSON, nullable=False, default=dict),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    UniqueConstraint("item_id", "seq", name="uq_ledger_item_seq"),
)

# Facts about the database itself (migration 0006): e.g. from which item on the ledger
# records every change of the plan basis.
site_meta = Table(
    "site_meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

# Every policy version items were bound to, with its rule texts, so that an item keeps
# its plan after the files change and any process can rebuild that version.
policies = Table(
    "policies",
    metadata,
    Column("version", String(32), primary_key=True),
    Column("loaded_at", UTCDateTime, nullable=False),
    Column("sources", JSON, nullable=False),
)

# The outbox of decisions: one row per reminder or escalation step of an item, written in
# the same transaction as the item's new scheduling cursor. The unique key makes queuing
# the same step twice impossible, whichever process tries.
notifications = Table(
    "notifications",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("item_id", Id, ForeignKey("items.id"), nullable=False),
    Column("policy_version", String(32), nullable=False),
    Column("step_key", String(32), nullable=False),
    Column("step_at", UTCDateTime, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("action", String(16), nullable=False),
    Column("label", String(64), nullable=False),
    Column("recipients", JSON, nullable=False),
    Column("late", Boolean, nullable=False, default=False),
    Column("queued_at", UTCDateTime, nullable=False),
    Column("composed", Boolean, nullable=False, default=False),
    # The rule says: deliver at once, outside office hours too (migration 0012).
    Column("urgent", Boolean, nullable=False, default=False),
    UniqueConstraint("item_id", "policy_version", "step_key", "step_at", name="uq_notifications_step"),
    Index("ix_notifications_composed", "composed"),
)

# The emails: one per recipient per tick (a digest of that recipient's notifications),
# rendered once so that every retry sends the same bytes under the same Message-ID.
messages = Table(
    "messages",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("recipient_name", String(128), nullable=False),
    Column("recipient_email", String(320), nullable=False),
    Column("subject", Text, nullable=False),
    Column("body_text", Text, nullable=False),
    Column("body_html", Text),
    Column("notifications", JSON, nullable=False),
    Column("status", String(16), nullable=False),  # pending | sent | dead
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UTCDateTime, nullable=False),
    Column("last_error", Text),
    Column("sent_at", UTCDateTime),
    # Migration 0011: "mail", or "robot" (a group robot's message: `robot` holds the
    # robot's id, platform, message type, part and mentions; recipient_email "robot:ID").
    Column("channel", String(16), nullable=False, server_default="mail", default="mail"),
    Column("robot", JSON),
    # Sent outside office hours too (migration 0012); every other message waits for them.
    Column("urgent", Boolean, nullable=False, default=False),
    Index("ix_messages_status_next", "status", "next_attempt_at"),
)

# Group robots (migration 0011). Each robot's sends in the last minute or so, so that
# every daemon of the database keeps to the platforms' 20 a minute together; the budget
# row is what they lock while they count, and holds the robot after a rate-limit reply.
robot_budget = Table(
    "robot_budget",
    metadata,
    Column("robot", String(32), primary_key=True),
    Column("held_until", UTCDateTime),
)

robot_sends = Table(
    "robot_sends",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("robot", String(32), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Index("ix_robot_sends_robot_at", "robot", "at"),
)

# Which robot was given which notification: a step reaches a group once.
robot_steps = Table(
    "robot_steps",
    metadata,
    Column("robot", String(32), primary_key=True),
    Column("notification_id", Id, primary_key=True),
    Column("message_id", Id, nullable=False),
)

# Files a message carries: inline images (cid) and attachments, sent with it on every retry.
message_parts = Table(
    "message_parts",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("message_id", Id, ForeignKey("messages.id"), nullable=False, index=True),
    Column("kind", String(16), nullable=False),  # inline | attachment
    Column("filename", String(255), nullable=False),
    Column("content_type", String(128), nullable=False),
    Column("cid", String(128)),
    Column("data", LargeBinary, nullable=False),
)

# Stage reports sent, one per report and period: the daemon that inserts the row sends it.
stage_reports = Table(
    "stage_reports",
    metadata,
    Column("name", String(128), primary_key=True),
    Column("period", String(16), primary_key=True),
    Column("produced_at", UTCDateTime, nullable=False),
    Column("recipients", JSON, nullable=False),
)

# One row per daemon (by host and pid): when it last ticked, for `rectify status`.
daemons = Table(
    "daemons",
    metadata,
    Column("name", String(128), primary_key=True),
    Column("started_at", UTCDateTime, nullable=False),
    Column("last_tick_at", UTCDateTime),
    Column("last_tick_as_of", UTCDateTime),
    Column("last_tick_seconds", Float),
    Column("policy_version", String(32)),
    Column("last_error", Text),
)

# Evidence files by the SHA-256 of their bytes (migration 0008): the evidence store of a
# site whose machines share only the database (`evidence.store: database`). Never
# updated; a row is deleted only when no attachment names it (migration 0013).
evidence_blobs = Table(
    "evidence_blobs",
    metadata,
    Column("sha256", String(64), primary_key=True),
    Column("size", BigInteger, nullable=False),
    Column("data", LargeBinary, nullable=False),
    Column("stored_at", UTCDateTime, nullable=False),
)

# Files attached to an item, to one of its ledger rows (seq) or to the item itself (seq
# NULL); the bytes are in the evidence store under sha256 (and the thumbnail's under
# thumbnail). Written with the ledger row that records them.
attachments = Table(
    "attachments",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("item_id", Id, ForeignKey("items.id"), nullable=False),
    Column("seq", Integer),
    Column("sha256", String(64), nullable=False),
    Column("name", Text, nullable=False),
    Column("media_type", String(64), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("width", Integer),
    Column("height", Integer),
    Column("taken_at", String(40)),
    Column("latitude", Float),
    Column("longitude", Float),
    Column("thumbnail", String(64)),
    Column("uploaded_by", String(128), nullable=False),
    Column("uploaded_at", UTCDateTime, nullable=False),
    Index("ix_attachments_item", "item_id", "id"),
    Index("ix_attachments_sha256", "sha256"),
    Index("ix_attachments_thumbnail", "thumbnail"),  # migration 0013
)

# Extension requests (延期申请, migration 0009): one row per request, answered in place;
# at most one pending per item (a partial unique index). Written in the same transaction
# as the item's ledger row and the notifications that tell people.
extensions = Table(
    "extensions",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("item_id", Id, ForeignKey("items.id"), nullable=False),
    Column("status", String(16), nullable=False),  # pending | approved | refused
    Column("requested_by", String(128), nullable=False),
    Column("requested_at", UTCDateTime, nullable=False),
    Column("deadline", Text, nullable=False),
    Column("new_due", Date, nullable=False),
    Column("old_due", Date),
    Column("reason", Text, nullable=False),
    Column("answered_by", String(128)),
    Column("answered_at", UTCDateTime),
    Column("answer_note", Text),
    Index("ix_extensions_item", "item_id"),
    Index("ix_extensions_status", "status"),
    Index("uq_extensions_pending", "item_id", unique=True,
          postgresql_where=text("status = 'pending'"), sqlite_where=text("status = 'pending'")),
)

# The web workbench (migration 0007). Login links: a random token (asked for on the login
# page, or printed by `rectify web link`) is kept only as its SHA-256; a digest's signed
# link is recorded here when it is used. `used_at` makes every link single-use.
web_logins = Table(
    "web_logins",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("person", String(128), nullable=False),
    Column("purpose", String(16), nullable=False),  # link | asked | digest
    Column("next_path", String(255)),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("used_at", UTCDateTime),
)

# Sessions: the cookie carries a random session id signed with the site's key; the row
# (by the id's SHA-256) says whose it is and until when, so logout and expiry hold in
# every web process.
web_sessions = Table(
    "web_sessions",
    metadata,
    Column("id_hash", String(64), primary_key=True),
    Column("person", String(128), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("ended_at", UTCDateTime),
)

# Login links asked for on the login page, for the rate limit per person and per client.
web_asks = Table(
    "web_asks",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("at", UTCDateTime, nullable=False),
    Column("person", String(128)),
    Column("client", String(64), nullable=False),
    Index("ix_web_asks_at", "at"),
)

# 我的待办 orders open items by their overdue instant.
Index("ix_items_state_overdue_at", items.c.state, items.c.overdue_at)
