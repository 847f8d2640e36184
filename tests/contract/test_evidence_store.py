"""The EvidenceStore's promises, the same for a directory, SQLite and PostgreSQL; and the
item store's attachments (memory, SQLite, PostgreSQL)."""

from __future__ import annotations

import hashlib
import threading
from datetime import UTC, datetime, timedelta

import pytest

from adapters.evidence.stores import DirectoryEvidence
from engine.errors import NotFound, StoreError
from engine.evidence import ATTACHMENTS, Attachment, ledger_change
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
