"""The dashboard's store ports (query with its new filters, count, tally, period_tally,
day_counts, bindings) give the same answers on every backend: each is checked against
adapters.memory.matches, the reference, on the items as the store gives them back, and
on a few cases worked out by hand."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from adapters.memory import has_reached, is_overdue, matches
from engine.model import Item, LedgerEntry
from engine.ports import BY_OVERDUE, ItemStore, Overdue, Paused, Query, Reached, Window

T0 = datetime(2021, 3, 31, 16, 0, tzinfo=UTC)  # 2021-04-01 00:00 in Shanghai: a quarter's edge
UNITS = ("总务处", "保卫处", "教务处", None)
STATES = {"hazard": ("reported", "rectifying", "closed"), "major_hazard": ("reported", "awaiting_funds", "closed"),
          "task": ("open", "done")}
FINAL = (("hazard", "closed"), ("major_hazard", "closed"), ("task", "done"))
OPEN = tuple((w, s) for w, states in STATES.items() for s in states if (w, s) not in FINAL)
BINDINGS = (("v1", "一般隐患"), ("v1", "重大隐患"), ("v2", "一般隐患"), (None, None))
PAUSED = (Paused("v1", "重大隐患", ("awaiting_funds",)),)


def _instant(rng: random.Random) -> datetime:
    """Near the quarter's edge often, exactly on it sometimes."""
    return T0 + rng.choice([timedelta(0), timedelta(microseconds=rng.choice([-1, 1])),
                            timedelta(hours=rng.randint(-2000, 2000)), timedelta(minutes=rng.randint(-90, 90))])


def _random_item(rng: random.Random, n: int) -> Item:
    """Some found after every window below, some in units found nowhere else."""
    workflow = rng.choice(list(STATES))
    kind = "task" if workflow == "task" else "hazard"
    version, rule = rng.choice(BINDINGS)
    found = _instant(rng)
    overdue = found + timedelta(days=rng.randint(-3, 40)) if rng.random() < 0.8 else None
    item = Item(None, kind, workflow, rng.choice(STATES[workflow]), f"事项{n}", found,
                category=rng.choice(["消防", "燃气", ""]), level=rng.choice(["一般", "重大"]),
                unit=rng.choice(UNITS), policy_version=version, rule=rule, overdue_at=overdue,
                paused_seconds=rng.choice([0, 0, 0, 3600, 86400 * 5]),
                entered_at=max(found, _instant(rng)) if rng.random() < 0.95 else None)
    return item


@pytest.fixture
def filled(store: ItemStore) -> list[Item]:
    rng = random.Random(2021)
    new = [(_random_item(rng, n), LedgerEntry(None, 0, "report", None, "reported", "郭晓明", T0)) for n in range(160)]
    ids = store.add_batch(new, [])
    stored = store.get_many(ids)
    return [stored[i] for i in ids]


def _queries(rng: random.Random) -> list[Query]:
    at = T0 + timedelta(days=10)
    reached = (Reached("v1", "一般隐患", ("保卫处",), T0), Reached("v1", "一般隐患", None, T0 + timedelta(days=3)),
               Reached("v2", "一般隐患", None, at))
    fixed = [
        Query(), Query(states=OPEN), Query(states=FINAL, entered_from=T0, entered_before=T0 + timedelta(days=30)),
        Query(unit=[None]), Query(unit=["总务处", None], kind=["hazard"]), Query(within=["保卫处"]), Query(within=[]),
        Query(level=["重大"], category=[""]), Query(found_from=T0, found_before=T0 + timedelta(hours=1)),
        Query(states=OPEN, overdue=Overdue(at, PAUSED)), Query(states=OPEN, overdue=Overdue(at), reached=reached),
        Query(overdue=Overdue(at), reached=()), Query(reached=reached),
        Query(states=OPEN, overdue=Overdue(at, PAUSED), order=BY_OVERDUE, limit=7, offset=3),
    ]
    for _ in range(30):
        fixed.append(Query(
            unit=rng.sample(UNITS, rng.randint(0, 2)), states=rng.choice([(), OPEN, FINAL]),
            kind=rng.choice([(), ("task",)]), found_before=rng.choice([None, T0]),
            entered_from=rng.choice([None, T0 - timedelta(days=20)]),
            overdue=rng.choice([None, Overdue(at, PAUSED), Overdue(T0)]),
            reached=rng.choice([None, reached]), order=rng.choice(["id", BY_OVERDUE])))
    return fixed


def _expected(items: list[Item], q: Query) -> list[int]:
    found = [i for i in items if matches(i, q)]
    if q.order == BY_OVERDUE:
        found.sort(key=lambda i: (i.level != "重大", i.overdue_from is None,
                                  i.overdue_from or T0, i.id or 0))
    end = q.offset + q.limit if q.limit else None
    return [i.id for i in found[q.offset:end] if i.id is not None]


def test_query_and_count_select_as_the_reference_does(store: ItemStore, filled: list[Item]) -> None:
    for q in _queries(random.Random(5)):
        assert [i.id for i in store.query(q)] == _expected(filled, q), q
        assert store.count(q) == sum(matches(i, q) for i in filled), q


def test_tally_groups_as_the_reference_does(store: ItemStore, filled: list[Item]) -> None:
    at = T0 + timedelta(days=10)
    overdue = Overdue(at, PAUSED)
    reached = [Reached("v1", "一般隐患", ("保卫处", "教务处"), T0), Reached("v1", "一般隐患", None, at),
               Reached("v2", "一般隐患", None, T0 - timedelta(days=1))]
    q = Query(states=OPEN)
    got = {(t.kind, t.workflow, t.state, t.unit, t.category, t.level): (t.count, t.overdue, t.reached)
           for t in store.tally(q, overdue, reached)}
    want: dict[tuple[object, ...], list[int]] = {}
    for i in filled:
        if matches(i, q):
            counts = want.setdefault((i.kind, i.workflow, i.state, i.unit, i.category, i.level), [0, 0, 0])
            late = is_overdue(i, overdue)
            counts[0] += 1
            counts[1] += late
            counts[2] += late and has_reached(i, reached)
    assert got == {k: tuple(v) for k, v in want.items()}
    assert sum(v[2] for v in got.values()) > 0 and sum(v[1] for v in got.values()) > sum(v[2] for v in got.values())


def test_period_tally_counts_found_and_closed_per_window(store: ItemStore, filled: list[Item]) -> None:
    windows = [Window(T0 - timedelta(days=91), T0), Window(T0, T0 + timedelta(days=20))]
    got = {r.unit: (r.found, r.new, r.closed, r.closed_in) for r in store.period_tally(Query(kind=["hazard"]),
                                                                                        FINAL, windows)}
    want: dict[str | None, tuple[list[int], ...]] = {}
    for i in filled:
        if i.kind != "hazard":
            continue
        shut = (i.workflow, i.state) in FINAL and i.entered_at is not None
        if i.found_at >= windows[-1].end and not (shut and i.entered_at and i.entered_at < windows[-1].end):
            continue  # counted in no window: no row for it
        rows = want.setdefault(i.unit, ([0, 0], [0, 0], [0, 0], [0, 0]))
        for n, w in enumerate(windows):
            rows[0][n] += i.found_at < w.end
            rows[1][n] += w.start <= i.found_at < w.end
            rows[2][n] += shut and i.entered_at is not None and i.entered_at < w.end
            rows[3][n] += shut and i.entered_at is not None and w.start <= i.entered_at < w.end
    assert got == {u: tuple(tuple(x) for x in rows) for u, rows in want.items()}


@pytest.mark.slow
@pytest.mark.parametrize("zone", ["Asia/Shanghai", "America/New_York", "Asia/Kathmandu"])
def test_day_counts_use_the_days_of_the_zone(store: ItemStore, filled: list[Item], zone: str) -> None:
    tz = ZoneInfo(zone)
    for column in ("found_at", "entered_at"):
        got = sorted(store.day_counts(Query(kind=["hazard"]), column, tz), key=str)
        want: dict[tuple[object, ...], int] = {}
        for i in filled:
            value = getattr(i, column)
            if i.kind == "hazard" and value is not None:
                key = (i.unit, value.astimezone(tz).date())
                want[key] = want.get(key, 0) + 1
        assert got == sorted(((u, d, n) for (u, d), n in want.items()), key=str)


def test_day_counts_across_a_daylight_saving_change(store: ItemStore) -> None:
    """New York, 2021-03-14: 04:59 UTC is 23:59 of the 13th, 07:30 UTC is 03:30 of the 14th."""
    tz = ZoneInfo("America/New_York")
    for at in (datetime(2021, 3, 14, 4, 59, tzinfo=UTC), datetime(2021, 3, 14, 7, 30, tzinfo=UTC),
               datetime(2021, 11, 7, 4, 30, tzinfo=UTC)):  # 00:30 EDT of 7 Nov
        store.add(Item(None, "hazard", "hazard", "reported", "x", at, unit="总务处"),
                  LedgerEntry(None, 0, "report", None, "reported", "郭晓明", at))
    days = sorted(d.isoformat() for _, d, _ in store.day_counts(Query(), "found_at", tz))
    assert days == ["2021-03-13", "2021-03-14", "2021-11-07"]


def test_bindings_are_the_pairs_in_use(store: ItemStore, filled: list[Item]) -> None:
    q = Query(states=OPEN)
    want = sorted({(i.policy_version, i.rule) for i in filled if matches(i, q) and i.rule and i.policy_version})
    assert store.bindings(q) == want and len(want) == 3


def test_overdue_from_is_kept_on_every_write(store: ItemStore) -> None:
    due = T0 + timedelta(days=2)
    item = store.add(Item(None, "hazard", "hazard", "reported", "x", T0, overdue_at=due, paused_seconds=60),
                     LedgerEntry(None, 0, "report", None, "reported", "郭晓明", T0))
    assert item.overdue_from == due + timedelta(seconds=60)
    assert item.id is not None

    def decide(before: Item) -> tuple[Item, LedgerEntry]:
        after = before.copy()
        after.paused_seconds, after.state = 3600, "rectifying"
        return after, LedgerEntry(before.id, 0, "start", "reported", "rectifying", "马建军", T0)

    store.transition(item.id, decide)
    assert store.get(item.id).overdue_from == due + timedelta(hours=1)
    [batch_id] = store.add_batch([(Item(None, "hazard", "hazard", "reported", "y", T0, overdue_at=due),
                                   LedgerEntry(None, 0, "report", None, "reported", "郭晓明", T0))], [])
    assert store.get(batch_id).overdue_from == due
    overdue = Query(overdue=Overdue(due + timedelta(minutes=30)))
    assert [i.id for i in store.query(overdue)] == [batch_id]
