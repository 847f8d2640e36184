"""The dashboard (综合看板, issue 17) on 1,000,000 items of which 100,000 are open, against
the raw SQL of the same queries in the same run.

A SQLite site is built by `bench.sites` (`rectify init` files plus 50 generated rules)
from 600 template items reported and moved through their workflows by the real
Service. Of N copies (N = 1,000,000; 100,000 with --quick) one in ten keeps its
template's open state and plan (found in the 100 days before `at`); the others are
closed: in their workflow's final state, found on a day of the two years before `at`,
closed 1 to 40 days later (never after `at`), with no next step.

Timed: `engine.dashboard.build(service, at)` — the bindings, the open tally, the
overdue and 挂牌督办 counts and their first 20 rows (each planned), both quarters'
period tallies and the days-to-close counts. Baseline: the very SQL statements and
parameters that call sent (recorded from SQLAlchemy's cursor events during an
untimed call), executed with the driver's cursor and fetched, without any of the
engine's work. Fastest of three rounds each, alternating. Target: at most 2×.

`python -m bench.bench_dashboard [--quick]`.
"""

from __future__ import annotations

import random
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import event, func, select

from adapters.schema import items
from adapters.wiring import App, open_app
from bench import sites
from bench.common import Result
from engine import dashboard
from engine.clock import FakeClock

QUICK_ITEMS, FULL_ITEMS = 100_000, 1_000_000
OPEN_SHARE = 10  # one in ten open
TEMPLATES = 600
ROUNDS = 3
FINAL = {"hazard": "closed", "major_hazard": "closed", "task": "done"}


def _closing(templates: sites.Templates, app: App, at: datetime) -> Any:
    """The `row` rewrite of bench.sites.bulk_fill: nine copies in ten closed."""
    dialect = app.store.db.dialect
    cols = templates.columns
    where = {name: cols.index(name) for name in ("workflow", "state", "found_at", "entered_at", "next_action_at")}
    rng = random.Random(11)

    def row(i: int, t: int, copy: tuple[Any, ...]) -> tuple[Any, ...]:
        if i % OPEN_SHARE == 0:
            return copy
        values = list(copy)
        found = at - timedelta(days=rng.uniform(1, 730))
        closed = min(found + timedelta(days=rng.uniform(1, 40)), at - timedelta(minutes=1))
        values[where["state"]] = FINAL[values[where["workflow"]]]
        values[where["found_at"]] = sites.stored(dialect, "found_at", found)
        values[where["entered_at"]] = sites.stored(dialect, "entered_at", closed)
        values[where["next_action_at"]] = None
        return tuple(values)

    return row


def _recorded(app: App, at: datetime) -> list[tuple[str, Any]]:
    """The statements and parameters one dashboard sends, as the driver got them."""
    sent: list[tuple[str, Any]] = []

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        if statement.lstrip().upper().startswith("SELECT"):  # not the BEGIN the store's reads send
            sent.append((statement, parameters))

    event.listen(app.store.db, "before_cursor_execute", record)
    try:
        dashboard.build(app.service, at)
    finally:
        event.remove(app.store.db, "before_cursor_execute", record)
    return sent


def _raw(app: App, statements: list[tuple[str, Any]], times: list[float] | None = None) -> int:
    rows = 0
    with app.store.db.connect() as conn:
        cursor = conn.connection.driver_connection.cursor()
        for statement, parameters in statements:
            start = time.perf_counter()
            cursor.execute(statement, parameters)
            rows += len(cursor.fetchall())
            if times is not None:
                times.append(time.perf_counter() - start)
        cursor.close()
    return rows


def _slowest(app: App, statements: list[tuple[str, Any]]) -> None:
    times: list[float] = []
    _raw(app, statements, times)
    for seconds, (statement, _) in sorted(zip(times, statements, strict=True), reverse=True)[:4]:
        print(f"  {seconds:.3f} s  {' '.join(statement.split())[:300]}", file=sys.stderr)


def measure(quick: bool) -> dict[str, Any]:
    size = QUICK_ITEMS if quick else FULL_ITEMS
    at = datetime.now(UTC).replace(second=0, microsecond=0)
    with sites.workdir("rectify-bench-dashboard-") as tmp:
        templates = sites.make_templates(sites.make_site(tmp / "templates"), at, TEMPLATES)
        root = sites.make_site(tmp / "big")
        app = open_app(root, FakeClock(at))
        try:
            sites.bulk_fill(app, templates, size, lambda i: (i * 7919) % TEMPLATES, _closing(templates, app, at),
                            label="dashboard: ")
        finally:
            templates.app.close()
        try:
            with app.store.read() as conn:
                total = conn.execute(select(func.count()).select_from(items)).scalar_one()
            d = dashboard.build(app.service, at)
            opened = d.open.value + d.tasks_open.value
            statements = _recorded(app, at)
            _slowest(app, statements)
            engine_s, raw_s = [], []
            for r in range(ROUNDS):
                for side in ("engine", "raw") if r % 2 == 0 else ("raw", "engine"):
                    start = time.perf_counter()
                    if side == "engine":
                        dashboard.build(app.service, at)
                    else:
                        _raw(app, statements)
                    (engine_s if side == "engine" else raw_s).append(time.perf_counter() - start)
        finally:
            app.close()
    print(f"  dashboard on {total:,} items ({opened:,} open; overdue {d.overdue.figure.value:,}, "
          f"挂牌督办 {d.supervised.figure.value:,}), {len(statements)} statements; engine s: "
          + " ".join(f"{t:.3f}" for t in engine_s) + "; raw s: " + " ".join(f"{t:.3f}" for t in raw_s),
          file=sys.stderr)
    if total != size or not size // OPEN_SHARE * 0.9 <= opened <= size // OPEN_SHARE * 1.1:
        raise RuntimeError(f"built {total} items with {opened} open, wanted {size} with about {size // OPEN_SHARE}")
    return {"size": size, "open": opened, "engine": min(engine_s), "raw": min(raw_s), "statements": len(statements)}


def run(quick: bool) -> list[Result]:
    m = measure(quick)
    return [Result(
        name=f"dashboard: {m['size']:,} items, {m['open']:,} open",
        figure=m["engine"], baseline=m["raw"], unit="s",
        baseline_name=f"the same {m['statements']} SQL statements through the driver's cursor, same run",
        target=2.0, higher_is_better=False)]


if __name__ == "__main__":
    result = measure("--quick" in sys.argv)
    print(f"dashboard {result['engine']:.3f} s, raw SQL {result['raw']:.3f} s, "
          f"ratio {result['engine'] / result['raw']:.3f} ({result['size']:,} items, {result['open']:,} open)")
