"""The ItemStore in memory: the same promises as SqlStore, for fast tests and tools.

Items and ledgers live in dicts guarded by one lock (a write is one critical section,
as a write transaction is on the database). Items are copied in and out, so nobody
holds a reference into the store. Ids follow the highest one without gaps, also after a
failed write; the ledger is append-only (nothing here rewrites a row); a write whose
expected version is stale is ConcurrentUpdate and writes nothing. The database's own
checks (NOT NULL columns) are mirrored where SqlStore relies on them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, NoReturn

from adapters.clock import SystemClock
from engine.errors import AlreadyExists, ConcurrentUpdate, NotFound, StoreError
from engine.evidence import ATTACHMENTS, Attachment, StoredAttachment, carried
from engine.extensions import PENDING, Extension, ExtensionWrite
from engine.model import COLUMNS, Item, LedgerEntry
from engine.ports import Clock, Query

# The columns the items table declares NOT NULL (adapters.schema) that an Item can hold
# None in: a write leaving one empty fails as the database's would.
_REQUIRED = ("kind", "workflow", "state", "title", "found_at", "category", "level")
MAX_ID = 2**63 - 1


def _storable(item_id: int) -> bool:
    return 0 < item_id <= MAX_ID


_TIMES = tuple(name for name, spec in Item.__dataclass_fields__.items() if "datetime" in str(spec.type))


def _copy(item: Item) -> Item:
    return item.copy()


def _utc(value: datetime | None) -> datetime | None:
    """As the database keeps an instant: aware, in UTC; a naive time is refused."""
    if value is None:
        return None
    if value.tzinfo is None:
        raise StoreError("数据库 内存 无法保存或读取一个值：naive datetime given to the store")
    return value.astimezone(UTC)


def _as_stored(item: Item) -> Item:
    """A copy of the item with its instants in UTC, as a database row gives them back."""
    stored = _copy(item)
    for name in _TIMES:
        setattr(stored, name, _utc(getattr(stored, name)))
    return stored


class _Taken(Exception):
    """An origin already held, in the store or earlier in the same write."""


class MemoryStore:
    """Items, ledgers, policies and site facts in this process's memory."""

    def __init__(self, meta: Mapping[str, str] | None = None, clock: Clock | None = None) -> None:
        self._clock = clock or SystemClock()
        self._lock = threading.RLock()
        self._items: dict[int, Item] = {}
        self._ledgers: dict[int, list[LedgerEntry]] = {}
        self._by_origin: dict[str, int] = {}
        self._policies: dict[str, tuple[datetime, dict[str, str]]] = {}
        self._attachments: list[StoredAttachment] = []
        self._extensions: dict[int, Extension] = {}
        # Notifications about extension requests: there is no outbox in memory to compose
        # them, so they are kept (as SqlStore's rows) for whoever wants to read them.
        self.notifications: list[dict[str, Any]] = []
        # A freshly migrated database's facts (every ledger row carries the plan basis).
        self._meta: dict[str, str] = dict(meta if meta is not None else {"ledger_basis_from": "1"})

    # -- writes ----------------------------------------------------------------------

    def _check(self, item: Item) -> None:
        missing = [name for name in _REQUIRED if getattr(item, name) is None]
        if missing:
            raise StoreError(f"数据库拒绝写入：列 {', '.join(missing)} 不能为空（NOT NULL: items.{missing[0]}）")

    def _insert(self, staged: dict[int, Item], ledgers: dict[int, list[LedgerEntry]],
                origins: dict[str, int], item: Item, entry: LedgerEntry, now: datetime) -> int:
        self._check(item)
        new_id = max([0, *self._items, *staged]) + 1
        if item.origin is not None and (item.origin in self._by_origin or item.origin in origins):
            raise _Taken(item.origin)
        sealed = entry.sealed(new_id, 1, "")
        stored = _as_stored(item)
        stored.id, stored.version, stored.ledger_seq, stored.ledger_head = new_id, 1, 1, sealed.hash
        stored.created_at = stored.updated_at = now
        staged[new_id] = stored
        ledgers[new_id] = [sealed]
        if item.origin is not None:
            origins[item.origin] = new_id
        return new_id

    def _written(self, current: Item, item: Item, expected_version: int, entry: LedgerEntry,
                 now: datetime) -> tuple[Item, LedgerEntry]:
        """The item as stored after the write, and its sealed ledger row; ConcurrentUpdate
        (nothing changed) when the version moved on. Updates `item` as SqlStore does."""
        if item.id is None:
            raise ValueError("cannot write an item that was never stored")
        if current.version != expected_version:
            raise ConcurrentUpdate(item.id)
        self._check(item)
        sealed = entry.sealed(item.id, current.ledger_seq + 1, current.ledger_head)
        item.version, item.updated_at = expected_version + 1, now
        item.ledger_seq, item.ledger_head = sealed.seq, sealed.hash
        stored = _as_stored(item)
        # What SqlStore's UPDATE leaves alone stays as stored: the identity columns, and
        # the user columns that the entry does not record as changed.
        stored.kind, stored.workflow, stored.found_at, stored.origin = (
            current.kind, current.workflow, current.found_at, current.origin)
        stored.created_at = current.created_at
        for name in COLUMNS:
            if name not in entry.changes:
                setattr(stored, name, getattr(current, name))
        return stored, sealed

    def _commit_write(self, stored: Item, sealed: LedgerEntry) -> None:
        assert stored.id is not None
        self._items[stored.id] = stored
        self._ledgers[stored.id].append(sealed)
        self._carried(sealed)

    def _carried(self, sealed: LedgerEntry) -> None:
        """The files a ledger row records, attached with it (as SqlStore does)."""
        if ATTACHMENTS in sealed.changes and sealed.item_id is not None:
            self._attach(sealed.item_id, sealed.seq, carried(sealed.changes), sealed.actor, sealed.at)

    def _attach(self, item_id: int, seq: int | None, files: Sequence[Attachment], by: str,
                at: datetime) -> None:
        have = {a.attachment.sha256 for a in self._attachments if a.item_id == item_id and a.seq == seq}
        for file in files:
            if file.sha256 not in have:
                have.add(file.sha256)
                self._attachments.append(StoredAttachment(len(self._attachments) + 1, item_id, seq, file, by,
                                                          _utc(at) or at))

    def add_attachments(self, item_id: int, seq: int | None, files: Sequence[Attachment],
                        uploaded_by: str, at: datetime) -> list[StoredAttachment]:
        with self._lock:
            if item_id not in self._items:
                raise NotFound("事项", item_id)
            self._attach(item_id, seq, files, uploaded_by, at)
        return self.attachments(item_id)

    def attachments(self, item_id: int) -> list[StoredAttachment]:
        with self._lock:
            return [a for a in self._attachments if a.item_id == item_id]

    def attachments_of(self, item_ids: Sequence[int]) -> dict[int, list[StoredAttachment]]:
        wanted = set(item_ids)
        found: dict[int, list[StoredAttachment]] = {}
        with self._lock:
            for a in self._attachments:
                if a.item_id in wanted:
                    found.setdefault(a.item_id, []).append(a)
        return found

    def _raise_taken(self, new: list[Item]) -> NoReturn:
        """AlreadyExists naming the origins already stored, as SqlStore words it; a
        duplicate within the write itself is the unique constraint's own error."""
        taken = sorted({i.origin for i in new if i.origin and i.origin in self._by_origin})
        if not taken:
            raise StoreError("数据库 内存 出错：UNIQUE constraint failed: items.origin")
        shown = "、".join(taken)
        raise AlreadyExists(shown if len(shown) <= 200 else shown[:200] + f"…（共 {len(taken)} 项）")

    def add(self, item: Item, entry: LedgerEntry) -> Item:
        [new_id] = self.add_batch([(item, entry)], [])
        return self.get(new_id)

    def add_batch(self, new: Sequence[tuple[Item, LedgerEntry]],
                  changed: Sequence[tuple[Item, int, LedgerEntry]]) -> list[int]:
        now = self._clock.now().astimezone(UTC)
        with self._lock:
            staged: dict[int, Item] = {}
            ledgers: dict[int, list[LedgerEntry]] = {}
            origins: dict[str, int] = {}
            try:
                ids = [self._insert(staged, ledgers, origins, item, entry, now) for item, entry in new]
            except _Taken:
                self._raise_taken([item for item, _ in new])
            writes: list[tuple[Item, LedgerEntry]] = []
            seen: dict[int, Item] = {}
            for item, expected, entry in changed:
                if item.id is None or item.id not in self._items:
                    raise NotFound("事项", item.id)
                current = seen.get(item.id, self._items[item.id])
                item.ledger_seq, item.ledger_head = current.ledger_seq, current.ledger_head
                stored, sealed = self._written(current, item, expected, entry, now)
                seen[item.id] = stored
                writes.append((stored, sealed))
            self._items.update(staged)
            self._ledgers.update(ledgers)
            for rows in ledgers.values():
                self._carried(rows[0])
            self._by_origin.update(origins)
            for stored, sealed in writes:
                self._commit_write(stored, sealed)
        return ids

    def transition(self, item_id: int, decide: Callable[[Item], tuple[Item, LedgerEntry]]) -> tuple[Item, Item]:
        with self._lock:
            current = self._items.get(item_id)
            if current is None:
                raise NotFound("事项", item_id)
            before = _copy(current)
            after, entry = decide(before)
            stored, sealed = self._written(current, after, before.version, entry, self._clock.now().astimezone(UTC))
            self._commit_write(stored, sealed)
        return before, after

    def rewrite(self, item_id: int, decide: Callable[[Item], tuple[Item, LedgerEntry] | None]) -> Item | None:
        """SqlStore.rewrite without the connection: read, decide, write, or nothing."""
        with self._lock:
            current = self._items.get(item_id)
            if current is None:
                raise NotFound("事项", item_id)
            change = decide(_copy(current))
            if change is None:
                return None
            after, entry = change
            self._commit_write(*self._written(current, after, current.version, entry, self._clock.now().astimezone(UTC)))
        return after

    def update(self, item: Item, expected_version: int, entry: LedgerEntry) -> Item:
        with self._lock:
            current = self._items.get(item.id) if item.id is not None else None
            if current is None:
                raise NotFound("事项", item.id)
            item.ledger_seq, item.ledger_head = current.ledger_seq, current.ledger_head
            self._commit_write(*self._written(current, item, expected_version, entry, self._clock.now().astimezone(UTC)))
        return item

    def extend(self, item_id: int,
               decide: Callable[[Item, Sequence[Extension]], ExtensionWrite]) -> tuple[Item, Extension]:
        with self._lock:
            current = self._items.get(item_id) if _storable(item_id) else None
            if current is None:
                raise NotFound("事项", item_id)
            change = decide(_copy(current), self.extensions(item_id))
            request = change.request
            pending = [e for e in self._extensions.values() if e.item_id == item_id and e.status == PENDING]
            if request.id is None:
                if pending:
                    raise ConcurrentUpdate(item_id)
                request = replace(request, id=max([0, *self._extensions]) + 1)
            elif not any(e.id == request.id for e in pending):
                raise ConcurrentUpdate(item_id)
            stored, sealed = self._written(current, change.item, current.version, change.entry,
                                           self._clock.now().astimezone(UTC))
            written = replace(request, requested_at=request.requested_at.astimezone(UTC),
                              answered_at=_utc(request.answered_at))
            self._commit_write(stored, sealed)
            assert written.id is not None
            self._extensions[written.id] = written
            self.notifications += [{"item_id": item_id, "step_key": f"ext{written.id}:{written.status}",
                                    "kind": "extension", "action": n.action, "label": n.label, "step_at": n.at,
                                    "recipients": [{"role": a.role, "name": a.name, "email": a.email}
                                                   for a in n.recipients]} for n in change.notices]
        return change.item, written

    def extensions(self, item_id: int) -> list[Extension]:
        with self._lock:
            return [e for _, e in sorted(self._extensions.items()) if e.item_id == item_id]

    def pending_extensions(self) -> list[Extension]:
        with self._lock:
            return [e for _, e in sorted(self._extensions.items()) if e.status == PENDING]

    # -- reads -----------------------------------------------------------------------

    def get(self, item_id: int) -> Item:
        with self._lock:
            found = self._items.get(item_id) if _storable(item_id) else None
            if found is None:
                raise NotFound("事项", item_id)
            return _copy(found)

    def get_many(self, item_ids: Sequence[int]) -> dict[int, Item]:
        with self._lock:
            return {i: _copy(self._items[i]) for i in item_ids if i in self._items}

    def origins(self, candidates: list[str]) -> set[str]:
        with self._lock:
            return {c for c in candidates if c in self._by_origin}

    def by_origins(self, origins: Sequence[str]) -> dict[str, Item]:
        with self._lock:
            return {o: _copy(self._items[self._by_origin[o]]) for o in origins if o in self._by_origin}

    def _sorted(self) -> list[Item]:
        return [self._items[i] for i in sorted(self._items)]

    def query(self, query: Query) -> list[Item]:
        filters = [(name, set(values)) for name, values in (("state", query.state), ("unit", query.unit),
                                                             ("category", query.category), ("kind", query.kind))
                   if values]
        with self._lock:
            found = [_copy(i) for i in self._sorted()
                     if all(getattr(i, name) in values for name, values in filters)]
        return found[:query.limit] if query.limit else found

    @staticmethod
    def _open(item: Item, finals: Mapping[str, Collection[str]]) -> bool:
        return item.state not in finals.get(item.workflow, ())

    def provisional_open(self, finals: Mapping[str, Collection[str]]) -> list[int]:
        with self._lock:
            return [i.id for i in self._sorted() if i.provisional and self._open(i, finals) and i.id is not None]

    def rule_bindings_open(self, finals: Mapping[str, Collection[str]]) -> list[tuple[str, str]]:
        with self._lock:
            return sorted({(i.policy_version, i.rule) for i in self._items.values()
                           if i.deadline is None and i.rule is not None and i.policy_version is not None
                           and self._open(i, finals)})

    def deadlines_open(self, finals: Mapping[str, Collection[str]], words: Sequence[str],
                       rules: Collection[tuple[str, str]]) -> list[int]:
        if not words and not rules:
            return []
        wanted = set(rules)

        def matches(i: Item) -> bool:
            if i.deadline is not None:
                return any(w in i.deadline for w in words)
            return (i.policy_version, i.rule) in wanted

        with self._lock:
            return [i.id for i in self._sorted() if i.id is not None and matches(i) and self._open(i, finals)]

    def history(self, item_id: int) -> list[LedgerEntry]:
        with self._lock:
            return list(self._ledgers.get(item_id, ()))

    def histories(self, item_ids: list[int]) -> dict[int, list[LedgerEntry]]:
        with self._lock:
            return {i: list(self._ledgers.get(i, ())) for i in item_ids}

    def chains(self, batch: int = 1000) -> Iterator[list[tuple[Item, list[LedgerEntry]]]]:
        after = 0
        while True:
            with self._lock:
                ids = sorted(i for i in self._items if i > after)[:batch]
                found = [(_copy(self._items[i]), list(self._ledgers[i])) for i in ids]
            if not found:
                return
            yield found
            after = ids[-1]

    def ledger_orphans(self) -> list[int]:
        with self._lock:
            return sorted(i for i, rows in self._ledgers.items() if rows and i not in self._items)

    def states_in_use(self) -> list[tuple[str, str, int]]:
        counts: dict[tuple[str, str], int] = {}
        with self._lock:
            for i in self._items.values():
                counts[(i.workflow, i.state)] = counts.get((i.workflow, i.state), 0) + 1
        return [(w, s, n) for (w, s), n in counts.items()]

    def meta(self, key: str) -> str | None:
        return self._meta.get(key)

    # -- policies --------------------------------------------------------------------

    def save_policy(self, version: str, loaded_at: datetime, sources: dict[str, str]) -> None:
        with self._lock:
            if version not in self._policies:
                self._policies[version] = (_utc(loaded_at) or loaded_at, dict(sources))

    def policy_sources(self, version: str) -> tuple[datetime, dict[str, str]] | None:
        with self._lock:
            found = self._policies.get(version)
        return (found[0], dict(found[1])) if found else None

    def policy_versions(self) -> list[tuple[str, datetime, int]]:
        with self._lock:
            bound: dict[str | None, int] = {}
            for i in self._items.values():
                bound[i.policy_version] = bound.get(i.policy_version, 0) + 1
            return sorted(((v, at, bound.get(v, 0)) for v, (at, _) in self._policies.items()),
                          key=lambda row: row[1])

    def close(self) -> None:
        return None
