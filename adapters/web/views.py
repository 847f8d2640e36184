"""What the pages show, as plain data: an item's facts, its time left, its history in
Chinese, its deadline explained (as `rectify explain` says it) and the forms for the
events and amendments a person may use. No request, no HTML here."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from adapters.present import conditions_text, explain_json
from adapters.wiring import App
from engine.access import scope_of
from engine.extensions import cn
from engine.ledgerview import CHANGE_TITLES, Entry, days_overdue, value_text
from engine.ledgerview import history as ledger_history
from engine.model import FIELDS, LEVELS, Item, LedgerEntry
from engine.offer import amendments_for, checks, events_for
from engine.plan import Plan
from engine.workcal import WorkCalendar
from engine.workflow import Transition, Workflow

# The fields the item page lists, in this order (others follow), and those it leaves out.
SHOWN_FIRST = ("kind", "level", "category", "unit", "responsible", "location", "reporter", "found_at",
               "deadline", "description", "measures", "interim_controls", "watcher", "funds",
               "contingency_plan", "evidence", "progress", "requirement", "rectifier", "verifier",
               "approver", "closed_at")
MAX_COUNTED_DAYS = 3660
# Who sees the 综合看板: these roles the whole school; leaders and unit heads the units
# they supervise or head (and their own).
BOARD_ALL = frozenset({"safety_office", "principal", "admin"})
BOARD_SCOPED = frozenset({"leader", "unit_head"})
LONG_TEXT = 200


def plain_message(text: str, events: dict[str, str] | None = None) -> str:
    """An engine message as a person on the web reads it: no command-line hints, no
    internal field or event names (`events`: event name -> its title)."""
    for name, title in sorted((events or {}).items(), key=lambda kv: -len(kv[0])):
        text = text.replace(f"“{name}”", f"“{title}”").replace(f"{name}（{title}）", title)
    text = re.sub(r"(?<![A-Za-z])[a-z_]+（([^）]*)）", r"\1", text)
    text = re.sub(r"，?请用 --set 字段=值 提供", "，请在表单中填写", text)
    text = re.sub(r"，?请用 --note 填写", "，请在“理由”中填写", text)
    text = re.sub(r"[，,]?(请)?用 --set [^，。；]*", "", text)
    text = re.sub(r"（[a-z_]+）", "", text)
    text = re.sub(r"“([a-z_]+)”", lambda m: f"“{_event_or_field(m.group(1))}”", text)
    return text


def _event_or_field(name: str) -> str:
    spec = FIELDS.get(name)
    return spec.title if spec else CHANGE_TITLES.get(name, "该操作")


def local(value: datetime | None, tz: ZoneInfo) -> str:
    return value.astimezone(tz).strftime("%Y-%m-%d %H:%M") if value else ""


def workdays_left(calendar: WorkCalendar, today: date, due: date) -> int:
    """Working days from today to the last allowed day, both included."""
    count, day = 0, today
    for _ in range(MAX_COUNTED_DAYS):
        if day > due:
            break
        count += calendar.is_workday(day)
        day = date.fromordinal(day.toordinal() + 1)
    return count


def time_left(item: Item, plan: Plan, now: datetime, calendar: WorkCalendar, tz: ZoneInfo,
              final: bool = False) -> tuple[str, bool]:
    """("逾期N天" | "剩余N个工作日" | "暂停计时" | "未设期限" | "已办结", overdue?)."""
    if final:
        return "已办结", False
    if plan.paused:
        return "暂停计时", False
    if plan.overdue_at is not None and plan.overdue_at <= now:
        return f"逾期{days_overdue(plan, now)}天", True
    if plan.due is None:
        return ("长期坚持" if plan.ongoing else "未设期限"), False
    left = workdays_left(calendar, now.astimezone(tz).date(), plan.due)
    return (f"剩余{left}个工作日" if left else "今天到期"), False


def rung(plan: Plan, now: datetime) -> str:
    """The highest escalation the item has reached (通报, 约谈 …), or ""."""
    reached = [s for s in plan.reached(now) if s.kind == "escalate"]
    return reached[-1].action if reached else ""


@dataclass
class Row:
    """One line of 我的待办."""

    item: Item
    state_title: str
    due: str
    left: str
    overdue: bool
    rung: str
    actions: list[str]


def todo_rows(app: App, person: str, found: list[Item], now: datetime) -> list[Row]:
    svc, tz = app.service, app.config.timezone
    rows = []
    for item in found:
        plan = svc.plan(item)
        final = item.state in svc.final_states(item.workflow)
        left, overdue = time_left(item, plan, now, svc.calendar_of(item), tz, final)
        wf = svc.workflows.get_or_fail(item.workflow)
        offered = events_for(svc.org, wf, person, item, now, svc.final_states(item.workflow))
        rows.append(Row(item, wf.states[item.state].title if item.state in wf.states else "未知状态",
                        plan.due.isoformat() if plan.due else "", left, overdue, rung(plan, now),
                        [t.title for t in offered]))
    return rows


# How many items waiting for verification 我的待办 looks at, and shows.
AWAITING_LOOKED_AT, AWAITING_SHOWN = 100, 20


@dataclass
class Awaiting:
    """The items waiting for this person's verification (待验收), for 我的待办: the first
    AWAITING_SHOWN of them, how many of the first AWAITING_LOOKED_AT waiting in their
    scope they may check, and whether more wait beyond those."""

    rows: list[Row]
    count: int
    more: bool
    states: list[str]


def awaiting(app: App, person: str, now: datetime) -> Awaiting:
    from adapters.web.queries import awaiting as query

    svc = app.service
    by_workflow = {name: frozenset(s for t in checks(wf) for s in t.sources) for name, wf in svc.workflows.items()}
    found = query(app.store, scope_of(svc.org, person), by_workflow, AWAITING_LOOKED_AT)  # type: ignore[arg-type]
    rows = []
    for row in todo_rows(app, person, found.items, now):
        wf = svc.workflows.get_or_fail(row.item.workflow)
        titles = {t.title for t in checks(wf)}
        if titles & set(row.actions):
            rows.append(row)
    states = sorted({s for names in by_workflow.values() for s in names})
    return Awaiting(rows[:AWAITING_SHOWN], len(rows), found.total > len(found.items), states)


@dataclass
class PendingRow:
    """A request this person may answer, for 我的待办."""

    item_id: int
    title: str
    unit: str
    requested_by: str
    requested_at: str
    old_due: str
    new_due: str
    reason: str


def pending_extensions(app: App, person: str) -> list[PendingRow]:
    tz = app.config.timezone
    return [PendingRow(p.item.id or 0, p.item.title, p.item.unit or "未指定单位", p.request.requested_by,
                       local(p.request.requested_at, tz), cn(p.request.old_due), cn(p.request.new_due),
                       p.request.reason) for p in app.service.pending_extensions(person)]


def _value(name: str, value: Any, tz: ZoneInfo) -> str:
    return value_text(name, value, tz)


def item_fields(item: Item, tz: ZoneInfo) -> list[tuple[str, str, bool]]:
    """(label, value, long text?) for every field the item carries."""
    values: dict[str, Any] = {"kind": item.kind, "level": item.level if item.kind == "hazard" else None,
                              "category": item.category,
                              "unit": item.unit, "responsible": item.responsible, "location": item.location,
                              "reporter": item.reporter, "found_at": item.found_at, "deadline": item.deadline}
    values.update({k: v for k, v in item.fields.items() if k in FIELDS})
    order = [n for n in SHOWN_FIRST if n in values] + sorted(n for n in values if n not in SHOWN_FIRST)
    shown = []
    for name in order:
        text = _value(name, values[name], tz)
        if text:
            title = FIELDS[name].title if name in FIELDS else CHANGE_TITLES.get(name, "类型")
            shown.append((title, text, len(text) > 60 or "\n" in text))
    return shown


def history(entries: list[LedgerEntry], wf: Workflow, tz: ZoneInfo) -> list[Entry]:
    """The ledger as a timeline: who, when, what, from which state to which, what changed
    (engine.ledgerview.history, as `rectify show` and the 台账 give it)."""
    return ledger_history(entries, {wf.name: wf}, wf.name, tz)


@dataclass
class Candidate:
    rule: str
    matches: bool
    chosen: bool
    conditions: str


@dataclass
class Explained:
    rule: str
    expr: str
    source: str
    due: str
    overdue_at: str
    note: str
    provisional: str
    steps: list[dict[str, str]]
    candidates: list[Candidate] = field(default_factory=list)


def explained(app: App, item: Item, now: datetime) -> Explained:
    data = explain_json(app, item, now)
    tz = app.config.timezone
    steps = [{"at": local(datetime.fromisoformat(s["at"]), tz), "kind": "提醒" if s["kind"] == "remind" else "升级",
              "step": s["step"], "who": "、".join(s["recipients"]), "why": s["rule_text"]} for s in data["plan"]]
    overdue = datetime.fromisoformat(data["overdue_at"]) if data["overdue_at"] else None
    bound = app.service.policies.get(item.policy_version)
    rules = {r.name: r for r in bound.rules}
    candidates = [Candidate(c["rule"], c["matches"], c["rule"] == data["rule"],
                            conditions_text(rules[c["rule"]].match.conditions) if c["rule"] in rules else "")
                  for c in data["candidates"]]
    return Explained(data["rule"] or "", data["deadline_expr"] or "", data["deadline_source"] or "",
                     data["due"] or "", local(overdue, tz), data["plan_note"] or "",
                     data["provisional_note"] if data["provisional"] else "", steps, candidates)


@dataclass
class Input:
    """One field of a form: its name, label, how it is entered and its choices."""

    name: str
    label: str
    widget: str  # text | textarea | select
    required: bool
    value: str = ""
    choices: list[tuple[str, list[str]]] = field(default_factory=list)  # (group, options)
    hint: str = ""


def _choices(app: App, kind: str, name: str) -> list[tuple[str, list[str]]]:
    org = app.service.org
    if kind == "unit":
        return [("", list(org.units))]
    if kind == "person":
        groups: dict[str, list[str]] = {}
        for person in org.people.values():
            groups.setdefault(person.unit or "其他人员", []).append(person.name)
        return list(groups.items())
    if name == "level":
        return [("", list(LEVELS))]
    if name == "category":
        return [("", list(app.service.policies.current.categories))]
    return []


HINTS = {"deadline": "如：7个工作日内、2026年12月31日前", "funds": "如：2万元", "co_units": "多个单位用顿号分隔"}


def inputs(app: App, names: tuple[str, ...], required: tuple[str, ...], item: Item | None) -> list[Input]:
    shown = []
    for name in names:
        spec = FIELDS[name]
        choices = _choices(app, spec.kind, name)
        widget = "select" if choices else ("textarea" if spec.max_length > LONG_TEXT else "text")
        current = item.get(name) if item is not None else None
        shown.append(Input(name, spec.title, widget, name in required, "" if current is None else str(current),
                           choices, HINTS.get(name, "")))
    return shown


def event_inputs(app: App, t: Transition, item: Item) -> list[Input]:
    return inputs(app, t.settable, t.requires, item)


def amend_inputs(app: App, person: str, item: Item) -> tuple[list[Input], bool]:
    """The fields `person` may amend on the item (from every entry they may use), and
    whether a reason is needed for any of them."""
    svc = app.service
    wf = svc.workflows.get_or_fail(item.workflow)
    entries = amendments_for(svc.org, wf, person, item, svc.final_states(item.workflow))
    names = tuple(dict.fromkeys(f for a in entries for f in a.fields))
    return inputs(app, names, (), item), any(a.note_required for a in entries)


def offered(app: App, person: str, item: Item, now: datetime) -> list[Transition]:
    svc = app.service
    wf = svc.workflows.get_or_fail(item.workflow)
    return events_for(svc.org, wf, person, item, now, svc.final_states(item.workflow))
