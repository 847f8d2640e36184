"""What is due for an item, when, and to whom: the pure function under `simulate`,
`explain`, `show` and the scheduler.

A plan is computed from the item's row (its bound rule and deadline, assignment
time and paused time), the policy version it is bound to and the site's calendar. Nothing here reads a
clock or a database: the same inputs always give the same steps.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from engine.deadline import Direction, Kind, Offset, parse_deadline, parse_offset
from engine.errors import DeadlineError
from engine.model import Item
from engine.policy import Policy, Rule, fraction, read_sources
from engine.policy import build as build_policy
from engine.workcal import DEFAULT_CALENDAR, WorkCalendar

# Repetitions of a ladder step are generated lazily; this caps a runaway loop.
MAX_REPEATS = 10_000
SHANGHAI = ZoneInfo("Asia/Shanghai")
_REFERENCE = datetime(2021, 3, 1, tzinfo=SHANGHAI)


@dataclass(frozen=True)
class Step:
    """One reminder or escalation: when, which rung, which repetition, to whom (roles)."""

    at: datetime
    kind: str  # remind | escalate
    index: int  # position in the rule's remind list or ladder
    occurrence: int  # 0 the first time, 1.. for repetitions
    action: str  # 提醒 / 通报 / 约谈 / 挂牌督办 / 问责
    recipients: tuple[str, ...]
    label: str  # the rule text that produced it, e.g. "3日前" or "逾期3个工作日"

    @property
    def key(self) -> str:
        """Stable identity within one item and policy version (the outbox key uses it)."""
        return f"{self.kind}{self.index}.{self.occurrence}"

    def to_json(self, tz: Any) -> dict[str, Any]:
        return {"at": self.at.astimezone(tz).isoformat(), "kind": self.kind, "step": self.action,
                "key": self.key, "occurrence": self.occurrence, "recipients": list(self.recipients),
                "rule_text": self.label}


NOTE_FINAL = "已办结"
NOTE_NO_RULE = "无适用的期限规则"
NOTE_UNASSIGNED = "尚未交办，期限从交办时起算"
NOTE_ONGOING = "长期坚持，无截止日期"
NOTE_PAUSED = "处于暂停计时状态"


@dataclass(frozen=True)
class Basis:
    """What binding an item to a policy fixes: the rule, the version and the deadline.

    The engine records it on the item when the item is reported and on every
    transition (under the version the item is bound to), so that planning needs only
    the item's row."""

    rule: str | None
    policy_version: str
    started_at: datetime | None
    due: date | None
    overdue_at: datetime | None  # before pauses
    provisional: bool = False
    note: str | None = None

    def apply(self, item: Item) -> None:
        item.rule, item.policy_version, item.started_at = self.rule, self.policy_version, self.started_at
        item.due, item.overdue_at = self.due, self.overdue_at
        item.provisional, item.plan_note = self.provisional, self.note

    @classmethod
    def of(cls, item: Item) -> Basis:
        return cls(item.rule, item.policy_version or "", item.started_at, item.due, item.overdue_at,
                   item.provisional, item.plan_note)


@dataclass(frozen=True)
class Plan:
    item_id: int | None
    rule: Rule | None
    policy_version: str
    due: date | None
    overdue_at: datetime | None  # with paused time added; None while paused
    started_at: datetime | None  # the instant the deadline is counted from
    paused: bool
    provisional: bool
    ongoing: bool
    reminders: tuple[Step, ...]
    ladder_start: datetime | None  # the overdue instant the ladder counts from
    calendar: WorkCalendar
    tz: ZoneInfo
    note: str = ""

    def steps(self, after: datetime | None = None, until: datetime | None = None) -> Iterator[Step]:
        """Every step with after < at <= until, in time order (repetitions included).
        Without `until`, only the first occurrence of each repeating rung is given."""
        streams: list[Iterable[Step]] = [[s for s in self.reminders if _within(s.at, after, until)]]
        if self.ladder_start is not None and self.rule is not None:
            streams += [self._rung(i, after, until) for i in range(len(self.rule.escalate))]
        return heapq.merge(*streams, key=_order)

    def next_step(self, after: datetime | None) -> Step | None:
        """The first step strictly after `after` (the very first step when None)."""
        until = None if after is None else after + timedelta(days=3660)
        return next(self.steps(after, until), None)

    def _rung(self, index: int, after: datetime | None, until: datetime | None) -> Iterator[Step]:
        assert self.rule is not None and self.ladder_start is not None
        rung = self.rule.escalate[index]
        at = _shift(_offset(rung.after), self.ladder_start, self.calendar, self.tz)
        repeat = _offset(rung.repeat) if rung.repeat else None
        occurrence = 0
        while until is None or at <= until:
            if _within(at, after, until):
                yield Step(at, "escalate", index, occurrence, rung.action, rung.notify,
                           rung.repeat if occurrence and rung.repeat else rung.after)
                if until is None:
                    return
            if repeat is None or occurrence >= MAX_REPEATS:
                return
            at, occurrence = _shift(repeat, at, self.calendar, self.tz), occurrence + 1


def _order(step: Step) -> tuple[datetime, bool, int, int]:
    return step.at, step.kind != "remind", step.index, step.occurrence


@lru_cache(maxsize=1024)
def _offset(text: str) -> Offset:
    return parse_offset(text)


def _within(at: datetime, after: datetime | None, until: datetime | None) -> bool:
    return (after is None or at > after) and (until is None or at <= until)


def _shift(offset: Offset, instant: datetime, calendar: WorkCalendar, tz: ZoneInfo) -> datetime:
    if offset.direction is Direction.EVERY:
        # A repetition interval moves forward like "after".
        offset = Offset(Direction.AFTER, offset.amount, offset.unit, offset.text)
    return offset.apply(instant, calendar, tz)


def facts(item: Item, policy: Policy, tz: ZoneInfo) -> dict[str, Any]:
    """What rules match on."""
    return {
        "kind": item.kind, "category": item.category, "level": item.level, "unit": item.unit,
        "phase": policy.phase_at(item.found_at.astimezone(tz).date()),
        "tags": tuple(item.fields.get("tags", ())),
    }


def _reference(item: Item, rule: Rule | None, tz: ZoneInfo) -> datetime | None:
    base = rule.deadline_from if rule and not item.deadline else "found"
    if base == "found":
        return item.found_at
    if base == "assigned":
        return item.assigned_at
    return datetime.combine(date.fromisoformat(base), time(), tz)


def bind(item: Item, policy: Policy, *, calendar: WorkCalendar = DEFAULT_CALENDAR,
         tz: ZoneInfo = SHANGHAI) -> Basis:
    """The rule that applies to the item under `policy`, and the deadline it sets.
    An item's own deadline expression wins over the rule's."""
    rule = policy.rule_for(facts(item, policy, tz))
    name = rule.name if rule else None
    expr = item.deadline or (rule.deadline if rule else None)
    ref = _reference(item, rule, tz)
    if expr is None:
        return Basis(name, policy.version, ref, None, None, note=NOTE_NO_RULE)
    if ref is None:
        return Basis(name, policy.version, None, None, None, note=NOTE_UNASSIGNED)
    deadline = parse_deadline(expr, ref, tz, calendar=calendar, count=1)
    if deadline.kind is Kind.ONGOING:
        return Basis(name, policy.version, ref, None, None, note=NOTE_ONGOING)
    if deadline.kind is Kind.IMMEDIATE:
        due = ref.astimezone(tz).date()
        overdue = datetime.combine(due + timedelta(days=1), time(), tz)
    else:
        due, overdue = deadline.dues[0], deadline.overdue_at[0]
    return Basis(name, policy.version, ref, due, overdue, deadline.provisional)


def plan_item(item: Item, policy: Policy, *, final_states: frozenset[str],
              calendar: WorkCalendar = DEFAULT_CALENDAR, tz: ZoneInfo = SHANGHAI) -> Plan:
    """The item's deadline and every reminder and escalation ahead of it.

    Under the policy version the item is bound to, the recorded basis is used; under
    any other (a draft, a newer version) the item is bound afresh first."""
    basis = Basis.of(item) if item.policy_version == policy.version else bind(
        item, policy, calendar=calendar, tz=tz)
    rule = policy.rule_named(basis.rule)
    plan = Plan(item.id, rule, policy.version, basis.due, None, basis.started_at, False,
                basis.provisional, basis.note == NOTE_ONGOING, (), None, calendar, tz, basis.note or "")
    if item.state in final_states:
        return replace(plan, note=NOTE_FINAL)
    if basis.overdue_at is None:
        return plan
    overdue = basis.overdue_at + timedelta(seconds=item.paused_seconds)
    due = (overdue - timedelta(microseconds=1)).astimezone(tz).date() if item.paused_seconds else basis.due
    if is_paused(item, rule, overdue):
        return replace(plan, due=due, paused=True, note=NOTE_PAUSED)
    reminders = _reminders(rule, basis.started_at, overdue, calendar, tz) if rule and basis.started_at else ()
    return replace(plan, due=due, overdue_at=overdue, reminders=reminders, ladder_start=overdue)


def is_paused(item: Item, rule: Rule | None, overdue: datetime | None) -> bool:
    """In a pausing state entered before the item fell overdue: the clock is stopped."""
    if rule is None or item.state not in rule.pause_in:
        return False
    entered = item.entered_at or item.found_at
    return overdue is None or entered < overdue


def paused_spell(before: Item, policy: Policy, at: datetime) -> int:
    """Seconds of stopped clock that leaving `before`'s state at `at` adds to the item."""
    rule = policy.rule_named(before.rule)
    overdue = before.overdue_at + timedelta(seconds=before.paused_seconds) if before.overdue_at else None
    if not is_paused(before, rule, overdue):
        return 0
    entered = before.entered_at or before.found_at
    return max(0, int((at - entered).total_seconds()))


def _reminders(rule: Rule, ref: datetime, overdue: datetime, calendar: WorkCalendar, tz: ZoneInfo) -> tuple[Step, ...]:
    steps = []
    for index, text in enumerate(rule.remind):
        share = fraction(text)
        if share is not None:
            at = ref + (overdue - ref) * share
        else:
            at = _offset(text).apply(overdue, calendar, tz)
        if at > ref:  # a reminder that would fall before the clock started is pointless
            steps.append(Step(at, "remind", index, 0, "提醒", ("responsible",), text))
    return tuple(sorted(steps, key=_order))


def validate_expression(text: str, reference: date | None, *, window: bool = False,
                        recurring: bool = False) -> Any:
    """Check a rule file's deadline expression; for windows return (start, end)."""
    ref = datetime.combine(reference, time(), _REFERENCE.tzinfo) if reference else _REFERENCE
    deadline = parse_deadline(text, ref, _REFERENCE.tzinfo or "Asia/Shanghai", count=1)
    if window:
        if deadline.kind is Kind.WINDOW and deadline.start:
            return deadline.start, deadline.dues[0]
        if deadline.kind is Kind.ONCE and len(deadline.dues) == 1:
            raise DeadlineError(text, text, "阶段需要起止时间，如“2020年9月至2020年12月”")
        raise DeadlineError(text, text, "阶段需要起止时间")
    if recurring and deadline.kind is not Kind.RECURRING:
        raise DeadlineError(text, text, "报送周期应为周期性期限，如“每季度末”“每月1日前”")
    return deadline


def validate_offset(text: str) -> datetime:
    """Check a rule file's offset; returns where it lands from a fixed instant, to order rungs."""
    return parse_offset(text).apply(_REFERENCE)


def load_policy(directory: Path, loaded_at: datetime, known_states: Sequence[str] = ()) -> Policy:
    return build_policy(directory, read_sources(directory), loaded_at, validate_expression,
                        validate_offset, known_states)


def policy_from_sources(directory: Path, sources: dict[str, str], loaded_at: datetime) -> Policy:
    return build_policy(directory, sources, loaded_at, validate_expression, validate_offset)
