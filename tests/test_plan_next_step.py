"""Plan.next_step, the scheduler's question for every open item, is the first step that
Plan.steps lists after the same instant: for every shipped rule, every level and kind,
from before the first reminder to long after the last rung first fell due, at and just
after each step's own instant (ties between a reminder and an escalation included)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.resources import shipped
from adapters.sitefiles import load_rules
from engine.model import Item
from engine.plan import Plan, plan_item
from engine.policy import Policy
from engine.workcal import DEFAULT_CALENDAR
from tests.conftest import START
from tests.examples import examples

SHANGHAI_ZONE = "Asia/Shanghai"
POLICY: Policy = load_rules(shipped("rules"), START, calendar=DEFAULT_CALENDAR)
FAR = timedelta(days=800)
KINDS = [("hazard", "hazard", "一般", None), ("hazard", "hazard", "重大", None), ("task", "task", "一般", "20个工作日内")]


def _plan(kind: str, workflow: str, level: str, deadline: str | None, found: datetime, category: str = "消防") -> Plan:
    from zoneinfo import ZoneInfo

    item = Item(id=1, kind=kind, workflow=workflow, state="rectifying", title="楼道灯不亮", found_at=found,
                category=category, level=level, unit="保卫处", assigned_at=found, entered_at=found, deadline=deadline)
    return plan_item(item, POLICY, final_states=frozenset({"closed"}), tz=ZoneInfo(SHANGHAI_ZONE))


def _first_listed(plan: Plan, after: datetime | None) -> object:
    start = after or START - FAR
    return next(iter(plan.steps(after, start + FAR)), None)


def test_every_shipped_rule_has_a_ladder_to_compare() -> None:
    plans = [_plan(*k, START) for k in KINDS]
    assert all(p.rule is not None and p.rule.escalate and p.overdue_at is not None for p in plans)


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: f"{k[0]}-{k[2]}")
def test_at_and_just_after_each_step_the_next_is_the_one_listed(kind: tuple[str, str, str, str | None]) -> None:
    plan = _plan(*kind, START)
    listed = list(plan.steps(None, START + FAR))
    assert plan.next_step(None) == listed[0]
    for step in listed[:60]:
        for after in (step.at - timedelta(microseconds=1), step.at, step.at + timedelta(seconds=1)):
            assert plan.next_step(after) == _first_listed(plan, after), (step, after)


@settings(max_examples=examples(300), deadline=None)
@given(kind=st.sampled_from(KINDS), category=st.sampled_from(["消防", "燃气", "食品安全", "校舍"]),
       found_days=st.integers(0, 400), after_hours=st.integers(-24 * 120, 24 * 600))
def test_the_next_step_is_the_first_listed_after_any_instant(
    kind: tuple[str, str, str, str | None], category: str, found_days: int, after_hours: int
) -> None:
    found = START + timedelta(days=found_days)
    plan = _plan(*kind, found, category)
    after = found + timedelta(hours=after_hours)
    assert plan.next_step(after) == _first_listed(plan, after)
