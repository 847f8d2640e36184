"""Rows as older revisions of the schema stored them, for migration tests (today's
store writes columns later migrations added, so it cannot write into an old database)."""

from __future__ import annotations

from sqlalchemy import Engine, text

STAMP = "2021-03-01 01:00:00.000000"


def insert_item(engine: Engine, item_id: int = 1) -> None:
    """One reported hazard with the columns every revision from 0006 on has."""
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO items (id, kind, workflow, state, title, category, level, unit, found_at, fields,"
            " version, ledger_seq, ledger_head, created_at, updated_at, paused_seconds, provisional)"
            " VALUES (:id, 'hazard', 'hazard', 'reported', '楼梯扶手松动', '建筑与施工', '一般', '总务处', :s,"
            " '{}', 1, 0, '', :s, :s, 0, false)"), {"id": item_id, "s": STAMP})
