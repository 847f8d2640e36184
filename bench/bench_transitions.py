"""Transitions per second through Service.fire against raw SQLAlchemy Core (issue 2).

Both sides run in the same process, on the same SQLite file of a site created the way
`rectify init` creates one, through the same SQLAlchemy Engine with the same write
option (BEGIN IMMEDIATE), so the only difference is what the engine adds on top of
"UPDATE items + INSERT ledger in one transaction": reading the item, checking the
workflow (roles, required fields, guards, the `transitions` machine, actions), diffing
the fields, hashing the ledger row, the version check and logging.

Items are reported and assigned outside the timed part. A round then takes every item
once through three transitions of the real cycle: `start` (first round) or `reject` (by
周安宁 of 综治办), `submit` (by 张海峰, with measures and evidence), then `verify` (by
郭晓明, inspector). The
raw side has its own items in the same tables and does, per transition, one
`UPDATE items ... version = version + 1 ... WHERE id = ?` and one `INSERT INTO ledger`
with values of the same shape, one transaction each. Service and raw rounds alternate
(order swapped every round), the raw side has twice the items so that its rounds last
as long as the engine's, and the best round of each counts.

`python -m bench.bench_transitions [--quick] [--profile]` runs it alone; --profile
prints a cProfile of one extra engine round.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import bindparam, func, insert, select, update

from adapters import database, logs
from adapters.clock import SystemClock
from adapters.resources import shipped, site_file
from adapters.schema import items, ledger
from adapters.sitefiles import load_config
from adapters.wiring import App, open_app
from bench.common import Result, print_profile
from engine import site as site_mod
from engine.model import verify_chain
from engine.service import NewItem

UNIT = "总务处"
RESPONSIBLE = "张海峰"   # responsible, 总务处: item_responsible for `start` and `submit`
REPORTER = "郭晓明"      # inspector in 综治办: may `verify`, is neither responsible, rectifier nor submitter
HEAD = "周安宁"          # head of 综治办 (safety_office): `assign` and `reject`
VERIFY_SETS = {"measures": "更换老化电线并加装漏电保护器", "evidence": "整改前后照片 3 张"}

# A round takes every engine item through three transitions, and every raw item too. The raw
# side has twice the items so that both rounds last about as long (~0.15 s): the best of
# many equal windows is equally likely to be undisturbed on either side, where equal
# transition counts gave the shorter raw rounds the better chance of a quiet window.
QUICK_ITEMS, FULL_ITEMS = 50, 200
RAW_FACTOR = 2
QUICK_ROUNDS, FULL_ROUNDS = 3, 31


@contextmanager
def _site() -> Iterator[Path]:
    """A fresh site in a temporary directory, built as `rectify init` builds one."""
    saved = os.environ.pop("RECTIFY_DATABASE_URL", None)  # always the embedded SQLite file
    try:
        with tempfile.TemporaryDirectory(prefix="rectify-bench-") as tmp:
            root = Path(tmp) / "site"
            root.mkdir()
            for name in (site_mod.CONFIG_FILE, "org.yaml"):
                shutil.copyfile(site_file(name), root / name)
            for name in ("rules", "workflows", "templates"):
                shutil.copytree(shipped(name), root / name, dirs_exist_ok=True)
            config = load_config(root.resolve())
            assert config.database_url.startswith("sqlite:///"), config.database_url
            engine = database.open_engine(config.database_url, must_exist=False)
            database.upgrade(engine)
            engine.dispose()
            yield root.resolve()
    finally:
        if saved is not None:
            os.environ["RECTIFY_DATABASE_URL"] = saved


def _assigned_items(app: App, count: int, label: str) -> list[int]:
    ids = []
    for i in range(count):
        item = app.service.report(NewItem(
            title=f"{label} 第{i}号 配电箱线路老化", category="其他", unit=UNIT,
            location="第二教学楼 3 楼配电间", reporter=REPORTER, responsible=RESPONSIBLE,
            deadline="7天内",
        ))
        assert item.id is not None
        app.service.fire(item.id, "assign", HEAD)
        ids.append(item.id)
    return ids


def _engine_round(app: App, ids: list[int], first: bool) -> int:
    fire = app.service.fire
    for item_id in ids:
        if first:
            fire(item_id, "start", RESPONSIBLE)
        else:
            fire(item_id, "reject", HEAD, note="佐证不足，退回整改")
        fire(item_id, "submit", RESPONSIBLE, sets=VERIFY_SETS)
        fire(item_id, "verify", REPORTER)
    return 3 * len(ids)


class _Raw:
    """The same writes the engine makes, and nothing else: UPDATE + INSERT per transaction."""

    def __init__(self, app: App, ids: list[int]) -> None:
        self.writer = app.store._writer  # the store's own engine with the write option
        self.ids = ids
        with app.store.read() as conn:
            rows = conn.execute(select(items.c.id, items.c.ledger_seq, items.c.ledger_head)
                                .where(items.c.id.in_(ids)))
            self.seq = {r.id: r.ledger_seq for r in rows}
        self.head = "0" * 64
        self.update = (
            update(items)
            .where(items.c.id == bindparam("item_id"))
            .values(state=bindparam("state"), version=items.c.version + 1,
                    ledger_seq=bindparam("seq"), ledger_head=bindparam("hash"),
                    fields=bindparam("fields"), updated_at=bindparam("now"),
                    entered_at=bindparam("now"))
        )
        self.insert = insert(ledger)

    def _one(self, item_id: int, event: str, source: str, dest: str, actor: str,
             changes: Mapping[str, list[object]], fields: Mapping[str, object],
             note: str | None) -> None:
        seq = self.seq[item_id] + 1
        now = datetime.now(UTC)
        with self.writer.begin() as conn:
            conn.execute(self.update, {"item_id": item_id, "state": dest, "seq": seq,
                                       "hash": self.head, "fields": fields, "now": now})
            conn.execute(self.insert, {
                "item_id": item_id, "seq": seq, "event": event, "from_state": source,
                "to_state": dest, "actor": actor, "at": now, "note": note, "changes": changes,
                "prev_hash": self.head, "hash": self.head,
            })
        self.seq[item_id] = seq

    def round(self, first: bool) -> int:
        one = self._one
        started = {"rectifier": RESPONSIBLE}
        fields = {**started, **VERIFY_SETS, "submitter": RESPONSIBLE}
        verified = {**fields, "verifier": REPORTER, "verified_at": "2025-01-01T00:00:00+00:00"}
        for item_id in self.ids:
            if first:
                one(item_id, "start", "assigned", "rectifying", RESPONSIBLE,
                    {"rectifier": [None, RESPONSIBLE]}, {"rectifier": RESPONSIBLE}, None)
            else:
                one(item_id, "reject", "verified", "rectifying", HEAD,
                    {"verifier": [REPORTER, None], "rejections": [0, 1]}, fields, "佐证不足，退回整改")
            one(item_id, "submit", "rectifying", "submitted", RESPONSIBLE,
                {k: [None, v] for k, v in VERIFY_SETS.items()} | {"submitter": [None, RESPONSIBLE]}, fields, None)
            one(item_id, "verify", "submitted", "verified", REPORTER,
                {"verifier": [None, REPORTER], "verified_at": [None, "2025-01-01T00:00:00+00:00"]},
                verified, None)
        return 3 * len(self.ids)


def _timed(fn: Callable[[], int]) -> float:
    start = time.perf_counter()
    done = fn()
    return done / (time.perf_counter() - start)


def _check(app: App, engine_ids: list[int], raw_ids: list[int], rounds: int) -> None:
    """Both sides really did their writes; the engine's ledger chains are intact."""
    with app.store.read() as conn:
        for ids in (engine_ids, raw_ids):
            count = conn.execute(select(func.count()).select_from(ledger)
                                 .where(ledger.c.item_id.in_(ids))).scalar_one()
            assert count == len(ids) * (2 + 3 * rounds), (count, len(ids), rounds)
    for item_id in (engine_ids[0], engine_ids[-1]):
        assert app.service.store.get(item_id).state == "verified"
        assert verify_chain(app.store.history(item_id)) is None


def measure(quick: bool, profile: bool = False) -> tuple[float, float]:
    """(engine transitions/s, raw transitions/s), best round of each.

    Rounds alternate (which side goes first swaps every round) and are short and many:
    on a shared 2-core machine, a few long rounds let one burst of outside load decide
    the ratio (0.43 to 0.52 between runs of the same code with 4 rounds of 3,000)."""
    count = QUICK_ITEMS if quick else FULL_ITEMS
    rounds = QUICK_ROUNDS if quick else FULL_ROUNDS
    logs.configure(level="WARNING")
    with _site() as root:
        app = open_app(root, SystemClock())
        try:
            engine_ids = _assigned_items(app, count, "引擎")
            raw_ids = _assigned_items(app, count * RAW_FACTOR, "对照")
            raw = _Raw(app, raw_ids)
            engine_rates: list[float] = []
            raw_rates: list[float] = []
            for r in range(rounds):
                first = r == 0
                steps = [(engine_rates, lambda first=first: _engine_round(app, engine_ids, first)),
                         (raw_rates, lambda first=first: raw.round(first))]
                for rates, fn in steps if r % 2 == 0 else reversed(steps):
                    rates.append(_timed(fn))
            _check(app, engine_ids, raw_ids, rounds)
            print(f"  {3 * count} engine and {3 * len(raw_ids)} raw transitions a round, {rounds} rounds; engine /s: "
                  + " ".join(f"{x:.0f}" for x in engine_rates) + "; raw /s: "
                  + " ".join(f"{x:.0f}" for x in raw_rates), file=sys.stderr)
            if profile:
                print_profile(lambda: _engine_round(app, engine_ids, False), top=45)
        finally:
            app.close()
    return max(engine_rates), max(raw_rates)


def run(quick: bool) -> list[Result]:
    engine_rate, raw_rate = measure(quick)
    return [Result(
        name="transitions/s: engine vs raw SQL",
        figure=engine_rate,
        baseline=raw_rate,
        unit="/s",
        baseline_name="SQLAlchemy Core UPDATE items + INSERT ledger, one transaction each",
        target=0.5,
        higher_is_better=True,
    )]


if __name__ == "__main__":
    quick = "--quick" in sys.argv
    engine_rate, raw_rate = measure(quick, profile="--profile" in sys.argv)
    print(f"engine {engine_rate:.0f}/s, raw {raw_rate:.0f}/s, ratio {engine_rate / raw_rate:.3f}")
