"""Migration 0010 fills overdue_from for the rows already stored: overdue_at plus the
time paused, exactly (on SQLite; the same statements run on PostgreSQL in CI's upgrade)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import text

from adapters import database
from adapters.sqlstore import SqlStore

DUE = datetime(2021, 3, 23, 16, 0, tzinfo=UTC)


def test_existing_rows_get_their_overdue_instant(tmp_path: Path) -> None:
    engine = database.open_engine(f"sqlite:///{tmp_path / 'old.db'}", must_exist=False)
    database.upgrade(engine, "0006")
    stamp = "2021-03-01 01:00:00.000000"
    with engine.begin() as conn:
        for n, (overdue, paused) in enumerate(((DUE, 0), (DUE, 90061), (None, 0)), start=1):
            conn.execute(text(
                "INSERT INTO items (id, kind, workflow, state, title, category, level, found_at, fields, version,"
                " ledger_seq, ledger_head, created_at, updated_at, paused_seconds, overdue_at, provisional)"
                " VALUES (:id, 'hazard', 'hazard', 'reported', :t, '消防', '一般', :s, '{}', 1, 0, '', :s, :s,"
                " :p, :o, 0)"),
                {"id": n, "t": f"事项{n}", "s": stamp, "p": paused,
                 "o": overdue.replace(tzinfo=None).isoformat(" ", "microseconds") if overdue else None})
    database.upgrade(engine)
    found = SqlStore(engine).get_many([1, 2, 3])
    assert found[1].overdue_from == DUE
    assert found[2].overdue_from == DUE + timedelta(days=1, hours=1, minutes=1, seconds=1)
    assert found[3].overdue_from is None
    with engine.connect() as conn:
        indexes = {r[1] for r in conn.execute(text("PRAGMA index_list('items')"))}
    assert {"ix_items_found", "ix_items_closed"} <= indexes
    engine.dispose()
