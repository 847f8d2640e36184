"""Every port: what the engine and the application need from the world outside them.

The engine depends on these interfaces only; adapters implement them. Each store port
has an in-memory and a SQL implementation, and both pass one contract suite
(tests/contract/, run over memory, SQLite and PostgreSQL).

    port                implementations
    ------------------  ---------------------------------------------------------------
    Clock               adapters.clock.SystemClock, engine.clock.FakeClock (tests)
    ItemStore           adapters.sqlstore.SqlStore, adapters.memory.MemoryStore
      (items, their hash-chained ledgers; also a PolicyArchive and an ExtensionStore)
    ExtensionStore      adapters.sqlstore.SqlStore, adapters.memory.MemoryStore
      (extension requests, written with the item's ledger row and their notifications)
    PolicyArchive       adapters.sqlstore.SqlStore, adapters.memory.MemoryStore
      (the rule texts of every policy version items were bound to; PolicyBook reaches
      it through the SourceLoader / Builder / Saver callables below)
    NotificationQueue   adapters.outbox.SqlNotificationQueue, adapters.memory.MemoryOutbox
      (steps that came due queued as notifications, composed into digests)
    MessageOutbox       adapters.outbox.SqlMessageOutbox, adapters.memory.MemoryOutbox
      (messages leased for delivery, marked sent / retried / dead)
    Outbox              adapters.outbox.SqlOutbox, adapters.memory.MemoryOutbox
      (what one scheduler tick needs: NotificationQueue + MessageOutbox + previous_tick)
    Heartbeats          adapters.outbox.SqlHeartbeats, adapters.memory.MemoryOutbox
      (the daemons' last ticks, queue status)
    StageReportLog      adapters.outbox.SqlStageReportLog, adapters.memory.MemoryOutbox
      (stage reports sent, once per period)
    Rewriter            adapters.outbox.SqlRewriter, adapters.memory.MemoryOutbox
      (an item rewritten outside its workflow, with its messages, in one transaction)
    SiteOutbox          adapters.outbox.SqlOutbox (the five SQL classes over one SqlStore),
                        adapters.memory.MemoryOutbox (over a MemoryStore); App.outbox gives
                        the one for its store. Both pass tests/contract/test_outbox.py.
    RobotOutbox         adapters.outbox.SqlRobotOutbox, adapters.memory.MemoryOutbox
      (group robots' messages leased for delivery, and each robot's rate budget, shared
      by every daemon of the database)
    Mailer              adapters.mail.SmtpMailer, adapters.mail.FileMailer
    RobotSender         adapters.robots.HttpRobots (WeCom and DingTalk webhooks, by httpx)
    DigestRender        adapters.templates.Templates.digest
    ChangeRender        adapters.templates.Templates.deadline_changed
    LeaderLock          adapters.leader.Leadership (always leader: SQLite, memory, tests),
                        adapters.leader.AdvisoryLeadership (PostgreSQL advisory lock)
    DaemonLock          adapters.leader.SqliteDaemonLock (one daemon per SQLite file)
    EvidenceStore       adapters.evidence.stores.DirectoryEvidence (a directory of the site),
                        adapters.evidence.stores.DatabaseEvidence (a table of the database,
                        shared by every machine of a PostgreSQL site)

Nothing here may import an adapter; the names below are imported for type checking only.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from engine.evidence import Attachment, StoredAttachment
    from engine.extensions import Extension, ExtensionWrite
    from engine.mail import OutgoingMessage
    from engine.model import Item, LedgerEntry
    from engine.notices import DeadlineChange, Digest
    from engine.policy import Policy
    from engine.provisional import Rewrite
    from engine.robotdelivery import RobotOutgoing
    from engine.robots import Robot
    from engine.scheduler import Composed, Decision, Outgoing, Pending


# -- time --------------------------------------------------------------------------


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware."""
        ...


# -- items and ledger ----------------------------------------------------------------


@dataclass(frozen=True)
class Paused:
    """Items bound to `rule` of policy `version` are paused (never overdue) while in one of
    `states`, entered before they fell overdue (engine.plan.is_paused)."""

    version: str
    rule: str
    states: tuple[str, ...]


@dataclass(frozen=True)
class Overdue:
    """Overdue at `at`: fallen overdue (Item.overdue_from) at or before `at`, not paused."""

    at: datetime
    paused: tuple[Paused, ...] = ()


@dataclass(frozen=True)
class Reached:
    """An escalation rung reached: the items bound to `rule` of `version` whose unit is in
    `units` (any unit when None) that fell overdue at or before `by`. Of a list, the first
    condition matching an item's version, rule and unit decides (campus calendars first)."""

    version: str
    rule: str
    units: tuple[str, ...] | None
    by: datetime


# Query.order values.
BY_ID = "id"
BY_OVERDUE = "overdue"  # 重大 first, then the longest overdue, then by id


@dataclass(frozen=True)
class Query:
    """Items matching every given filter (any of each one's values). `unit` may hold None
    for items without a unit; `states` are (workflow, state) pairs; `within` restricts to
    the units a person may see; instants bound found_at and entered_at (entry into the
    current state: for an item in a final state, when it was closed) half-open."""

    state: Sequence[str] = ()
    unit: Sequence[str | None] = ()
    category: Sequence[str] = ()
    kind: Sequence[str] = ()
    limit: int | None = None
    level: Sequence[str] = ()
    states: Sequence[tuple[str, str]] = ()
    within: Sequence[str | None] | None = None
    found_from: datetime | None = None
    found_before: datetime | None = None
    entered_from: datetime | None = None
    entered_before: datetime | None = None
    overdue: Overdue | None = None
    reached: tuple[Reached, ...] | None = None  # only with `overdue`; () matches nothing
    order: str = BY_ID
    offset: int = 0


@dataclass(frozen=True)
class Tally:
    """One group of items (dashboard counts): how many, how many overdue, how many of
    those reached the rung asked about."""

    kind: str
    workflow: str
    state: str
    unit: str | None
    category: str
    level: str
    count: int
    overdue: int
    reached: int


@dataclass(frozen=True)
class Window:
    """A period as instants: [start, end)."""

    start: datetime
    end: datetime


@dataclass(frozen=True)
class PeriodTally:
    """One unit's items over windows, one value per window: found before its end, found
    within it, closed before its end, closed within it."""

    unit: str | None
    found: tuple[int, ...]
    new: tuple[int, ...]
    closed: tuple[int, ...]
    closed_in: tuple[int, ...]


class PolicyArchive(Protocol):
    def save_policy(self, version: str, loaded_at: datetime, sources: dict[str, str]) -> None:
        """Keep a policy version's rule texts (once; a version is its content's hash)."""
        ...

    def policy_sources(self, version: str) -> tuple[datetime, dict[str, str]] | None:
        """(loaded_at, {file name: text}) of a stored version, or None."""
        ...

    def policy_versions(self) -> list[tuple[str, datetime, int]]:
        """Every stored version with when it was loaded and how many items are bound to
        it, in order of loading."""
        ...


class ExtensionStore(Protocol):
    """Extension requests (延期申请) beside the items they are for."""

    def extend(self, item_id: int,
               decide: Callable[[Item, Sequence[Extension]], ExtensionWrite]) -> tuple[Item, Extension]:
        """In one write transaction holding the item: read it and its requests (oldest
        first), let `decide` return the item's new version with its ledger entry, the
        request to store (inserted when its id is None, else a pending request answered)
        and its notifications; write them all (the notifications queued for the digests,
        where the store has a queue). Returns the item and the request as written.
        NotFound for an unknown item; ConcurrentUpdate when the item was written meanwhile,
        when a new request meets a pending one, or when the request answered is no longer
        pending; whatever `decide` raises rolls everything back."""
        ...

    def extensions(self, item_id: int) -> list[Extension]:
        """The item's requests, oldest first."""
        ...

    def pending_extensions(self) -> list[Extension]:
        """Every pending request, oldest first."""
        ...


class ItemStore(PolicyArchive, ExtensionStore, Protocol):
    """Items and their ledgers. A ledger entry whose changes list files (engine.evidence:
    changes["attachments"]) also writes them to the item's attachments, in the same
    transaction as the entry."""

    def add(self, item: Item, entry: LedgerEntry) -> Item:
        """Insert a new item and its first ledger row together; returns it with its id."""
        ...

    def origins(self, candidates: list[str]) -> set[str]:
        """Which of these origin keys already belong to an item."""
        ...

    def get(self, item_id: int) -> Item:
        """The item, or NotFound."""
        ...

    def get_many(self, item_ids: Sequence[int]) -> dict[int, Item]:
        """The items that exist among these ids, by id."""
        ...

    def by_origins(self, origins: Sequence[str]) -> dict[str, Item]:
        """The items holding these origin keys, by origin."""
        ...

    def add_batch(self, new: Sequence[tuple[Item, LedgerEntry]],
                  changed: Sequence[tuple[Item, int, LedgerEntry]]) -> list[int]:
        """Insert new items with their first ledger rows and write changed items (each
        with the version it was read at and its ledger entry), all in one transaction:
        everything or nothing. Returns the new items' ids in order. AlreadyExists when
        an origin is taken, ConcurrentUpdate when a changed item was written meanwhile."""
        ...

    def transition(self, item_id: int, decide: Callable[[Item], tuple[Item, LedgerEntry]],
                   max_files: int | None = None) -> tuple[Item, Item]:
        """Read the item, let `decide` return the changed item and its ledger entry, and
        write both, all in one write transaction holding the item; returns (before, after).
        Whatever `decide` raises rolls everything back. With `max_files`, an entry that
        carries files is refused (EvidenceRefused, engine.evidence.count_after) when the
        item's attachments, counted in the same transaction, would be more than that:
        two writers together never pass the limit."""
        ...

    def update(self, item: Item, expected_version: int, entry: LedgerEntry) -> Item:
        """Write the item and append `entry` in one transaction, if nobody wrote since
        `expected_version`; otherwise ConcurrentUpdate and nothing is written."""
        ...

    def query(self, query: Query) -> list[Item]:
        """The items matching every given filter (any of each one's values), by id."""
        ...

    def count(self, query: Query) -> int:
        """How many items `query` selects (limit and offset ignored)."""
        ...

    def tally(self, query: Query, overdue: Overdue, reached: Sequence[Reached]) -> list[Tally]:
        """The items `query` selects grouped by kind, workflow, state, unit, category and
        level: how many, how many overdue at `overdue.at`, and how many of those reached
        (the first condition of `reached` matching the item decides)."""
        ...

    def period_tally(self, query: Query, closed: Sequence[tuple[str, str]],
                     windows: Sequence[Window]) -> list[PeriodTally]:
        """The items `query` selects, by unit, over each window; an item is closed when in
        one of the `closed` (workflow, state) pairs, at the instant it entered it."""
        ...

    def day_counts(self, query: Query, column: str, tz: ZoneInfo) -> list[tuple[str | None, date, int]]:
        """(unit, day in `tz`, how many) of the items `query` selects, by the day of their
        `column` ("found_at" or "entered_at")."""
        ...

    def bindings(self, query: Query) -> list[tuple[str, str]]:
        """(policy version, rule) of the items `query` selects, each pair once, sorted."""
        ...

    def provisional_open(self, finals: Mapping[str, Collection[str]]) -> list[int]:
        """Ids of the items whose deadline is provisional (counted into a year with no
        holiday arrangement yet), except those in a final state (workflow -> states)."""
        ...

    def rule_bindings_open(self, finals: Mapping[str, Collection[str]]) -> list[tuple[str, str]]:
        """(policy version, rule) of the items not in a final state whose deadline is
        their rule's (they have none of their own), each pair once."""
        ...

    def deadlines_open(self, finals: Mapping[str, Collection[str]], words: Sequence[str],
                       rules: Collection[tuple[str, str]]) -> list[int]:
        """Ids of the items not in a final state whose own deadline contains one of
        `words`, or whose deadline is that of one of the (policy version, rule) `rules`."""
        ...

    def history(self, item_id: int) -> list[LedgerEntry]:
        """The item's ledger rows in order."""
        ...

    def histories(self, item_ids: list[int]) -> dict[int, list[LedgerEntry]]:
        """The ledgers of many items at once, by item id."""
        ...

    def chains(self, batch: int = 1000) -> Iterator[list[tuple[Item, list[LedgerEntry]]]]:
        """Every item with its ledger, in order of id, `batch` items at a time."""
        ...

    def ledger_orphans(self) -> list[int]:
        """Item ids named by ledger rows whose item is gone."""
        ...

    def states_in_use(self) -> list[tuple[str, str, int]]:
        """(workflow, state, number of items) for every pair stored items are in."""
        ...

    def meta(self, key: str) -> str | None:
        """A fact about the database (site_meta), or None."""
        ...

    def recorded_before(self, at: datetime) -> bool:
        """Whether the ledger holds any row earlier than `at`: whether the site was in
        use then (a stage report is owed only for a period it was in use)."""
        ...

    def add_attachments(self, item_id: int, seq: int | None, files: Sequence[Attachment],
                        uploaded_by: str, at: datetime) -> list[StoredAttachment]:
        """Attach files to the item (to its ledger row `seq`, or to the item itself when
        None); a file already attached to the same row is not attached twice. NotFound
        for an unknown item."""
        ...

    def attachments(self, item_id: int) -> list[StoredAttachment]:
        """The item's attachments in the order they were attached."""
        ...

    def referenced(self, sha256s: Collection[str]) -> set[str]:
        """Which of these SHA-256s an attachment of any item names, as its file or as its
        thumbnail (a file the evidence store must keep)."""
        ...

    def attachments_of(self, item_ids: Sequence[int]) -> dict[int, list[StoredAttachment]]:
        """The attachments of many items at once (those that have any), by item id."""
        ...

    def close(self) -> None:
        ...


# PolicyBook's view of the archive.
# (version) -> (loaded_at, {file name: text}) as stored, or None if never stored.
SourceLoader = Callable[[str], "tuple[datetime, dict[str, str]] | None"]
# Builds a Policy from stored sources (validation included).
Builder = Callable[[datetime, dict[str, str]], "Policy"]
# Records a version and its sources so that later processes can rebuild it.
Saver = Callable[["Policy"], None]


# -- notifications and messages ---------------------------------------------------------


class NotificationQueue(Protocol):
    def schedule_due(self, at: datetime, limit: int, decide: Callable[[Item], Decision]) -> tuple[int, int]:
        """Claim up to `limit` items with next_action_at <= at, write each decision in the
        same transaction; returns (items claimed, notifications newly queued)."""
        ...

    def compose(self, at: datetime, limit: int, build: Callable[[list[Pending]], list[Composed]],
                only_urgent: bool = False) -> tuple[int, int]:
        """Turn up to `limit` pending notifications (only urgent ones when `only_urgent`:
        outside office hours) into messages; returns (notifications taken, messages written)."""
        ...

    def add_message(self, message: Composed, at: datetime) -> int | None:
        """Queue one message; its id. None only for a robot's message all of whose
        notifications that robot was given already (a step reaches a group once)."""
        ...


class MessageOutbox(Protocol):
    def claim_messages(self, at: datetime, limit: int, lease_until: datetime,
                       only_urgent: bool = False) -> list[Outgoing]:
        """Lease up to `limit` pending messages due by `at` (only urgent ones when
        `only_urgent`: outside office hours) until `lease_until`."""
        ...

    def mark_sent(self, message_id: int, at: datetime) -> None: ...

    def mark_retry(self, message_id: int, attempts: int, next_at: datetime, error: str) -> None: ...

    def mark_dead(self, message_id: int, attempts: int, error: str) -> None: ...

    def release(self, message_ids: list[int], at: datetime) -> None: ...


class Outbox(NotificationQueue, MessageOutbox, Protocol):
    """What one scheduler tick needs."""

    def previous_tick(self) -> datetime | None: ...


class Heartbeats(Protocol):
    def previous_tick(self) -> datetime | None: ...

    def record_tick(self, name: str, started_at: datetime, wall: datetime, as_of: datetime,
                    seconds: float | None, version: str, error: str | None) -> None: ...

    def status(self, at: datetime) -> dict[str, Any]:
        """The queue's state: items due, messages by status, unsent notifications, and
        what would wait for office hours (`held_notifications`, the `held_recipients`
        they are for, `held_messages`: the non-urgent ones), the daemons' heartbeats."""
        ...


class StageReportLog(Protocol):
    def add_stage_report(self, name: str, period: str, at: datetime, recipients: list[str],
                         composed: list[Composed]) -> bool:
        """Record the report as sent for its period and queue its messages, in one
        transaction; False (and nothing queued) when it was recorded already."""
        ...

    def stage_report_sent(self, name: str, period: str) -> datetime | None: ...


class Rewriter(Protocol):
    def rewrite(self, item_id: int, decide: Callable[[Item], Rewrite | None]) -> Item | None:
        """In one write transaction holding the item: read it, let `decide` return its new
        version, ledger entry and messages, and write them all; nothing when `decide`
        returns None. Returns the item as written (or None); ConcurrentUpdate when
        another writer changed it meanwhile."""
        ...


class RobotOutbox(Protocol):
    """The group robots' side of the message outbox: their rows are messages (one id
    sequence with the mail, `rectify outbox` lists both) that the mail's claims skip."""

    def claim_robot_messages(self, at: datetime, limit: int, lease_until: datetime,
                             only_urgent: bool = False) -> list[RobotOutgoing]:
        """Lease up to `limit` due robot messages (oldest first) until `lease_until`;
        with `only_urgent` (outside office hours), only the urgent ones."""
        ...

    def reserve_send(self, robot: str, now: datetime, limit: int, window: timedelta) -> datetime | None:
        """Take one of the robot's `limit` sends per `window`, as of `now`, in one write
        transaction that every daemon of the database serialises on: None when taken
        (the caller sends now); else the instant a send is free again (the robot is held,
        or `limit` sends were taken in the window before `now`)."""
        ...

    def hold_robot(self, robot: str, until: datetime) -> None:
        """The platform said the robot sends too much: no send before `until`."""
        ...

    def release(self, message_ids: list[int], at: datetime) -> None:
        """Leased messages due again at `at`, their attempts unchanged."""
        ...

    def mark_sent(self, message_id: int, at: datetime) -> None: ...

    def mark_retry(self, message_id: int, attempts: int, next_at: datetime, error: str) -> None: ...

    def mark_dead(self, message_id: int, attempts: int, error: str) -> None: ...

    def add_message(self, message: Composed, at: datetime) -> int | None: ...


class SiteOutbox(Outbox, Heartbeats, StageReportLog, Rewriter, RobotOutbox, Protocol):
    """Everything the application's outbox does (App.outbox)."""

    def retry_dead(self, message_ids: list[int] | None, at: datetime) -> int: ...

    def list_messages(self, statuses: tuple[str, ...], limit: int = 200) -> list[Any]: ...


# -- mail ------------------------------------------------------------------------------


class Mailer(Protocol):
    def send(self, message: OutgoingMessage) -> None:
        """Hand the message over, or raise TemporaryFailure / PermanentFailure."""
        ...


class RobotSender(Protocol):
    def send(self, robot: Robot, message: RobotOutgoing) -> None:
        """Post the message to the robot's webhook, or raise a TemporaryFailure (RateLimited
        when the platform says the robot sends too much) or a PermanentFailure
        (engine/robots.py)."""
        ...


DigestRender = Callable[["Digest"], Any]  # → an object with subject, text, html
ChangeRender = Callable[["DeadlineChange"], Any]  # → an object with subject, text, html


class Renderer(Protocol):
    """What a message says, as the site's templates put it (adapters.templates.Templates)."""

    def digest(self, d: Digest) -> Any: ...

    def deadline_changed(self, d: DeadlineChange) -> Any: ...

    def check(self) -> None:
        """Raise ConfigError naming every template that does not compile or render."""
        ...


# -- evidence ------------------------------------------------------------------------


class EvidenceStore(Protocol):
    """Files kept by the SHA-256 of their bytes (lower-case hex): putting the same bytes
    twice keeps one copy; what is kept is never changed."""

    def put(self, data: bytes) -> str:
        """Keep the bytes (durably, before returning); returns their SHA-256."""
        ...

    def get(self, sha256: str) -> bytes:
        """The bytes kept under this hash, or NotFound."""
        ...

    def exists(self, sha256: str) -> bool:
        ...

    def missing(self, sha256s: Collection[str]) -> set[str]:
        """Which of these hashes the store holds no file under."""
        ...

    def remove(self, sha256: str) -> None:
        """Forget the bytes kept under this hash (nothing when none are). Only for a file
        kept for a write that then failed, or left by one that died, and that no
        attachment names (engine.evidence.Keeper checks); a store in the database refuses
        to remove one an attachment names."""
        ...

    def stored_before(self, instant: datetime) -> list[str]:
        """The hashes of the files first kept before `instant`."""
        ...


# -- locks -----------------------------------------------------------------------------


class LeaderLock(Protocol):
    """Who may do the once-per-site work now."""

    def held(self) -> bool:
        """True when this process holds the site's lock now; never raises."""
        ...

    def close(self) -> None: ...


class DaemonLock(Protocol):
    """At most one daemon per database, where the database needs that."""

    def acquire(self) -> None:
        """Take the lock or raise AlreadyRunning naming the holder."""
        ...

    def release(self) -> None: ...
