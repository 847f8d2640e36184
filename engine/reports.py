"""Stage reports (阶段整治情况): what the ledger says about one period, counted by
category, level and unit, with the items still overdue at the period's end.

Everything is counted as the ledger stood at the end of the period: an item closed a
week after the quarter ended was open in that quarter's report, and stays so however
late the report is produced.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from engine.service import BadValue
from engine.model import Item, LedgerEntry

_QUARTERS = "一二三四"


@dataclass(frozen=True)
class Period:
    """A reporting period: a quarter (2021Q1), a half year (2021H1), a month (2021-03) or a year."""

    key: str
    title: str
    start: date
    end: date  # last day, inclusive

    def end_instant(self, tz: ZoneInfo) -> datetime:
        """The first instant after the period: the ledger is read as it stood just before."""
        return datetime.combine(self.end + timedelta(days=1), time(), tz)

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.end

    def previous(self) -> Period:
        return period_containing(self.start - timedelta(days=1), self.kind)

    @property
    def kind(self) -> str:
        if "Q" in self.key:
            return "quarter"
        if "H" in self.key:
            return "half"
        return "month" if "-" in self.key else "year"


def _month_end(year: int, month: int) -> date:
    return (date(year + (month == 12), month % 12 + 1, 1)) - timedelta(days=1)


def parse_period(text: str) -> Period:
    """'2021Q1', '2021H2', '2021-03' or '2021'; anything else is refused."""
    value = text.strip().upper()
    if m := re.fullmatch(r"(\d{4})Q([1-4])", value):
        year, q = int(m[1]), int(m[2])
        return Period(value, f"{year}年第{_QUARTERS[q - 1]}季度", date(year, 3 * q - 2, 1), _month_end(year, 3 * q))
    if m := re.fullmatch(r"(\d{4})H([12])", value):
        year, h = int(m[1]), int(m[2])
        return Period(value, f"{year}年{'上' if h == 1 else '下'}半年", date(year, 6 * h - 5, 1), _month_end(year, 6 * h))
    if m := re.fullmatch(r"(\d{4})-(\d{1,2})", value):
        year, month = int(m[1]), int(m[2])
        if 1 <= month <= 12:
            return Period(f"{year}-{month:02d}", f"{year}年{month}月", date(year, month, 1), _month_end(year, month))
    if m := re.fullmatch(r"\d{4}", value):
        year = int(value)
        return Period(value, f"{year}年", date(year, 1, 1), date(year, 12, 31))
    raise BadValue("period", text, "应写成 2021Q1（季度）、2021H1（半年）、2021-03（月）或 2021（年）")


def period_containing(day: date, kind: str) -> Period:
    """The period of the given kind (quarter, half, month, year) that contains `day`."""
    if kind == "quarter":
        return parse_period(f"{day.year}Q{(day.month - 1) // 3 + 1}")
    if kind == "half":
        return parse_period(f"{day.year}H{1 if day.month <= 6 else 2}")
    if kind == "month":
        return parse_period(f"{day.year}-{day.month:02d}")
    if kind == "year":
        return parse_period(str(day.year))
    raise BadValue("period", kind, "周期应为 quarter、half、month 或 year")


@dataclass
class Count:
    """Hazards of one group. `found`/`closed` are cumulative to the period's end;
    `new`/`closed_in_period` fall within it; `overdue` are open and past their deadline."""

    found: int = 0
    closed: int = 0
    new: int = 0
    closed_in_period: int = 0
    overdue: int = 0

    @property
    def open(self) -> int:
        return self.found - self.closed

    @property
    def rate(self) -> float | None:
        """整改率 = closed / found, None when nothing was found."""
        return self.closed / self.found if self.found else None

    @property
    def rate_text(self) -> str:
        return "—" if self.rate is None else f"{self.rate * 100:.1f}%"


@dataclass(frozen=True)
class OverdueRow:
    """An item open and overdue at the period's end, with the escalation it had reached."""

    item_id: int
    kind: str
    title: str
    unit: str
    level: str
    category: str
    state_title: str
    due: date | None
    days_overdue: int
    escalation: str  # the latest rung reached (提醒, 通报, 约谈, 挂牌督办, 问责) or ""
    supervised: bool  # 挂牌督办 reached


@dataclass
class StageReport:
    organisation: str
    period: Period
    produced_at: datetime
    total: Count
    by_category: list[tuple[str, Count]]
    by_level: list[tuple[str, Count]]
    by_unit: list[tuple[str, Count]]
    tasks: Count  # campaign tasks and report tasks, counted like hazards
    overdue: list[OverdueRow]
    notes: list[str] = field(default_factory=list)

    @property
    def supervised(self) -> list[OverdueRow]:
        """Major hazards under 挂牌督办 at the period's end."""
        return [row for row in self.overdue if row.supervised and row.level == "重大"]


@dataclass(frozen=True)
class ItemAtEnd:
    """What the report needs of one item, as it stood at the end of the period."""

    item: Item
    state: str
    entered_at: datetime
    closed: bool
    closed_on: date | None


def as_of(item: Item, history: Sequence[LedgerEntry], end: datetime, finals: frozenset[str],
          tz: ZoneInfo) -> ItemAtEnd | None:
    """The item's state at `end` from its ledger; None if it did not exist yet."""
    state, entered, closed_on = None, None, None
    for entry in history:
        if entry.at >= end:
            break
        if entry.to_state != entry.from_state or state is None:
            state, entered = entry.to_state, entry.at
            if state in finals and closed_on is None:
                closed_on = entry.at.astimezone(tz).date()
            elif state not in finals:
                closed_on = None
    if state is None or entered is None:
        return None
    return ItemAtEnd(item, state, entered, state in finals, closed_on)


def tally(rows: Iterable[tuple[ItemAtEnd, bool]], period: Period, tz: ZoneInfo,
          key: str) -> list[tuple[str, Count]]:
    """Counts grouped by an item attribute, in order of first appearance."""
    groups: dict[str, Count] = {}
    for at_end, overdue in rows:
        name = getattr(at_end.item, key) or "（未填写）"
        add(groups.setdefault(name, Count()), at_end, overdue, period, tz)
    return list(groups.items())


def add(count: Count, at_end: ItemAtEnd, overdue: bool, period: Period, tz: ZoneInfo) -> None:
    count.found += 1
    if period.contains(at_end.item.found_at.astimezone(tz).date()):
        count.new += 1
    if at_end.closed:
        count.closed += 1
        if at_end.closed_on and period.contains(at_end.closed_on):
            count.closed_in_period += 1
    elif overdue:
        count.overdue += 1


def ordered(groups: list[tuple[str, Count]], order: Mapping[str, int]) -> list[tuple[str, Count]]:
    """Groups in a configured order (categories as in the rules, units as in org.yaml)."""
    return sorted(groups, key=lambda g: (order.get(g[0], len(order)), g[0]))
