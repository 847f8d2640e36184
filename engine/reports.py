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

from engine.deadline.dates import FIRST_YEAR, LAST_YEAR, cn_date
from engine.errors import OutOfRange
from engine.model import Item, LedgerEntry
from engine.org import Org
from engine.policy import Policy, Rule, StageReportSpec
from engine.ports import Query
from engine.service import BadValue, Service

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
    """'2021Q1', '2021H2', '2021-03' or '2021'; anything else is refused, and so is a year
    outside those deadlines are computed in (1900 to 2999)."""
    value = text.strip().upper()
    if (m := re.fullmatch(r"(\d{4})(?:Q[1-4]|H[12]|-\d{1,2})?", value)) and not FIRST_YEAR <= int(m[1]) <= LAST_YEAR:
        raise OutOfRange("报告期", text)
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
    # For a period not yet ended when the report was produced: the instant and the day
    # it was counted to (None: the period's end).
    until: datetime | None = None
    until_day: date | None = None

    @property
    def partial(self) -> bool:
        """The period had not ended when the report was produced: counted as of then."""
        return self.until is not None

    @property
    def counted_to(self) -> date:
        """The last day counted: the period's last day, or the day it was produced on."""
        return self.until_day or self.period.end

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


def compile_report(service: Service, period: Period, *, organisation: str, unit_order: Sequence[str],
                   produced_at: datetime) -> StageReport:
    """The period's report from the stored items and their ledgers, as they stood at the
    period's end; for a period not yet ended at `produced_at`, as they stand then (and
    the report says so: `until`, and a note)."""
    tz = service.tz
    end = min(period.end_instant(tz), produced_at)
    partial = end < period.end_instant(tz)
    last_day = end.astimezone(tz).date() if partial else period.end
    categories = {name: i for i, name in enumerate(service.policies.current.categories)}
    units = {name: i for i, name in enumerate(unit_order)}
    levels = {"一般": 0, "重大": 1}
    hazards: list[tuple[ItemAtEnd, bool]] = []
    tasks = Count()
    overdue_rows: list[OverdueRow] = []
    everything = [i for i in service.store.query(Query()) if i.found_at < end]
    for start in range(0, len(everything), 500):
        chunk = everything[start:start + 500]
        ledgers = service.store.histories([i.id for i in chunk if i.id is not None])
        for item in chunk:
            assert item.id is not None
            finals = service.final_states(item.workflow)
            at_end = as_of(item, ledgers[item.id], end, finals, tz)
            if at_end is None:
                continue
            overdue, row = False, None
            if not at_end.closed:
                row = _overdue_row(service, at_end, end, last_day)
                overdue = row is not None
            if item.kind == "hazard":
                hazards.append((at_end, overdue))
            else:
                add(tasks, at_end, overdue, period, tz)
            if row is not None:
                overdue_rows.append(row)
    total = Count()
    for at_end, overdue in hazards:
        add(total, at_end, overdue, period, tz)
    overdue_rows.sort(key=lambda r: (r.kind != "hazard", r.level != "重大", -r.days_overdue, r.item_id))
    notes = [f"{period.title}尚未结束，以上数字统计至{cn_date(last_day)} {end.astimezone(tz):%H:%M}，"
             "逾期天数算至当日；本期结束后的正式报告以届时数据为准"] if partial else []
    return StageReport(
        organisation, period, produced_at, total,
        ordered(tally(hazards, period, tz, "category"), categories),
        ordered(tally(hazards, period, tz, "level"), levels),
        ordered(tally(hazards, period, tz, "unit"), units),
        tasks, overdue_rows, notes, until=end if partial else None,
        until_day=last_day if partial else None)


def _overdue_row(service: Service, at_end: ItemAtEnd, end: datetime, day: date) -> OverdueRow | None:
    """The item as an overdue row just before `end` (days counted to `day`), or None if
    it was not overdue then."""
    item = at_end.item.copy()
    item.state, item.entered_at = at_end.state, at_end.entered_at
    return overdue_row(service, item, end - timedelta(microseconds=1), day)


# The rung whose reaching puts an item on the 挂牌督办 list (a later rung, 问责, follows it).
SUPERVISED = "挂牌督办"


def supervising_rung(rule: Rule | None) -> int | None:
    """The index of the rule's first 挂牌督办 rung, or None when its ladder has none."""
    if rule is None:
        return None
    return next((i for i, rung in enumerate(rule.escalate) if rung.action == SUPERVISED), None)


def overdue_row(service: Service, item: Item, until: datetime, day: date) -> OverdueRow | None:
    """The item as an overdue row at the instant `until` (days overdue counted to `day`),
    or None if it was not overdue then: what the stage report and the dashboard list."""
    plan = service.plan(item)
    if plan.overdue_at is None or plan.overdue_at > until:
        return None
    reached = plan.reached(until)
    latest = reached[-1].action if reached else ""
    supervised = any(step.action == SUPERVISED for step in reached)
    state_title = service.workflows.state_title(item.workflow, item.state)
    due = plan.due
    days = (day - due).days if due else 0
    assert item.id is not None
    return OverdueRow(item.id, item.kind, item.title, item.unit or "", item.level, item.category or "",
                      state_title, due, max(days, 1), latest, supervised)


def last_ended(spec: StageReportSpec, policy: Policy, today: date) -> Period | None:
    """The period of `spec` that ended most recently before `today`, if the report is owed
    for it (within its campaign and phases); None otherwise."""
    period = period_containing(today, spec.period).previous()
    if spec.campaign:
        campaign = policy.campaign(spec.campaign)
        if campaign is None or not campaign.phases:
            return None
        if period.end < campaign.phases[0].start or period.start > campaign.phases[-1].end:
            return None
        if spec.phases and campaign.phase_at(min(period.end, campaign.phases[-1].end)) not in spec.phases:
            return None
    elif spec.phases and policy.phase_at(period.end) not in spec.phases:
        return None
    return period


def owed_reports(policy: Policy, at: datetime, tz: ZoneInfo) -> list[tuple[StageReportSpec, Period]]:
    """Each report of the rules owed at `at` (read in `tz`), with the period it is owed
    for: the one that ended most recently, when within its campaign and phases."""
    today = at.astimezone(tz).date()
    found: list[tuple[StageReportSpec, Period]] = []
    for spec in policy.reports:
        period = last_ended(spec, policy, today)
        if period is not None:
            found.append((spec, period))
    return found


def report_recipients(spec: StageReportSpec, org: Org) -> list[tuple[str, str, str]]:
    """(role, name, email) for each recipient of the report that has an address; the
    higher authority only from a configured site (Org.configured), never the demo's."""
    found: list[tuple[str, str, str]] = []
    office = org.units.get(org.safety_office)
    for role in spec.send_to:
        if role == "safety_office" and office and office.email:
            found.append((role, office.name, office.email))
        elif role == "principal" and org.principal and org.principal in org.people:
            person = org.people[org.principal]
            if person.email:
                found.append((role, person.name, person.email))
        elif role == "leader" and office and office.leader and office.leader in org.people:
            person = org.people[office.leader]
            if person.email:
                found.append((role, person.name, person.email))
        elif role == "higher_authority" and org.higher_authority and org.configured:
            found.append((role, org.higher_authority.name, org.higher_authority.email))
    unique: dict[str, tuple[str, str, str]] = {}
    for entry in found:
        unique.setdefault(entry[2].lower(), entry)
    return list(unique.values())

