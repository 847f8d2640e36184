"""The safety office's view (综合看板): the campaign's numbers as of one instant.

Open items by state, unit and category; the overdue items ranked (重大 first, then the
longest overdue); the 挂牌督办 list; per unit 整改率, the overdue ratio and the mean
working days to close, this quarter (counted up to the instant) against the last.

Everything is counted by the store in aggregate (ItemStore.tally, period_tally,
day_counts), never by loading the items; only the few rows listed are read and planned.
Every number is a Figure: its value and the Selection of the items behind it, which
`resolve` turns into the store Query that lists them (the web links each number to
them; `Selection.to_params` / `from_params` carry it in a URL).

Counting follows the stage report (engine.reports): the same Count (found and closed
cumulative to a period's end, new and closed within it), the same period boundaries,
the same overdue row (reports.overdue_row). An item is closed when it is in a final
state of its workflow, from the instant it entered it (the shipped workflows never
leave a final state). The overdue instant and the 挂牌督办 rung follow the item's plan:
the store compares its overdue_from column with the instant, skipping paused items, and
with each rule's cutoff (engine.plan.reached_by) for the rung.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime, time, timedelta
from typing import Any

from engine.access import Scope
from engine.errors import RectifyError
from engine.model import Item
from engine.plan import reached_by
from engine.ports import (
    BY_ID,
    BY_OVERDUE,
    Overdue,
    Paused,
    PeriodTally,
    Query,
    Reached,
    Tally,
    Window,
)
from engine.reports import (
    Count,
    OverdueRow,
    Period,
    overdue_row,
    period_containing,
    supervising_rung,
)
from engine.service import BadValue, Service
from engine.workcal import WorkCalendar

NO_UNIT = ""  # Selection.unit for items without a unit
NO_UNIT_TITLE = "（未指定）"
NO_CATEGORY_TITLE = "（未分类）"
TOP = 20  # overdue and 挂牌督办 rows listed (the Figure counts them all)
MICRO = timedelta(microseconds=1)


class BadSelection(RectifyError):
    exit_code = 2

    def __init__(self, name: str, value: str, reason: str) -> None:
        super().__init__(f"筛选条件“{name}={value}”无效：{reason}")


@dataclass(frozen=True)
class Selection:
    """Which items a number stands for, as a person would say it (days are the site's).

    status: "open" (not in a final state), "closed" (in one) or "" (either). found_* and
    closed_* are inclusive days; closed_* imply status closed. overdue and supervised
    are as of the instant the selection is resolved at."""

    kind: str | None = None
    workflow: str | None = None
    state: str | None = None
    status: str = ""
    unit: str | None = None  # NO_UNIT: items without a unit
    category: str | None = None
    level: str | None = None
    overdue: bool = False
    supervised: bool = False
    found_from: date | None = None
    found_until: date | None = None
    closed_from: date | None = None
    closed_until: date | None = None
    order: str = BY_ID

    def to_params(self) -> dict[str, str]:
        """The fields that differ from the default, as text (a URL's query string)."""
        params: dict[str, str] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value == f.default:
                continue
            params[f.name] = "1" if value is True else value.isoformat() if isinstance(value, date) else str(value)
        return params

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> Selection:
        """The selection `to_params` wrote; BadSelection (in Chinese) for anything else."""
        values: dict[str, Any] = {}
        known = {f.name: f for f in fields(cls)}
        for name, text in params.items():
            if name not in known:
                raise BadSelection(name, text, "未知的筛选条件")
            default = known[name].default
            if isinstance(default, bool):
                if text not in ("0", "1"):
                    raise BadSelection(name, text, "应为 0 或 1")
                values[name] = text == "1"
            elif name.endswith(("_from", "_until")):
                try:
                    values[name] = date.fromisoformat(text)
                except ValueError:
                    raise BadSelection(name, text, "应为 YYYY-MM-DD 格式的日期") from None
            else:
                values[name] = text
        chosen = cls(**values)
        if chosen.status not in ("", "open", "closed"):
            raise BadSelection("status", chosen.status, "应为 open 或 closed")
        if chosen.order not in (BY_ID, BY_OVERDUE):
            raise BadSelection("order", chosen.order, f"应为 {BY_ID} 或 {BY_OVERDUE}")
        return chosen


@dataclass(frozen=True)
class Figure:
    """One number of the dashboard and the items behind it."""

    value: int
    selection: Selection


@dataclass(frozen=True)
class StateRow:
    workflow: str
    workflow_title: str
    state: str
    title: str
    open: Figure


@dataclass(frozen=True)
class GroupRow:
    """Open items of one unit or category, how many overdue, how many under 挂牌督办."""

    name: str
    title: str
    open: Figure
    overdue: Figure
    supervised: Figure


@dataclass(frozen=True)
class UnitRate:
    """One unit over one period, counted as the stage report counts (Count)."""

    name: str
    title: str
    count: Count
    found: Figure  # found up to the period's end
    closed: Figure  # of those, closed by then
    new: Figure  # found within the period
    closed_in_period: Figure
    open: Figure | None  # open now, overdue now: the current period only
    overdue: Figure | None
    mean_days_to_close: float | None  # working days, for the items closed within the period

    @property
    def rate(self) -> float | None:
        return self.count.rate

    @property
    def overdue_ratio(self) -> float | None:
        if self.open is None or self.overdue is None or not self.open.value:
            return None
        return self.overdue.value / self.open.value


@dataclass(frozen=True)
class PeriodView:
    """A quarter's numbers; `ended` False when counted up to the instant (label says so).
    No numbers (`counted` False) for a quarter that ended before the first item was found."""

    period: Period
    label: str
    ended: bool
    counted: bool
    units: list[UnitRate]
    total: UnitRate | None


@dataclass(frozen=True)
class Listed:
    """A ranked list: how many in all, and the first rows."""

    figure: Figure
    rows: list[OverdueRow]


@dataclass(frozen=True)
class Dashboard:
    at: datetime
    today: date
    person: str | None  # whose scope (None: everything)
    kind: str
    open: Figure
    by_state: list[StateRow]
    by_unit: list[GroupRow]
    by_category: list[GroupRow]
    overdue: Listed
    supervised: Listed
    tasks_open: Figure
    tasks_overdue: Figure
    current: PeriodView
    previous: PeriodView
    notes: list[str] = field(default_factory=list)


# -- from a Selection to a store Query ---------------------------------------------------


def _midnight(day: date, service: Service) -> datetime:
    return datetime.combine(day, time(), service.tz)


def _pairs(service: Service, final: bool) -> tuple[tuple[str, str], ...]:
    return tuple((wf.name, s.name) for wf in service.workflows.values() for s in wf.states.values()
                 if s.final == final)


def _within(scope: Scope | None) -> tuple[str, ...] | None:
    return None if scope is None or scope.everything else tuple(sorted(scope.units))


@dataclass(frozen=True)
class Terms:
    """What resolving needs beside the selection: the instant, the scope, and the pause
    and 挂牌督办 conditions of the rules open items are bound to."""

    at: datetime
    within: tuple[str, ...] | None
    overdue: Overdue
    reached: tuple[Reached, ...]


def terms(service: Service, at: datetime, scope: Scope | None = None) -> Terms:
    """The conditions at `at` for the rules open items are bound to (one aggregate query)."""
    within = _within(scope)
    bound = service.store.bindings(Query(states=_pairs(service, False), within=within))
    paused: list[Paused] = []
    reached: list[Reached] = []
    calendars = _calendars(service)
    for version, name in bound:
        rule = service.policies.get(version).rule_named(name)
        if rule is None:
            continue
        if rule.pause_in:
            paused.append(Paused(version, name, tuple(sorted(rule.pause_in))))
        rung = supervising_rung(rule)
        if rung is None:
            continue
        for units, calendar in calendars:
            reached.append(Reached(version, name, units, reached_by(rule, rung, at, calendar, service.tz)))
    return Terms(at, within, Overdue(at, tuple(paused)), tuple(reached))


def _calendars(service: Service) -> list[tuple[tuple[str, ...] | None, WorkCalendar]]:
    """(units, calendar) for each campus calendar in use, then (None, the site's)."""
    default = service.site.calendar_of_unit(None)
    groups: dict[int, tuple[list[str], WorkCalendar]] = {}
    for name in service.org.units:
        calendar = service.site.calendar_of_unit(name)
        if calendar is not default:
            groups.setdefault(id(calendar), ([], calendar))[0].append(name)
    found: list[tuple[tuple[str, ...] | None, WorkCalendar]] = [
        (tuple(sorted(units)), calendar) for units, calendar in groups.values()]
    return [*found, (None, default)]


def resolve(service: Service, selection: Selection, t: Terms, *, limit: int | None = None,
            offset: int = 0) -> Query:
    """The store Query listing the items behind `selection` at `t.at`, within the scope."""
    s = selection
    states: tuple[tuple[str, str], ...] = ()
    status = "closed" if s.closed_from or s.closed_until else s.status
    if status:
        states = _pairs(service, status == "closed")
    if s.workflow or s.state:
        chosen = {(w, st) for w, st in (states or _pairs(service, False) + _pairs(service, True))
                  if (s.workflow is None or w == s.workflow) and (s.state is None or st == s.state)}
        states = tuple(sorted(chosen)) or (("", ""),)  # matches nothing
    unit: tuple[str | None, ...] = () if s.unit is None else (None if s.unit == NO_UNIT else s.unit,)
    return Query(
        kind=(s.kind,) if s.kind else (), unit=unit, category=(s.category,) if s.category is not None else (),
        level=(s.level,) if s.level else (), states=states, within=t.within, limit=limit, offset=offset,
        found_from=_midnight(s.found_from, service) if s.found_from else None,
        found_before=_midnight(s.found_until + timedelta(days=1), service) if s.found_until else None,
        entered_from=_midnight(s.closed_from, service) if s.closed_from else None,
        entered_before=_midnight(s.closed_until + timedelta(days=1), service) if s.closed_until else None,
        overdue=t.overdue if s.overdue or s.supervised else None,
        reached=t.reached if s.supervised else None, order=s.order)


def items(service: Service, selection: Selection, at: datetime, scope: Scope | None = None, *,
          limit: int | None = 100, offset: int = 0) -> tuple[int, list[Item]]:
    """(how many, a page of them): the items behind a number, for the web's list page."""
    t = terms(service, at, scope)
    query = resolve(service, selection, t, limit=limit, offset=offset)
    return service.store.count(query), service.store.query(query)


# -- the numbers -----------------------------------------------------------------------------


def build(service: Service, at: datetime, scope: Scope | None = None, *, kind: str = "hazard",
          top: int = TOP) -> Dashboard:
    """The dashboard as of `at`, for everything or for what `scope` may see."""
    if kind not in ("hazard", "task"):
        raise BadValue("kind", kind, "应为 hazard 或 task")
    t = terms(service, at, scope)
    today = at.astimezone(service.tz).date()
    groups = service.store.tally(Query(states=_pairs(service, False), within=t.within), t.overdue, t.reached)
    mine = [g for g in groups if g.kind == kind]
    tasks = [g for g in groups if g.kind == "task"]
    opened = Selection(kind=kind, status="open")
    current = period_containing(today, "quarter")
    return Dashboard(
        at, today, scope.person if scope else None, kind,
        Figure(sum(g.count for g in mine), opened),
        _by_state(service, groups), _by_unit(service, mine, opened), _by_category(service, mine, opened),
        _listed(service, t, replace(opened, overdue=True, order=BY_OVERDUE), sum(g.overdue for g in mine), today,
                top),
        _listed(service, t, replace(opened, supervised=True, order=BY_OVERDUE), sum(g.reached for g in mine),
                today, top),
        Figure(sum(g.count for g in tasks), Selection(kind="task", status="open")),
        Figure(sum(g.overdue for g in tasks), Selection(kind="task", status="open", overdue=True)),
        *_periods(service, t, current, kind, mine))


def _periods(service: Service, t: Terms, current: Period, kind: str,
             now: list[Tally]) -> tuple[PeriodView, PeriodView]:
    """This quarter (up to the instant) and the last, counted in one pass of the store."""
    previous = current.previous()
    windows = [_window(service, t, p) for p in (current, previous)]
    rows = service.store.period_tally(Query(kind=(kind,), within=t.within), _pairs(service, True), windows)
    return (_period(service, t, current, windows[0], _of(rows, 0), kind, now),
            _period(service, t, previous, windows[1], _of(rows, 1), kind, None))


def _window(service: Service, t: Terms, period: Period) -> Window:
    end = period.end_instant(service.tz)
    return Window(_midnight(period.start, service), end if end <= t.at else t.at + MICRO)


def _of(rows: list[PeriodTally], n: int) -> list[PeriodTally]:
    """The units with something found or closed by the end of window `n`, that window only."""
    return [PeriodTally(r.unit, (r.found[n],), (r.new[n],), (r.closed[n],), (r.closed_in[n],))
            for r in rows if r.found[n] or r.closed[n]]


def _by_state(service: Service, groups: Sequence[Tally]) -> list[StateRow]:
    counts: dict[tuple[str, str], int] = {}
    for g in groups:
        counts[(g.workflow, g.state)] = counts.get((g.workflow, g.state), 0) + g.count
    rows = []
    for wf in service.workflows.values():
        for s in wf.states.values():
            if not s.final:
                selection = Selection(workflow=wf.name, state=s.name, status="open")
                rows.append(StateRow(wf.name, wf.title, s.name, s.title, Figure(counts.get((wf.name, s.name), 0),
                                                                                 selection)))
    known = {(r.workflow, r.state) for r in rows}
    for (workflow, state), n in sorted(counts.items()):  # a state no workflow defines any more
        if (workflow, state) not in known:
            rows.append(StateRow(workflow, workflow, state, state,
                                 Figure(n, Selection(workflow=workflow, state=state, status="open"))))
    return rows


def _grouped(groups: Iterable[Tally], key: str, base: Selection, titles: Mapping[str, str],
             order: Mapping[str, int], empty: str) -> list[GroupRow]:
    sums: dict[str, list[int]] = {}
    for g in groups:
        counts = sums.setdefault(getattr(g, key) or "", [0, 0, 0])
        counts[0] += g.count
        counts[1] += g.overdue
        counts[2] += g.reached
    rows = []
    for name in sorted(sums, key=lambda n: (order.get(n, len(order)), n)):
        n, late, top = sums[name]
        selection = replace(base, unit=name) if key == "unit" else replace(base, category=name)
        rows.append(GroupRow(name, titles.get(name, name) or empty, Figure(n, selection),
                             Figure(late, replace(selection, overdue=True, order=BY_OVERDUE)),
                             Figure(top, replace(selection, supervised=True, order=BY_OVERDUE))))
    return rows


def _by_unit(service: Service, groups: Sequence[Tally], base: Selection) -> list[GroupRow]:
    order = {name: i for i, name in enumerate(service.org.units)}
    return _grouped(groups, "unit", base, {}, order, NO_UNIT_TITLE)


def _by_category(service: Service, groups: Sequence[Tally], base: Selection) -> list[GroupRow]:
    order = {name: i for i, name in enumerate(service.policies.current.categories)}
    return _grouped(groups, "category", base, {}, order, NO_CATEGORY_TITLE)


def _listed(service: Service, t: Terms, selection: Selection, total: int, today: date, top: int) -> Listed:
    """`total` counted already (the tally); the first `top` rows read and planned."""
    query = resolve(service, selection, t, limit=top)
    rows = [row for item in service.store.query(query)
            if (row := overdue_row(service, item, t.at, today)) is not None]
    return Listed(Figure(total, selection), rows)


# -- periods -------------------------------------------------------------------------------


def _label(period: Period, ended: bool, today: date) -> str:
    return period.title if ended else f"{period.title}（截至{today.month}月{today.day}日）"


def _period(service: Service, t: Terms, period: Period, window: Window, rows: list[PeriodTally], kind: str,
            now: list[Tally] | None) -> PeriodView:
    """One quarter per unit; `now` (the open groups) for the quarter the instant is in."""
    ended = window.end == period.end_instant(service.tz)
    today = t.at.astimezone(service.tz).date()
    last = period.end if ended else today
    label = _label(period, ended, today)
    if sum(r.found[0] for r in rows) == 0:
        return PeriodView(period, label, ended, False, [], None)
    days = _mean_days(service, t, kind, window)
    open_now = _open_counts(now) if now is not None else None
    order = {name: i for i, name in enumerate(service.org.units)}
    units = []
    base = Selection(kind=kind)
    for r in sorted(rows, key=lambda r: (order.get(r.unit or "", len(order)), r.unit or "")):
        count = Count(found=r.found[0], closed=r.closed[0], new=r.new[0], closed_in_period=r.closed_in[0])
        now_counts = open_now.get(r.unit, (0, 0)) if open_now is not None else None
        units.append(_rate(replace(base, unit=r.unit or NO_UNIT), r.unit or NO_UNIT_TITLE, count, period, last,
                           now_counts, days.get(r.unit)))
    total = Count(*(sum(getattr(u.count, n) for u in units) for n in ("found", "closed", "new", "closed_in_period")))
    total_now = _sum_pairs(open_now.values()) if open_now is not None else None
    return PeriodView(period, label, ended, True, units,
                      _rate(base, "合计", total, period, last, total_now, _sum_pairs(days.values())))


def _rate(base: Selection, title: str, count: Count, period: Period, last: date,
          now: tuple[int, int] | None, days: tuple[int, int] | None) -> UnitRate:
    """A UnitRate; `now` (open, overdue) for the current period, `days` (working days, items)."""
    until = replace(base, found_until=last)
    opened = overdue = None
    if now is not None:
        opened = Figure(now[0], replace(base, status="open"))
        overdue = Figure(now[1], replace(base, status="open", overdue=True, order=BY_OVERDUE))
    mean = days[0] / days[1] if days and days[1] else None
    return UnitRate(
        base.unit if base.unit is not None else "", title, count,
        Figure(count.found, until), Figure(count.closed, replace(until, closed_until=last)),
        Figure(count.new, replace(base, found_from=period.start, found_until=last)),
        Figure(count.closed_in_period, replace(base, closed_from=period.start, closed_until=last)),
        opened, overdue, mean)


def _open_counts(groups: Sequence[Tally]) -> dict[str | None, tuple[int, int]]:
    found: dict[str | None, tuple[int, int]] = {}
    for g in groups:
        n, late = found.get(g.unit, (0, 0))
        found[g.unit] = (n + g.count, late + g.overdue)
    return found


def _sum_pairs(values: Iterable[tuple[int, int]]) -> tuple[int, int]:
    pairs = list(values)
    return sum(p[0] for p in pairs), sum(p[1] for p in pairs)


def _mean_days(service: Service, t: Terms, kind: str, window: Window) -> dict[str | None, tuple[int, int]]:
    """(working days in all, items) per unit for the items closed within `window`: from
    the day after found to the day closed, on the unit's calendar (W(closed) - W(found))."""
    query = Query(kind=(kind,), states=_pairs(service, True), within=t.within,
                  entered_from=window.start, entered_before=window.end)
    found = service.store.day_counts(query, "found_at", service.tz)
    closed = service.store.day_counts(query, "entered_at", service.tz)
    days = {d for _, d, _ in found} | {d for _, d, _ in closed}
    if not days:
        return {}
    indexes: dict[int, dict[date, int]] = {}
    sums: dict[str | None, list[int]] = {}
    for sign, rows in ((-1, found), (1, closed)):
        for unit, day, n in rows:
            calendar = service.site.calendar_of_unit(unit)
            index = indexes.get(id(calendar))
            if index is None:
                index = indexes[id(calendar)] = _workday_index(calendar, min(days), max(days))
            entry = sums.setdefault(unit, [0, 0])
            entry[0] += sign * index[day] * n
            if sign > 0:
                entry[1] += n
    return {unit: (total, n) for unit, (total, n) in sums.items()}


def _workday_index(calendar: WorkCalendar, first: date, last: date) -> dict[date, int]:
    """For each day of [first, last], the working days in (first, day]."""
    index, count, day = {}, 0, first
    while day <= last:
        if day != first and calendar.is_workday(day):
            count += 1
        index[day] = count
        day += timedelta(days=1)
    return index


# -- as data ---------------------------------------------------------------------------------


def _figure_json(figure: Figure | None) -> dict[str, Any] | None:
    return None if figure is None else {"value": figure.value, "selection": figure.selection.to_params()}


def _row_json(row: OverdueRow) -> dict[str, Any]:
    return {"id": row.item_id, "kind": row.kind, "title": row.title, "unit": row.unit, "level": row.level,
            "category": row.category, "state_title": row.state_title,
            "due": row.due.isoformat() if row.due else None, "days_overdue": row.days_overdue,
            "escalation": row.escalation, "supervised": row.supervised}


def _group_json(row: GroupRow) -> dict[str, Any]:
    return {"name": row.name, "title": row.title, "open": _figure_json(row.open),
            "overdue": _figure_json(row.overdue), "supervised": _figure_json(row.supervised)}


def _rate_json(u: UnitRate) -> dict[str, Any]:
    return {"name": u.name, "title": u.title, "found": _figure_json(u.found), "closed": _figure_json(u.closed),
            "new": _figure_json(u.new), "closed_in_period": _figure_json(u.closed_in_period),
            "rate": u.rate, "open": _figure_json(u.open), "overdue": _figure_json(u.overdue),
            "overdue_ratio": u.overdue_ratio, "mean_working_days_to_close": u.mean_days_to_close}


def _period_json(p: PeriodView) -> dict[str, Any]:
    return {"period": p.period.key, "label": p.label, "start": p.period.start.isoformat(),
            "end": p.period.end.isoformat(), "ended": p.ended, "counted": p.counted,
            "units": [_rate_json(u) for u in p.units], "total": _rate_json(p.total) if p.total else None}


def to_json(d: Dashboard, tz: Any) -> dict[str, Any]:
    """The dashboard as JSON-ready data; every number with the selection of its items."""
    return {
        "as_of": d.at.astimezone(tz).isoformat(), "person": d.person, "kind": d.kind,
        "open": _figure_json(d.open),
        "by_state": [{"workflow": r.workflow, "workflow_title": r.workflow_title, "state": r.state,
                      "title": r.title, "open": _figure_json(r.open)} for r in d.by_state],
        "by_unit": [_group_json(r) for r in d.by_unit],
        "by_category": [_group_json(r) for r in d.by_category],
        "overdue": {"count": _figure_json(d.overdue.figure), "rows": [_row_json(r) for r in d.overdue.rows]},
        "supervised": {"count": _figure_json(d.supervised.figure),
                       "rows": [_row_json(r) for r in d.supervised.rows]},
        "tasks": {"open": _figure_json(d.tasks_open), "overdue": _figure_json(d.tasks_overdue)},
        "current": _period_json(d.current), "previous": _period_json(d.previous),
    }
