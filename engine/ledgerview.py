"""The 台账 as people read it: one row per item with its derived facts (state, days
overdue, the escalation reached), and per-unit totals. The export writes these rows;
its columns are named so that `rectify import` reads the same file back.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from engine.model import KINDS, Item
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
