"""How one recipient's notices become the entries of one digest, whatever the channel.

A digest has ONE entry per item: the rung the item reached (its headline notice) and
every step of it that fell due since the last digest (`Notice.steps`), repetitions of a
repeating rung merged into one line ("共到期 3 次"). The subject's counts are the
entries' counts. A reminder whose deadline has passed by the time it is delivered (it
waited for office hours, or no daemon ran) is not sent as a reminder: when the digest
carries an escalation of the item, that is the headline and the reminder's line says it
came too late; when it carries none (the ladder's first rung is later, or the rule has
no ladder), the entry's headline says the item is overdue (`step_kind` "overdue")
without claiming any rung of the ladder was reached.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from engine.notices import Notice, StepLine

OVERDUE_ACTION = "已逾期"


def entries(notices: list[Notice], keys: list[str], at: datetime) -> tuple[Notice, ...]:
    """One notice per item for one recipient (`keys`: each notice's step key, e.g.
    "escalate1.2"), delivered at `at`; in time order of their headlines."""
    by_item: dict[int, list[tuple[Notice, str]]] = {}
    for notice, key in zip(notices, keys, strict=True):
        by_item.setdefault(notice.item_id, []).append((notice, key))
    found = [_entry(group, at) for group in by_item.values()]
    return tuple(sorted(found, key=lambda n: (n.at, n.item_id)))


def _merged(group: list[tuple[Notice, str]]) -> list[Notice]:
    """The item's steps with the repetitions of each rung merged into their latest."""
    rungs: dict[str, list[Notice]] = {}
    for notice, key in sorted(group, key=lambda e: e[0].at):
        rungs.setdefault(key.split(".")[0], []).append(notice)
    merged = [same[-1] if len(same) == 1 else replace(same[-1], repeats=len(same), first_at=same[0].at)
              for same in rungs.values()]
    return sorted(merged, key=lambda n: n.at)


def _entry(group: list[tuple[Notice, str]], at: datetime) -> Notice:
    merged = _merged(group)
    overdue_at = merged[-1].overdue_at
    overdue = overdue_at is not None and overdue_at <= at
    lines = tuple(StepLine(n.step_kind, n.action, n.step_label, n.at, n.late, n.repeats, n.first_at,
                           expired=overdue and n.step_kind == "remind") for n in merged)
    escalations = [n for n in merged if n.step_kind == "escalate"]
    reminders = [n for n in merged if n.step_kind == "remind"]
    others = [n for n in merged if n.step_kind not in ("escalate", "remind")]
    if escalations:
        head = escalations[-1]
    elif overdue and reminders:
        assert overdue_at is not None
        head = replace(reminders[-1], step_kind="overdue", action=OVERDUE_ACTION,
                       days_overdue=max(0, (at - overdue_at).days))
    else:
        head = (others or merged)[-1]
    return replace(head, steps=lines)
