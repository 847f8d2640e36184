"""The ExtensionStore's promises, the same on every backend (memory, SQLite, PostgreSQL):
a request and its answer are written with the item's ledger row in one transaction, at
most one request per item is pending, and an answer to a request no longer pending
writes nothing."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from engine.errors import ConcurrentUpdate, NotFound, Refused
from engine.extensions import APPROVED, PENDING, REFUSED, Extension, ExtensionNotice, ExtensionWrite
from engine.model import Item, LedgerEntry, verify_chain
from engine.ports import ItemStore
from engine.recipients import Addressee
from tests.contract.test_item_store import T0, _add

Decide = Callable[[Item, Sequence[Extension]], ExtensionWrite]


def _asked(item: Item, at: datetime = T0, new_due: date = date(2021, 4, 2)) -> ExtensionWrite:
    request = Extension(None, item.id or 0, PENDING, "马建军", at, "2021年4月2日前", new_due, date(2021, 3, 19),
                        "材料未到货")
    entry = LedgerEntry(item.id, 0, "extension_request", item.state, item.state, "马建军", at, "申请延期")
    notice = ExtensionNotice("延期申请", "马建军申请延期至2021年4月2日", (Addressee("safety_office", "综治办", "z@x.org"),), at)
    return ExtensionWrite(item.copy(), entry, request, (notice,))


def ask(at: datetime = T0) -> Decide:
    return lambda item, existing: _asked(item, at)


def answer(status: str, by: str = "周安宁", at: datetime = T0 + timedelta(hours=2)) -> Decide:
    def decide(item: Item, existing: Sequence[Extension]) -> ExtensionWrite:
        [pending] = [e for e in existing if e.status == PENDING]
        entry = LedgerEntry(item.id, 0, f"extension_{status}", item.state, item.state, by, at, "答复")
        return ExtensionWrite(item.copy(), entry, replace(pending, status=status, answered_by=by, answered_at=at,
                                                          answer_note="同意"))
    return decide


def test_a_request_is_stored_with_its_ledger_row_and_listed_as_pending(store: ItemStore) -> None:
    """A new request gets an id, is read back as written (instants in UTC), is pending, and
    its item has one more ledger row, chained, at the next version."""
    item = _add(store)
    after, written = store.extend(1, ask(T0.astimezone(UTC)))
    assert written.id is not None and written.status == PENDING
    assert store.extensions(1) == [written] == store.pending_extensions()
    [read] = store.extensions(1)
    assert read.requested_at == T0 and read.requested_at.utcoffset() == timedelta(0)
    assert (read.new_due, read.old_due, read.reason, read.deadline) == (date(2021, 4, 2), date(2021, 3, 19),
                                                                        "材料未到货", "2021年4月2日前")
    history = store.history(1)
    assert [e.event for e in history] == ["report", "extension_request"]
    assert verify_chain(history) is None
    assert store.get(1).version == item.version + 1 == after.version


def test_an_answer_is_written_in_place_and_leaves_nothing_pending(store: ItemStore) -> None:
    _add(store)
    _, asked = store.extend(1, ask())
    _, answered = store.extend(1, answer(APPROVED))
    assert answered.id == asked.id and answered.status == APPROVED
    [read] = store.extensions(1)
    assert (read.status, read.answered_by, read.answer_note) == (APPROVED, "周安宁", "同意")
    assert read.answered_at == T0 + timedelta(hours=2)
    assert store.pending_extensions() == []
    assert [e.event for e in store.history(1)] == ["report", "extension_request", "extension_approved"]


def test_a_second_request_while_one_is_pending_is_a_concurrent_update_and_writes_nothing(store: ItemStore) -> None:
    """Whatever `decide` says, the store keeps one pending request per item."""
    _add(store)
    store.extend(1, ask())
    version = store.get(1).version
    with pytest.raises(ConcurrentUpdate):
        store.extend(1, ask(T0 + timedelta(hours=1)))
    assert len(store.extensions(1)) == 1 and store.get(1).version == version
    assert len(store.history(1)) == 2


def test_answering_a_request_no_longer_pending_writes_nothing(store: ItemStore) -> None:
    """Two approvers read the same pending request; the second one's answer, decided on
    what it read, loses: ConcurrentUpdate, and the first answer stands."""
    _add(store)
    store.extend(1, ask())
    stale = store.extensions(1)
    store.extend(1, answer(APPROVED, "周安宁"))
    version = store.get(1).version

    def late(item: Item, existing: Sequence[Extension]) -> ExtensionWrite:
        return answer(REFUSED, "郭晓明")(item, stale)

    with pytest.raises(ConcurrentUpdate):
        store.extend(1, late)
    [read] = store.extensions(1)
    assert (read.status, read.answered_by) == (APPROVED, "周安宁")
    assert store.get(1).version == version and len(store.history(1)) == 3


def test_whatever_decide_raises_rolls_everything_back(store: ItemStore) -> None:
    _add(store)

    def refuse(item: Item, existing: Sequence[Extension]) -> ExtensionWrite:
        raise Refused(item.id, "申请延期", "不行")

    with pytest.raises(Refused):
        store.extend(1, refuse)
    assert store.extensions(1) == [] and len(store.history(1)) == 1 and store.get(1).version == 1


def test_decide_sees_the_items_requests_oldest_first_and_only_its_own(store: ItemStore) -> None:
    _add(store)
    _add(store, title="配电箱未上锁")
    store.extend(1, ask())
    store.extend(1, answer(REFUSED))
    store.extend(2, ask())
    store.extend(1, ask(T0 + timedelta(days=1)))
    seen: list[list[str]] = []

    def look(item: Item, existing: Sequence[Extension]) -> ExtensionWrite:
        seen.append([e.status for e in existing])
        return answer(APPROVED)(item, existing)

    store.extend(1, look)
    assert seen == [[REFUSED, PENDING]]
    assert [e.item_id for e in store.pending_extensions()] == [2]
    assert [e.status for e in store.extensions(2)] == [PENDING]


@pytest.mark.parametrize("missing", [99, 2**63, 0])
def test_extending_an_unknown_item_is_not_found(store: ItemStore, missing: int) -> None:
    with pytest.raises(NotFound):
        store.extend(missing, ask())
    assert store.extensions(missing) == []
