"""One scheduler tick: 1,000 items due among 1,000,000 open items against 1,000 due among
10,000 (issue 5), and the daemon's peak memory on the large ledger.

Two SQLite sites are built by `bench.sites` (`rectify init` files plus a generated
rule file: 50 rules) from the same 600 template items, reported and moved through
their workflows by the real Service: 10,000 items in one, N in the other (N =
1,000,000; 100,000 with --quick). In both exactly 1,000 items, spread evenly over the
table, are due: their cursor stands just before the last step of their plan that fell
due by the tick's instant `at` (real now, to the minute), and next_action_at is that
step. Every other item has its cursor at `at` and next_action_at at its next step,
which is more than a day after `at` (templates whose next step falls sooner, or that
have none, e.g. paused ones, are not used for those), so the same 1,000 are due for a
real-clock tick minutes later.

The timed part is `App.scheduler(mailer=NullMailer()).tick(at)` only (FakeClock at
`at`): claim the due items through the next_action_at index, plan each, queue its
notifications, compose one digest per recipient with the site's templates, "send"
them. Between ticks the tick's writes are undone (notifications, messages, heartbeat
deleted; the 1,000 cursors put back), so every round does the same work. Rounds
alternate (order swapped every round); the fastest tick of each side counts. Target:
the large ledger's tick takes under 2× the small one's.

Memory: after the timed rounds, `python -m bench.tick_memory SITE` runs one tick in a
fresh process, as the daemon does (`adapters.daemon.Daemon(site).tick()`, real
clock, the site's file mailer), on each site, and prints its peak RSS (VmHWM, the
kernel's high-water mark for that process; its ru_maxrss would include this
benchmark's own RSS, inherited through fork + exec). Target: under 200 MB with the
large ledger.

`python -m bench.bench_tick [--quick] [--profile]`: --profile prints a cProfile of
one extra tick on the large site.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from adapters.schema import daemons, items, message_parts, messages, notifications
from adapters.wiring import App, open_app
from bench import sites
from bench.common import Result, print_profile
from engine.clock import FakeClock
from engine.mail import OutgoingMessage
from engine.scheduler import Scheduler

DUE = 1_000
SMALL = 10_000
QUICK_ITEMS, FULL_ITEMS = 100_000, 1_000_000
ROUNDS = 3
TEMPLATES = 600
QUIET = timedelta(days=1)  # no item that is not due has a step this soon after `at`
MEMORY_BUDGET_MB = 200.0
BENCH_ROOT = Path(__file__).resolve().parent.parent


class NullMailer:
    """Accepts every message and sends nothing."""

    def __init__(self) -> None:
        self.sent = 0

    def send(self, message: OutgoingMessage) -> None:
        self.sent += 1


@dataclass
class Site:
    name: str
    root: Path
    app: App
    size: int
    restore_rows: list[tuple[Any, Any, int]]  # (planned_until, next_action_at, id) as stored
    scheduler: Scheduler  # one per site, kept across ticks as the daemon keeps its own


def _variants(templates: sites.Templates, at: datetime) -> tuple[dict[int, tuple[datetime, datetime]],
                                                                   dict[int, tuple[datetime, datetime]]]:
    """Per template index, (planned_until, next_action_at) for a due copy and for a quiet one."""
    due, quiet = {}, {}
    for index in range(len(templates.items)):
        plan = templates.plan(index)
        past = list(plan.steps(None, at))
        if past:
            last = past[-1].at
            due[index] = (last - timedelta(microseconds=1), last)
        upcoming = plan.next_step(at)
        if upcoming is not None and upcoming.at > at + QUIET:
            quiet[index] = (at, upcoming.at)
    return due, quiet


def _build(tmp: Path, name: str, size: int, templates: sites.Templates, at: datetime) -> Site:
    root = sites.make_site(tmp / name)
    app = open_app(root, FakeClock(at))
    dialect = app.store.db.dialect
    due_v, quiet_v = _variants(templates, at)
    due_keys, quiet_keys = sorted(due_v), sorted(quiet_v)

    def stored(pair: tuple[datetime, datetime]) -> tuple[Any, Any]:
        return (sites.stored(dialect, "planned_until", pair[0]), sites.stored(dialect, "next_action_at", pair[1]))

    due_raw = {k: stored(v) for k, v in due_v.items()}
    quiet_raw = {k: stored(v) for k, v in quiet_v.items()}
    due_ids = {i: n for n, i in enumerate(sites.spread(DUE, size))}

    def choose(i: int) -> int:
        n = due_ids.get(i)
        if n is not None:
            return due_keys[(n * 7919) % len(due_keys)]
        return quiet_keys[(i * 7919) % len(quiet_keys)]

    cols = templates.columns
    at_until, at_next = cols.index("planned_until"), cols.index("next_action_at")
    assert at_next == at_until + 1

    def row(i: int, t: int, copy: tuple[Any, ...]) -> tuple[Any, ...]:
        pair = due_raw[t] if i in due_ids else quiet_raw[t]
        return (*copy[:at_until], *pair, *copy[at_next + 1:])

    sites.bulk_fill(app, templates, size, choose, row, label=f"{name}: ")
    restore = [(*due_raw[choose(i)], i) for i in due_ids]
    site = Site(name, root, app, size, restore, app.scheduler(mailer=NullMailer()))
    # This period's report tasks (if the campaign has any now) exist before the timed ticks.
    site.scheduler.open_obligations(at)
    with app.store.read() as conn:
        open_count = conn.execute(select(func.count()).select_from(items)).scalar_one()
    status = app.outbox.status(at)
    if status["items_due"] != DUE or open_count != size:
        raise RuntimeError(f"{name}: {status['items_due']} due of {open_count} items, wanted {DUE} of {size}")
    return site


def _restore(site: Site) -> None:
    """Undo a tick: no notifications, messages or heartbeats; the due items' cursors back."""
    with site.app.store.write() as conn:
        for table in (message_parts, messages, notifications, daemons):
            conn.execute(table.delete())
        conn.exec_driver_sql("UPDATE items SET planned_until = ?, next_action_at = ? WHERE id = ?",
                             site.restore_rows)  # type: ignore[arg-type]


def _tick(site: Site, at: datetime) -> tuple[float, Any]:
    start = time.perf_counter()
    report = site.scheduler.tick(at)
    seconds = time.perf_counter() - start
    if report.items != DUE or report.queued < DUE:
        raise RuntimeError(f"{site.name}: tick handled {report.items} items, queued {report.queued}")
    _restore(site)
    return seconds, report


def _memory(root: Path) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECTIFY_")}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(BENCH_ROOT), env.get("PYTHONPATH")) if p)
    done = subprocess.run([sys.executable, "-m", "bench.tick_memory", str(root)], env=env, cwd=BENCH_ROOT,
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"bench.tick_memory failed ({done.returncode}): {done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    if result["report"]["items"] != DUE:
        raise RuntimeError(f"daemon tick handled {result['report']['items']} items, wanted {DUE}")
    return result


@dataclass
class Measured:
    big_s: float
    small_s: float
    size: int
    big_memory: dict[str, Any]
    small_memory: dict[str, Any]


def measure(quick: bool, profile: bool = False) -> Measured:
    size = QUICK_ITEMS if quick else FULL_ITEMS
    at = datetime.now(UTC).replace(second=0, microsecond=0)
    with sites.workdir("rectify-bench-tick-") as tmp:
        templates = sites.make_templates(sites.make_site(tmp / "templates"), at, TEMPLATES)
        try:
            small = _build(tmp, "small", SMALL, templates, at)
            big = _build(tmp, "big", size, templates, at)
        finally:
            templates.app.close()
        try:
            times: dict[str, list[float]] = {"small": [], "big": []}
            reports = {}
            for r in range(ROUNDS):
                for site in (small, big) if r % 2 == 0 else (big, small):
                    seconds, reports[site.name] = _tick(site, at)
                    times[site.name].append(seconds)
            rep = reports["big"]
            print(f"  tick at {at:%Y-%m-%d %H:%M} UTC: {rep.items} items, {rep.queued} notifications, "
                  f"{rep.composed} digests, {rep.sent} sent; "
                  + "; ".join(f"{n} ({s.size:,}) s: " + " ".join(f"{t:.3f}" for t in times[n])
                              for n, s in (("small", small), ("big", big))), file=sys.stderr)
            if profile:
                print_profile(lambda: _tick(big, at))
        finally:
            small.app.close()
            big.app.close()
        small_memory = _memory(small.root)
        big_memory = _memory(big.root)
        for label, m in (("small", small_memory), ("big", big_memory)):
            print(f"  daemon tick on {label}: RSS after imports {m['rss_after_imports_mb']} MB, after open "
                  f"{m['rss_after_open_mb']} MB, peak {m['peak_mb']} MB (ru_maxrss {m['ru_maxrss_mb']} MB), tick {m['seconds']} s, "
                  f"{m['report']['items']} items", file=sys.stderr)
    return Measured(min(times["big"]), min(times["small"]), size, big_memory, small_memory)


def run(quick: bool) -> list[Result]:
    m = measure(quick)
    return [
        Result(
            name=f"tick: {DUE:,} due among {m.size:,} open items",
            figure=m.big_s,
            baseline=m.small_s,
            unit="s",
            baseline_name=f"the same tick, {DUE:,} due among {SMALL:,} open items, same run",
            target=2.0,
            higher_is_better=False,
        ),
        Result(
            name=f"daemon peak RSS, {m.size:,} open items",
            figure=m.big_memory["peak_mb"],
            baseline=MEMORY_BUDGET_MB,
            unit="MB",
            baseline_name=(f"budget {MEMORY_BUDGET_MB:g} MB (absolute); same daemon tick on "
                           f"{SMALL:,} items: {m.small_memory['peak_mb']} MB"),
            target=1.0,
            higher_is_better=False,
        ),
    ]


if __name__ == "__main__":
    result = measure("--quick" in sys.argv, profile="--profile" in sys.argv)
    print(f"tick big {result.big_s:.3f} s, small {result.small_s:.3f} s, ratio {result.big_s / result.small_s:.3f}; "
          f"daemon peak {result.big_memory['peak_mb']} MB (small {result.small_memory['peak_mb']} MB)")
