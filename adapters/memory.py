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
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any, NoReturn
from zoneinfo import ZoneInfo

from adapters.clock import SystemClock
from engine.errors import AlreadyExists, ConcurrentUpdate, NotFound, StoreError
from engine.evidence import ATTACHMENTS, Attachment, StoredAttachment, carried, count_after
from engine.extensions import PENDING, Extension, ExtensionWrite
from engine.mail import Attachment as MailAttachment
from engine.mail import InlineImage
from engine.model import COLUMNS, Item, LedgerEntry
from engine.officehours import held_recipients
from engine.ports import (
    BY_OVERDUE,
    Clock,
    Overdue,
    PeriodTally,
    Query,
    Reached,
    Tally,
    Window,
)
from engine.provisional import Picked, Rewrite
from engine.robotdelivery import RobotOutgoing
from engine.scheduler import Composed, Decision, Outgoing, Pending

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
    stored.overdue_from = stored.overdue_with_pauses()  # kept by the store, as SqlStore does
    return stored


# -- what a Query selects: the reference SqlStore's SQL must agree with ---------------


def _among(value: Any, values: Sequence[Any]) -> bool:
    return not values or value in values


def _between(value: datetime | None, start: datetime | None, before: datetime | None) -> bool:
    if start is None and before is None:
        return True
    return value is not None and (start is None or value >= start) and (before is None or value < before)


def is_overdue(item: Item, overdue: Overdue) -> bool:
    """Fallen overdue at or before `overdue.at` and not paused (engine.plan.is_paused)."""
    due = item.overdue_from
    if due is None or due > overdue.at:
        return False
    entered = item.entered_at or item.found_at
    return not any(p.version == item.policy_version and p.rule == item.rule and item.state in p.states
                   and entered < due for p in overdue.paused)


def has_reached(item: Item, reached: Sequence[Reached]) -> bool:
    """The first condition matching the item's version, rule and unit decides."""
    for r in reached:
        if r.version == item.policy_version and r.rule == item.rule and (r.units is None or item.unit in r.units):
            return item.overdue_from is not None and item.overdue_from <= r.by
    return False


def matches(item: Item, q: Query) -> bool:
    """Whether the item is among those `q` selects (limit, offset and order aside)."""
    if not (_among(item.state, q.state) and _among(item.unit, q.unit) and _among(item.category, q.category)
            and _among(item.kind, q.kind) and _among(item.level, q.level)):
        return False
    if q.states and (item.workflow, item.state) not in q.states:
        return False
    if q.within is not None and item.unit not in q.within:
        return False
    if not (_between(item.found_at, q.found_from, q.found_before)
            and _between(item.entered_at, q.entered_from, q.entered_before)):
        return False
    if q.overdue is not None and not is_overdue(item, q.overdue):
        return False
    return q.reached is None or (q.overdue is not None and has_reached(item, q.reached))


def _overdue_order(item: Item) -> tuple[bool, datetime, int]:
    return item.level != "重大", item.overdue_from or datetime.max.replace(tzinfo=UTC), item.id or 0


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
        # A freshly migrated database's facts (every ledger row carries the plan basis).
        self._meta: dict[str, str] = dict(meta if meta is not None else {"ledger_basis_from": "1"})
        # The outbox's tables (MemoryOutbox works over them), as the database holds them.
        self.outbox_tables = OutboxTables()

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
        item.overdue_from = item.overdue_with_pauses()
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

    def referenced(self, sha256s: Collection[str]) -> set[str]:
        wanted = set(sha256s)
        with self._lock:
            return {h for a in self._attachments for h in (a.attachment.sha256, a.attachment.thumbnail)
                    if h in wanted}

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

    def transition(self, item_id: int, decide: Callable[[Item], tuple[Item, LedgerEntry]],
                   max_files: int | None = None) -> tuple[Item, Item]:
        with self._lock:
            current = self._items.get(item_id)
            if current is None:
                raise NotFound("事项", item_id)
            before = _copy(current)
            after, entry = decide(before)
            if max_files is not None and ATTACHMENTS in entry.changes:
                held = sum(1 for a in self._attachments if a.item_id == item_id)
                count_after(held, carried(entry.changes), max_files)
            stored, sealed = self._written(current, after, before.version, entry, self._clock.now().astimezone(UTC))
            self._commit_write(stored, sealed)
        return before, after

    def rewrite(self, item_id: int, decide: Callable[[Item], tuple[Item, LedgerEntry] | None],
                then: Callable[[], None] | None = None) -> Item | None:
        """SqlStore.rewrite without the connection: read, decide, write (and let `then`
        write more under the same lock, before the item is committed), or nothing."""
        with self._lock:
            current = self._items.get(item_id)
            if current is None:
                raise NotFound("事项", item_id)
            change = decide(_copy(current))
            if change is None:
                return None
            after, entry = change
            written = self._written(current, after, current.version, entry, self._clock.now().astimezone(UTC))
            if then is not None:
                then()
            self._commit_write(*written)
        return after

    # -- what the outbox needs (adapters.memory.MemoryOutbox) ------------------------

    def transaction(self) -> AbstractContextManager[bool]:
        """The store's one lock: what runs under it sees and writes the items and the
        outbox's rows as one write transaction on the database would."""
        return self._lock

    def due(self, at: datetime, limit: int | None = None) -> list[Item]:
        """Copies of the items whose next action time has come, in order of that time."""
        with self._lock:
            found = sorted((i for i in self._items.values() if i.next_action_at is not None
                            and i.next_action_at <= at), key=lambda i: (i.next_action_at, i.id))
            return [_copy(i) for i in found[:limit]]

    def move_cursor(self, item_id: int, planned_until: datetime | None, next_action_at: datetime | None) -> None:
        """Set an item's scheduling cursor; not a change of the item (no version, no ledger row)."""
        with self._lock:
            item = self._items[item_id]
            item.planned_until, item.next_action_at = _utc(planned_until), _utc(next_action_at)

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
            # The notifications about it, queued for the outbox's compose as SqlStore queues them.
            for n in change.notices:
                self.outbox_tables.insert_notification(NotificationRow(
                    0, item_id, change.item.policy_version or "", f"ext{written.id}:{written.status}",
                    _required_utc(n.at), "extension", n.action, n.label,
                    [{"role": a.role, "name": a.name, "email": a.email} for a in n.recipients],
                    False, _required_utc(n.at)))
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

    def _selected(self, query: Query) -> list[Item]:
        return [i for i in self._sorted() if matches(i, query)]

    def query(self, query: Query) -> list[Item]:
        with self._lock:
            found = self._selected(query)
            if query.order == BY_OVERDUE:
                found.sort(key=_overdue_order)
            end = query.offset + query.limit if query.limit else None
            return [_copy(i) for i in found[query.offset:end]]

    def count(self, query: Query) -> int:
        with self._lock:
            return len(self._selected(query))

    def tally(self, query: Query, overdue: Overdue, reached: Sequence[Reached]) -> list[Tally]:
        groups: dict[tuple[str, str, str, str | None, str, str], list[int]] = {}
        with self._lock:
            for i in self._selected(query):
                counts = groups.setdefault((i.kind, i.workflow, i.state, i.unit, i.category, i.level), [0, 0, 0])
                counts[0] += 1
                if is_overdue(i, overdue):
                    counts[1] += 1
                    counts[2] += has_reached(i, reached)
        return [Tally(*key, *counts) for key, counts in groups.items()]

    def period_tally(self, query: Query, closed: Sequence[tuple[str, str]],
                     windows: Sequence[Window]) -> list[PeriodTally]:
        finals = set(closed)
        units: dict[str | None, list[list[int]]] = {}
        with self._lock:
            for i in self._selected(query):
                shut = i.entered_at if (i.workflow, i.state) in finals else None
                counts = [[i.found_at < w.end for w in windows], [w.start <= i.found_at < w.end for w in windows],
                          [shut is not None and shut < w.end for w in windows],
                          [shut is not None and w.start <= shut < w.end for w in windows]]
                if not any(any(c) for c in counts):
                    continue  # counted nowhere: as SqlStore, which never reads it
                rows = units.setdefault(i.unit, [[0] * len(windows) for _ in range(4)])
                for row, flags in zip(rows, counts, strict=True):
                    for n, flag in enumerate(flags):
                        row[n] += flag
        return [PeriodTally(unit, *(tuple(r) for r in rows)) for unit, rows in units.items()]

    def day_counts(self, query: Query, column: str, tz: ZoneInfo) -> list[tuple[str | None, date, int]]:
        counts: dict[tuple[str | None, date], int] = {}
        with self._lock:
            for i in self._selected(query):
                at = getattr(i, column)
                if at is not None:
                    key = (i.unit, at.astimezone(tz).date())
                    counts[key] = counts.get(key, 0) + 1
        return [(unit, day, n) for (unit, day), n in counts.items()]

    def bindings(self, query: Query) -> list[tuple[str, str]]:
        with self._lock:
            return sorted({(i.policy_version, i.rule) for i in self._selected(query)
                           if i.policy_version is not None and i.rule is not None})

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

    def recorded_before(self, at: datetime) -> bool:
        with self._lock:
            return any(e.at < at for rows in self._ledgers.values() for e in rows)

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


# -- the outbox in memory ------------------------------------------------------------


@dataclass
class NotificationRow:
    """A queued step, as a row of the notifications table."""

    id: int
    item_id: int
    policy_version: str
    step_key: str
    step_at: datetime
    kind: str
    action: str
    label: str
    recipients: list[dict[str, Any]]
    late: bool
    queued_at: datetime
    composed: bool = False
    urgent: bool = False


@dataclass
class MessageRow:
    """A message, as a row of the messages table (with its parts)."""

    id: int
    created_at: datetime
    recipient_name: str
    recipient_email: str
    subject: str
    body_text: str
    body_html: str | None
    notifications: list[int]
    status: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None = None
    sent_at: datetime | None = None
    attachments: tuple[MailAttachment, ...] = ()
    inline_images: tuple[InlineImage, ...] = ()
    channel: str = "mail"
    robot: dict[str, Any] | None = None
    urgent: bool = False


@dataclass
class OutboxTables:
    """The outbox's rows in a MemoryStore, guarded by the store's lock."""

    notifications: dict[int, NotificationRow] = field(default_factory=dict)
    keys: set[tuple[int, str, str, datetime]] = field(default_factory=set)
    messages: dict[int, MessageRow] = field(default_factory=dict)
    stage_reports: dict[tuple[str, str], tuple[datetime, list[str]]] = field(default_factory=dict)
    daemons: dict[str, dict[str, Any]] = field(default_factory=dict)
    last_notification: int = 0
    last_message: int = 0
    robot_steps: set[tuple[str, int]] = field(default_factory=set)  # (robot, notification)
    robot_sends: dict[str, list[datetime]] = field(default_factory=dict)
    robot_held: dict[str, datetime] = field(default_factory=dict)

    def insert_notification(self, row: NotificationRow) -> int:
        """Insert unless the step's key (item, policy version, step key, instant) is
        taken; 1 when it was new."""
        key = (row.item_id, row.policy_version, row.step_key, row.step_at)
        if key in self.keys:
            return 0
        self.keys.add(key)
        self.last_notification += 1
        row.id = self.last_notification
        self.notifications[row.id] = row
        return 1


def _queued_rows(decision: Decision, at: datetime) -> list[NotificationRow]:
    """The decision's notifications as rows (ids given when they are inserted)."""
    return [NotificationRow(0, q.item_id, q.policy_version, q.step.key, _required_utc(q.step.at), q.step.kind,
                            q.step.action, q.step.label,
                            [{"role": a.role, "name": a.name, "email": a.email} for a in q.recipients],
                            q.late, _required_utc(at), urgent=q.urgent) for q in decision.notifications]


def _required_utc(value: datetime) -> datetime:
    found = _utc(value)
    assert found is not None
    return found


class MemoryOutbox:
    """Every outbox port (the SiteOutbox) over a MemoryStore: the same promises as
    adapters.outbox.SqlOutbox (tests/contract/test_outbox.py). Each call is one critical
    section under the store's lock, and writes only once everything it needs is decided,
    so a failure leaves nothing behind, as a rolled-back transaction does."""

    def __init__(self, store: MemoryStore) -> None:
        self.store = store
        self.tables = store.outbox_tables

    # -- NotificationQueue -----------------------------------------------------------

    def schedule_due(self, at: datetime, limit: int, decide: Callable[[Item], Decision]) -> tuple[int, int]:
        with self.store.transaction():
            claimed = self.store.due(at, limit)
            decisions = [(item, decide(item)) for item in claimed]
            added = 0
            for _, decision in decisions:
                for row in _queued_rows(decision, at):
                    added += self.tables.insert_notification(row)
            for item, decision in decisions:
                assert item.id is not None
                self.store.move_cursor(item.id, decision.planned_until, decision.next_action_at)
        return len(claimed), added

    def compose(self, at: datetime, limit: int, build: Callable[[list[Pending]], list[Composed]],
                only_urgent: bool = False) -> tuple[int, int]:
        with self.store.transaction():
            rows = [n for _, n in sorted(self.tables.notifications.items())
                    if not n.composed and (n.urgent or not only_urgent)][:limit]
            if not rows:
                return 0, 0
            current = self.store.get_many([n.item_id for n in rows])
            pending = [Pending(n.id, current[n.item_id], n.policy_version, n.step_key, n.step_at, n.kind,
                               n.action, n.label, [dict(r) for r in n.recipients], n.late, n.urgent)
                       for n in rows]
            built = build(pending)
            self._insert_messages(built, at)
            for n in rows:
                n.composed = True
        return len(rows), len(built)

    def _insert_messages(self, composed: Sequence[Composed], at: datetime) -> list[int]:
        at = _required_utc(at)
        rows = [MessageRow(0, at, m.recipient_name, m.recipient_email, m.subject, m.text, m.html,
                           list(m.notification_ids), "pending", 0, at, attachments=tuple(m.attachments),
                           # As the database keeps it: an image without a file name is named by its cid.
                           inline_images=tuple(replace(i, filename=i.filename or i.cid) for i in m.inline_images),
                           channel=m.channel, robot=dict(m.robot) if m.robot is not None else None,
                           urgent=m.urgent)
                for m in composed if self._new_to_robot(m)]
        for row in rows:
            self.tables.last_message += 1
            row.id = self.tables.last_message
            self.tables.messages[row.id] = row
            if row.robot is not None:
                self.tables.robot_steps |= {(row.robot["id"], n) for n in row.notifications}
        return [row.id for row in rows]

    def _new_to_robot(self, message: Composed) -> bool:
        """A robot's message carries a notification no message to that robot carried yet
        (or none at all); mail always."""
        if message.channel != "robot" or not message.notification_ids or message.robot is None:
            return True
        return any((message.robot["id"], n) not in self.tables.robot_steps for n in message.notification_ids)

    def add_message(self, message: Composed, at: datetime) -> int | None:
        with self.store.transaction():
            found = self._insert_messages([message], at)
        return found[0] if found else None

    def queued(self) -> list[tuple[int, str, datetime]]:
        """(item, step key, instant) of every notification ever queued, in order."""
        with self.store.transaction():
            return [(n.item_id, n.step_key, n.step_at) for _, n in sorted(self.tables.notifications.items())]

    # -- MessageOutbox ---------------------------------------------------------------

    def claim_messages(self, at: datetime, limit: int, lease_until: datetime,
                       only_urgent: bool = False) -> list[Outgoing]:
        with self.store.transaction():
            rows = self._lease("mail", at, limit, lease_until, only_urgent)
            return [Outgoing(m.id, m.recipient_name, m.recipient_email, m.subject, m.body_text, m.body_html,
                             m.attempts, m.attachments, m.inline_images, m.urgent) for m in rows]

    def _lease(self, channel: str, at: datetime, limit: int, lease_until: datetime,
               only_urgent: bool) -> list[Any]:
        """The first `limit` pending messages of `channel` due at `at` (urgent ones only
        when asked), leased until `lease_until`; in the caller's transaction."""
        rows = [m for _, m in sorted(self.tables.messages.items())
                if m.status == "pending" and m.next_attempt_at <= at and m.channel == channel
                and (m.urgent or not only_urgent)][:limit]
        for m in rows:
            m.next_attempt_at = _required_utc(lease_until)
        return rows

    def _set(self, message_id: int, **values: Any) -> None:
        with self.store.transaction():
            found = self.tables.messages.get(message_id)
            for name, value in values.items():
                if found is not None:
                    setattr(found, name, _utc(value) if isinstance(value, datetime) else value)

    def mark_sent(self, message_id: int, at: datetime) -> None:
        with self.store.transaction():
            found = self.tables.messages.get(message_id)
            self._set(message_id, status="sent", sent_at=at, last_error=None,
                      attempts=(found.attempts + 1) if found else 0)

    def mark_retry(self, message_id: int, attempts: int, next_at: datetime, error: str) -> None:
        self._set(message_id, attempts=attempts, next_attempt_at=next_at, last_error=error)

    def mark_dead(self, message_id: int, attempts: int, error: str) -> None:
        self._set(message_id, status="dead", attempts=attempts, last_error=error)

    def release(self, message_ids: list[int], at: datetime) -> None:
        with self.store.transaction():
            for message_id in message_ids:
                self._set(message_id, next_attempt_at=at)

    def retry_dead(self, message_ids: list[int] | None, at: datetime) -> int:
        """Put dead letters (all, or these) back in the queue with a fresh count of tries."""
        wanted = set(message_ids) if message_ids else None
        with self.store.transaction():
            dead = [m for m in self.tables.messages.values()
                    if m.status == "dead" and (wanted is None or m.id in wanted)]
            for m in dead:
                # Due at once: their creation time is in the past for any tick, real or replayed.
                m.status, m.attempts, m.next_attempt_at = "pending", 0, m.created_at
        return len(dead)

    def list_messages(self, statuses: tuple[str, ...], limit: int = 200) -> list[Any]:
        with self.store.transaction():
            found = [replace(m, notifications=list(m.notifications))
                     for _, m in sorted(self.tables.messages.items(), reverse=True) if m.status in statuses]
        return found[:limit]

    # -- RobotOutbox ------------------------------------------------------------------

    def claim_robot_messages(self, at: datetime, limit: int, lease_until: datetime,
                             only_urgent: bool = False) -> list[RobotOutgoing]:
        with self.store.transaction():
            rows = self._lease("robot", at, limit, lease_until, only_urgent)
            return [RobotOutgoing.of_row(m.id, m.recipient_name, m.subject, m.body_text, m.attempts, m.robot) for m in rows]

    def reserve_send(self, robot: str, now: datetime, limit: int, window: timedelta) -> datetime | None:
        now = _required_utc(now)
        with self.store.transaction():
            held = self.tables.robot_held.get(robot)
            if held is not None and held > now:
                return held
            recent = [t for t in self.tables.robot_sends.get(robot, []) if t > now - window]
            self.tables.robot_sends[robot] = recent
            if len(recent) >= limit:
                return sorted(recent)[-limit] + window
            recent.append(now)
        return None

    def hold_robot(self, robot: str, until: datetime) -> None:
        until = _required_utc(until)
        with self.store.transaction():
            held = self.tables.robot_held.get(robot)
            self.tables.robot_held[robot] = max(held, until) if held is not None else until

    # -- Heartbeats ------------------------------------------------------------------

    def previous_tick(self) -> datetime | None:
        with self.store.transaction():
            ticks = [d["last_tick_as_of"] for d in self.tables.daemons.values() if d["last_tick_as_of"] is not None]
        return max(ticks) if ticks else None

    def record_tick(self, name: str, started_at: datetime, wall: datetime, as_of: datetime,
                    seconds: float | None, version: str, error: str | None) -> None:
        with self.store.transaction():
            self.tables.daemons[name] = {
                "name": name, "started_at": _utc(started_at), "last_tick_at": _utc(wall),
                "last_tick_as_of": _utc(as_of), "last_tick_seconds": seconds, "policy_version": version,
                "last_error": error}

    def status(self, at: datetime) -> dict[str, Any]:
        with self.store.transaction():
            statuses = [m.status for m in self.tables.messages.values()]
            held = [n.recipients for n in self.tables.notifications.values() if not n.composed and not n.urgent]
            held_messages = sum(m.status == "pending" and not m.urgent for m in self.tables.messages.values())
            beats = sorted((dict(d) for d in self.tables.daemons.values()),
                           key=lambda d: (d["last_tick_at"] is None, -(d["last_tick_at"] or _EPOCH).timestamp()))
            return {"items_due": len(self.store.due(at)), "pending": statuses.count("pending"),
                    "sent": statuses.count("sent"), "dead": statuses.count("dead"),
                    "unsent_notifications": sum(not n.composed for n in self.tables.notifications.values()),
                    "held_notifications": len(held), "held_recipients": held_recipients(held),
                    "held_messages": held_messages, "daemons": beats}

    # -- StageReportLog --------------------------------------------------------------

    def add_stage_report(self, name: str, period: str, at: datetime, recipients: list[str],
                         composed: list[Composed]) -> bool:
        """Record the report as sent for its period and queue its messages, in one
        transaction; False (and nothing queued) when it was recorded already."""
        with self.store.transaction():
            if (name, period) in self.tables.stage_reports:
                return False
            self._insert_messages(composed, at)
            self.tables.stage_reports[(name, period)] = (_required_utc(at), list(recipients))
        return True

    def stage_report_sent(self, name: str, period: str) -> datetime | None:
        with self.store.transaction():
            found = self.tables.stage_reports.get((name, period))
        return found[0] if found else None

    # -- Rewriter --------------------------------------------------------------------

    def rewrite(self, item_id: int, decide: Callable[[Item], Rewrite | None]) -> Item | None:
        pick = Picked(decide)

        def queue_messages() -> None:
            assert pick.taken is not None
            self._insert_messages(pick.taken.messages, pick.taken.entry.at)

        return self.store.rewrite(item_id, pick, queue_messages)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
