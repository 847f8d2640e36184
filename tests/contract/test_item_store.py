"""The ItemStore's promises, the same on every backend (memory, SQLite, PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from engine.errors import AlreadyExists, ConcurrentUpdate, NotFound, StoreError
from engine.model import Item, LedgerEntry, verify_chain
from engine.ports import ItemStore, Query

T0 = datetime(2021, 3, 1, 1, 0, tzinfo=UTC)
SHANGHAI = timezone(timedelta(hours=8))
FINALS = {"hazard": ["closed"], "task": ["done"]}


def _item(title: str = "楼梯扶手松动", *, kind: str = "hazard", state: str = "reported", unit: str = "总务处",
          category: str = "建筑与施工", origin: str | None = None, **kw: object) -> Item:
    return Item(None, kind, kind, state, title, T0, category=category, unit=unit, origin=origin, **kw)  # type: ignore[arg-type]


def _first(actor: str = "郭晓明", at: datetime = T0) -> LedgerEntry:
    return LedgerEntry(None, 0, "report", None, "reported", actor, at)


def _add(store: ItemStore, **kw: object) -> Item:
    return store.add(_item(**kw), _first())  # type: ignore[arg-type]


def _move(to: str, actor: str = "王建国", **changes: list[object]) -> object:
    """A `decide` for transition: the item in state `to`, with one ledger entry."""
    def decide(item: Item) -> tuple[Item, LedgerEntry]:
        after = item.copy()
        after.state = to
        for name, (_, new) in changes.items():
            after.set(name, new)
        return after, LedgerEntry(item.id, 0, to, item.state, to, actor, T0 + timedelta(hours=item.version),
                                  changes={k: list(v) for k, v in changes.items()})
    return decide


# -- add, get ------------------------------------------------------------------------


def test_add_returns_the_item_with_its_id_version_and_first_ledger_row(store: ItemStore) -> None:
    """A new item gets id 1, version 1, and one sealed ledger row that its head names."""
    item = _add(store)
    assert (item.id, item.version, item.ledger_seq) == (1, 1, 1)
    [entry] = store.history(1)
    assert (entry.item_id, entry.seq, entry.prev_hash, entry.event) == (1, 1, "", "report")
    assert item.ledger_head == entry.hash and verify_chain([entry]) is None
    assert item.created_at is not None and item.created_at == item.updated_at


def test_ids_follow_each_other_without_gaps_also_after_a_failed_write(store: ItemStore) -> None:
    """Ids count up from 1; a write that fails takes no number."""
    assert _add(store).id == 1
    _add(store, origin="o:1")
    with pytest.raises(AlreadyExists):
        _add(store, origin="o:1")
    assert _add(store).id == 3
    assert store.add_batch([(_item(), _first()), (_item(), _first())], []) == [4, 5]


def test_get_reads_back_what_was_stored_with_instants_in_utc(store: ItemStore) -> None:
    """Every value comes back equal; instants given in another zone come back as UTC."""
    local = T0.astimezone(SHANGHAI)
    stored = store.add(_item(responsible="张海峰", location="教学楼", deadline="7天", level="重大",
                             fields={"measures": "紧固", "n": 2}, due=date(2021, 3, 8), assigned_at=local,
                             rule="一般隐患", policy_version="v1", provisional=True, paused_seconds=5),
                       _first(at=local))
    got = store.get(1)
    assert got == stored
    assert got.assigned_at == T0 and got.assigned_at is not None and got.assigned_at.utcoffset() == timedelta(0)
    assert got.fields == {"measures": "紧固", "n": 2} and got.due == date(2021, 3, 8)
    assert store.history(1)[0].at.utcoffset() == timedelta(0)


def test_items_read_are_copies(store: ItemStore) -> None:
    """Changing an item read from the store changes nothing stored."""
    _add(store)
    got = store.get(1)
    got.state, got.fields["x"] = "closed", 1
    assert store.get(1).state == "reported" and store.get(1).fields == {}


@pytest.mark.parametrize("missing", [0, 2, -1, 2**63, 10**20])
def test_get_of_an_unknown_id_is_not_found(store: ItemStore, missing: int) -> None:
    """NotFound names the id, also for numbers no row could have."""
    _add(store)
    with pytest.raises(NotFound, match=str(missing)):
        store.get(missing)


def test_get_many_returns_the_existing_ones_by_id(store: ItemStore) -> None:
    """Unknown ids are left out."""
    _add(store, title="甲")
    _add(store, title="乙")
    found = store.get_many([2, 1, 99])
    assert sorted(found) == [1, 2] and found[2].title == "乙"
    assert store.get_many([]) == {}


# -- origins ---------------------------------------------------------------------------


def test_an_origin_is_taken_once(store: ItemStore) -> None:
    """A second item with a taken origin is AlreadyExists naming it, and nothing is written."""
    _add(store, origin="obligation:q:2021-03-31:总务处")
    with pytest.raises(AlreadyExists) as err:
        _add(store, origin="obligation:q:2021-03-31:总务处")
    assert err.value.origin == "obligation:q:2021-03-31:总务处"
    assert len(store.query(Query())) == 1 and store.history(2) == []


def test_origins_and_by_origins_find_taken_origins(store: ItemStore) -> None:
    """origins says which candidates are taken; by_origins gives their items."""
    _add(store, origin="list:1")
    _add(store, origin="list:2")
    _add(store)
    assert store.origins(["list:1", "list:3", "list:2"]) == {"list:1", "list:2"}
    found = store.by_origins(["list:2", "list:9"])
    assert list(found) == ["list:2"] and found["list:2"].id == 2
    assert store.origins([]) == set()


# -- add_batch -------------------------------------------------------------------------


def test_add_batch_inserts_new_and_writes_changed_together(store: ItemStore) -> None:
    """New items get ids in order; a changed item gets its version and ledger row."""
    first = _add(store, origin="list:1")
    changed = store.get(1)
    changed.title = "楼梯扶手松动（复核）"
    entry = LedgerEntry(1, 0, "import", "reported", "reported", "导入", T0, changes={"title": [first.title, changed.title]})
    ids = store.add_batch([(_item(origin="list:2"), _first()), (_item(origin="list:3"), _first())],
                          [(changed, 1, entry)])
    assert ids == [2, 3]
    assert store.get(1).title == "楼梯扶手松动（复核）" and store.get(1).version == 2
    assert [e.seq for e in store.history(1)] == [1, 2] and verify_chain(store.history(1)) is None
    assert store.get(3).origin == "list:3"


def test_a_batch_names_only_the_origins_already_taken_and_writes_nothing(store: ItemStore) -> None:
    """An import racing another writer is told which rows were taken; nothing of the batch stays."""
    _add(store, origin="list:1")
    with pytest.raises(AlreadyExists) as err:
        store.add_batch([(_item(origin=f"list:{n}"), _first()) for n in (2, 3, 1)], [])
    assert err.value.origin == "list:1"
    assert [i.origin for i in store.query(Query())] == ["list:1"]
    assert _add(store).id == 2


def test_a_batch_with_a_missing_required_column_fails_naming_it(store: ItemStore) -> None:
    """An integrity error other than a taken origin keeps the database's own message."""
    broken = _item(origin="list:9")
    broken.workflow = None  # type: ignore[assignment]
    with pytest.raises(StoreError) as err:
        store.add_batch([(_item(origin="list:8"), _first()), (broken, _first())], [])
    assert not isinstance(err.value, AlreadyExists) and "workflow" in str(err.value)
    assert store.query(Query()) == []


def test_a_batch_with_a_stale_change_writes_nothing(store: ItemStore) -> None:
    """ConcurrentUpdate when a changed item was written since it was read; no new item stays."""
    _add(store)
    stale = store.get(1)
    store.transition(1, _move("assigned"))  # type: ignore[arg-type]
    stale.title = "别的标题"
    entry = LedgerEntry(1, 0, "import", "reported", "reported", "导入", T0, changes={"title": ["x", "别的标题"]})
    with pytest.raises(ConcurrentUpdate):
        store.add_batch([(_item(origin="list:2"), _first())], [(stale, 1, entry)])
    assert len(store.query(Query())) == 1 and store.get(1).version == 2 and len(store.history(1)) == 2


def test_a_batch_changing_an_unknown_item_is_not_found(store: ItemStore) -> None:
    """A changed item that does not exist fails the whole batch."""
    ghost = _item()
    ghost.id = 7
    with pytest.raises(NotFound):
        store.add_batch([(_item(), _first())], [(ghost, 1, _first())])
    assert store.query(Query()) == []


# -- transition, update ---------------------------------------------------------------


def test_transition_writes_the_decision_and_chains_the_ledger(store: ItemStore) -> None:
    """(before, after) come back; the item moves one version per transition, one row each."""
    _add(store)
    before, after = store.transition(1, _move("assigned", responsible=[None, "张海峰"]))  # type: ignore[arg-type]
    assert (before.state, before.version) == ("reported", 1)
    assert (after.state, after.version, after.ledger_seq) == ("assigned", 2, 2)
    store.transition(1, _move("rectifying"))  # type: ignore[arg-type]
    got = store.get(1)
    history = store.history(1)
    assert (got.state, got.version, got.responsible) == ("rectifying", 3, "张海峰")
    assert [e.seq for e in history] == [1, 2, 3] and verify_chain(history) is None
    assert got.ledger_head == history[-1].hash and after.ledger_head == history[1].hash
    assert history[1].prev_hash == history[0].hash and history[2].from_state == "assigned"


def test_a_column_changed_without_its_ledger_record_is_not_written(store: ItemStore) -> None:
    """Only the user columns the entry records as changed are written (state and fields always)."""
    _add(store)

    def decide(item: Item) -> tuple[Item, LedgerEntry]:
        after = item.copy()
        after.state, after.title, after.unit, after.fields = "assigned", "悄悄改的", "校长办", {"k": "v"}
        return after, LedgerEntry(1, 0, "assign", "reported", "assigned", "王建国", T0, changes={"unit": ["总务处", "校长办"]})

    store.transition(1, decide)
    got = store.get(1)
    assert (got.state, got.title, got.unit, got.fields) == ("assigned", "楼梯扶手松动", "校长办", {"k": "v"})


def test_transition_rolls_back_whatever_decide_raises(store: ItemStore) -> None:
    """Nothing is written when `decide` fails."""
    _add(store)

    def fails(item: Item) -> tuple[Item, LedgerEntry]:
        raise RuntimeError("refused")

    with pytest.raises(RuntimeError):
        store.transition(1, fails)
    assert store.get(1).version == 1 and len(store.history(1)) == 1


def test_transition_of_an_unknown_item_is_not_found(store: ItemStore) -> None:
    """NotFound, also for ids beyond any row."""
    for missing in (5, 2**64):
        with pytest.raises(NotFound):
            store.transition(missing, _move("assigned"))  # type: ignore[arg-type]


def test_a_stale_version_is_refused_and_writes_nothing(store: ItemStore) -> None:
    """update with an old expected version is ConcurrentUpdate; the ledger keeps its length."""
    _add(store)
    stale = store.get(1)
    store.transition(1, _move("assigned"))  # type: ignore[arg-type]
    draft = stale.copy()
    draft.state = "rectifying"
    with pytest.raises(ConcurrentUpdate):
        store.update(draft, stale.version, LedgerEntry(1, 0, "start", "assigned", "rectifying", "张海峰", T0))
    assert len(store.history(1)) == 2 and store.get(1).state == "assigned"


def test_update_writes_at_the_expected_version(store: ItemStore) -> None:
    """The item comes back with its new version and ledger head; the store has the same."""
    _add(store)
    item = store.get(1)
    item.state, item.next_action_at = "assigned", T0 + timedelta(days=1)
    written = store.update(item, 1, LedgerEntry(1, 0, "assign", "reported", "assigned", "王建国", T0))
    assert (written.version, written.ledger_seq) == (2, 2)
    got = store.get(1)
    assert got.state == "assigned" and got.next_action_at == T0 + timedelta(days=1)
    assert got.ledger_head == written.ledger_head == store.history(1)[-1].hash


def test_update_of_an_unknown_item_is_not_found(store: ItemStore) -> None:
    ghost = _item()
    ghost.id = 3
    with pytest.raises(NotFound):
        store.update(ghost, 1, _first())


# -- queries ---------------------------------------------------------------------------


def test_query_filters_by_any_of_each_given_value_in_id_order(store: ItemStore) -> None:
    """Each filter keeps items with one of its values; filters combine; limit cuts."""
    _add(store, unit="总务处", category="消防")
    _add(store, unit="保卫处", category="消防")
    _add(store, unit="保卫处", category="食品", kind="task", state="open")
    _add(store, unit="教务处", category="消防")
    ids = lambda q: [i.id for i in store.query(q)]  # noqa: E731
    assert ids(Query()) == [1, 2, 3, 4]
    assert ids(Query(unit=["保卫处", "教务处"])) == [2, 3, 4]
    assert ids(Query(unit=["保卫处"], category=["消防"])) == [2]
    assert ids(Query(kind=["task"])) == [3] and ids(Query(state=["reported"])) == [1, 2, 4]
    assert ids(Query(category=["消防"], limit=2)) == [1, 2]


def test_provisional_open_lists_open_items_with_a_provisional_deadline(store: ItemStore) -> None:
    """Provisional items in a final state of their workflow are left out."""
    _add(store, provisional=True)
    _add(store)
    _add(store, provisional=True, state="closed")
    _add(store, provisional=True, kind="task", state="closed")  # "closed" is not final for tasks
    assert store.provisional_open(FINALS) == [1, 4]
    assert store.provisional_open({}) == [1, 3, 4]


def test_rule_bindings_open_lists_each_rule_deadline_pair_once(store: ItemStore) -> None:
    """Items with their own deadline, without a rule or version, or final, are left out."""
    _add(store, rule="一般隐患", policy_version="v1")
    _add(store, rule="一般隐患", policy_version="v1")
    _add(store, rule="重大隐患", policy_version="v1")
    _add(store, rule="一般隐患", policy_version="v2", deadline="3天")
    _add(store, rule="一般隐患", policy_version="v0", state="closed")
    _add(store, rule="一般隐患")
    _add(store, rule="消防", policy_version="v2")
    assert store.rule_bindings_open(FINALS) == [("v1", "一般隐患"), ("v1", "重大隐患"), ("v2", "消防")]


def test_deadlines_open_matches_words_in_own_deadlines_and_rule_bindings(store: ItemStore) -> None:
    """An own deadline containing a word (taken literally), or a rule's deadline named in `rules`."""
    _add(store, deadline="开学前")
    _add(store, deadline="7天")
    _add(store, deadline="每学期末", state="closed")
    _add(store, rule="开学", policy_version="v1")
    _add(store, rule="开学", policy_version="v1", deadline="3天")
    _add(store, deadline="100%_完成")
    assert store.deadlines_open(FINALS, ["开学", "学期"], [("v1", "开学")]) == [1, 4]
    assert store.deadlines_open(FINALS, ["%_"], []) == [6]
    assert store.deadlines_open(FINALS, ["_"], []) == [6]
    assert store.deadlines_open(FINALS, [], []) == []
    assert store.deadlines_open({}, ["学期"], []) == [3]


# -- ledgers ---------------------------------------------------------------------------


def test_histories_reads_many_ledgers_at_once(store: ItemStore) -> None:
    """The batch read returns each item's ledger in order, the same as one by one; unknown ids are empty."""
    _add(store)
    _add(store)
    store.transition(2, _move("assigned"))  # type: ignore[arg-type]
    both = store.histories([1, 2, 999])
    assert both[1] == store.history(1) and both[2] == store.history(2)
    assert [e.seq for e in both[2]] == [1, 2] and both[999] == []
    assert store.history(999) == [] and store.history(2**64) == []


def test_chains_yield_every_item_with_its_ledger_in_batches(store: ItemStore) -> None:
    """In id order, `batch` at a time, each with its whole ledger."""
    for _ in range(5):
        _add(store)
    store.transition(3, _move("assigned"))  # type: ignore[arg-type]
    batches = list(store.chains(batch=2))
    assert [[i.id for i, _ in b] for b in batches] == [[1, 2], [3, 4], [5]]
    item, entries = batches[1][0]
    assert item.version == 2 and [e.seq for e in entries] == [1, 2]


def test_an_empty_store_has_no_chains(store: ItemStore) -> None:
    assert list(store.chains()) == []


def test_no_ledger_orphans_in_a_consistent_store(store: ItemStore) -> None:
    """Every ledger row's item exists."""
    _add(store)
    store.transition(1, _move("assigned"))  # type: ignore[arg-type]
    assert store.ledger_orphans() == []


def test_states_in_use_counts_items_per_workflow_and_state(store: ItemStore) -> None:
    _add(store)
    _add(store)
    _add(store, kind="task", state="open")
    store.transition(2, _move("assigned"))  # type: ignore[arg-type]
    assert sorted(store.states_in_use()) == [("hazard", "assigned", 1), ("hazard", "reported", 1), ("task", "open", 1)]


def test_meta_tells_the_ledger_basis_of_a_new_store(store: ItemStore) -> None:
    """A fresh store records its ledgers with the plan basis from item 1; unknown keys are None."""
    assert store.meta("ledger_basis_from") == "1"
    assert store.meta("no such key") is None


def test_recorded_before_tells_whether_the_ledger_holds_an_older_row(store: ItemStore) -> None:
    """An empty store holds nothing before any instant; a stored item's first row (at T0)
    and a later one (at T0 + 1 h) are older than an instant after them, not than T0."""
    assert store.recorded_before(T0 + timedelta(days=9999)) is False
    _add(store)
    store.transition(1, _move("assigned"))  # type: ignore[arg-type]
    assert store.recorded_before(T0) is False
    assert store.recorded_before(T0 + timedelta(microseconds=1)) is True
    assert store.recorded_before((T0 + timedelta(seconds=1)).astimezone(SHANGHAI)) is True


# -- policies --------------------------------------------------------------------------


def test_a_policy_version_is_kept_once_with_its_sources(store: ItemStore) -> None:
    """The first save of a version wins; unknown versions are None."""
    store.save_policy("v1", T0, {"rules.yaml": "一般隐患: 7天"})
    store.save_policy("v1", T0 + timedelta(days=1), {"rules.yaml": "改过"})
    assert store.policy_sources("v1") == (T0, {"rules.yaml": "一般隐患: 7天"})
    assert store.policy_sources("v9") is None


def test_policy_versions_count_the_items_bound_to_each_in_order_of_loading(store: ItemStore) -> None:
    store.save_policy("v2", T0 + timedelta(days=2), {})
    store.save_policy("v1", T0, {})
    _add(store, policy_version="v1")
    _add(store, policy_version="v1")
    _add(store, policy_version="v3")
    assert store.policy_versions() == [("v1", T0, 2), ("v2", T0 + timedelta(days=2), 0)]
