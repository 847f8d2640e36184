"""The EvidenceStore's promises, the same for a directory, SQLite and PostgreSQL; and the
item store's attachments (memory, SQLite, PostgreSQL): which files they name, and the
per-item file limit counted in the transaction that writes the row."""

from __future__ import annotations

import hashlib
import os
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text

from adapters.evidence.stores import DatabaseEvidence, DirectoryEvidence
from engine.clock import FakeClock
from engine.errors import NotFound, StoreError
from engine.evidence import ATTACHMENTS, Attachment, EvidenceRefused, ledger_change
from engine.model import Item, LedgerEntry, verify_chain
from engine.ports import EvidenceStore, ItemStore

T0 = datetime(2021, 3, 1, 1, 0, tzinfo=UTC)
PHOTO = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 40


def test_put_returns_the_sha256_and_get_gives_the_bytes_back(evidence: EvidenceStore) -> None:
    digest = evidence.put(PHOTO)
    assert digest == hashlib.sha256(PHOTO).hexdigest()
    assert evidence.exists(digest)
    assert evidence.get(digest) == PHOTO


def test_the_same_bytes_twice_are_one_file(evidence: EvidenceStore) -> None:
    assert evidence.put(PHOTO) == evidence.put(PHOTO)
    assert evidence.get(evidence.put(b"")) == b""


def test_an_unknown_or_malformed_hash_is_not_found(evidence: EvidenceStore) -> None:
    missing = hashlib.sha256(b"never stored").hexdigest()
    assert not evidence.exists(missing)
    for name in (missing, "../../etc/passwd", missing.upper(), missing[:12], ""):
        assert not evidence.exists(name)
        with pytest.raises(NotFound, match="找不到佐证文件"):
            evidence.get(name)


def test_many_writers_of_the_same_file_keep_one_intact_copy(evidence: EvidenceStore) -> None:
    errors: list[BaseException] = []

    def put() -> None:
        try:
            evidence.put(PHOTO)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=put) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert evidence.get(hashlib.sha256(PHOTO).hexdigest()) == PHOTO


def test_remove_forgets_one_file_and_it_can_be_kept_again(evidence: EvidenceStore) -> None:
    kept, gone = evidence.put(PHOTO), evidence.put(b"kept for a write that failed")
    assert evidence.missing([kept, gone]) == set()
    evidence.remove(gone)
    assert not evidence.exists(gone) and evidence.get(kept) == PHOTO
    assert evidence.missing([kept, gone, "../x"]) == {gone, "../x"} and evidence.missing([]) == set()
    with pytest.raises(NotFound, match="找不到佐证文件"):
        evidence.get(gone)
    for name in (gone, "../../etc/passwd", gone.upper(), ""):  # nothing there: nothing to do
        evidence.remove(name)
    assert evidence.put(b"kept for a write that failed") == gone and evidence.exists(gone)


def test_stored_before_lists_the_files_kept_before_an_instant(evidence: EvidenceStore) -> None:
    now = datetime.now(UTC)
    if isinstance(evidence, DatabaseEvidence):
        evidence.clock = FakeClock(now - timedelta(days=2))
    old = evidence.put(b"kept two days ago")
    if isinstance(evidence, DirectoryEvidence):
        os.utime(evidence.path(old), ((now - timedelta(days=2)).timestamp(),) * 2)
    else:
        evidence.clock = FakeClock(now)
    new = evidence.put(b"kept now")
    assert evidence.stored_before(now - timedelta(days=1)) == [old]
    assert sorted(evidence.stored_before(now + timedelta(minutes=1))) == sorted([old, new])
    assert evidence.stored_before(now - timedelta(days=3)) == []


def test_the_database_never_removes_a_file_an_attachment_names(database_evidence: DatabaseEvidence) -> None:
    sql = database_evidence.store
    photo, thumb, loose = (database_evidence.put(data) for data in (PHOTO, b"thumbnail", b"loose"))
    sql.add(_item(), LedgerEntry(None, 0, "report", None, "reported", "郭晓明", T0,
                                 changes=ledger_change([_file(PHOTO, thumbnail=thumb)])))
    for name in (photo, thumb, loose):
        database_evidence.remove(name)
    assert database_evidence.exists(photo) and database_evidence.exists(thumb) and not database_evidence.exists(loose)
    # Not even behind rectify's back: the database itself refuses (migration 0013).
    for name in (photo, thumb):
        with pytest.raises(StoreError, match="append-only"), sql.write() as conn:
            conn.execute(text("DELETE FROM evidence_blobs WHERE sha256 = :s"), {"s": name})
    with pytest.raises(StoreError, match="append-only"), sql.write() as conn:
        conn.execute(text("UPDATE evidence_blobs SET size = 1 WHERE sha256 = :s"), {"s": photo})
    assert database_evidence.get(photo) == PHOTO and database_evidence.get(thumb) == b"thumbnail"


def test_a_directory_store_writes_content_addressed_files_and_no_temporaries(tmp_path) -> None:  # type: ignore[no-untyped-def]
    store = DirectoryEvidence(tmp_path / "ev")
    digest = store.put(PHOTO)
    assert (tmp_path / "ev" / digest[:2] / digest[2:]).read_bytes() == PHOTO
    assert [p.name for p in (tmp_path / "ev" / digest[:2]).iterdir()] == [digest[2:]]


def test_a_file_changed_on_disk_is_reported_not_served(tmp_path) -> None:  # type: ignore[no-untyped-def]
    store = DirectoryEvidence(tmp_path / "ev")
    digest = store.put(PHOTO)
    store.path(digest).write_bytes(b"<html>swapped</html>")
    with pytest.raises(StoreError, match="内容与其哈希不符"):
        store.get(digest)
    assert store.put(PHOTO) == digest and store.get(digest) == PHOTO  # putting it again repairs it


# -- attachments on the item store -----------------------------------------------------


def _file(data: bytes, name: str = "整改前.jpg", **kw: object) -> Attachment:
    return Attachment(hashlib.sha256(data).hexdigest(), name, "image/jpeg", len(data), **kw)  # type: ignore[arg-type]


def _item() -> Item:
    return Item(None, "hazard", "hazard", "reported", "消防通道堵塞", T0, category="消防", unit="总务处")


def test_a_ledger_row_carrying_files_attaches_them_in_the_same_write(store: ItemStore) -> None:
    before, after = _file(b"before", width=4000, height=3000, taken_at="2021-02-28T10:15:00",
                          latitude=31.23, longitude=121.47), _file(b"after", "整改后.jpg")
    item = store.add(_item(), LedgerEntry(None, 0, "report", None, "reported", "郭晓明", T0,
                                          changes=ledger_change([before])))

    def decide(current: Item) -> tuple[Item, LedgerEntry]:
        draft = current.copy()
        draft.state = "verified"
        return draft, LedgerEntry(current.id, 0, "verify", "reported", "verified", "周安宁",
                                  T0 + timedelta(hours=1), changes=ledger_change([after, after]))

    store.transition(int(item.id or 0), decide)
    listed = store.attachments(int(item.id or 0))
    assert [(a.seq, a.attachment, a.uploaded_by) for a in listed] == [(1, before, "郭晓明"), (2, after, "周安宁")]
    assert listed[1].uploaded_at == T0 + timedelta(hours=1)
    history = store.history(int(item.id or 0))
    assert verify_chain(history) is None
    assert history[1].changes[ATTACHMENTS] == [None, [after.record()]]
    assert history[1].changes[ATTACHMENTS][1][0] == {"sha256": after.sha256, "name": "整改后.jpg",
                                                     "type": "image/jpeg", "size": 5}


def test_a_write_that_fails_attaches_nothing(store: ItemStore) -> None:
    item = store.add(_item(), LedgerEntry(None, 0, "report", None, "reported", "郭晓明", T0))

    def refuse(current: Item) -> tuple[Item, LedgerEntry]:
        raise RuntimeError("decided against it")

    with pytest.raises(RuntimeError):
        store.transition(int(item.id or 0), refuse)
    assert store.attachments(int(item.id or 0)) == []


def test_add_attachments_to_an_item_or_a_row_once_each(store: ItemStore) -> None:
    item = store.add(_item(), LedgerEntry(None, 0, "report", None, "reported", "郭晓明", T0))
    first = _file(b"plan", "整改方案.pdf")
    first = Attachment(first.sha256, first.name, "application/pdf", first.size)
    store.add_attachments(int(item.id or 0), None, [first], "马建军", T0)
    listed = store.add_attachments(int(item.id or 0), None, [first, _file(b"x")], "马建军", T0)
    assert [(a.seq, a.attachment.name) for a in listed] == [(None, "整改方案.pdf"), (None, "整改前.jpg")]
    assert store.attachments(999) == []
    with pytest.raises(NotFound):
        store.add_attachments(999, None, [first], "马建军", T0)


def test_referenced_names_the_files_and_thumbnails_attachments_name(store: ItemStore) -> None:
    thumb = hashlib.sha256(b"thumb").hexdigest()
    photo, loose = _file(b"photo", thumbnail=thumb), _file(b"loose")
    store.add(_item(), LedgerEntry(None, 0, "report", None, "reported", "郭晓明", T0, changes=ledger_change([photo])))
    unknown = hashlib.sha256(b"never attached").hexdigest()
    assert store.referenced([photo.sha256, thumb, loose.sha256, unknown]) == {photo.sha256, thumb}
    assert store.referenced([]) == set()
    assert store.referenced(["not a hash", "'; DROP TABLE attachments; --"]) == set()


def _carrying(who: str, *data: bytes, at: datetime = T0 + timedelta(hours=1)) -> Any:
    """A decide that adds a note row carrying these files (after a pause, when given)."""
    def decide(current: Item) -> tuple[Item, LedgerEntry]:
        return current.copy(), LedgerEntry(current.id, 0, "note", current.state, current.state, who, at,
                                           changes=ledger_change([_file(d, f"{who}-{n}.jpg") for n, d in enumerate(data)]))
    return decide


def test_a_transition_counts_the_items_files_against_the_limit_it_is_given(store: ItemStore) -> None:
    item = store.add(_item(), LedgerEntry(None, 0, "report", None, "reported", "郭晓明", T0,
                                          changes=ledger_change([_file(b"first")])))
    i = int(item.id or 0)
    store.transition(i, _carrying("马建军", b"a", b"b"), max_files=3)
    with pytest.raises(EvidenceRefused, match="文件“周安宁-0.jpg”不能作为佐证：每个事项最多 3 个佐证文件，本事项已有 3 个"):
        store.transition(i, _carrying("周安宁", b"c"), max_files=3)
    assert len(store.attachments(i)) == 3 and len(store.history(i)) == 2
    store.transition(i, _carrying("周安宁", b"c"))  # no limit given: none counted
    assert len(store.attachments(i)) == 4


def test_two_fires_at_once_that_together_pass_the_file_limit_end_one_accepted_one_refused(store: ItemStore) -> None:
    """Each brings two files to an item holding one, the limit four: alone each is
    within it, together they are not. The count is made in the transaction that
    writes the row, holding the item, so the second counts the first's files."""
    item = store.add(_item(), LedgerEntry(None, 0, "report", None, "reported", "郭晓明", T0,
                                          changes=ledger_change([_file(b"first")])))
    i = int(item.id or 0)
    start = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def fire(who: str, *data: bytes) -> None:
        slow = _carrying(who, *data)

        def decide(current: Item) -> tuple[Item, LedgerEntry]:
            time.sleep(0.3)  # the other fire is under way meanwhile
            return slow(current)  # type: ignore[no-any-return]

        start.wait()
        try:
            store.transition(i, decide, max_files=4)
            outcomes[who] = "accepted"
        except EvidenceRefused as exc:
            outcomes[who] = str(exc)
        except BaseException as exc:  # noqa: BLE001 - reported below
            outcomes[who] = f"{type(exc).__name__}: {exc}"

    threads = [threading.Thread(target=fire, args=("马建军", b"m1", b"m2")),
               threading.Thread(target=fire, args=("周安宁", b"z1", b"z2"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(outcomes) == ["周安宁", "马建军"], outcomes
    accepted = [who for who, outcome in outcomes.items() if outcome == "accepted"]
    assert len(accepted) == 1, outcomes
    [refused] = [outcome for outcome in outcomes.values() if outcome != "accepted"]
    assert "不能作为佐证：每个事项最多 4 个佐证文件，本事项已有 3 个" in refused
    files = store.attachments(i)
    assert len(files) == 3 and {f.uploaded_by for f in files} == {"郭晓明", *accepted}
    history = store.history(i)
    assert [e.actor for e in history] == ["郭晓明", *accepted] and verify_chain(history) is None
