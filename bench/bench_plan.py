"""Planning 1,000,000 open items against a 50-rule policy, against only reading them (issue 4).

The site is built by `bench.sites`: `rectify init` files plus a generated rule file
(50 rules in all, checked as `rectify check` checks them), 600 template items reported
and moved through their workflows by the real Service, and N copies of their rows
(N = 1,000,000; 100,000 with --quick) in a SQLite database that also stores the policy
version they are bound to.

Both loops stream every open item in one read transaction (`yield_per=10_000`) and
turn each row into an Item with the store's own `SqlStore.item_from_row`. The baseline stops
there; the measured loop also calls `Service.plan(item)` and `Plan.next_step(now)` for
each item, as the scheduler and `simulate` do. The two loops alternate (order swapped
every round) and the fastest round of each counts. The figure is what planning adds
(read+plan − read); the target is that it costs no more than the read itself.

`python -m bench.bench_plan [--quick] [--profile]` runs it alone; --profile prints a
cProfile of the plan loop over the first 100,000 items.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select

from adapters.schema import items
from adapters.sqlstore import SqlStore
from adapters.wiring import App, open_app
from bench import sites
from bench.common import Result, print_profile
from engine.clock import FakeClock

QUICK_ITEMS, FULL_ITEMS = 100_000, 1_000_000
QUICK_ROUNDS, FULL_ROUNDS = 3, 2
TEMPLATES = 600
YIELD_PER = 10_000
# Mid-campaign (phase 集中攻坚), on a published working-day calendar.
NOW = datetime(2021, 6, 15, 9, 0, tzinfo=sites.SHANGHAI)


def _open_items(app: App) -> object:
    finals = sorted({s.name for wf in app.service.workflows.values() for s in wf.states.values() if s.final})
    return select(items).where(items.c.state.notin_(finals)).order_by(items.c.id)


def read_only(app: App, limit: int | None = None) -> int:
    stmt = _open_items(app)
    count = 0
    with app.store.read() as conn:
        for row in conn.execution_options(yield_per=YIELD_PER).execute(stmt):  # type: ignore[call-overload]
            item = SqlStore.item_from_row(row)
            count += item.id is not None
            if count == limit:
                break
    return count


def read_and_plan(app: App, now: datetime, limit: int | None = None) -> tuple[int, int]:
    """(items read, items with a step after `now`)."""
    stmt = _open_items(app)
    plan = app.service.plan
    count = upcoming = 0
    with app.store.read() as conn:
        for row in conn.execution_options(yield_per=YIELD_PER).execute(stmt):  # type: ignore[call-overload]
            item = SqlStore.item_from_row(row)
            count += 1
            if plan(item).next_step(now) is not None:
                upcoming += 1
            if count == limit:
                break
    return count, upcoming


def _choose(templates: int) -> Callable[[int], int]:
    return lambda i: (i * 7919) % templates  # every template, well mixed through the table


def measure(quick: bool, profile: bool = False) -> tuple[float, float, int]:
    """(best read+plan seconds, best read-only seconds, items)."""
    count = QUICK_ITEMS if quick else FULL_ITEMS
    rounds = QUICK_ROUNDS if quick else FULL_ROUNDS
    with sites.workdir("rectify-bench-plan-") as tmp:
        templates = sites.make_templates(sites.make_site(tmp / "templates"), NOW, TEMPLATES)
        try:
            root = sites.make_site(tmp / "site")
            app = open_app(root, FakeClock(NOW))
            choose = _choose(len(templates.items))
            sites.bulk_fill(app, templates, count, choose)
            has_next = [templates.plan(i).next_step(NOW) is not None for i in range(len(templates.items))]
            expected = sum(has_next[choose(i)] for i in range(1, count + 1))
        finally:
            templates.app.close()
        try:
            assert app.service.policies.current.version == templates.policy_version
            assert len(app.service.policies.current.rules) == sites.RULE_COUNT
            plan_times: list[float] = []
            read_times: list[float] = []
            for r in range(rounds):
                steps: list[tuple[list[float], Callable[[], object]]] = [
                    (plan_times, lambda: read_and_plan(app, NOW)), (read_times, lambda: read_only(app))]
                for times, fn in steps if r % 2 == 0 else reversed(steps):
                    start = time.perf_counter()
                    done = fn()
                    times.append(time.perf_counter() - start)
                    if isinstance(done, tuple):
                        assert done == (count, expected), (done, count, expected)
                    else:
                        assert done == count, (done, count)
            print(f"  {count:,} open items, {sites.RULE_COUNT} rules, {expected:,} with a step ahead; "
                  f"read+plan s: {' '.join(f'{t:.2f}' for t in plan_times)}; "
                  f"read s: {' '.join(f'{t:.2f}' for t in read_times)}", file=sys.stderr)
            if profile:
                print_profile(lambda: read_and_plan(app, NOW, limit=100_000))
        finally:
            app.close()
    return min(plan_times), min(read_times), count


def _describe(plan_s: float, read_s: float, count: int) -> str:
    extra = plan_s - read_s
    return (f"read {read_s:.2f} s ({read_s / count * 1e6:.1f} µs/item), read+plan {plan_s:.2f} s "
            f"({plan_s / count * 1e6:.1f} µs/item), plan adds {extra / count * 1e6:.1f} µs/item, "
            f"extra/read {extra / read_s:.3f}")


def run(quick: bool) -> list[Result]:
    plan_s, read_s, count = measure(quick)
    print("  " + _describe(plan_s, read_s, count), file=sys.stderr)
    return [Result(
        name=f"plan {count:,} items: plan cost vs DB read",
        figure=plan_s - read_s,
        baseline=read_s,
        unit="s",
        baseline_name=f"streaming the same {count:,} open items into Items (yield_per), same run",
        target=1.0,
        higher_is_better=False,
    )]


if __name__ == "__main__":
    plan_s, read_s, count = measure("--quick" in sys.argv, profile="--profile" in sys.argv)
    print(_describe(plan_s, read_s, count))
