"""The store's promises through a whole application, on SQLite and PostgreSQL: complete,
chained, append-only, no lost update. The store's own contract, method by method and on
every backend, is tests/contract/."""

from __future__ import annotations

import multiprocessing
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from adapters.wiring import App, open_app
from engine.errors import NotFound, Refused, StoreError
from engine.model import LedgerEntry, verify_chain
from engine.service import NewItem


def _assigned(app: App) -> int:
    i = app.service.report(NewItem(title="楼梯扶手松动", category="建筑与施工", unit="总务处")).id
    app.service.fire(i, "assign", "王建国", {"responsible": "张海峰"})
    return i


def test_every_state_change_has_exactly_one_ledger_row(app: App) -> None:
    i = _assigned(app)
    app.service.fire(i, "start", "张海峰")
    with pytest.raises(Refused):
        app.service.fire(i, "close", "周安宁")
    app.service.fire(i, "submit", "张海峰", {"measures": "紧固", "evidence": "照片"})
    app.service.fire(i, "verify", "郭晓明")
    history = app.store.history(i)
    assert [e.seq for e in history] == [1, 2, 3, 4, 5]
    for prev, entry in zip(history, history[1:], strict=False):
        assert entry.from_state == prev.to_state
    assert app.store.get(i).state == history[-1].to_state
    assert app.store.get(i).version == len(history)


def test_the_ledger_is_hash_chained_and_tampering_shows(app: App) -> None:
    i = _assigned(app)
    history = app.store.history(i)
    assert verify_chain(history) is None
    forged = [history[0], history[1].__class__(**{**history[1].__dict__, "actor": "冒名者"})]
    assert verify_chain(forged) == 2


def test_a_ledger_rows_hash_is_stable_across_releases() -> None:
    """Existing ledgers must keep verifying: the canonical text hashed for a row (and so
    every stored hash) may never change. The expected value was computed when the chain
    format was introduced."""
    entry = LedgerEntry(None, 0, "verify", "rectifying", "verified", "郭晓明",
                        datetime(2025, 3, 1, 8, 30, tzinfo=UTC), "复查合格",
                        changes={"verifier": [None, "郭晓明"], "evidence": [None, "整改前后照片 3 张"],
                                 "rejections": [0, 1]})
    sealed = entry.sealed(42, 3, "ab" * 32)
    assert sealed.hash == "27b5d3191bf870b52f03dec6bd1f10804601bdb9e511fcc26ac18df65cb28ba4"
    assert verify_chain([entry.sealed(42, 1, "")]) is None


def test_the_database_refuses_to_rewrite_the_ledger(app: App) -> None:
    """Append-only is enforced by the database too, not just by the code."""
    i = _assigned(app)
    with pytest.raises(StoreError, match="append-only"), app.store.write() as conn:
        conn.execute(text("UPDATE ledger SET actor = 'x' WHERE item_id = :i"), {"i": i})
    with pytest.raises(StoreError, match="append-only"), app.store.write() as conn:
        conn.execute(text("DELETE FROM ledger WHERE item_id = :i"), {"i": i})
    assert len(app.store.history(i)) == 2


def test_unknown_item_is_not_found(app: App) -> None:
    with pytest.raises(NotFound, match="12345"):
        app.service.fire(12345, "start", "张海峰")


def _hammer(site: str, item_id: int, event: str, actor: str, wanted: int, start: Any,
            out: multiprocessing.Queue) -> None:
    from adapters.logs import configure

    configure(level="ERROR")
    app = open_app(Path(site))
    done = 0
    sets = {"measures": "紧固", "evidence": "照片"} if event == "submit" else {}
    start.wait(timeout=60)
    deadline = time.monotonic() + 20
    while done < wanted and time.monotonic() < deadline:
        try:
            app.service.fire(item_id, event, actor, sets)
            done += 1
        except Refused:
            pass
    app.close()
    out.put(done)


@pytest.mark.slow
def test_two_processes_firing_on_one_item_lose_no_update(app: App, site: Path) -> None:
    """submit (整改完成) and reject (退回) race on one item; every success is in the ledger, in a
    valid chain."""
    i = _assigned(app)
    app.service.fire(i, "start", "张海峰")
    ctx = multiprocessing.get_context("spawn")
    results: multiprocessing.Queue = ctx.Queue()
    start = ctx.Barrier(2)
    workers = [ctx.Process(target=_hammer, args=(str(site), i, ev, who, 25, start, results))
               for ev, who in (("submit", "张海峰"), ("reject", "周安宁"))]
    for w in workers:
        w.start()
    fired = sum(results.get(timeout=120) for _ in workers)
    for w in workers:
        w.join(timeout=30)
        assert w.exitcode == 0
    history = app.store.history(i)
    assert fired >= 20
    assert len(history) == 3 + fired
    for prev, entry in zip(history, history[1:], strict=False):
        assert entry.from_state == prev.to_state
    assert verify_chain(history) is None
    assert app.store.get(i).version == len(history)
