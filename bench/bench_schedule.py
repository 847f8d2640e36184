"""Scheduling 100,000 items in the engine, against 100,000 APScheduler jobs in its
SQLAlchemy job store; then finding the 1,000 that are due, both ways.

The design (../shared/DESIGN.md, "APScheduler") never creates one scheduler job per
item: each item's next action time is a column (`items.next_action_at`, indexed) and
one interval tick asks the database for due work. This benchmark prices that choice
against the obvious alternative, one APScheduler 3.11 job per item, in the same run.

Input, not timed: a fresh site made by `bench.sites.make_site` (as `rectify init` makes
one, plus the generated rule file: 50 rules), opened by `open_app` with the real clock,
and N invented hazard reports (N = 100,000; 10,000 with --quick), all as of one instant
`at` (real now, to the minute). Categories come from the site's rules, units from its
org.yaml (the unit head responsible), 一般 with 8 % 重大, 10 % carry their own deadline
text. (category, level, unit) triples whose rule counts the deadline from assignment are
left out: a reported item under them has no deadline yet, nothing to schedule. So every
report gets a deadline, reminders and an escalation ladder, and a next action:
- N - 1,000 are found in the 3 days before `at` (to the minute; the shortest deadline,
  5 working days, is not reached): their next action is a reminder or the deadline, after
  `at`;
- 1,000 are a backlog found 20-60 days before `at`, overdue already: their next action is
  their latest escalation, due at `at` (the first tick sends it). They are picked by
  calling prepare on candidates beforehand, which warms the engine's memos for these 1 %.

Service (figure): the engine's bulk path, as an import uses it. `Service.prepare(report,
at=at)` for every report (bind it to its rule and policy version, its deadline, plan,
catch-up and `next_action_at`, its first ledger entry), then `SqlStore.add_batch(new,
[])`: one transaction writing N items and N hash-chained ledger rows, with the cyclic GC
paused as `Importer.plan`/`apply` pause it. That is plan + persist, the whole cost of
making N items known to the scheduler. Checked: N items stored, N ledger rows, every item
with a next_action_at, exactly 1,000 of them <= `at`.

APScheduler (baseline): a `BackgroundScheduler` (timezone Asia/Shanghai) with one
`SQLAlchemyJobStore(url="sqlite:///FILE")` on a fresh file in the work directory,
started paused (a running scheduler would also wake its thread after every add_job and
query the store; paused, nothing runs), then for each item `add_job(act_on_item,
DateTrigger(run_date=next_action_at), args=(item_id,), id="item-ID",
misfire_grace_time=None, replace_existing=False)`, with the very ids and instants the
engine stored (misfire_grace_time=None, or a job missed by more than a second during
downtime is dropped). The job store writes every job in its own transaction (an INSERT
of the pickled job and a commit; it has no batch API). Checked: the store holds the jobs.
APScheduler gets its instants for free: it plans nothing and stores no item or ledger,
so it is timed doing less than the engine; what it costs is what the engine avoids on
top of its own work.

The job store is measured twice:
- with the engine's SQLite settings (WAL, synchronous=NORMAL, busy_timeout, set on every
  connection of the job store's engine, as adapters.database sets them): the designs
  compared like for like. Headline row, all N jobs. Target: the engine's plan + persist
  costs no more than the job store's add_job alone (ratio <= 1).
- out of the box (the URL alone: rollback journal, synchronous=FULL, so a sync to disk at
  every commit): what APScheduler's documented setup gives, and what DESIGN.md measured
  (~1.4 ms a job). The cost is the disk's sync latency, which varied from 1.2 ms a job
  (machine quiet) to 8.1 ms (other work running) on the same machine, so it is timed on
  every 10th instant only (10,000 jobs) and compared per item with the engine's full
  run. Target: <= 0.25.

Finding the due work at T = `at` (1,000 due). Service: the tick's condition
(`SqlOutbox.schedule_due`: next_action_at <= T through the index, in next_action_at
order), read-only, without its lock or batch limit, returning (id, next_action_at): which
items are due and when, what a job holds. APScheduler: `SQLAlchemyJobStore.get_due_jobs(T)`
on the same-settings store (next_run_time <= T through its index, every job unpickled).
Target: <= 0.5. Also timed, for information: the engine reading the due rows whole and
turning them into Items, as the tick reads them to plan; that costs about twice
get_due_jobs (an APScheduler job would still have to read its item). Five alternating
rounds of the three, per round; the fastest of each counts.

Rounds: full size, two rounds of the engine and of the like-for-like job store (each
round a fresh site and a fresh job store: engine first, then the job store with the
engine's ids and instants) and one of the job store out of the box, in the last round;
--quick, three and one. The engine's items are dropped and collected before a job store
runs, so the GC does not walk them. The fastest round of each side counts. A full run
takes about 1.5 min on a quiet 2-core machine (measured 0.72, 0.11, 0.17 against the
three targets; docs/benchmarks.md), up to 3.5 min with other work slowing the syncs.

`python -m bench.bench_schedule [--quick]` runs it alone.
"""

from __future__ import annotations

import gc
import random
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.date import DateTrigger
from sqlalchemy import event, func, select

from adapters.database import BUSY_TIMEOUT_MS
from adapters.gcpause import without_gc
from adapters.schema import items, ledger
from adapters.sqlstore import SqlStore
from adapters.wiring import App, open_app
from bench import sites
from bench.common import Result
from engine.model import Item
from engine.service import NewItem

QUICK_ITEMS, FULL_ITEMS = 10_000, 100_000
QUICK_ROUNDS, FULL_ROUNDS = 3, 2
DUE = 1_000
DUE_ROUNDS = 5
FRESH_DAYS = 3  # found in the last 3 days: nothing due yet (the shortest rule deadline is 5 working days)
BACKLOG_DAYS = (20.0, 60.0)
OWN_DEADLINE_SHARE = 0.10
MAJOR_SHARE = 0.08
DEFAULT_JOBS = 10_000  # jobs added to the out-of-the-box job store (every k-th instant)
TARGET = 1.0  # engine / job store, same SQLite settings
TARGET_DEFAULT = 0.25  # engine / job store out of the box, per item
TARGET_DUE = 0.5  # engine's due query / get_due_jobs


def act_on_item(item_id: int) -> None:
    """What each APScheduler job would call (never called here: the scheduler is paused)."""


# -- input ---------------------------------------------------------------------------


def _schedulable(app: App, at: datetime) -> list[tuple[str, str, str, str]]:
    """(category, level, unit, head) triples whose reported item gets a next action at
    once (not those whose rule counts from assignment). Probed with prepare, not stored."""
    org = app.site.org
    found = at - timedelta(days=1)
    out = []
    for category in app.service.policies.current.categories:
        for level in ("一般", "重大"):
            for unit in org.units.values():
                item, _ = app.service.prepare(NewItem(title="探测", category=category, level=level, unit=unit.name,
                                                    responsible=unit.head, found_at=found), at=at)
                if item.next_action_at is not None:
                    out.append((category, level, unit.name, unit.head))
    return out


def invent_reports(app: App, at: datetime, count: int, overdue: int, seed: int = 5) -> list[NewItem]:
    """`count` reports as of `at`: `overdue` of them from the backlog (found 20-60 days
    before, overdue already: their latest escalation is due at `at`), the others found in
    the last FRESH_DAYS days (none overdue before `at`: their next action is a reminder or
    the deadline itself, later than `at`). Backlog reports are chosen by probing prepare."""
    triples = _schedulable(app, at)
    general = [t for t in triples if t[1] == "一般"]
    major = [t for t in triples if t[1] == "重大"]
    fresh_deadlines = [d for d in sites.HAZARD_DEADLINES if d != "立整立改"]  # that one is overdue at once
    rng = random.Random(seed)

    def report(days: tuple[float, float], deadlines: Sequence[str]) -> NewItem:
        category, level, unit, head = rng.choice(major if rng.random() < MAJOR_SHARE else general)
        found = (at - timedelta(days=rng.uniform(*days))).replace(second=0, microsecond=0)
        return NewItem(
            title=f"{category}：{rng.choice(sites.PROBLEMS)}", category=category, level=level, unit=unit,
            location=rng.choice(sites.LOCATIONS), reporter=rng.choice(sites.INSPECTORS), responsible=head,
            found_at=found, deadline=rng.choice(deadlines) if rng.random() < OWN_DEADLINE_SHARE else None)

    reports: list[NewItem] = []
    while len(reports) < overdue:
        candidate = report(BACKLOG_DAYS, sites.HAZARD_DEADLINES)
        item, _ = app.service.prepare(candidate, at=at)
        if item.next_action_at is not None and item.next_action_at <= at:
            reports.append(candidate)
    reports += [report((0, FRESH_DAYS), fresh_deadlines) for _ in range(count - overdue)]
    rng.shuffle(reports)
    return [replace(r, title=f"{r.title}（第{i}号）") for i, r in enumerate(reports, 1)]


# -- the engine ----------------------------------------------------------------------


@dataclass
class Scheduled:
    seconds: float
    planned: float  # of which prepare (the rest: add_batch)
    ids: list[int]
    instants: list[datetime]  # next_action_at, in ids order
    overdue: int  # items already overdue at `at` (their next action is an escalation)


@without_gc
def _plan_and_persist(app: App, reports: Sequence[NewItem], at: datetime,
                      ) -> tuple[list[tuple[Item, Any]], list[int], float]:
    new = [app.service.prepare(r, at=at) for r in reports]
    planned = time.perf_counter()
    return new, app.store.add_batch(new, []), planned


def engine_schedule(app: App, reports: Sequence[NewItem], at: datetime) -> Scheduled:
    start = time.perf_counter()
    new, ids, planned = _plan_and_persist(app, reports, at)
    seconds = time.perf_counter() - start
    instants: list[datetime] = []
    overdue = 0
    for item, _ in new:
        assert item.next_action_at is not None, item
        instants.append(item.next_action_at)
        overdue += item.overdue_at is not None and item.overdue_at <= at
    with app.store.read() as conn:
        stored = conn.execute(select(func.count()).select_from(items)
                              .where(items.c.next_action_at.is_not(None))).scalar_one()
        entries = conn.execute(select(func.count()).select_from(ledger)).scalar_one()
    if stored != len(reports) or entries != len(reports) or len(ids) != len(reports):
        raise RuntimeError(f"engine: {stored} items with a next action, {entries} ledger rows, wanted {len(reports)}")
    return Scheduled(seconds, planned - start, ids, instants, overdue)


def engine_due(app: App, until: datetime) -> int:
    """Which items are due and when, through the index: the tick's condition
    (`SqlOutbox.schedule_due`: next_action_at <= T, in that order), read-only."""
    with app.store.read() as conn:
        found = conn.execute(select(items.c.id, items.c.next_action_at).where(items.c.next_action_at <= until)
                             .order_by(items.c.next_action_at)).all()
    return len(found)


def engine_due_items(app: App, until: datetime) -> int:
    """The same, whole rows turned into Items, as the tick reads them to plan (information)."""
    with app.store.read() as conn:
        found = [SqlStore.item_from_row(row) for row in conn.execute(
            select(items).where(items.c.next_action_at <= until).order_by(items.c.next_action_at))]
    return len(found)


# -- APScheduler ---------------------------------------------------------------------


@contextmanager
def job_scheduler(path: Path, like_engine: bool) -> Iterator[tuple[BackgroundScheduler, SQLAlchemyJobStore]]:
    store = SQLAlchemyJobStore(url=f"sqlite:///{path}")
    if like_engine:  # the pragmas adapters.database sets on the engine's own connections

        @event.listens_for(store.engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

    scheduler = BackgroundScheduler(jobstores={"default": store}, timezone=sites.SHANGHAI)
    scheduler.start(paused=True)
    try:
        yield scheduler, store
    finally:
        # Without its store, the loop's one pass after shutdown finds no (past-due) job to run.
        scheduler.remove_jobstore("default")
        scheduler.shutdown(wait=True)


def aps_schedule(scheduler: BackgroundScheduler, store: SQLAlchemyJobStore, ids: Sequence[int],
                 instants: Sequence[datetime]) -> float:
    start = time.perf_counter()
    for item_id, when in zip(ids, instants, strict=True):
        scheduler.add_job(act_on_item, DateTrigger(run_date=when), args=(item_id,), id=f"item-{item_id}",
                          misfire_grace_time=None, replace_existing=False)
    seconds = time.perf_counter() - start
    with store.engine.connect() as conn:
        jobs = conn.execute(select(func.count()).select_from(store.jobs_t)).scalar_one()
    if jobs != len(ids):
        raise RuntimeError(f"job store holds {jobs} jobs, wanted {len(ids)}")
    return seconds


# -- the benchmark -------------------------------------------------------------------


@dataclass
class Measured:
    size: int
    default_jobs: int
    at: datetime
    overdue: int
    times: dict[str, list[float]]  # seconds: engine, like, default; due: engine, aps, items
    total_s: float

    def best(self, name: str) -> float:
        return min(self.times[name])

    @property
    def engine_us(self) -> float:
        return self.best("engine") / self.size * 1e6

    @property
    def default_us(self) -> float:
        return self.best("default") / self.default_jobs * 1e6


def _fmt(times: Sequence[float]) -> str:
    return " ".join(f"{t:.2f}" for t in times)


def _time_due(app: App, store: SQLAlchemyJobStore, until: datetime, expected: int,
              times: dict[str, list[float]]) -> None:
    sides: list[tuple[str, Callable[[], int]]] = [
        ("due_engine", lambda: engine_due(app, until)),
        ("due_aps", lambda: len(store.get_due_jobs(until))),
        ("due_items", lambda: engine_due_items(app, until)),
    ]
    for k in range(DUE_ROUNDS):
        for name, fn in sides if k % 2 == 0 else reversed(sides):
            start = time.perf_counter()
            got = fn()
            times.setdefault(name, []).append(time.perf_counter() - start)
            if got != expected:
                raise RuntimeError(f"{name}: {got} due at {until}, wanted {expected}")


def measure(quick: bool) -> Measured:
    began = time.perf_counter()
    size = QUICK_ITEMS if quick else FULL_ITEMS
    rounds = QUICK_ROUNDS if quick else FULL_ROUNDS
    at = datetime.now(UTC).replace(second=0, microsecond=0)
    times: dict[str, list[float]] = {"engine": [], "prepare": [], "like": [], "default": []}
    default_jobs = 0
    with sites.workdir("rectify-bench-schedule-") as tmp:
        for r in range(rounds):
            app = open_app(sites.make_site(tmp / f"site-{r}"))  # the real clock, as the CLI opens a site
            try:
                reports = invent_reports(app, at, size, DUE)
                gc.collect()
                done = engine_schedule(app, reports, at)
                times["engine"].append(done.seconds)
                times["prepare"].append(done.planned)
                ids, instants, overdue = done.ids, done.instants, done.overdue
                del done, reports
                gc.collect()  # the engine's items and entries are gone before the job stores run
                due_count = sum(when <= at for when in instants)
                if due_count != DUE:
                    raise RuntimeError(f"{due_count} items due at {at}, wanted {DUE}")
                with job_scheduler(tmp / f"jobs-like-{r}.sqlite", like_engine=True) as (scheduler, store):
                    times["like"].append(aps_schedule(scheduler, store, ids, instants))
                    _time_due(app, store, at, DUE, times)
                gc.collect()
                if r == rounds - 1:  # out of the box: once, on every k-th instant (sync-bound, slow)
                    step = max(1, size // DEFAULT_JOBS)
                    with job_scheduler(tmp / f"jobs-default-{r}.sqlite", like_engine=False) as (scheduler, store):
                        times["default"].append(aps_schedule(scheduler, store, ids[::step], instants[::step]))
                    default_jobs = len(ids[::step])
            finally:
                app.close()
    return Measured(size, default_jobs, at, overdue, times, time.perf_counter() - began)


def describe(m: Measured) -> str:
    t = m.times
    engine, like = m.best("engine"), m.best("like")
    due, aps, whole = m.best("due_engine"), m.best("due_aps"), m.best("due_items")
    return "\n".join([
        f"{m.size:,} items as of {m.at:%Y-%m-%d %H:%M} UTC, {m.overdue:,} already overdue",
        f"rounds (s): engine {_fmt(t['engine'])} (prepare {_fmt(t['prepare'])}, the rest add_batch); job store like the engine's db {_fmt(t['like'])}; "
        f"out of the box, {m.default_jobs:,} jobs: {_fmt(t['default'])}",
        f"schedule: engine {engine:.2f} s ({m.engine_us:.1f} µs/item), job store like the engine's db {like:.2f} s "
        f"({like / m.size * 1e6:.1f} µs/job), ratio {engine / like:.3f}; out of the box {m.default_us:.1f} µs/job, "
        f"ratio {m.engine_us / m.default_us:.3f}",
        f"due at that instant: {DUE:,} items; ms, best of {len(t['due_engine'])}: "
        f"engine (id, next_action_at) {due * 1e3:.2f}, get_due_jobs {aps * 1e3:.2f} (ratio {due / aps:.3f}), "
        f"engine whole rows as Items {whole * 1e3:.2f} (ratio {whole / aps:.3f})",
        f"whole run {m.total_s:.0f} s",
    ])


def run(quick: bool) -> list[Result]:
    m = measure(quick)
    print("  " + describe(m).replace("\n", "\n  "), file=sys.stderr, flush=True)
    return [
        Result(
            name=f"schedule {m.size:,} items: engine vs job store",
            figure=m.best("engine"),
            baseline=m.best("like"),
            unit="s",
            baseline_name=(f"APScheduler add_job x {m.size:,} into SQLAlchemyJobStore, SQLite with the engine's "
                           "settings (WAL, synchronous=NORMAL), same instants, same run"),
            target=TARGET,
            higher_is_better=False,
        ),
        Result(
            name="schedule: vs job store out of the box",
            figure=m.engine_us,
            baseline=m.default_us,
            unit="µs/item",
            baseline_name=(f"add_job into SQLAlchemyJobStore(url=sqlite file) alone (rollback journal, "
                           f"synchronous=FULL), {m.default_jobs:,} of the instants, same run"),
            target=TARGET_DEFAULT,
            higher_is_better=False,
        ),
        Result(
            name=f"find {DUE:,} due among {m.size:,}",
            figure=m.best("due_engine") * 1e3,
            baseline=m.best("due_aps") * 1e3,
            unit="ms",
            baseline_name=(f"SQLAlchemyJobStore.get_due_jobs(T), same T; engine reading them as Items: "
                           f"{m.best('due_items') * 1e3:.1f} ms"),
            target=TARGET_DUE,
            higher_is_better=False,
        ),
    ]


if __name__ == "__main__":
    # Run through the package module, so the jobs' callable is bench.bench_schedule:act_on_item
    # whether this runs alone or under `python -m bench`.
    from bench import bench_schedule

    print(bench_schedule.describe(bench_schedule.measure("--quick" in sys.argv)))
