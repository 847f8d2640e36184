"""The 台账 as people read it: one row per item with its derived facts (state, days
overdue, the escalation reached), and per-unit totals. The export writes these rows;
its columns are named so that `rectify import` reads the same file back.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from engine.model import KINDS, Item
from engine.plan import Plan
from engine.workflow import Workflows

# (header, how to get the value). Headers in IMPORTABLE are read back by `rectify import`;
# the others are derived and ignored on import.
LEDGER_COLUMNS = (
    "台账编号", "来源编号", "事项类型", "标题", "类别", "等级", "责任单位", "配合单位", "责任人",
    "位置", "发现时间", "报告人", "整改时限", "截止日期", "状态", "逾期天数", "当前督办",
    "整改措施", "防控措施", "专人盯防", "整改资金", "描述", "整治项目", "整治要求", "清单序号",
    "验收人", "销号时间",
)
HISTORY_COLUMNS = ("台账编号", "标题", "序号", "事件", "原状态", "新状态", "操作人", "时间", "备注", "变更内容")
SUMMARY_COLUMNS = ("责任单位", "发现", "已销号", "未销号", "逾期", "整改率")


@dataclass(frozen=True)
class Escalation:
    action: str
    index: int  # position on the rule's ladder
    at: datetime


def escalation_at(plan: Plan, at: datetime) -> Escalation | None:
    """The highest escalation rung the item had reached at `at` (a lower rung that
    repeats afterwards does not bring it down), with when it was last sent."""
    reached = plan.reached(at)
    latest = reached[-1] if reached else None
    return Escalation(latest.action, latest.index, latest.at) if latest else None


def days_overdue(plan: Plan, at: datetime) -> int:
    """Whole days past the deadline at `at` (0 when not overdue)."""
    if plan.overdue_at is None or plan.overdue_at > at:
        return 0
    due = plan.due or plan.overdue_at.date()
    return max(1, (at.astimezone(plan.tz).date() - due).days)


def ledger_row(item: Item, plan: Plan, workflows: Workflows, at: datetime, finals: frozenset[str]) -> list[Any]:
    """One 台账 row, in LEDGER_COLUMNS order; datetimes naive in the site's zone (Excel has none)."""
    tz = plan.tz
    wf = workflows.get(item.workflow)
    state = wf.states[item.state].title if wf and item.state in wf.states else item.state
    closed = item.state in finals
    escalation = None if closed else escalation_at(plan, at)
    f = item.fields
    return [
        item.id, item.origin or "", KINDS.get(item.kind, item.kind), item.title, item.category or "",
        item.level, item.unit or "", f.get("co_units") or "", item.responsible or "", item.location or "",
        _naive(item.found_at, tz), item.reporter or "", item.deadline or "", plan.due or _basis_due(item),
        state, 0 if closed else days_overdue(plan, at), escalation.action if escalation else "",
        f.get("measures") or "", f.get("interim_controls") or "", f.get("watcher") or "", f.get("funds") or "",
        f.get("description") or "", f.get("project") or "", f.get("requirement") or "", f.get("list_no") or "",
        f.get("verifier") or "", _naive(_instant(f.get("closed_at")), tz),
    ]


def _basis_due(item: Item) -> date | str:
    return item.due or ""


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


@dataclass
class UnitTotal:
    unit: str
    found: int = 0
    closed: int = 0
    overdue: int = 0

    @property
    def open(self) -> int:
        return self.found - self.closed

    @property
    def rate(self) -> float | None:
        return self.closed / self.found if self.found else None


def unit_totals(rows: Iterable[tuple[Item, bool, bool]], unit_order: Iterable[str]) -> list[UnitTotal]:
    """(item, closed, overdue) → totals per unit, in org.yaml order, units without items left out."""
    totals: dict[str, UnitTotal] = {}
    for item, closed, overdue in rows:
        name = item.unit or "（未指定）"
        total = totals.setdefault(name, UnitTotal(name))
        total.found += 1
        total.closed += closed
        total.overdue += overdue and not closed
    order = {name: i for i, name in enumerate(unit_order)}
    return sorted(totals.values(), key=lambda t: (order.get(t.unit, len(order)), t.unit))
