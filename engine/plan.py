"""What is due for an item, when, and to whom: the pure function under `simulate`,
`explain`, `show` and the scheduler.

A plan is computed from the item, its ledger (for the assignment time and paused
spells), the rule that matches it and the site's calendar. Nothing here reads a
clock or a database: the same inputs always give the same steps.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from engine.deadline import Direction, Kind, Offset, parse_deadline, parse_offset
from engine.errors import DeadlineError
from engine.model import Item, LedgerEntry
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


@dataclass(frozen=True)
class Plan:
    item_id: int | None
    rule: Rule | None
    policy_version: str
    due: date | None
    overdue_at: datetime | None
    started_at: datetime | None  # the instant the deadline is counted from
    paused: bool
    provisional: bool
    ongoing: bool
    reminders: tuple[Step, ...]
    ladder_start: datetime | None  # shifted overdue instant the ladder counts from
    calendar: WorkCalendar
    tz: ZoneInfo
    note: str = ""

    def steps(self, after: datetime | None = None, until: datetime | None = None) -> Iterator[Step]:
        """Every step with after < at <= until, in time order (repetitions included)."""
        found = [s for s in self.reminders if _within(s.at, after, until)]
        found += list(self._escalations(after, until))
        return iter(sorted(found, key=lambda s: (s.at, s.kind != "remind", s.index, s.occurrence)))

    def next_step(self, after: datetime) -> Step | None:
        """The first step strictly after `after`, looking at most ten years ahead."""
        return next(self.steps(after, after + timedelta(days=3660)), None)

    def _escalations(self, after: datetime | None, until: datetime | None) -> Iterator[Step]:
        if self.ladder_start is None or self.rule is None:
            return
        for index, rung in enumerate(self.rule.escalate):
            first = _shift(parse_offset(rung.after), self.ladder_start, self.calendar, self.tz)
            repeat = parse_offset(rung.repeat) if rung.repeat else None
            at, occurrence = first, 0
            while until is None or at <= until:
                if _within(at, after, until):
                    yield Step(at, "escalate", index, occurrence, rung.action, rung.notify,
                               rung.repeat if occurrence and rung.repeat else rung.after)
                if repeat is None or occurrence >= MAX_REPEATS or until is None:
                    break
                at, occurrence = _shift(repeat, at, self.calendar, self.tz), occurrence + 1


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


def _assigned_at(history: Sequence[LedgerEntry]) -> datetime | None:
    for entry in history:
        if entry.event == "assign" or (entry.from_state is None and entry.to_state == "assigned"):
            return entry.at
    return None


def pause_spells(history: Sequence[LedgerEntry], pause_in: frozenset[str]) -> list[tuple[datetime, datetime | None]]:
    """Spells spent in a pausing state: (entered, left or None if still there)."""
    spells: list[tuple[datetime, datetime | None]] = []
    entered: datetime | None = None
    for entry in history:
        if entry.to_state in pause_in and entered is None:
            entered = entry.at
        elif entry.to_state not in pause_in and entered is not None:
            spells.append((entered, entry.at))
            entered = None
    if entered is not None:
        spells.append((entered, None))
    return spells


def _reference(item: Item, rule: Rule | None, history: Sequence[LedgerEntry], tz: ZoneInfo) -> datetime | None:
    base = rule.deadline_from if rule and not item.deadline else "found"
    if base == "found":
        return item.found_at
    if base == "assigned":
        return _assigned_at(history)
    return datetime.combine(date.fromisoformat(base), time(), tz)


def plan_item(item: Item, history: Sequence[LedgerEntry], policy: Policy, *, final_states: frozenset[str],
              calendar: WorkCalendar = DEFAULT_CALENDAR, tz: ZoneInfo = SHANGHAI) -> Plan:
    """The item's deadline and every reminder and escalation ahead of it."""
    rule = policy.rule_for(facts(item, policy, tz))
    expr = item.deadline or (rule.deadline if rule else None)
    ref = _reference(item, rule, history, tz)
    empty = Plan(item.id, rule, policy.version, None, None, ref, False, False, False, (), None, calendar, tz)
    if item.state in final_states:
        return _with(empty, note="已办结")
    if expr is None:
        return _with(empty, note="无适用的期限规则")
    if ref is None:
        return _with(empty, note="尚未交办，期限从交办时起算")
    deadline = parse_deadline(expr, ref, tz, calendar=calendar, count=1)
    if deadline.kind is Kind.ONGOING:
        return _with(empty, ongoing=True, note="长期坚持，无截止日期")
    if deadline.kind is Kind.IMMEDIATE:
        due = ref.astimezone(tz).date()
        overdue = datetime.combine(due + timedelta(days=1), time(), tz)
    else:
        due, overdue = deadline.dues[0], deadline.overdue_at[0]
    pause_in = rule.pause_in if rule else frozenset()
    shifted, paused = _shift_for_pauses(overdue, pause_spells(history, pause_in))
    reminders = _reminders(rule, ref, overdue, calendar, tz) if rule else ()
    return Plan(item.id, rule, policy.version, due, None if paused else shifted, ref, paused,
                deadline.provisional, deadline.ongoing, () if paused else reminders,
                None if paused else shifted, calendar, tz,
                note="处于暂停计时状态" if paused else "")


def _with(plan: Plan, **changes: Any) -> Plan:
    return replace(plan, **changes)


def _shift_for_pauses(overdue: datetime, spells: list[tuple[datetime, datetime | None]]) -> tuple[datetime, bool]:
    """The clock stops while paused: push the overdue instant by each spell begun before it."""
    for entered, left in spells:
        if entered >= overdue:
            continue
        if left is None:
            return overdue, True
        overdue += left - entered
    return overdue, False


def _reminders(rule: Rule, ref: datetime, overdue: datetime, calendar: WorkCalendar, tz: ZoneInfo) -> tuple[Step, ...]:
    steps = []
    for index, text in enumerate(rule.remind):
        share = fraction(text)
        if share is not None:
            at = ref + (overdue - ref) * share
        else:
            at = parse_offset(text).apply(overdue, calendar, tz)
        if at > ref:  # a reminder that would fall before the clock started is pointless
            steps.append(Step(at, "remind", index, 0, "提醒", ("responsible",), text))
    return tuple(steps)


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
