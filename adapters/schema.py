"""The database tables (SQLAlchemy Core). Alembic migrations build exactly these."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
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

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


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
    Index("ix_items_state", "state"),
    Index("uq_items_origin", "origin", unique=True),
    Index("ix_items_unit", "unit"),
    Index("ix_items_category", "category"),
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
