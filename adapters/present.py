"""How an item's plan is shown, to people and to machines: what `rectify show`, `explain`
and the web workbench's item page say about its deadline and its coming steps."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from adapters.wiring import App
from engine.model import KINDS
from engine.notices import unknown_years
from engine.plan import Plan, Step, facts
from engine.recipients import resolve

HORIZON = timedelta(days=366)
MAX_SHOWN = 20


def recipients(step: Step, item: Any, app: App) -> list[str]:
    return [a.name for a in resolve(step.recipients, item, app.site.org)]


def plan_json(plan: Plan, item: Any, app: App, now: datetime) -> dict[str, Any]:
    """The plan fields `show --json` and `explain --json` add to an item."""
    tz = app.config.timezone
    ahead = []
    for step in plan.steps(now, now + HORIZON):
        ahead.append({**step.to_json(tz), "recipients": recipients(step, item, app)})
        if len(ahead) >= MAX_SHOWN:
            break
    return {
        "due": plan.due.isoformat() if plan.due else None,
        "overdue_at": plan.overdue_at.astimezone(tz).isoformat() if plan.overdue_at else None,
        "rule": plan.rule.name if plan.rule else None,
        "policy_version": plan.policy_version,
        "paused": plan.paused,
        "provisional": plan.provisional,
        "provisional_note": _provisional_note(plan, item, app),
        "ongoing": plan.ongoing,
        "plan_note": plan.note,
        "plan": ahead,
    }


def _provisional_note(plan: Plan, item: Any, app: App) -> str:
    """Why the deadline is provisional: each year it reaches whose arrangement is unknown,
    and where to add it (empty when it is exact)."""
    if not plan.provisional:
        return ""
    calendar = app.service.calendar
    years = unknown_years(item.started_at, plan.due, calendar, app.config.timezone)
    return "；".join(calendar.provisional_warning(y) for y in years) or "期限跨入节假日安排尚未公布的年份，结果为暂定"


def explain_json(app: App, item: Any, now: datetime) -> dict[str, Any]:
    """What `rectify explain` says: the item's facts, every rule that could apply and
    whether it matches, the deadline and where it comes from, and the plan."""
    tz = app.config.timezone
    plan = app.plan_for(item)
    bound = app.service.policies.get(item.policy_version)  # the version the item is bound to
    item_facts = facts(item, bound, tz)
    candidates = [
        {"rule": r.name, "file": f"{Path(r.where.file).name}:{r.where.line}", "matches": ok,
         "specificity": r.match.specificity, "priority": r.priority, "match": r.match.describe()}
        for r, ok in bound.why(item_facts)
    ]
    data = {"id": item.id, "facts": {k: v for k, v in item_facts.items() if v not in (None, ())},
            "candidates": candidates, **plan_json(plan, item, app, now)}
    data["paused_since"] = (item.entered_at.astimezone(tz).isoformat()
                            if plan.paused and item.entered_at else None)
    data["paused_state"] = app.site.workflows.state_title(item.workflow, item.state) if plan.paused else None
    data["deadline_expr"] = item.deadline or (plan.rule.deadline if plan.rule else None)
    data["deadline_source"] = "事项自带" if item.deadline else ("规则" if plan.rule else None)
    data["current_policy_version"] = app.site.rules.version
    return data


# What rules match on (engine.plan.facts, a rule's `match`), as people read it.
MATCH_TITLES = {"kind": "类型", "category": "类别", "level": "等级", "unit": "责任单位", "phase": "阶段",
                "tags": "标签"}


def _fact_value(key: str, value: Any) -> str:
    if isinstance(value, list | tuple | set | frozenset):
        return "、".join(sorted(str(v) for v in value))
    if key == "kind":
        return KINDS.get(str(value), str(value))
    return str(value)


def facts_text(item_facts: dict[str, Any]) -> str:
    """An item's facts as `explain` prints them: 类型：隐患，类别：用电，等级：一般."""
    shown = [f"{MATCH_TITLES.get(k, k)}：{_fact_value(k, v)}" for k, v in item_facts.items()
             if v not in (None, "", ())]
    return "，".join(shown) or "（无）"


def conditions_text(conditions: tuple[tuple[str, frozenset[str]], ...]) -> str:
    """A rule's `match` as people read it: 类型=隐患，等级=重大."""
    if not conditions:
        return "所有事项"
    return "，".join(f"{MATCH_TITLES.get(k, '其他条件')}={'/'.join(sorted(KINDS.get(v, v) for v in vs))}"
                     for k, vs in conditions)
