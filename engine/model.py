"""What is tracked: items (hazards and tasks), their fields, and ledger entries."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from engine.errors import TooLong
from engine.names import Vocabulary

LEVELS = {"一般": "一般隐患", "重大": "重大隐患"}
KINDS = {"hazard": "隐患", "task": "整治任务"}


# The longest text a field holds, in characters (README "Input limits"): free text
# (descriptions, measures, evidence …) and ledger notes; names and short texts have their
# own, below. Checked wherever a value enters (report, fire --set, import).
FREE_TEXT = 5000
NAME = 128


@dataclass(frozen=True)
class FieldSpec:
    name: str
    title: str
    kind: str = "text"  # text | unit | person | deadline | datetime | money
    settable: bool = True
    max_length: int = FREE_TEXT
    # Whether a person sets it (--set, a form); False: only an import fills it in, from
    # the list's own columns (项目, 配合单位, the unit cell as written, 序号).
    by_hand: bool = True
    # Other words people use for it, besides its title (for --set 字段=值).
    aliases: tuple[str, ...] = ()


# Fields an item can carry. Columns of the items table are marked in Item; all
# others live in its `fields` mapping. `state` is absent on purpose: only the
# workflow changes it.
FIELDS: dict[str, FieldSpec] = {
    spec.name: spec
    for spec in [
        FieldSpec("title", "标题", max_length=200),
        FieldSpec("description", "描述", aliases=("隐患描述", "说明")),
        FieldSpec("category", "类别", max_length=64),
        FieldSpec("level", "等级", max_length=16),
        FieldSpec("unit", "责任单位", "unit", max_length=NAME),
        FieldSpec("responsible", "责任人", "person", max_length=NAME),
        FieldSpec("location", "位置", max_length=200, aliases=("地点",)),
        FieldSpec("reporter", "报告人", "person", max_length=NAME),
        FieldSpec("deadline", "整改时限", "deadline", max_length=200, aliases=("期限", "完成时间")),
        FieldSpec("measures", "整改措施"),
        FieldSpec("interim_controls", "防控措施"),
        FieldSpec("watcher", "专人盯防", "person", max_length=NAME),
        FieldSpec("funds", "整改资金", "money", max_length=200, aliases=("资金",)),
        FieldSpec("contingency_plan", "应急预案", aliases=("预案",)),
        FieldSpec("evidence", "整改佐证"),
        FieldSpec("progress", "进展情况"),
        FieldSpec("requirement", "整治要求"),
        FieldSpec("project", "整治项目", max_length=200, by_hand=False),
        FieldSpec("co_units", "配合单位", max_length=1000, by_hand=False),
        FieldSpec("unit_text", "责任单位（清单原文）", max_length=1000, by_hand=False),
        FieldSpec("list_no", "清单序号", max_length=50, by_hand=False),
        # The list's own 备注 column, kept with the item (not a ledger row's note).
        FieldSpec("remarks", "备注", max_length=1000),
        FieldSpec("rectifier", "整改实施人", "person", settable=False, max_length=NAME),
        FieldSpec("verifier", "验收人", "person", settable=False, max_length=NAME),
        FieldSpec("approver", "销号审批人", "person", settable=False, max_length=NAME),
        FieldSpec("closed_at", "销号时间", "datetime", settable=False, max_length=64),
        FieldSpec("found_at", "发现时间", "datetime", settable=False, max_length=64),
    ]
}

# What people may type for a field (--set 责任人=…): its name, its title or an alias.
FIELD_WORDS = Vocabulary({n: (spec.title, *spec.aliases) for n, spec in FIELDS.items()})


def typed_by_hand() -> list[str]:
    """The fields a person may set (--set, a form), in the registry's order."""
    return [n for n, spec in FIELDS.items() if spec.settable and spec.by_hand]


# What a reporter may give when an item is first recorded; what an import may give besides
# (a school's own hazard list carries measures and controls already in place).
REPORT_FIELDS = frozenset({"title", "description", "category", "level", "unit", "responsible", "location",
                           "reporter", "deadline", "requirement", "project", "co_units", "unit_text", "list_no"})
IMPORT_FIELDS = REPORT_FIELDS | {"measures", "interim_controls", "watcher", "funds", "remarks"}

# Texts that are not fields: a ledger entry's note.
OTHER_TEXTS = {"note": ("备注", FREE_TEXT)}


def text_limit(name: str) -> tuple[str, int]:
    """(title, longest text in characters) for a field or a note; a name that is neither
    (refused elsewhere as unknown) gets the free-text limit."""
    spec = FIELDS.get(name)
    if spec is not None:
        return spec.title, spec.max_length
    return OTHER_TEXTS.get(name, (name, FREE_TEXT))


def check_lengths(values: Mapping[str, Any]) -> None:
    """Raises TooLong for the first value (as text) longer than its field or note
    (the key) may hold; None passes."""
    for name, value in values.items():
        if value is None:
            continue
        title, limit = text_limit(name)
        length = len(value) if isinstance(value, str) else len(str(value))
        if length > limit:
            raise TooLong(name, title, length, limit)


COLUMNS = ("title", "category", "level", "unit", "responsible", "location", "reporter", "deadline")


@dataclass
class Item:
    """One tracked record. `state` and `version` change only through the store."""

    id: int | None
    kind: str
    workflow: str
    state: str
    title: str
    found_at: datetime
    category: str = ""
    level: str = "一般"
    unit: str | None = None
    responsible: str | None = None
    location: str | None = None
    reporter: str | None = None
    deadline: str | None = None
    fields: dict[str, Any] = field(default_factory=dict)
    version: int = 0
    created_at: datetime | None = None
    updated_at: datetime | None = None
    # Where the item came from, unique per site: "obligation:NAME:DUE:UNIT", a sheet row…
    origin: str | None = None
    # Where the item's ledger chain ends; maintained by the store.
    ledger_seq: int = 0
    ledger_head: str = ""
    # Clock facts, kept by the engine on every transition so that a plan needs only the row.
    assigned_at: datetime | None = None  # first entry into "assigned"
    entered_at: datetime | None = None  # entry into the current state
    paused_seconds: int = 0  # time spent in pausing states before the item fell overdue
    # The plan basis: which rule of which policy version set the deadline, and what it is.
    rule: str | None = None
    policy_version: str | None = None
    started_at: datetime | None = None  # the instant the deadline is counted from
    due: date | None = None  # last allowed day
    overdue_at: datetime | None = None  # before any pause is added
    provisional: bool = False  # counted on an unpublished year's calendar
    plan_note: str | None = None  # why there is no deadline, when there is none
    # The scheduler's cursor: every step at or before planned_until is queued already.
    planned_until: datetime | None = None
    next_action_at: datetime | None = None
    # overdue_at with the time paused added (overdue_with_pauses), kept by the store on
    # every write so that "overdue at an instant" is one indexed comparison in SQL.
    overdue_from: datetime | None = None

    def overdue_with_pauses(self) -> datetime | None:
        """The overdue instant with the time spent paused added, as the item's plan has it."""
        if self.overdue_at is None or not self.paused_seconds:
            return self.overdue_at
        return self.overdue_at + timedelta(seconds=self.paused_seconds)

    def get(self, name: str) -> Any:
        if name in COLUMNS:
            return getattr(self, name)
        if name == "found_at":
            return self.found_at
        return self.fields.get(name)

    def set(self, name: str, value: Any) -> None:
        if name in COLUMNS:
            setattr(self, name, value)
        else:
            self.fields[name] = value

    def has(self, name: str) -> bool:
        value = self.get(name)
        return value is not None and str(value).strip() != ""

    def copy(self) -> Item:
        # A shallow copy plus its own fields dict, made directly: dataclasses.replace and
        # copy.copy both showed up in the transition benchmark.
        clone = object.__new__(Item)
        clone.__dict__.update(self.__dict__)
        clone.fields = dict(self.fields)
        return clone

    def snapshot(self) -> dict[str, Any]:
        """Every field's value, for diffing and display."""
        data = {name: self.get(name) for name in COLUMNS}
        data.update(self.fields)
        return data


def changed_fields(before: Item, after: Item) -> dict[str, list[Any]]:
    """{field: [old, new]} for every field that differs, sorted by field name."""
    a, b = before.__dict__, after.__dict__
    changes = {name: [a[name], b[name]] for name in COLUMNS if a[name] != b[name]}
    old, new = before.fields, after.fields
    if old != new:
        for key in old.keys() | new.keys():
            if old.get(key) != new.get(key):
                changes[key] = [_plain(old.get(key)), _plain(new.get(key))]
    return dict(sorted(changes.items()))


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def _utc(at: datetime) -> datetime:
    """The instant as the store gives it back: aware, in UTC. A row is hashed as it will
    be read, so a time given in the site's zone cannot look like tampering later."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("a ledger entry needs an aware time")
    return at.astimezone(UTC)


# The canonical text a ledger row's hash is taken of. Changing any option changes every
# hash, and `rectify audit` would then report every existing chain as broken.
_DIGEST_JSON = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


@dataclass(frozen=True)
class LedgerEntry:
    """One row of the append-only history. `hash` chains it to the item's previous row."""

    item_id: int | None
    seq: int
    event: str
    from_state: str | None
    to_state: str
    actor: str
    at: datetime
    note: str | None = None
    changes: dict[str, list[Any]] = field(default_factory=dict)
    prev_hash: str = ""
    hash: str = ""

    def sealed(self, item_id: int, seq: int, prev_hash: str) -> LedgerEntry:
        """This entry bound to its item, numbered, and chained to the previous entry's hash."""
        # Built directly (the entry is frozen): copy.copy showed up in the transition benchmark.
        entry = object.__new__(LedgerEntry)
        values = entry.__dict__
        values.update(self.__dict__)
        values.update(item_id=item_id, seq=seq, prev_hash=prev_hash, at=_utc(self.at))
        values["hash"] = entry.digest()
        return entry

    def digest(self) -> str:
        body = _DIGEST_JSON.encode(
            [self.item_id, self.seq, self.event, self.from_state, self.to_state, self.actor,
             self.at.isoformat(), self.note, self.changes, self.prev_hash])
        return hashlib.sha256(body.encode()).hexdigest()

    def to_json(self, tz: Any = None) -> dict[str, Any]:
        at = self.at.astimezone(tz) if tz else self.at
        return {
            "seq": self.seq, "event": self.event, "from": self.from_state, "to": self.to_state,
            "actor": self.actor, "at": at.isoformat(), "note": self.note, "changes": self.changes,
            "hash": self.hash,
        }


def verify_chain(entries: list[LedgerEntry]) -> int | None:
    """The seq of the first entry whose chain is broken, or None when all is intact."""
    prev = ""
    for expected_seq, entry in enumerate(entries, start=1):
        if entry.seq != expected_seq or entry.prev_hash != prev or entry.digest() != entry.hash:
            return entry.seq
        prev = entry.hash
    return None


# Columns the engine keeps for planning and scheduling; never set by users.
PLAN_COLUMNS = ("assigned_at", "entered_at", "paused_seconds", "rule", "policy_version", "started_at",
                "due", "overdue_at", "provisional", "plan_note", "planned_until", "next_action_at")


def plan_changes(before: Item, after: Item) -> frozenset[str]:
    """The plan columns that differ between two versions of an item."""
    old, new = before.__dict__, after.__dict__
    return frozenset(c for c in PLAN_COLUMNS if old[c] != new[c])
