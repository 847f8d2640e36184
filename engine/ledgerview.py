"""The 台账 as people read it: one row per item with its derived facts (state, days
overdue, the escalation reached), and per-unit totals. The export writes these rows;
its columns are named so that `rectify import` reads the same file back.

And an item's history (its ledger rows) as people read it, one formatter for `rectify
show`, the web's timeline and the 台账's 历史记录 sheet: event and state titles from the
workflow, changes in words ("责任人：（空）→ 马建军"), times to the minute.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from typing import Any

from engine.evidence import ATTACHMENTS
from engine.extensions import ACTS
from engine.model import FIELDS, KINDS, LEVELS, Item, LedgerEntry
from engine.plan import Plan
from engine.reports import Count, ordered
from engine.workflow import Workflows

# (header, how to get the value). Headers in IMPORTABLE are read back by `rectify import`;
# the others are derived and ignored on import.
LEDGER_COLUMNS = (
    "台账编号", "来源编号", "事项类型", "标题", "类别", "等级", "责任单位", "配合单位", "责任人",
    "位置", "发现时间", "报告人", "整改时限", "截止日期", "状态", "逾期天数", "当前督办",
    "整改措施", "防控措施", "专人盯防", "整改资金", "描述", "整治项目", "整治要求", "清单序号",
    "验收人", "销号时间", "备注",
)
HISTORY_COLUMNS = ("台账编号", "标题", "序号", "事件", "原状态", "新状态", "操作人", "时间", "备注", "变更内容")
SUMMARY_COLUMNS = ("责任单位", "发现", "已销号", "未销号", "逾期", "整改率")


def days_overdue(plan: Plan, at: datetime) -> int:
    """Whole days past the deadline at `at` (0 when not overdue)."""
    if plan.overdue_at is None or plan.overdue_at > at:
        return 0
    due = plan.due or plan.overdue_at.date()
    return max(1, (at.astimezone(plan.tz).date() - due).days)


def ledger_row(item: Item, plan: Plan, workflows: Workflows, at: datetime, finals: frozenset[str]) -> list[Any]:
    """One 台账 row, in LEDGER_COLUMNS order; datetimes naive in the site's zone (Excel has none)."""
    tz = plan.tz
    closed = item.state in finals
    # The highest rung reached: a lower rung repeating afterwards does not bring it down.
    reached = [] if closed else plan.reached(at)
    f = item.fields
    return [
        item.id, item.origin or "", KINDS.get(item.kind, item.kind), item.title, item.category or "",
        item.level, item.unit or "", f.get("co_units") or "", item.responsible or "", item.location or "",
        _naive(item.found_at, tz), item.reporter or "", item.deadline or "", plan.due or item.due or "",
        workflows.state_title(item.workflow, item.state), 0 if closed else days_overdue(plan, at),
        reached[-1].action if reached else "",
        f.get("measures") or "", f.get("interim_controls") or "", f.get("watcher") or "", f.get("funds") or "",
        f.get("description") or "", f.get("project") or "", f.get("requirement") or "", f.get("list_no") or "",
        f.get("verifier") or "", _naive(_instant(f.get("closed_at")), tz), f.get("remarks") or "",
    ]


def _instant(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None


def _naive(value: datetime | None, tz: Any) -> datetime | str:
    if value is None:
        return ""
    return value.astimezone(tz).replace(tzinfo=None, microsecond=0)


def unit_totals(rows: Iterable[tuple[Item, bool, bool]], unit_order: Iterable[str]) -> list[tuple[str, Count]]:
    """(item, closed, overdue) → counts per unit, in org.yaml order, units without items left out."""
    totals: dict[str, Count] = {}
    for item, closed, overdue in rows:
        total = totals.setdefault(item.unit or "（未指定）", Count())
        total.found += 1
        total.closed += closed
        total.overdue += overdue and not closed
    return ordered(list(totals.items()), {name: i for i, name in enumerate(unit_order)})


# -- an item's history as people read it ----------------------------------------------

# Ledger rows that are not workflow events (a workflow's own events take their titles
# from its file).
EVENT_TITLES = {
    "report": "登记", "amend": "修改", "note": "备注", "import": "导入清单更正", "policy_apply": "按新规则重新计算期限",
    "calendar_update": "按新日历重新计算期限", **ACTS,
}
OTHER_EVENT = "系统记录"
# Keys of a ledger row's changes that are not item fields.
CHANGE_TITLES = {
    "policy_version": "规则版本", "rule": "适用规则", "due": "最后期限", "overdue_at": "逾期时间",
    "verified_at": "验收时间", "submitter": "提交人", "rejections": "退回次数", "kind": "事项类型",
    "workflow": "流程", "origin": "来源编号", "tags": "标签", "provisional": "暂定期限",
    ATTACHMENTS: "佐证文件",
}
EMPTY = "（空）"
_INSTANTS = frozenset({"found_at", "closed_at", "verified_at", "overdue_at"})


def local_minute(value: datetime | None, tz: tzinfo) -> str:
    """An instant in the site's zone, to the minute: 2026-12-01 16:28."""
    return value.astimezone(tz).strftime("%Y-%m-%d %H:%M") if value else ""


def event_title(workflows: Mapping[str, Any], workflow: str, event: str) -> str:
    """What a ledger row's event is called: the title its workflow gives it (交办, 验收 …),
    else the title of the engine's own rows (登记, 修改, 申请延期 …)."""
    wf = workflows.get(workflow)
    for t in wf.transitions if wf is not None else ():
        if t.event == event:
            return str(t.title)
    return EVENT_TITLES.get(event, OTHER_EVENT)


def change_title(name: str) -> str:
    spec = FIELDS.get(name)
    return spec.title if spec else CHANGE_TITLES.get(name, name)


def value_text(name: str, value: Any, tz: tzinfo) -> str:
    """A field's value as people read it: instants to the minute in the site's zone, the
    kind and level by their Chinese names, files by name, flags as 是/否."""
    if value is None or value == "" or value == [] or value == {}:
        return ""
    if name in _INSTANTS:
        try:
            instant = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
        except ValueError:
            return str(value)
        return local_minute(instant, tz) if instant.tzinfo else str(value)
    if isinstance(value, bool):
        return "是" if value else "否"
    if name == ATTACHMENTS and isinstance(value, list):
        names = [str(a.get("name", "")) for a in value if isinstance(a, dict)]
        return f"{len(value)} 个文件" + (f"：{'、'.join(n for n in names if n)}" if any(names) else "")
    if name == "kind":
        return KINDS.get(str(value), str(value))
    if name == "level":
        return LEVELS.get(str(value), str(value))
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return "、".join(str(v) for v in value)
    return str(value)


@dataclass
class Change:
    """One field of a ledger row: its label, the old and the new value as text."""

    label: str
    old: str
    new: str

    def line(self, created: bool = False) -> str:
        """"责任人：（空）→ 马建军"; on the row that created the item, just "标题：配电房门锁损坏"."""
        if created and not self.old:
            return f"{self.label}：{self.new}"
        # （空） carries its own space on the right: "（空）→ 马建军", "张海峰 → 马建军".
        before = f"{EMPTY}→" if not self.old else f"{self.old} →"
        return f"{self.label}：{before} {self.new or EMPTY}"


@dataclass
class Entry:
    """One ledger row as people read it."""

    seq: int
    at: str  # to the minute, in the site's zone
    actor: str
    title: str  # the event's title
    from_title: str
    to_title: str
    moved: str  # "已上报 → 已交办", "已上报" (created), "" (no change of state)
    note: str
    changes: list[Change] = field(default_factory=list)
    created: bool = False

    def change_lines(self) -> list[str]:
        return [c.line(self.created) for c in self.changes]


def changes_of(entry: LedgerEntry, tz: tzinfo) -> list[Change]:
    """A ledger row's changes in words, in the row's order; a pair not [old, new] or with
    both sides empty is left out."""
    shown = []
    for key, pair in entry.changes.items():
        if not isinstance(pair, list | tuple) or len(pair) != 2:
            continue
        old, new = value_text(key, pair[0], tz), value_text(key, pair[1], tz)
        if old or new:
            shown.append(Change(change_title(key), old, new))
    return shown


def history(entries: Iterable[LedgerEntry], workflows: Mapping[str, Any], workflow: str, tz: tzinfo) -> list[Entry]:
    """An item's ledger as people read it (`rectify show`, the web's timeline, the 台账's
    历史记录 sheet)."""
    wf = workflows.get(workflow)
    states = wf.states if wf is not None else {}

    def title(state: str | None) -> str:
        if state is None:
            return ""
        return str(states[state].title) if state in states else state

    shown = []
    for e in entries:
        before, after = title(e.from_state), title(e.to_state)
        moved = after if not before else (f"{before} → {after}" if before != after else "")
        shown.append(Entry(e.seq, local_minute(e.at, tz), e.actor, event_title(workflows, workflow, e.event),
                           before, after, moved, e.note or "", changes_of(e, tz), e.from_state is None))
    return shown
