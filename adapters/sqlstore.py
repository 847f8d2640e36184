"""The Store on SQLAlchemy Core: SQLite or PostgreSQL, one implementation."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, update
from sqlalchemy.exc import DBAPIError

from adapters import database
from adapters.schema import items, ledger
from engine.errors import ConcurrentUpdate, NotFound
from engine.model import COLUMNS, Item, LedgerEntry
from engine.store import Query


def _row_to_item(row: Any) -> Item:
    m = row._mapping
    return Item(
        id=m["id"], kind=m["kind"], workflow=m["workflow"], state=m["state"], title=m["title"],
        found_at=m["found_at"], category=m["category"], level=m["level"], unit=m["unit"],
        responsible=m["responsible"], location=m["location"], reporter=m["reporter"],
        deadline=m["deadline"], fields=dict(m["fields"] or {}), version=m["version"],
        created_at=m["created_at"], updated_at=m["updated_at"],
    )


def _row_to_entry(row: Any) -> LedgerEntry:
    m = row._mapping
    return LedgerEntry(
        item_id=m["item_id"], seq=m["seq"], event=m["event"], from_state=m["from_state"],
        to_state=m["to_state"], actor=m["actor"], at=m["at"], note=m["note"],
        changes=dict(m["changes"] or {}), prev_hash=m["prev_hash"], hash=m["hash"],
    )


def _item_values(item: Item) -> dict[str, Any]:
    values = {name: getattr(item, name) for name in COLUMNS}
    values.update(kind=item.kind, workflow=item.workflow, state=item.state,
                  found_at=item.found_at, fields=item.fields)
    return values


def _entry_values(entry: LedgerEntry) -> dict[str, Any]:
    return {
        "item_id": entry.item_id, "seq": entry.seq, "event": entry.event,
        "from_state": entry.from_state, "to_state": entry.to_state, "actor": entry.actor,
        "at": entry.at, "note": entry.note, "changes": entry.changes,
        "prev_hash": entry.prev_hash, "hash": entry.hash,
    }


class SqlStore:
    """Items and ledger on one SQLAlchemy Engine. Writes take the database's write lock first."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._writer = engine.execution_options(**{database.WRITE: True})

    @contextmanager
    def write(self) -> Iterator[Connection]:
        try:
            with self._writer.begin() as conn:
                yield conn
        except DBAPIError as exc:
            raise database.translate(exc, self.engine.url) from exc

    @contextmanager
    def read(self) -> Iterator[Connection]:
        try:
            with self.engine.connect() as conn:
                yield conn
        except DBAPIError as exc:
            raise database.translate(exc, self.engine.url) from exc

    def add(self, item: Item, entry: LedgerEntry) -> Item:
        now = datetime.now(UTC)
        with self.write() as conn:
            key = conn.execute(
                insert(items).values(**_item_values(item), version=1, ledger_seq=0, ledger_head="",
                                     created_at=now, updated_at=now)
            ).inserted_primary_key
            assert key is not None
            new_id = int(key[0])
            sealed = self._append(conn, new_id, 0, "", entry)
            conn.execute(update(items).where(items.c.id == new_id)
                         .values(ledger_seq=sealed.seq, ledger_head=sealed.hash))
        return self.get(new_id)

    def _append(self, conn: Connection, item_id: int, seq: int, head: str, entry: LedgerEntry) -> LedgerEntry:
        sealed = replace(entry, seq=seq + 1).sealed(item_id, head)
        conn.execute(insert(ledger).values(**_entry_values(sealed)))
        return sealed

    def get(self, item_id: int) -> Item:
        with self.read() as conn:
            row = conn.execute(select(items).where(items.c.id == item_id)).first()
        if row is None:
            raise NotFound("事项", item_id)
        return _row_to_item(row)

    def update(self, item: Item, expected_version: int, entry: LedgerEntry) -> Item:
        if item.id is None:
            raise ValueError("update() needs a stored item")
        now = datetime.now(UTC)
        with self.write() as conn:
            head = conn.execute(
                select(items.c.ledger_seq, items.c.ledger_head, items.c.version)
                .where(items.c.id == item.id)
                .with_for_update()
            ).first()
            if head is None:
                raise NotFound("事项", item.id)
            if head.version != expected_version:
                raise ConcurrentUpdate(item.id)
            sealed = self._append(conn, item.id, head.ledger_seq, head.ledger_head, entry)
            result = conn.execute(
                update(items)
                .where(items.c.id == item.id, items.c.version == expected_version)
                .values(**_item_values(item), version=expected_version + 1,
                        ledger_seq=sealed.seq, ledger_head=sealed.hash, updated_at=now)
            )
            if result.rowcount != 1:
                raise ConcurrentUpdate(item.id)
        item.version, item.updated_at = expected_version + 1, now
        return item

    def query(self, query: Query) -> list[Item]:
        stmt = select(items).order_by(items.c.id)
        for column, values in ((items.c.state, query.state), (items.c.unit, query.unit),
                               (items.c.category, query.category), (items.c.kind, query.kind)):
            if values:
                stmt = stmt.where(column.in_(list(values)))
        if query.limit:
            stmt = stmt.limit(query.limit)
        with self.read() as conn:
            return [_row_to_item(r) for r in conn.execute(stmt)]

    def history(self, item_id: int) -> list[LedgerEntry]:
        with self.read() as conn:
            rows = conn.execute(select(ledger).where(ledger.c.item_id == item_id).order_by(ledger.c.seq))
            return [_row_to_entry(r) for r in rows]

    def close(self) -> None:
        self.engine.dispose()
