"""Rebinding items in flight to another policy version: what it would change, for `policy diff`/`apply`
(not to be confused with the database schema migrations, adapters/migrations/)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from engine.model import Item
from engine.plan import Plan

# How many of the steps ahead are compared (and shown) for each item.
STEPS_COMPARED = 5
HORIZON = timedelta(days=3660)


@dataclass(frozen=True)
class PlanChange:
    """One item bound to an older version: its plan now, and under the new version."""

    item: Item
    old: Plan
    new: Plan
    changes: dict[str, tuple[Any, Any]]  # field → (old, new); empty when only the version moves

    @property
    def changed(self) -> bool:
        return bool(self.changes)


def _ahead(plan: Plan, after: datetime) -> tuple[tuple[datetime, str, str], ...]:
    steps = []
    for step in plan.steps(after, after + HORIZON):
        steps.append((step.at, step.kind, step.action))
        if len(steps) >= STEPS_COMPARED:
            break
    return tuple(steps)


def compare(item: Item, old: Plan, new: Plan, now: datetime) -> PlanChange:
    after = max(now, item.planned_until) if item.planned_until else now
    pairs = {
        "rule": (old.rule.name if old.rule else None, new.rule.name if new.rule else None),
        "due": (old.due, new.due),
        "overdue_at": (old.overdue_at, new.overdue_at),
        "paused": (old.paused, new.paused),
        "steps": (_ahead(old, after), _ahead(new, after)),
    }
    return PlanChange(item, old, new, {k: v for k, v in pairs.items() if v[0] != v[1]})


def in_flight(items: Iterable[Item], version: str, finals: Any) -> list[Item]:
    """Open items bound to any other version (or to none yet)."""
    return [i for i in items if i.policy_version != version and i.state not in finals(i.workflow)]
