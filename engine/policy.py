"""Policy from rule files (rules/*.yaml): which rule an item falls under, when it is due,
who is reminded, and how an overdue item climbs the organisation.

Files are read and validated together; any problem in any file means nothing is
loaded and every problem is reported with its file and line. A loaded Policy carries
a version (hash of the files' content) so items remember which policy planned them.
"""

from __future__ import annotations

import difflib
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from engine import yamlfile
from engine.deadline.dates import FIRST_YEAR, LAST_YEAR
from engine.errors import ConfigError, DeadlineError, Problem, UnknownCategory
from engine.validate import check

ACTIONS = ("提醒", "通报", "约谈", "挂牌督办", "问责")
RECIPIENT_ROLES = {
    "responsible": "整改责任人",
    "watcher": "专人盯防人员",
    "unit_head": "责任单位负责人",
    "leader": "分管校领导",
    "principal": "校长",
    "safety_office": "综治办",
    "higher_authority": "上级教育部门",
}
DEFAULT_CATEGORIES = (
    "消防", "食品安全", "实验室及危化品", "治安防控", "校车及交通", "传染病防控", "建筑与施工",
    "实习实训", "燃气", "特种设备", "防溺水", "心理健康", "安全教育", "其他",
)
MATCH_KEYS = ("kind", "category", "level", "unit", "phase", "tags")

# Who may answer an extension request (延期申请): roles held on the item (engine.access)
# that a digest can also reach (engine.recipients).
EXTENSION_APPROVERS = {
    "safety_office": "综治办",
    "unit_head": "责任单位负责人",
    "leader": "分管校领导",
    "principal": "校长",
}
_EXTENSION = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "approvers": {"type": "array", "minItems": 1, "items": {"enum": sorted(EXTENSION_APPROVERS)}},
        "max_count": {"type": "integer", "minimum": 0},
        "max_days": {"type": "integer", "minimum": 1},
    },
}
_STRINGS = {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}, "minItems": 1}]}
_ROLES = {"type": "array", "minItems": 1, "items": {"enum": sorted(RECIPIENT_ROLES)}}
_STEP = {
    "type": "object",
    "required": ["after", "action", "notify"],
    "additionalProperties": False,
    "properties": {
        "after": {"type": "string"},
        "action": {"enum": list(ACTIONS)},
        "notify": _ROLES,
        "repeat": {"type": "string"},
        "note": {"type": "string"},
    },
}
_LADDER = {"type": "array", "minItems": 1, "items": _STEP}
_RULE = {
    "type": "object",
    "required": ["name", "match"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "minLength": 1},
        "description": {"type": "string"},
        "match": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "kind": {"anyOf": [{"enum": ["hazard", "task"]}, {"type": "array", "items": {"enum": ["hazard", "task"]}}]},
                "category": _STRINGS, "level": _STRINGS, "unit": _STRINGS, "phase": _STRINGS, "tags": _STRINGS,
            },
        },
        "priority": {"type": "integer"},
        "deadline": {
            "type": "object",
            "required": ["expr"],
            "additionalProperties": False,
            "properties": {"expr": {"type": "string"}, "from": {"type": "string"}},
        },
        "remind": {"type": "array", "items": {"type": "string"}},
        "escalate": {"anyOf": [{"type": "string"}, _LADDER]},
        "pause_in": {"type": "array", "items": {"type": "string"}},
        "extension": _EXTENSION,
    },
}
_PHASE = {
    "type": "object",
    "required": ["name", "window"],
    "additionalProperties": False,
    "properties": {"name": {"type": "string"}, "window": {"type": "string"}, "description": {"type": "string"}},
}
_OBLIGATION = {
    "type": "object",
    "required": ["name", "every", "units"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string"},
        "title": {"type": "string"},
        "every": {"type": "string"},
        "units": {"anyOf": [{"const": "all"}, {"type": "array", "items": {"type": "string"}, "minItems": 1}]},
        "report_to": {"type": "array", "items": {"type": "string"}},
        "phase": _STRINGS,
        "campaign": {"type": "string"},
        "from": {"type": "string"},
        "until": {"type": "string"},
    },
}
# What a 责任单位 cell means when it names no single unit ("…及相关部门").
UNIT_PHRASE_MEANINGS = {
    "all": "全部单位",
    "offices": "全部职能处室",
    "colleges": "全部二级学院",
    "safety_office": "综治办（牵头协调）",
    "none": "不指向任何单位（仅为说明）",
}
REPORT_PERIODS = {"quarter": "季度", "half": "半年", "month": "月", "year": "年"}
REPORT_RECIPIENTS = ("safety_office", "principal", "leader", "higher_authority")
_UNIT_PHRASE = {
    "type": "object",
    "required": ["phrase", "means"],
    "additionalProperties": False,
    "properties": {"phrase": {"type": "string", "minLength": 1},
                   "means": {"enum": list(UNIT_PHRASE_MEANINGS)}},
}
_REPORT = {
    "type": "object",
    "required": ["name", "period", "send_to"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "minLength": 1},
        "title": {"type": "string"},
        "period": {"enum": list(REPORT_PERIODS)},
        "send_to": {"type": "array", "minItems": 1, "items": {"enum": list(REPORT_RECIPIENTS)}},
        "campaign": {"type": "string"},
        "phase": _STRINGS,
    },
}
SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "$schema": {"type": "string"},
        "categories": {"type": "array", "items": {"type": "string"}, "minItems": 1},
        "ladders": {"type": "object", "additionalProperties": _LADDER},
        "rules": {"type": "array", "items": _RULE},
        "campaigns": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name", "phases"],
                "additionalProperties": False,
                "properties": {
                    "name": {"type": "string"},
                    "reference": {"type": "string"},
                    "phases": {"type": "array", "minItems": 1, "items": _PHASE},
                },
            },
        },
        "obligations": {"type": "array", "items": _OBLIGATION},
        "unit_phrases": {"type": "array", "items": _UNIT_PHRASE},
        "reports": {"type": "array", "items": _REPORT},
        "extension": _EXTENSION,
    },
}


@dataclass(frozen=True)
class Where:
    file: str
    line: int | None

    def problem(self, message: str) -> Problem:
        return Problem(self.file, self.line, message)


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


def _strings(value: Any) -> frozenset[str]:
    return frozenset([value] if isinstance(value, str) else value)


class _Builder:
    """Collects everything from all files, then cross-checks; problems pile up, never stop early."""

    def __init__(self, directory: Path, validate_expr: Any, validate_offset: Any) -> None:
        self.directory = directory
        self.problems: list[Problem] = []
        self.categories: list[str] = []
        self.ladders: dict[str, tuple[tuple[LadderStep, ...], Where]] = {}
        self.raw_rules: list[tuple[Any, Where]] = []
        self.campaigns: list[Campaign] = []
        self.obligations: list[Obligation] = []
        self.unit_phrases: list[UnitPhrase] = []
        self.reports: list[StageReportSpec] = []
        self.extension: tuple[ExtensionRules, Where] | None = None
        self.validate_expr = validate_expr
        self.validate_offset = validate_offset

    def add_file(self, name: str, text: str) -> None:
        filename = str(self.directory / name)
        try:
            data = yamlfile.loads(text, filename)
        except ConfigError as exc:
            self.problems += exc.problems
            return
        if data is None:
            return
        schema_problems = check(data, SCHEMA, filename)
        if schema_problems:
            self.problems += schema_problems
            return
        self.categories += list(data.get("categories", []))
        for ladder_name, steps in data.get("ladders", {}).items():
            where = Where(filename, data["ladders"].line_of(ladder_name))
            if ladder_name in self.ladders:
                self.problems.append(where.problem(f"升级阶梯“{ladder_name}”重复定义"))
            self.ladders[ladder_name] = (self._ladder(steps, filename), where)
        for i, rule in enumerate(data.get("rules", [])):
            self.raw_rules.append((rule, Where(filename, data["rules"].line_of(i))))
        for i, campaign in enumerate(data.get("campaigns", [])):
            self._campaign(campaign, Where(filename, data["campaigns"].line_of(i)))
        for i, ob in enumerate(data.get("obligations", [])):
            self._obligation(ob, Where(filename, data["obligations"].line_of(i)))
        for i, p in enumerate(data.get("unit_phrases", [])):
            where = Where(filename, data["unit_phrases"].line_of(i))
            if any(u.phrase == p["phrase"] for u in self.unit_phrases):
                self.problems.append(where.problem(f"单位说法“{p['phrase']}”重复定义"))
            self.unit_phrases.append(UnitPhrase(p["phrase"].strip(), p["means"]))
        if "extension" in data:
            self._extension(data["extension"], Where(filename, data.line_of("extension")))
        for i, r in enumerate(data.get("reports", [])):
            where = Where(filename, data["reports"].line_of(i))
            if any(x.name == r["name"] for x in self.reports):
                self.problems.append(where.problem(f"阶段报告“{r['name']}”重复定义"))
            self.reports.append(StageReportSpec(
                r["name"], r.get("title", r["name"]), r["period"], tuple(dict.fromkeys(r["send_to"])),
                r.get("campaign"), _strings(r["phase"]) if r.get("phase") else frozenset(), where))

    def _extension(self, data: Any, where: Where) -> None:
        if self.extension is not None:
            first = self.extension[1]
            self.problems.append(where.problem(f"全校延期规则 extension 重复定义（另见 {first.file}:{first.line}）"))
            return
        self.extension = (ExtensionRules().merged(data), where)

    def _ladder(self, steps: Any, filename: str) -> tuple[LadderStep, ...]:
        result = []
        previous = None
        for i, s in enumerate(steps):
            where = Where(filename, steps.line_of(i))
            offset = self._offset(s["after"], where, "after")
            if s.get("repeat"):
                self._offset(s["repeat"], where, "repeat")
            if offset is not None and previous is not None and offset < previous:
                self.problems.append(where.problem(f"升级步骤“{s['action']}”的时间“{s['after']}”早于上一步，阶梯不能倒退"))
            previous = offset if offset is not None else previous
            result.append(LadderStep(s["after"], s["action"], tuple(s["notify"]), s.get("repeat")))
        return tuple(result)

    def _offset(self, text: str, where: Where, key: str) -> Any:
        try:
            return self.validate_offset(text)
        except DeadlineError as exc:
            self.problems.append(where.problem(f"{key}“{text}”无法识别：{exc.reason}"))
            return None

    def _campaign(self, data: Any, where: Where) -> None:
        phases = []
        reference = None
        if data.get("reference"):
            reference = self._date(data["reference"], where)
        for i, p in enumerate(data["phases"]):
            pwhere = Where(where.file, data["phases"].line_of(i))
            window = self._window(p["window"], pwhere, reference)
            if window:
                phases.append(Phase(p["name"], *window))
        ordered = sorted(phases, key=lambda p: p.start)
        for a, b in zip(ordered, ordered[1:], strict=False):
            if b.start <= a.end:
                self.problems.append(where.problem(f"专项行动“{data['name']}”的阶段“{a.name}”与“{b.name}”时间重叠"))
        self.campaigns.append(Campaign(data["name"], reference, tuple(phases)))

    def _date(self, text: str, where: Where) -> date | None:
        try:
            day = date.fromisoformat(text)
        except ValueError:
            self.problems.append(where.problem(f"日期“{text}”应写成 YYYY-MM-DD"))
            return None
        if not FIRST_YEAR <= day.year <= LAST_YEAR:
            self.problems.append(where.problem(f"日期“{text}”超出可以计算的日期范围（{FIRST_YEAR}年至{LAST_YEAR}年）"))
            return None
        return day

    def _window(self, text: str, where: Where, reference: date | None) -> tuple[date, date] | None:
        try:
            return self.validate_expr(text, reference, window=True)  # type: ignore[no-any-return]
        except DeadlineError as exc:
            self.problems.append(where.problem(f"阶段时间“{text}”无法识别：{exc.reason}"))
            return None

    def _obligation(self, data: Any, where: Where) -> None:
        try:
            self.validate_expr(data["every"], None, recurring=True)
        except DeadlineError as exc:
            self.problems.append(where.problem(f"报送周期“{data['every']}”无法识别：{exc.reason}"))
        units = None if data["units"] == "all" else tuple(data["units"])
        self.obligations.append(Obligation(
            data["name"], data.get("title", data["name"]), data["every"], units,
            tuple(data.get("report_to", ["safety_office"])),
            _strings(data["phase"]) if data.get("phase") else frozenset(), data.get("campaign"), where,
        ))

    def rules(self) -> list[Rule]:
        result = []
        for data, where in self.raw_rules:
            rule = self._rule(data, where)
            if rule:
                result.append(rule)
        self._check_rule_set(result)
        return result

    def _rule(self, data: Any, where: Where) -> Rule | None:
        conditions = tuple((k, _strings(data["match"][k])) for k in MATCH_KEYS if k in data["match"])
        for key, values in conditions:
            if key == "category":
                for v in sorted(values - set(self.categories)):
                    self.problems.append(where.problem(f"规则“{data['name']}”匹配的类别“{v}”不在 categories 中"))
        ladder: tuple[LadderStep, ...] = ()
        escalate = data.get("escalate")
        if isinstance(escalate, str):
            if escalate not in self.ladders:
                known = "、".join(self.ladders) or "无"
                self.problems.append(where.problem(f"规则“{data['name']}”引用的升级阶梯“{escalate}”未定义（已定义：{known}）"))
            else:
                ladder = self.ladders[escalate][0]
        elif escalate:
            ladder = self._ladder(escalate, where.file)
        deadline = data.get("deadline")
        if deadline:
            try:
                self.validate_expr(deadline["expr"], None)
            except DeadlineError as exc:
                self.problems.append(where.problem(f"规则“{data['name']}”的期限“{deadline['expr']}”无法识别：{exc.reason}"))
            base = deadline.get("from", "found")
            if base not in ("found", "assigned"):
                self._date(base, where)
        for text in data.get("remind", []):
            if not text.endswith("%"):
                self._offset(text, where, "remind")
            elif not _fraction(text):
                self.problems.append(where.problem(f"提醒“{text}”应为 1% 到 99% 之间的百分比"))
        return Rule(
            name=data["name"], where=where, match=Match(conditions), priority=data.get("priority", 0),
            deadline=deadline["expr"] if deadline else None,
            deadline_from=deadline.get("from", "found") if deadline else "found",
            remind=tuple(data.get("remind", [])), escalate=ladder,
            pause_in=frozenset(data.get("pause_in", [])),
            extension=tuple(sorted((k, tuple(v) if isinstance(v, list) else v)
                                   for k, v in data.get("extension", {}).items())),
        )

    def _check_rule_set(self, rules: list[Rule]) -> None:
        seen: dict[str, Rule] = {}
        for rule in rules:
            if rule.name in seen:
                self.problems.append(rule.where.problem(f"规则名“{rule.name}”重复（另见 {seen[rule.name].where.file}:{seen[rule.name].where.line}）"))
            seen[rule.name] = rule
        for i, a in enumerate(rules):
            for b in rules[i + 1:]:
                if (a.match.specificity, a.priority) == (b.match.specificity, b.priority) and a.match.overlaps(b.match):
                    self.problems.append(b.where.problem(
                        f"规则“{b.name}”与“{a.name}”（{a.where.file}:{a.where.line}）可能匹配同一事项，"
                        f"具体程度和优先级（priority={a.priority}）都相同，无法判断哪条生效；请调整 match 或 priority"))


def _fraction(text: str) -> float | None:
    try:
        value = float(text.rstrip("%")) / 100
    except ValueError:
        return None
    return value if 0 < value < 1 else None


def fraction(text: str) -> float | None:
    """'75%' → 0.75; anything else → None."""
    return _fraction(text) if text.endswith("%") else None


def unit_problems(policy: Policy, units: Mapping[str, str]) -> list[Problem]:
    """Unit names in the rules that org.yaml does not know (`units`: every unit name and
    alias, with its unit's name). A rule's match.unit must be the unit's own name, since
    items carry that name: a rule written with an alias would silently never match."""
    problems = []

    def unknown(name: str) -> str:
        close = difflib.get_close_matches(name, list(units), 3, 0.5)
        return f"单位“{name}”不在 org.yaml 中" + (f"（是否指：{'、'.join(close)}）" if close else "")

    for rule in policy.rules:
        for key, values in rule.match.conditions:
            for name in sorted(values) if key == "unit" else ():
                if name not in units:
                    problems.append(rule.where.problem(f"规则“{rule.name}”匹配的{unknown(name)}"))
                elif units[name] != name:
                    problems.append(rule.where.problem(
                        f"规则“{rule.name}”匹配的单位“{name}”是“{units[name]}”的别名；事项记录的是单位名称，"
                        f"请写“{units[name]}”，否则此规则不会匹配任何事项"))
    for ob in policy.obligations:
        for name in ob.units or ():
            if name not in units:
                problems.append(ob.where.problem(f"报送义务“{ob.name}”的{unknown(name)}"))
    return problems


def build(directory: Path, sources: dict[str, str], loaded_at: datetime,
          validate_expr: Any, validate_offset: Any, known_states: Iterable[str] = ()) -> Policy:
    builder = _Builder(directory, validate_expr, validate_offset)
    for name, text in sorted(sources.items()):
        builder.add_file(name, text)
    if not builder.categories:
        builder.categories = list(DEFAULT_CATEGORIES)
    rules = builder.rules()
    states = set(known_states)
    if states:
        for rule in rules:
            for s in sorted(rule.pause_in - states):
                builder.problems.append(rule.where.problem(f"规则“{rule.name}”的 pause_in 状态“{s}”在流程中不存在"))
    campaign_names = {c.name for c in builder.campaigns}
    for spec in builder.reports:
        if spec.campaign and spec.campaign not in campaign_names:
            builder.problems.append(spec.where.problem(f"阶段报告“{spec.name}”的专项行动“{spec.campaign}”未定义"))
    if builder.problems:
        raise ConfigError(builder.problems)
    return Policy(version_of(sources), loaded_at, tuple(dict.fromkeys(builder.categories)), tuple(rules),
                  tuple(builder.campaigns), tuple(builder.obligations), dict(sources),
                  tuple(builder.unit_phrases), tuple(builder.reports),
                  builder.extension[0] if builder.extension else ExtensionRules())


def schema_document() -> dict[str, Any]:
    """The JSON Schema shipped as rules/rule.schema.json, for editors to complete and check."""
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "title": "rectify 规则文件", **SCHEMA}


def check_category(policy: Policy, kind: str, category: str) -> None:
    """A hazard's category is one the rules list, as `import` requires; a task's is free
    (a task list names its own kinds of work)."""
    if kind == "hazard" and category and category not in policy.categories:
        raise UnknownCategory(category, policy.categories)
