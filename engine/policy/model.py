"""The policy as data: rules (what they match, the deadline, reminders, the escalation
ladder), campaigns and their phases, obligations, unit phrases and stage reports, and
the choice of the rule an item falls under."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from engine.errors import Problem, UnknownCategory

MATCH_KEYS = ("kind", "category", "level", "unit", "phase", "tags")


@dataclass(frozen=True)
class Where:
    file: str
    line: int | None

    def problem(self, message: str) -> Problem:
        return Problem(self.file, self.line, message)


def value_lines(node: Any, *keys: str) -> tuple[tuple[str, int], ...]:
    """("key:value", line) for each value under each of `keys` of a file's mapping (a value
    or a list of values), so that a problem found after building names its line."""
    lines = []
    for key in keys:
        value = node.get(key) if isinstance(node, dict) else None
        if isinstance(value, list):
            lines += [(f"{key}:{v}", node[key].line_of(i)) for i, v in enumerate(value) if hasattr(node[key], "line_of")]
        elif value is not None and hasattr(node, "line_of"):
            lines.append((f"{key}:{value}", node.line_of(key)))
    return tuple(lines)


def where_of(where: Where, lines: tuple[tuple[str, int], ...], key: str, value: object) -> Where:
    """The Where of one value (`value_lines`), else of the entry it belongs to."""
    wanted = f"{key}:{value}"
    return next((Where(where.file, line) for k, line in lines if k == wanted), where)


@dataclass(frozen=True)
class Match:
    """What a rule applies to; a key left out matches anything."""

    conditions: tuple[tuple[str, frozenset[str]], ...] = ()

    @property
    def specificity(self) -> int:
        return len(self.conditions)

    def matches(self, facts: dict[str, Any]) -> bool:
        for key, allowed in self.conditions:
            value = facts.get(key)
            if key == "tags":
                if not allowed & set(value or ()):
                    return False
            elif value not in allowed:
                return False
        return True

    def overlaps(self, other: Match) -> bool:
        """Whether some item could match both."""
        mine, theirs = dict(self.conditions), dict(other.conditions)
        return all(mine[k] & theirs[k] for k in mine.keys() & theirs.keys() if k != "tags")

    def describe(self) -> str:
        if not self.conditions:
            return "所有事项"
        return "，".join(f"{k}={'/'.join(sorted(v))}" for k, v in self.conditions)


@dataclass(frozen=True)
class LadderStep:
    after: str
    action: str
    notify: tuple[str, ...]
    repeat: str | None = None
    urgent: bool = False  # delivered at once, outside office hours too


@dataclass(frozen=True)
class ExtensionRules:
    """How an item's deadline may be extended on request (延期申请): who answers, how many
    extensions it may have, and by how many calendar days (自然日) at most each one moves
    the deadline."""

    approvers: tuple[str, ...] = ("safety_office",)
    max_count: int = 2
    max_days: int = 30

    def merged(self, overrides: Mapping[str, Any]) -> ExtensionRules:
        """These rules with the keys a rule file gives replaced."""
        return ExtensionRules(
            tuple(dict.fromkeys(overrides.get("approvers", self.approvers))),
            int(overrides.get("max_count", self.max_count)),
            int(overrides.get("max_days", self.max_days)))


@dataclass(frozen=True)
class Rule:
    name: str
    where: Where
    match: Match
    priority: int = 0
    deadline: str | None = None
    deadline_from: str = "found"  # found | assigned | an ISO date (e.g. a campaign date)
    remind: tuple[str, ...] = ()
    escalate: tuple[LadderStep, ...] = ()
    pause_in: frozenset[str] = frozenset()
    # The keys of the rule's own `extension` entry; the rest come from the site-wide one.
    extension: tuple[tuple[str, Any], ...] = ()
    # Every reminder and escalation of the rule is delivered at once, outside office hours too.
    urgent: bool = False
    # Where its values are written (value_lines), for problems found after building.
    lines: tuple[tuple[str, int], ...] = field(default=(), compare=False)

    def where_of(self, key: str, value: object) -> Where:
        return where_of(self.where, self.lines, key, value)


@dataclass(frozen=True)
class Phase:
    name: str
    start: date
    end: date


@dataclass(frozen=True)
class Campaign:
    name: str
    reference: date | None
    phases: tuple[Phase, ...]

    def phase_at(self, day: date) -> str | None:
        for phase in self.phases:
            if phase.start <= day <= phase.end:
                return phase.name
        return None


@dataclass(frozen=True)
class Obligation:
    name: str
    title: str
    every: str
    units: tuple[str, ...] | None  # None: every unit
    report_to: tuple[str, ...]
    phases: frozenset[str]
    campaign: str | None
    where: Where
    lines: tuple[tuple[str, int], ...] = field(default=(), compare=False)

    def where_of(self, key: str, value: object) -> Where:
        return where_of(self.where, self.lines, key, value)


@dataclass(frozen=True)
class UnitPhrase:
    phrase: str
    means: str  # a key of UNIT_PHRASE_MEANINGS


@dataclass(frozen=True)
class StageReportSpec:
    """A periodic stage report the daemon produces and sends at each period's end."""

    name: str
    title: str
    period: str  # quarter | half | month | year
    send_to: tuple[str, ...]
    campaign: str | None
    phases: frozenset[str]
    where: Where
    lines: tuple[tuple[str, int], ...] = field(default=(), compare=False)

    def where_of(self, key: str, value: object) -> Where:
        return where_of(self.where, self.lines, key, value)


@dataclass
class Policy:
    version: str
    loaded_at: datetime
    categories: tuple[str, ...]
    rules: tuple[Rule, ...]
    campaigns: tuple[Campaign, ...] = ()
    obligations: tuple[Obligation, ...] = ()
    sources: dict[str, str] = field(default_factory=dict)
    unit_phrases: tuple[UnitPhrase, ...] = ()
    reports: tuple[StageReportSpec, ...] = ()
    extension: ExtensionRules = ExtensionRules()

    def extension_for(self, rule_name: str | None) -> ExtensionRules:
        """The extension rules for items bound to this rule: its own keys over the site-wide default."""
        rule = self.rule_named(rule_name)
        return self.extension.merged(dict(rule.extension)) if rule and rule.extension else self.extension

    def campaign(self, name: str | None = None) -> Campaign | None:
        """The named campaign, or the only one when no name is given."""
        if name is None:
            return self.campaigns[0] if len(self.campaigns) == 1 else None
        return next((c for c in self.campaigns if c.name == name), None)

    def phase_at(self, day: date) -> str | None:
        for campaign in self.campaigns:
            name = campaign.phase_at(day)
            if name:
                return name
        return None

    def __post_init__(self) -> None:
        self._by_name = {rule.name: rule for rule in self.rules}
        self._chosen: dict[tuple[Any, ...], Rule | None] = {}

    def rule_named(self, name: str | None) -> Rule | None:
        return self._by_name.get(name) if name else None

    def rule_for(self, facts: dict[str, Any]) -> Rule | None:
        """The most specific matching rule; equal specificity is settled by priority
        (validation guarantees no remaining tie among overlapping rules). Items share a
        handful of fact combinations, so choices are remembered."""
        key = tuple(facts[k] for k in MATCH_KEYS)
        try:
            return self._chosen[key]
        except KeyError:
            pass
        if len(self._chosen) > 100_000:
            self._chosen.clear()
        chosen = self._chosen[key] = self._choose(facts)
        return chosen

    def _choose(self, facts: dict[str, Any]) -> Rule | None:
        best: Rule | None = None
        for rule in self.rules:
            if rule.match.matches(facts) and (
                best is None
                or (rule.match.specificity, rule.priority) > (best.match.specificity, best.priority)
            ):
                best = rule
        return best

    def why(self, facts: dict[str, Any]) -> list[tuple[Rule, bool]]:
        """Every rule with whether it matches, for `explain`."""
        return [(rule, rule.match.matches(facts)) for rule in self.rules]


def version_of(sources: dict[str, str]) -> str:
    digest = hashlib.sha256(json.dumps(sources, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
    return digest[:12]



def _fraction(text: str) -> float | None:
    try:
        value = float(text.rstrip("%")) / 100
    except ValueError:
        return None
    return value if 0 < value < 1 else None


def fraction(text: str) -> float | None:
    """'75%' → 0.75; anything else → None."""
    return _fraction(text) if text.endswith("%") else None



def check_category(policy: Policy, kind: str, category: str) -> None:
    """A hazard's category is one the rules list, as `import` requires; a task's is free
    (a task list names its own kinds of work)."""
    if kind == "hazard" and category and category not in policy.categories:
        raise UnknownCategory(category, policy.categories)

