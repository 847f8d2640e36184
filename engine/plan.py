"""What is due for an item, when, and to whom: the pure function under `simulate`,
`explain`, `show` and the scheduler.

A plan is computed from the item's row (its bound rule and deadline, assignment
time and paused time), the policy version it is bound to and the site's calendar. Nothing here reads a
clock or a database: the same inputs always give the same steps.
"""

from __future__ import annotations

import bisect
import heapq
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cached_property, lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from engine.deadline import Deadline, Direction, Kind, Offset, parse_deadline, parse_offset
from engine.deadline.dates import FIRST_YEAR
from engine.model import Item
from engine.policy import Policy, Rule, fraction
from engine.workcal import DEFAULT_CALENDAR, WorkCalendar

# Repetitions of a ladder step are generated lazily; this caps a runaway loop.
MAX_REPEATS = 10_000
SHANGHAI = ZoneInfo("Asia/Shanghai")


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
    overdue_at: datetime | None  # with paused time added; None while paused; the ladder counts from it
    started_at: datetime | None  # the instant the deadline is counted from
    paused: bool
    provisional: bool
    ongoing: bool
    calendar: WorkCalendar
    tz: ZoneInfo
    note: str = ""

    @cached_property
    def reminders(self) -> tuple[Step, ...]:
        """Computed on first use: an item past its deadline never needs them for its next step."""
        if self.rule is None or self.started_at is None or self.overdue_at is None:
            return ()
        return _reminders(self.rule, self.started_at, self.overdue_at, self.calendar, self.tz)

    def steps(self, after: datetime | None = None, until: datetime | None = None) -> Iterator[Step]:
        """Every step with after < at <= until, in time order (repetitions included).
        Without `until`, only the first occurrence of each repeating rung is given."""
        streams: list[Iterable[Step]] = [[s for s in self.reminders if _within(s.at, after, until)]]
        if self.overdue_at is not None and self.rule is not None:
            streams += [self._rung(i, after, until) for i in range(len(self.rule.escalate))]
        return heapq.merge(*streams, key=_order)

    def next_step(self, after: datetime | None) -> Step | None:
        """The first step strictly after `after` (the very first step when None)."""
        best: Step | None = None
        # Reminders all fall before the overdue instant.
        if self.overdue_at is not None and (after is None or after < self.overdue_at):
            for step in self.reminders:
                if after is None or step.at > after:
                    best = step
                    break
        if self.overdue_at is None or self.rule is None:
            return best
        # The first occurrence after `after` on each rung, compared as _order compares
        # steps (an escalation sorts after a reminder at the same instant); only the
        # winner becomes a Step.
        won: tuple[datetime, int, int] | None = None
        for index, series in enumerate(_ladder(self.rule, self.overdue_at, self.calendar, self.tz)):
            i = series.index_after(after)
            if i >= len(series.times):  # a rung that does not repeat, already passed
                continue
            candidate = (series.times[i], index, i)
            if won is None or candidate < won:
                won = candidate
        if won is None or (best is not None and best.at <= won[0]):
            return best
        at, index, i = won
        rung = self.rule.escalate[index]
        return Step(at, "escalate", index, i, rung.action, rung.notify,
                    rung.repeat if i and rung.repeat else rung.after)

    def reached(self, until: datetime) -> list[Step]:
        """For each escalation rung reached by `until`, its latest occurrence (bisected on
        the rung's shared series, not walked step by step), in ladder order."""
        found: list[Step] = []
        if self.overdue_at is None or self.rule is None:
            return found
        for index, rung in enumerate(self.rule.escalate):
            series = _series(rung.after, rung.repeat, self.overdue_at, self.calendar, self.tz)
            series.cover(until)
            i = bisect.bisect_right(series.times, until) - 1
            if i >= 0:
                found.append(Step(series.times[i], "escalate", index, i, rung.action, rung.notify,
                                  rung.repeat if i and rung.repeat else rung.after))
        return found

    def catch_up(self, now: datetime) -> tuple[datetime, Step | None]:
        """Where the cursor of an item first seen at `now` starts, and its first step after
        that: reminders it was reported too late for are owed nothing and, if it is overdue
        already, only its latest escalation is still to send (not the whole ladder).

        Once overdue, the answer depends only on the ladder, the overdue instant and
        `now` (reminders fall before the overdue instant), so it is shared by every item
        of an import overdue since the same instant."""
        if self.overdue_at is None or self.rule is None or now < self.overdue_at:
            return now, self.next_step(now)
        key = (id(self.rule), self.overdue_at, now, id(self.calendar), self.tz.key)
        hit = _CATCH_UPS.get(key)
        if hit is not None and hit[0] is self.rule and hit[1] is self.calendar:
            return hit[2], hit[3]
        latest = max(self.reached(now), key=_order, default=None)
        cursor = latest.at - timedelta(microseconds=1) if latest else now
        step = self.next_step(cursor)
        if len(_CATCH_UPS) >= _SHIFT_MEMO_SIZE:
            _CATCH_UPS.clear()
        _CATCH_UPS[key] = (self.rule, self.calendar, cursor, step)
        return cursor, step

    def _rung(self, index: int, after: datetime | None, until: datetime | None) -> Iterator[Step]:
        assert self.rule is not None and self.overdue_at is not None
        rung = self.rule.escalate[index]
        series = _series(rung.after, rung.repeat, self.overdue_at, self.calendar, self.tz)
        times = series.times
        i = series.index_after(after)
        while True:
            if i >= len(times):
                if series.done:
                    return
                series.cover(times[-1])
                continue
            at = times[i]
            if until is not None and at > until:
                return
            yield Step(at, "escalate", index, i, rung.action, rung.notify,
                       rung.repeat if i and rung.repeat else rung.after)
            if until is None:
                return
            i += 1


class _Series:
    """The instants of one ladder rung from one overdue instant: the first, then every
    repetition, computed as far as anyone has asked and shared by every item overdue
    since the same instant."""

    __slots__ = ("times", "repeat", "calendar", "tz", "done")

    def __init__(self, first: datetime, repeat: Offset | None, calendar: WorkCalendar, tz: ZoneInfo) -> None:
        self.times = [first]
        self.repeat, self.calendar, self.tz = repeat, calendar, tz
        self.done = repeat is None

    def index_after(self, after: datetime | None) -> int:
        """The index of the first instant strictly after `after` (every one when None),
        extending the series that far; len(times) when it ended before."""
        if after is None:
            return 0
        self.cover(after)
        return bisect.bisect_right(self.times, after)

    def cover(self, instant: datetime) -> None:
        """Extend until the last instant is after `instant` (or the series ends)."""
        times = self.times
        while not self.done and times[-1] <= instant:
            if len(times) > MAX_REPEATS:
                self.done = True
                return
            assert self.repeat is not None
            times.append(_shift(self.repeat, times[-1], self.calendar, self.tz))


_SERIES: dict[tuple[int, str, str, str | None, datetime], tuple[WorkCalendar, _Series]] = {}


def _series(first: str, repeat: str | None, start: datetime, calendar: WorkCalendar, tz: ZoneInfo) -> _Series:
    key = (id(calendar), tz.key, first, repeat, start)
    found = _SERIES.get(key)
    if found is None:
        if len(_SERIES) >= _SHIFT_MEMO_SIZE:
            _SERIES.clear()
        series = _Series(_shift(_offset(first), start, calendar, tz), _offset(repeat) if repeat else None,
                         calendar, tz)
        found = _SERIES[key] = (calendar, series)
    return found[1]


# Each rung's series for one ladder and overdue instant, keyed by id(rule) and
# id(calendar); both are kept alongside so that a reused id cannot match.
_LADDERS: dict[tuple[int, datetime, int, str], tuple[Rule, WorkCalendar, tuple[_Series, ...]]] = {}


def _ladder(rule: Rule, overdue_at: datetime, calendar: WorkCalendar, tz: ZoneInfo) -> tuple[_Series, ...]:
    key = (id(rule), overdue_at, id(calendar), tz.key)
    hit = _LADDERS.get(key)
    if hit is not None and hit[0] is rule and hit[1] is calendar:
        return hit[2]
    ladder = tuple(_series(r.after, r.repeat, overdue_at, calendar, tz) for r in rule.escalate)
    if len(_LADDERS) >= _SHIFT_MEMO_SIZE:
        _LADDERS.clear()
    _LADDERS[key] = (rule, calendar, ladder)
    return ladder


# Plan.catch_up for overdue items, keyed by id(rule) and id(calendar); both are kept
# alongside so that a reused id cannot match.
_CATCH_UPS: dict[tuple[int, datetime, datetime, int, str],
                 tuple[Rule, WorkCalendar, datetime, Step | None]] = {}


def _order(step: Step) -> tuple[datetime, bool, int, int]:
    return step.at, step.kind != "remind", step.index, step.occurrence


@lru_cache(maxsize=1024)
def _offset(text: str) -> Offset:
    return parse_offset(text)


@lru_cache(maxsize=1024)
def _fraction_of(text: str) -> float | None:
    return fraction(text)


def _within(at: datetime, after: datetime | None, until: datetime | None) -> bool:
    return (after is None or at > after) and (until is None or at <= until)


# Shifts are memoised per calendar: deadlines fall on a few thousand instants (most at
# midnight) and every item overdue since the same day walks the same working days.
# Keyed by id(); the calendar is kept alongside so that its id cannot be reused.
_SHIFTS: dict[int, tuple[WorkCalendar, dict[tuple[Offset, datetime, str], datetime]]] = {}
_SHIFT_MEMO_SIZE = 200_000


def _shift(offset: Offset, instant: datetime, calendar: WorkCalendar, tz: ZoneInfo) -> datetime:
    entry = _SHIFTS.get(id(calendar))
    if entry is None:
        if len(_SHIFTS) > 64:
            _SHIFTS.clear()
        entry = _SHIFTS[id(calendar)] = (calendar, {})
    memo = entry[1]
    key = (offset, instant, tz.key)
    found = memo.get(key)
    if found is None:
        moved = offset
        if offset.direction is Direction.EVERY:
            # A repetition interval moves forward like "after".
            moved = Offset(Direction.AFTER, offset.amount, offset.unit, offset.text)
        found = moved.apply(instant, calendar, tz)
        if len(memo) >= _SHIFT_MEMO_SIZE:
            memo.clear()
        memo[key] = found
    return found


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


@lru_cache(maxsize=8192)
def read_deadline(expr: str, ref: datetime, tz: ZoneInfo, calendar: WorkCalendar) -> Deadline:
    """parse_deadline for one due date, memoised: a list's rows share a handful of
    expressions and found days (a Deadline is immutable; errors are not cached)."""
    return parse_deadline(expr, ref, tz, calendar=calendar, count=1)


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
    deadline = read_deadline(expr, ref, tz, calendar)
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
    due, overdue, paused, note = basis.due, None, False, basis.note or ""
    if item.state in final_states:
        note = NOTE_FINAL
    elif basis.overdue_at is not None:
        overdue = basis.overdue_at
        if item.paused_seconds:
            overdue += timedelta(seconds=item.paused_seconds)
            due = (overdue - timedelta(microseconds=1)).astimezone(tz).date()
        if is_paused(item, rule, overdue):
            paused, overdue, note = True, None, NOTE_PAUSED
    return Plan(item.id, rule, policy.version, due, overdue, basis.started_at, paused, basis.provisional,
                basis.note == NOTE_ONGOING, calendar, tz, note)


def is_paused(item: Item, rule: Rule | None, overdue: datetime | None) -> bool:
    """In a pausing state entered before the item fell overdue: the clock is stopped."""
    if rule is None or item.state not in rule.pause_in:
        return False
    entered = item.entered_at or item.found_at
    return overdue is None or entered < overdue


def paused_spell(before: Item, policy: Policy, at: datetime) -> int:
    """Seconds of stopped clock that leaving `before`'s state at `at` adds to the item."""
    rule = policy.rule_named(before.rule)
    if not is_paused(before, rule, before.overdue_with_pauses()):
        return 0
    entered = before.entered_at or before.found_at
    return max(0, int((at - entered).total_seconds()))


def _reminders(rule: Rule, ref: datetime, overdue: datetime, calendar: WorkCalendar, tz: ZoneInfo) -> tuple[Step, ...]:
    steps = []
    for index, text in enumerate(rule.remind):
        share = _fraction_of(text)
        if share is not None:
            at = ref + (overdue - ref) * share
        else:
            at = _shift(_offset(text), overdue, calendar, tz)
        if at > ref:  # a reminder that would fall before the clock started is pointless
            steps.append(Step(at, "remind", index, 0, "提醒", ("responsible",), text))
    return tuple(sorted(steps, key=_order))


def reached_by(rule: Rule, index: int, at: datetime, calendar: WorkCalendar = DEFAULT_CALENDAR,
               tz: ZoneInfo = SHANGHAI) -> datetime:
    """The latest overdue instant from which rung `index` of `rule` is reached by `at`: an
    item that fell overdue at or before it has reached the rung (Plan.reached) by `at`,
    one that fell overdue later has not. Found by bisection, since a rung's first instant
    never comes earlier for a later overdue instant; a store compares its overdue column
    with it instead of planning every item."""
    offset = _offset(rule.escalate[index].after)

    def lands(overdue: datetime) -> datetime:
        return offset.apply(overdue, calendar, tz)

    high = at
    if lands(high) <= at:
        return high
    span = timedelta(days=1)
    low = at - span
    floor = datetime(FIRST_YEAR, 1, 1, tzinfo=tz)
    while lands(low) > at:
        span *= 2
        low = max(at - span, floor)
        if low == floor:
            if lands(low) > at:
                return low - timedelta(microseconds=1)
            break
    # lands(low) <= at < lands(high)
    while high - low > timedelta(microseconds=1):
        middle = low + (high - low) // 2
        low, high = (middle, high) if lands(middle) <= at else (low, middle)
    return low
