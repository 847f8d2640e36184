"""The Store on SQLAlchemy Core: SQLite or PostgreSQL, one implementation."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from operator import itemgetter
from types import TracebackType
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Connection,
    Date,
    Engine,
    and_,
    bindparam,
    case,
    cast,
    false,
    func,
    insert,
    literal,
    not_,
    or_,
    select,
    text,
    true,
    update,
)
from sqlalchemy.exc import IntegrityError, StatementError

from adapters import database
from adapters.clock import SystemClock
from adapters.schema import (
    UTCDateTime,
    attachments,
    extensions,
    items,
    ledger,
    notifications,
    policies,
    site_meta,
)
from engine.errors import AlreadyExists, ConcurrentUpdate, NotFound, StoreError
from engine.evidence import ATTACHMENTS, Attachment, StoredAttachment, carried, count_after
from engine.extensions import PENDING, Extension, ExtensionWrite
from engine.model import COLUMNS, PLAN_COLUMNS, Item, LedgerEntry, plan_changes
from engine.ports import (
    BY_ID,
    BY_OVERDUE,
    Clock,
    Overdue,
    PeriodTally,
    Query,
    Reached,
    Tally,
    Window,
)


def _chunks(values: list[Any], size: int = 500) -> Iterator[list[Any]]:
    for start in range(0, len(values), size):
        yield values[start:start + size]


# PostgreSQL advisory lock serialising the handing out of item ids (any fixed bigint
# other than the leader's site lock).
_IDS_LOCK_KEY = 0x7265637469667932  # "rectify2"


def _reserve_ids(conn: Connection, count: int) -> list[int]:
    """`count` fresh item ids, taken before the rows are written so that each row goes
    in once, already chained to its first ledger entry (an executemany INSERT cannot
    return ids in order on SQLite). Ids follow the highest one without gaps, also after
    a rolled-back write, so `rectify audit` reads a missing number as a deleted item.
    SQLite: safe because the write transaction holds the database lock (BEGIN
    IMMEDIATE). PostgreSQL: a transaction-scoped advisory lock makes writers that create
    items take turns until they commit; the column's sequence is moved on too."""
    if conn.dialect.name != "sqlite":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _IDS_LOCK_KEY})
    top = int(conn.execute(select(func.coalesce(func.max(items.c.id), 0))).scalar_one())
    if conn.dialect.name != "sqlite":
        conn.execute(text("SELECT setval(pg_get_serial_sequence('items', 'id'), :v)"), {"v": top + count})
    return list(range(top + 1, top + 1 + count))


# The items table's columns picked in the order of Item's fields, so that a row becomes
# an Item through its constructor by position: lookups by name cost more than the rest of
# the conversion, and Items made by their constructor are quicker to read afterwards.
_ITEM_FIELDS = tuple(Item.__dataclass_fields__)
_COLUMN_INDEX = {c.name: i for i, c in enumerate(items.c)}
if set(_ITEM_FIELDS) != set(_COLUMN_INDEX):
    raise RuntimeError("the items table and Item have different fields")
_IN_ITEM_ORDER = itemgetter(*(_COLUMN_INDEX[name] for name in _ITEM_FIELDS))


def _row_to_item(row: Any) -> Item:
    """An Item from a row of `select(items)`, or any sequence in the table's column order."""
    item = Item(*_IN_ITEM_ORDER(row))
    item.fields = dict(item.fields or {})
    return item


# Statements are built once: building them per call cost more than the database work.
_GET = select(items).where(items.c.id == bindparam("b_id"))
_GET_FOR_UPDATE = _GET.with_for_update()
_INSERT_ITEM = insert(items)
_INSERT_ENTRY = insert(ledger)
_POLICY = select(policies).where(policies.c.version == bindparam("b_version"))
_ATTACHED = select(func.count()).select_from(attachments).where(attachments.c.item_id == bindparam("b_id"))
_HISTORY = select(ledger).where(ledger.c.item_id == bindparam("b_id")).order_by(ledger.c.seq)


def _held(conn: Connection, item_id: int | None) -> Item:
    """The item read under the write lock (FOR UPDATE on PostgreSQL); NotFound if none."""
    row = conn.execute(_GET_FOR_UPDATE, {"b_id": item_id}).first()
    if row is None:
        raise NotFound("事项", item_id)
    return _row_to_item(row)


def _update_statement(columns: frozenset[str]) -> Any:
    """UPDATE of the given columns guarded by the expected version; cached per column set."""
    stmt = _UPDATES.get(columns)
    if stmt is None:
        stmt = (update(items)
                .where(items.c.id == bindparam("b_id"), items.c.version == bindparam("b_expected"))
                .values({c: bindparam(c) for c in sorted(columns)}))
        _UPDATES[columns] = stmt
    return stmt


_UPDATES: dict[frozenset[str], Any] = {}
_ALWAYS = ("state", "fields", "version", "ledger_seq", "ledger_head", "updated_at", "overdue_from")


def _row_to_entry(row: Any) -> LedgerEntry:
    m = row._mapping
    return LedgerEntry(
        item_id=m["item_id"], seq=m["seq"], event=m["event"], from_state=m["from_state"],
        to_state=m["to_state"], actor=m["actor"], at=m["at"], note=m["note"],
        changes=dict(m["changes"] or {}), prev_hash=m["prev_hash"], hash=m["hash"],
    )


def _item_values(item: Item) -> dict[str, Any]:
    values = {name: getattr(item, name) for name in COLUMNS}
    values.update(kind=item.kind, workflow=item.workflow, state=item.state,
                  found_at=item.found_at, fields=item.fields, origin=item.origin)
    values.update({name: getattr(item, name) for name in PLAN_COLUMNS})
    values["overdue_from"] = item.overdue_from = item.overdue_with_pauses()
    return values


def _entry_values(entry: LedgerEntry) -> dict[str, Any]:
    return {
        "item_id": entry.item_id, "seq": entry.seq, "event": entry.event,
        "from_state": entry.from_state, "to_state": entry.to_state, "actor": entry.actor,
        "at": entry.at, "note": entry.note, "changes": entry.changes,
        "prev_hash": entry.prev_hash, "hash": entry.hash,
    }


def _attachment_values(item_id: int, seq: int | None, a: Attachment, by: str, at: datetime) -> dict[str, Any]:
    return {"item_id": item_id, "seq": seq, "sha256": a.sha256, "name": a.name, "media_type": a.media_type,
            "size": a.size, "width": a.width, "height": a.height, "taken_at": a.taken_at,
            "latitude": a.latitude, "longitude": a.longitude, "thumbnail": a.thumbnail,
            "uploaded_by": by, "uploaded_at": at}


def _row_to_attachment(row: Any) -> StoredAttachment:
    m = row._mapping
    file = Attachment(sha256=m["sha256"], name=m["name"], media_type=m["media_type"], size=int(m["size"]),
                      width=m["width"], height=m["height"], taken_at=m["taken_at"], latitude=m["latitude"],
                      longitude=m["longitude"], thumbnail=m["thumbnail"])
    return StoredAttachment(int(m["id"]), int(m["item_id"]), m["seq"], file, m["uploaded_by"], m["uploaded_at"])


def _attach(conn: Connection, item_id: int, seq: int | None, files: Sequence[Attachment], by: str,
            at: datetime) -> None:
    """Insert the files not yet attached to this item's row `seq` (or to the item)."""
    where = attachments.c.seq.is_(None) if seq is None else attachments.c.seq == seq
    have = {r[0] for r in conn.execute(select(attachments.c.sha256)
                                       .where(attachments.c.item_id == item_id, where))}
    rows = []
    for a in files:
        if a.sha256 not in have:
            have.add(a.sha256)
            rows.append(_attachment_values(item_id, seq, a, by, at))
    if rows:
        conn.execute(insert(attachments), rows)


def _insert_entries(conn: Connection, sealed: Sequence[LedgerEntry]) -> None:
    """Append ledger rows, and the files any of them carries to the attachments."""
    conn.execute(_INSERT_ENTRY, [_entry_values(e) for e in sealed] if len(sealed) != 1
                 else _entry_values(sealed[0]))
    for e in sealed:
        if ATTACHMENTS in e.changes and e.item_id is not None:
            _attach(conn, e.item_id, e.seq, carried(e.changes), e.actor, e.at)


_EXTENSION_FIELDS = tuple(Extension.__dataclass_fields__)


def _row_to_extension(row: Any) -> Extension:
    m = row._mapping
    return Extension(*(m[name] for name in _EXTENSION_FIELDS))


def _extension_values(request: Extension) -> dict[str, Any]:
    values = {name: getattr(request, name) for name in _EXTENSION_FIELDS}
    del values["id"]
    return values


def _notification_rows(item: Item, written: Extension, change: ExtensionWrite) -> list[dict[str, Any]]:
    """The notifications about a request or its answer, as the scheduler's compose reads them."""
    return [{"item_id": item.id, "policy_version": item.policy_version or "",
             "step_key": f"ext{written.id}:{written.status}", "step_at": n.at, "kind": "extension",
             "action": n.action, "label": n.label, "late": False, "queued_at": n.at, "composed": False,
             "recipients": [{"role": a.role, "name": a.name, "email": a.email} for a in n.recipients]}
            for n in change.notices]


def _open(stmt: Any, finals: Mapping[str, Collection[str]]) -> Any:
    """`stmt` limited to items not in a final state of their workflow (workflow -> states)."""
    closed = [and_(items.c.workflow == workflow, items.c.state.in_(list(states)))
              for workflow, states in sorted(finals.items()) if states]
    return stmt.where(not_(or_(*closed))) if closed else stmt


# -- what a Query selects, in SQL (adapters.memory.matches is the reference) -----------


def _among(column: Any, values: Sequence[Any]) -> Any:
    named = [v for v in values if v is not None]
    found = column.in_(named) if named else false()
    return or_(found, column.is_(None)) if len(named) < len(values) else found


def pairs(states: Sequence[tuple[str, str]]) -> Any:
    """In one of these (workflow, state) pairs; the plain IN lets ix_items_state serve."""
    if not states:
        return false()
    by_workflow: dict[str, list[str]] = {}
    for workflow, state in states:
        by_workflow.setdefault(workflow, []).append(state)
    return and_(items.c.state.in_(sorted({s for _, s in states})),
                or_(*(and_(items.c.workflow == w, items.c.state.in_(sorted(names)))
                      for w, names in sorted(by_workflow.items()))))


def _overdue(o: Overdue) -> Any:
    due = items.c.overdue_from
    conditions = [due.is_not(None), due <= o.at]
    entered = func.coalesce(items.c.entered_at, items.c.found_at)
    for p in o.paused:
        conditions.append(or_(items.c.policy_version.is_(None), items.c.rule.is_(None), not_(and_(
            items.c.policy_version == p.version, items.c.rule == p.rule, items.c.state.in_(p.states),
            entered < due))))
    return and_(*conditions)


def overdue_flag(o: Overdue) -> Any:
    """1 for an item overdue at `o.at`, else 0."""
    return case((_overdue(o), 1), else_=0)


def reached_flag(reached: Sequence[Reached]) -> Any:
    """1 for an item whose first matching condition it has reached, else 0."""
    if not reached:
        return literal(0)
    whens = []
    for r in reached:
        match = [items.c.policy_version == r.version, items.c.rule == r.rule]
        if r.units is not None:
            match.append(items.c.unit.in_(list(r.units)))
        whens.append((and_(*match), case((items.c.overdue_from <= r.by, 1), else_=0)))
    return case(*whens, else_=0)


def selecting(q: Query) -> list[Any]:
    """The WHERE conditions of a Query (limit, offset and order aside)."""
    found = [_among(column, values) for column, values in (
        (items.c.state, q.state), (items.c.unit, q.unit), (items.c.category, q.category),
        (items.c.kind, q.kind), (items.c.level, q.level)) if values]
    if q.states:
        found.append(pairs(q.states))
    if q.within is not None:
        found.append(_among(items.c.unit, list(q.within)) if q.within else false())
    for column, start, before in ((items.c.found_at, q.found_from, q.found_before),
                                  (items.c.entered_at, q.entered_from, q.entered_before)):
        if start is not None:
            found.append(column >= start)
        if before is not None:
            found.append(column < before)
    if q.overdue is not None:
        found.append(_overdue(q.overdue))
    if q.reached is not None:
        found.append(reached_flag(q.reached) == 1 if q.overdue is not None else false())
    return found


_ORDERS = {
    BY_ID: (items.c.id,),
    BY_OVERDUE: (case((items.c.level == "重大", 0), else_=1), case((items.c.overdue_from.is_(None), 1), else_=0),
                 items.c.overdue_from, items.c.id),
}


@lru_cache(maxsize=16)
def _offsets(tz: ZoneInfo) -> tuple[tuple[datetime | None, int], ...]:
    """(from which UTC instant, the zone's offset in seconds) for each stretch of constant
    offset between 1900 and 2200; the first stretch starts at None."""
    def offset(at: datetime) -> int:
        delta = at.astimezone(tz).utcoffset()
        return int(delta.total_seconds()) if delta is not None else 0

    spans: list[tuple[datetime | None, int]] = [(None, offset(datetime(1900, 1, 1, tzinfo=UTC)))]
    day, last = datetime(1900, 1, 1, tzinfo=UTC), datetime(2200, 1, 1, tzinfo=UTC)
    while day < last:
        step = day + timedelta(days=1)
        if offset(step) != spans[-1][1]:
            low, high = day, step  # the change lies in (low, high]: bisect to the second
            while high - low > timedelta(seconds=1):
                middle = low + (high - low) / 2
                low, high = (middle, high) if offset(middle) == spans[-1][1] else (low, middle)
            spans.append((high.replace(microsecond=0), offset(step)))
        day = step
    return tuple(spans)


def local_day(column: Any, tz: ZoneInfo, dialect: str) -> Any:
    """The day in `tz` of an instant column: PostgreSQL converts with its own zone data;
    SQLite (UTC text) gets the zone's offsets from Python, stretch by stretch."""
    if dialect != "sqlite":
        return cast(func.timezone(tz.key, column), Date)
    spans = _offsets(tz)
    # Whole seconds only: SQLite rounds a time's fraction to milliseconds, which would
    # carry 23:59:59.9999995 into the next day; the offsets are whole seconds.
    whole = func.substr(column, 1, 19)
    days = [func.date(whole, f"{seconds:+d} seconds") for _, seconds in spans]
    if len(spans) == 1:
        return days[0]
    # The latest stretch first: recent instants, nearly all of them, match at once.
    whens = [(column >= literal(start, UTCDateTime()), day) for (start, _), day in zip(spans[1:], days[1:], strict=True)]
    return case(*reversed(whens), else_=days[0])


# Ids are 64-bit integers on both databases (adapters.schema.Id): a number beyond them
# (`rectify show 99999999999999999999`) names no row, and must not reach the driver,
# which would fail converting it.
MAX_ID = 2**63 - 1


def storable_id(value: int) -> bool:
    return 0 < value <= MAX_ID


class _Translated:
    """Wraps a transaction's context manager so that driver errors, raised on entry, in
    the block or at commit, leave as StoreErrors. A class rather than a generator: every
    transition opens one, and a second generator frame showed in the benchmark."""

    __slots__ = ("_inner", "_url")

    def __init__(self, inner: AbstractContextManager[Connection], url: Any) -> None:
        self._inner, self._url = inner, url

    def __enter__(self) -> Connection:
        try:
            return self._inner.__enter__()
        except StatementError as exc:
            raise database.translate(exc, self._url) from exc

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        try:
            self._inner.__exit__(kind, exc, tb)  # commits, or rolls back and lets exc go on
        except StatementError as failed:
            raise database.translate(failed, self._url) from failed
        if isinstance(exc, StatementError):
            raise database.translate(exc, self._url) from exc


class SqlStore:
    """Items and ledger on one SQLAlchemy Engine. Writes take the database's write lock first."""

    def __init__(self, engine: Engine, clock: Clock | None = None) -> None:
        self.db = engine
        self._clock = clock or SystemClock()
        self._writer = engine.execution_options(**{database.WRITE: True})

    def write(self) -> _Translated:
        """A write transaction (the database's write lock taken first); driver errors
        come out as StoreErrors that name the database."""
        return _Translated(self._writer.begin(), self.db.url)

    @contextmanager
    def read(self) -> Iterator[Connection]:
        try:
            with self.db.connect() as conn:
                yield conn
        except StatementError as exc:
            raise database.translate(exc, self.db.url) from exc

    def add(self, item: Item, entry: LedgerEntry) -> Item:
        try:
            return self._add(item, entry)
        except StoreError as exc:
            self._raise_taken(exc, [item.origin] if item.origin else [])
            raise

    def _add(self, item: Item, entry: LedgerEntry) -> Item:
        now = self._clock.now().astimezone(UTC)
        with self.write() as conn:
            [new_id] = _reserve_ids(conn, 1)
            sealed = entry.sealed(new_id, 1, "")
            conn.execute(_INSERT_ITEM, {**_item_values(item), "id": new_id, "version": 1, "ledger_seq": 1,
                                        "ledger_head": sealed.hash, "created_at": now, "updated_at": now})
            _insert_entries(conn, [sealed])
        return self.get(new_id)

    def origins(self, candidates: list[str]) -> set[str]:
        """Which of these origins are already taken."""
        taken: set[str] = set()
        with self.read() as conn:
            for chunk in _chunks(list(candidates)):
                taken.update(r.origin for r in conn.execute(select(items.c.origin).where(items.c.origin.in_(chunk))))
        return taken

    def get_many(self, item_ids: Sequence[int]) -> dict[int, Item]:
        found: dict[int, Item] = {}
        with self.read() as conn:
            for chunk in _chunks(list(item_ids)):
                for row in conn.execute(select(items).where(items.c.id.in_(chunk))):
                    found[row.id] = _row_to_item(row)
        return found

    def by_origins(self, origins: Sequence[str]) -> dict[str, Item]:
        found: dict[str, Item] = {}
        with self.read() as conn:
            for chunk in _chunks(list(origins)):
                for row in conn.execute(select(items).where(items.c.origin.in_(chunk))):
                    found[row.origin] = _row_to_item(row)
        return found

    def add_batch(self, new: Sequence[tuple[Item, LedgerEntry]],
                  changed: Sequence[tuple[Item, int, LedgerEntry]]) -> list[int]:
        now = self._clock.now().astimezone(UTC)
        ids: list[int] = []
        try:
            with self.write() as conn:
                for chunk in _chunks(list(new), 1000):
                    chunk_ids = _reserve_ids(conn, len(chunk))
                    sealed = [entry.sealed(i, 1, "") for i, (_, entry) in zip(chunk_ids, chunk, strict=True)]
                    conn.execute(_INSERT_ITEM, [
                        {**_item_values(item), "id": i, "version": 1, "ledger_seq": 1, "ledger_head": e.hash,
                         "created_at": now, "updated_at": now}
                        for i, (item, _), e in zip(chunk_ids, chunk, sealed, strict=True)])
                    _insert_entries(conn, sealed)
                    ids += chunk_ids
                for item, expected, entry in changed:
                    before = _held(conn, item.id)
                    item.ledger_seq, item.ledger_head = before.ledger_seq, before.ledger_head
                    self._write(conn, item, expected, entry, plan_changes(before, item))
        except StoreError as exc:
            self._raise_taken(exc, [i.origin for i, _ in new if i.origin])
            raise
        return ids

    def _raise_taken(self, exc: StoreError, origins: list[str]) -> None:
        """AlreadyExists naming the origins another writer took first, when that is why
        the write failed; any other integrity error stays the database's own message."""
        if not isinstance(exc.__cause__, IntegrityError):
            return
        taken = self.origins(origins)
        if taken:
            shown = "、".join(sorted(taken))
            raise AlreadyExists(shown if len(shown) <= 200 else shown[:200] + f"…（共 {len(taken)} 项）") from exc

    def get(self, item_id: int) -> Item:
        if not storable_id(item_id):
            raise NotFound("事项", item_id)
        with self.read() as conn:
            row = conn.execute(_GET, {"b_id": item_id}).first()
        if row is None:
            raise NotFound("事项", item_id)
        return _row_to_item(row)

    def transition(self, item_id: int, decide: Callable[[Item], tuple[Item, LedgerEntry]],
                   max_files: int | None = None) -> tuple[Item, Item]:
        if not storable_id(item_id):
            raise NotFound("事项", item_id)
        with self.write() as conn:
            before = _held(conn, item_id)
            after, entry = decide(before)
            if max_files is not None and ATTACHMENTS in entry.changes:
                # Counted under the item's lock (FOR UPDATE; SQLite's write lock): every
                # write attaching files to it holds that lock too.
                held = conn.execute(_ATTACHED, {"b_id": item_id}).scalar_one()
                count_after(held, carried(entry.changes), max_files)
            self._write(conn, after, before.version, entry, plan_changes(before, after))
        return before, after

    def update(self, item: Item, expected_version: int, entry: LedgerEntry) -> Item:
        with self.write() as conn:
            current = _held(conn, item.id)
            item.ledger_seq, item.ledger_head = current.ledger_seq, current.ledger_head
            self._write(conn, item, expected_version, entry, plan_changes(current, item))
        return item

    def rewrite(self, item_id: int, decide: Callable[[Item], tuple[Item, LedgerEntry] | None],
                then: Callable[[Connection], None] | None = None) -> Item | None:
        """In one write transaction holding the item: read it, let `decide` return its new
        version and ledger entry, write both, then let `then` write more in the same
        transaction; nothing when `decide` returns None. Returns the item as written (or
        None); NotFound for an unknown id, ConcurrentUpdate when another writer changed
        the item meanwhile."""
        with self.write() as conn:
            before = _held(conn, item_id)
            change = decide(before)
            if change is None:
                return None
            after, entry = change
            self._write(conn, after, before.version, entry, plan_changes(before, after))
            if then is not None:
                then(conn)
        return after

    def extend(self, item_id: int,
               decide: Callable[[Item, Sequence[Extension]], ExtensionWrite]) -> tuple[Item, Extension]:
        if not storable_id(item_id):
            raise NotFound("事项", item_id)
        with self.write() as conn:
            before = _held(conn, item_id)
            existing = [_row_to_extension(r) for r in conn.execute(
                select(extensions).where(extensions.c.item_id == item_id).order_by(extensions.c.id))]
            change = decide(before, existing)
            self._write(conn, change.item, before.version, change.entry, plan_changes(before, change.item))
            written = self._write_extension(conn, item_id, change.request)
            rows = _notification_rows(change.item, written, change)
            if rows:
                conn.execute(insert(notifications), rows)
        return change.item, written

    @staticmethod
    def _write_extension(conn: Connection, item_id: int, request: Extension) -> Extension:
        """Insert a new request (none may be pending) or answer a pending one."""
        pending = select(extensions.c.id).where(extensions.c.item_id == item_id, extensions.c.status == PENDING)
        if request.id is None:
            if conn.execute(pending).first() is not None:
                raise ConcurrentUpdate(item_id)
            key = conn.execute(insert(extensions), _extension_values(request)).inserted_primary_key
            assert key is not None
            return Extension(int(key[0]), *(getattr(request, n) for n in _EXTENSION_FIELDS[1:]))
        values = _extension_values(request)
        done = conn.execute(update(extensions).where(extensions.c.id == request.id, extensions.c.item_id == item_id,
                                                     extensions.c.status == PENDING).values(values)).rowcount
        if done != 1:
            raise ConcurrentUpdate(item_id)
        return request

    def extensions(self, item_id: int) -> list[Extension]:
        if not storable_id(item_id):
            return []
        stmt = select(extensions).where(extensions.c.item_id == item_id).order_by(extensions.c.id)
        with self.read() as conn:
            return [_row_to_extension(r) for r in conn.execute(stmt)]

    def pending_extensions(self) -> list[Extension]:
        stmt = select(extensions).where(extensions.c.status == PENDING).order_by(extensions.c.id)
        with self.read() as conn:
            return [_row_to_extension(r) for r in conn.execute(stmt)]

    @staticmethod
    def item_from_row(row: Any) -> Item:
        """An Item from a row of `select(items)`, or any sequence in the table's column order."""
        return _row_to_item(row)

    def _write(self, conn: Connection, item: Item, expected_version: int, entry: LedgerEntry,
               plan_columns: frozenset[str] = frozenset()) -> None:
        """UPDATE the changed columns if the version still matches, then append the entry."""
        if item.id is None:
            raise ValueError("cannot write an item that was never stored")
        sealed = entry.sealed(item.id, item.ledger_seq + 1, item.ledger_head)
        now = self._clock.now().astimezone(UTC)
        changed = frozenset(_ALWAYS) | {c for c in COLUMNS if c in entry.changes} | plan_columns
        item.overdue_from = item.overdue_with_pauses()
        values = {c: getattr(item, c) for c in changed
                  if c in COLUMNS or c in plan_columns or c in ("state", "fields", "overdue_from")}
        values.update(version=expected_version + 1, ledger_seq=sealed.seq, ledger_head=sealed.hash,
                      updated_at=now, b_id=item.id, b_expected=expected_version)
        if conn.execute(_update_statement(changed), values).rowcount != 1:
            raise ConcurrentUpdate(item.id)
        _insert_entries(conn, [sealed])
        item.version, item.updated_at = expected_version + 1, now
        item.ledger_seq, item.ledger_head = sealed.seq, sealed.hash

    def query(self, query: Query) -> list[Item]:
        stmt = select(items).where(*selecting(query)).order_by(*_ORDERS[query.order])
        if query.limit:
            stmt = stmt.limit(query.limit)
        if query.offset:
            stmt = stmt.offset(query.offset)
        with self.read() as conn:
            return [_row_to_item(r) for r in conn.execute(stmt)]

    def count(self, query: Query) -> int:
        stmt = select(func.count()).select_from(items).where(*selecting(query))
        with self.read() as conn:
            return int(conn.execute(stmt).scalar_one())

    def tally(self, query: Query, overdue: Overdue, reached: Sequence[Reached]) -> list[Tally]:
        late = overdue_flag(overdue)
        keys = (items.c.kind, items.c.workflow, items.c.state, items.c.unit, items.c.category, items.c.level)
        stmt = (select(*keys, func.count(), func.sum(late), func.sum(late * reached_flag(reached)))
                .where(*selecting(query)).group_by(*keys))
        with self.read() as conn:
            return [Tally(r[0], r[1], r[2], r[3], r[4], r[5], int(r[6]), int(r[7] or 0), int(r[8] or 0))
                    for r in conn.execute(stmt)]

    def period_tally(self, query: Query, closed: Sequence[tuple[str, str]],
                     windows: Sequence[Window]) -> list[PeriodTally]:
        # Two narrow counts, each read from its covering index (ix_items_found, ix_items_closed).
        if not windows:
            return []
        last = max(w.end for w in windows)
        counts: dict[str | None, list[int]] = {}
        for column, offset, extra in ((items.c.found_at, 0, ()),
                                      (items.c.entered_at, 2, (pairs(closed), items.c.entered_at.is_not(None)))):
            sums = [func.sum(case((cond, 1), else_=0)) for w in windows
                    for cond in (column < w.end, and_(column >= w.start, column < w.end))]
            stmt = (select(items.c.unit, *sums).where(*selecting(query), *extra, column < last)
                    .group_by(items.c.unit))
            with self.read() as conn:
                for row in conn.execute(stmt):
                    values = counts.setdefault(row[0], [0] * (4 * len(windows)))
                    for n in range(len(windows)):
                        values[4 * n + offset] = int(row[1 + 2 * n] or 0)
                        values[4 * n + offset + 1] = int(row[2 + 2 * n] or 0)
        return [PeriodTally(unit, *(tuple(v[4 * n + k] for n in range(len(windows))) for k in range(4)))
                for unit, v in counts.items()]

    def day_counts(self, query: Query, column: str, tz: ZoneInfo) -> list[tuple[str | None, date, int]]:
        day = local_day(items.c[column], tz, self.db.dialect.name)
        stmt = (select(items.c.unit, day, func.count()).where(*selecting(query), items.c[column].is_not(None))
                .group_by(items.c.unit, day))
        with self.read() as conn:
            return [(r[0], r[1] if isinstance(r[1], date) else date.fromisoformat(r[1]), int(r[2]))
                    for r in conn.execute(stmt)]

    def bindings(self, query: Query) -> list[tuple[str, str]]:
        stmt = (select(items.c.policy_version, items.c.rule).distinct()
                .where(*selecting(query), items.c.policy_version.is_not(None), items.c.rule.is_not(None)))
        with self.read() as conn:
            return sorted((str(r[0]), str(r[1])) for r in conn.execute(stmt))

    def provisional_open(self, finals: Mapping[str, Collection[str]]) -> list[int]:
        """Ids of the items with a provisional deadline that are not in a final state of
        their workflow (`finals`: workflow -> final states), through the partial index."""
        stmt = _open(select(items.c.id).where(items.c.provisional == true()), finals).order_by(items.c.id)
        with self.read() as conn:
            return [int(r[0]) for r in conn.execute(stmt)]

    def rule_bindings_open(self, finals: Mapping[str, Collection[str]]) -> list[tuple[str, str]]:
        stmt = _open(select(items.c.policy_version, items.c.rule).distinct()
                     .where(items.c.deadline.is_(None), items.c.rule.is_not(None),
                            items.c.policy_version.is_not(None)), finals)
        with self.read() as conn:
            return sorted((str(r[0]), str(r[1])) for r in conn.execute(stmt))

    def deadlines_open(self, finals: Mapping[str, Collection[str]], words: Sequence[str],
                       rules: Collection[tuple[str, str]]) -> list[int]:
        matching = [items.c.deadline.contains(w, autoescape=True) for w in words]
        matching += [and_(items.c.deadline.is_(None), items.c.policy_version == version, items.c.rule == rule)
                     for version, rule in sorted(rules)]
        if not matching:
            return []
        stmt = _open(select(items.c.id).where(or_(*matching)), finals).order_by(items.c.id)
        with self.read() as conn:
            return [int(r[0]) for r in conn.execute(stmt)]

    def chains(self, batch: int = 1000) -> Iterator[list[tuple[Item, list[LedgerEntry]]]]:
        """Every item with its ledger, in order of id, `batch` items at a time (an audit of
        a million items holds one batch)."""
        after = 0
        while True:
            with self.read() as conn:
                rows = conn.execute(select(items).where(items.c.id > after).order_by(items.c.id).limit(batch)).all()
            if not rows:
                return
            found = [_row_to_item(r) for r in rows]
            histories = self.histories([i.id for i in found if i.id is not None])
            yield [(i, histories[i.id]) for i in found if i.id is not None]
            after = int(rows[-1].id)

    def ledger_orphans(self) -> list[int]:
        """Item ids named by ledger rows whose item row is gone."""
        stmt = (select(ledger.c.item_id).distinct()
                .where(~select(items.c.id).where(items.c.id == ledger.c.item_id).exists()))
        with self.read() as conn:
            return sorted(int(r[0]) for r in conn.execute(stmt))

    def meta(self, key: str) -> str | None:
        """A fact about the database (site_meta), or None."""
        with self.read() as conn:
            return conn.execute(select(site_meta.c.value).where(site_meta.c.key == key)).scalar()

    def recorded_before(self, at: datetime) -> bool:
        # No index on the ledger's instants: the scan stops at the first older row, which
        # on a site in use is among the first rows; it runs once per report and period.
        stmt = select(ledger.c.id).where(ledger.c.at < at).limit(1)
        with self.read() as conn:
            return conn.execute(stmt).first() is not None

    def add_attachments(self, item_id: int, seq: int | None, files: Sequence[Attachment],
                        uploaded_by: str, at: datetime) -> list[StoredAttachment]:
        if not storable_id(item_id):
            raise NotFound("事项", item_id)
        with self.write() as conn:
            if conn.execute(_GET_FOR_UPDATE, {"b_id": item_id}).first() is None:
                raise NotFound("事项", item_id)
            _attach(conn, item_id, seq, files, uploaded_by, at)
        return self.attachments(item_id)

    def attachments(self, item_id: int) -> list[StoredAttachment]:
        if not storable_id(item_id):
            return []
        stmt = select(attachments).where(attachments.c.item_id == item_id).order_by(attachments.c.id)
        with self.read() as conn:
            return [_row_to_attachment(r) for r in conn.execute(stmt)]

    def referenced(self, sha256s: Collection[str]) -> set[str]:
        found: set[str] = set()
        with self.read() as conn:
            for chunk in _chunks(sorted(set(sha256s))):
                for column in (attachments.c.sha256, attachments.c.thumbnail):
                    found.update(r[0] for r in conn.execute(select(column).where(column.in_(chunk)).distinct()))
        return found

    def attachments_of(self, item_ids: Sequence[int]) -> dict[int, list[StoredAttachment]]:
        found: dict[int, list[StoredAttachment]] = {}
        with self.read() as conn:
            for chunk in _chunks([i for i in item_ids if storable_id(i)]):
                stmt = select(attachments).where(attachments.c.item_id.in_(chunk)).order_by(attachments.c.id)
                for row in conn.execute(stmt):
                    found.setdefault(int(row.item_id), []).append(_row_to_attachment(row))
        return found

    def history(self, item_id: int) -> list[LedgerEntry]:
        if not storable_id(item_id):
            return []
        with self.read() as conn:
            rows = conn.execute(_HISTORY, {"b_id": item_id})
            return [_row_to_entry(r) for r in rows]

    def histories(self, item_ids: list[int]) -> dict[int, list[LedgerEntry]]:
        """The ledgers of many items in one query, by item id."""
        found: dict[int, list[LedgerEntry]] = {i: [] for i in item_ids}
        item_ids = [i for i in item_ids if storable_id(i)]
        if not item_ids:
            return found
        stmt = select(ledger).where(ledger.c.item_id.in_(item_ids)).order_by(ledger.c.item_id, ledger.c.seq)
        with self.read() as conn:
            for row in conn.execute(stmt):
                found[row.item_id].append(_row_to_entry(row))
        return found

    def save_policy(self, version: str, loaded_at: datetime, sources: dict[str, str]) -> None:
        """Keep a policy version's rule texts (once; a version is its content's hash)."""
        with self.write() as conn:
            if conn.execute(_POLICY, {"b_version": version}).first() is None:
                conn.execute(insert(policies), {"version": version, "loaded_at": loaded_at, "sources": sources})

    def policy_sources(self, version: str) -> tuple[datetime, dict[str, str]] | None:
        with self.read() as conn:
            row = conn.execute(_POLICY, {"b_version": version}).first()
        return (row.loaded_at, dict(row.sources)) if row else None

    def policy_versions(self) -> list[tuple[str, datetime, int]]:
        """Every stored version with when it was loaded and how many items are bound to it."""
        counts = (select(items.c.policy_version, func.count().label("n"))
                  .group_by(items.c.policy_version).subquery())
        stmt = (select(policies.c.version, policies.c.loaded_at, func.coalesce(counts.c.n, 0))
                .outerjoin(counts, counts.c.policy_version == policies.c.version)
                .order_by(policies.c.loaded_at))
        with self.read() as conn:
            return [(r[0], r[1], int(r[2])) for r in conn.execute(stmt)]

    def states_in_use(self) -> list[tuple[str, str, int]]:
        """(workflow, state, number of items) for every pair stored items are in."""
        stmt = select(items.c.workflow, items.c.state, func.count()).group_by(items.c.workflow, items.c.state)
        with self.read() as conn:
            return [(r[0], r[1], int(r[2])) for r in conn.execute(stmt)]

    def close(self) -> None:
        self.db.dispose()
