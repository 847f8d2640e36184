"""Building a Policy from the rule files' texts: read and validate every file, collect
every problem with its file and line, cross-check, and refuse the whole set on any
problem; and the checks a rule file's deadline expressions and offsets go through."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, time
from functools import partial
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from engine import yamlfile
from engine.deadline import Kind, parse_deadline, parse_offset
from engine.deadline import events as event_words
from engine.deadline.dates import FIRST_YEAR, LAST_YEAR
from engine.deadline.school import NO_SITE
from engine.deadline.vague import unknown_event
from engine.errors import ConfigError, DeadlineError, Problem
from engine.org import role_name
from engine.policy.model import (
    MATCH_KEYS,
    Campaign,
    ExtensionRules,
    LadderStep,
    Match,
    Obligation,
    Phase,
    Policy,
    Rule,
    StageReportSpec,
    UnitPhrase,
    Where,
    fraction,
    value_lines,
    version_of,
    where_of,
)
from engine.policy.schema import DEFAULT_CATEGORIES, SCHEMA
from engine.validate import check, line_at
from engine.workcal import WorkCalendar

# The instant a rule file's expressions are checked from.
_REFERENCE = datetime(2021, 3, 1, tzinfo=ZoneInfo("Asia/Shanghai"))


def _strings(value: Any) -> frozenset[str]:
    return frozenset([value] if isinstance(value, str) else value)


def _roles_named(extension: Mapping[str, Any]) -> dict[str, Any]:
    """An extension entry with its approvers by role name (综治办 → safety_office)."""
    result = dict(extension)
    if "approvers" in result:
        result["approvers"] = [role_name(r) for r in result["approvers"]]
    return result


def _at(where: Where, node: Any, *path: Any) -> Where:
    """The Where of the value at `path` under `node` (a rule, a step, a phase), so that a
    problem names the line of the offending value, not of the entry holding it."""
    return Where(where.file, line_at(node, path) or where.line)


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
                r["name"], r.get("title", r["name"]), r["period"], tuple(dict.fromkeys(map(role_name, r["send_to"]))),
                r.get("campaign"), _strings(r["phase"]) if r.get("phase") else frozenset(), where,
                value_lines(r, "campaign")))

    def _extension(self, data: Any, where: Where) -> None:
        if self.extension is not None:
            first = self.extension[1]
            self.problems.append(where.problem(f"全校延期规则 extension 重复定义（另见 {first.file}:{first.line}）"))
            return
        self.extension = (ExtensionRules().merged(_roles_named(data)), where)

    def _ladder(self, steps: Any, filename: str) -> tuple[LadderStep, ...]:
        result = []
        previous = None
        for i, s in enumerate(steps):
            where = Where(filename, steps.line_of(i))
            offset = self._offset(s["after"], _at(where, s, "after"), "after")
            if s.get("repeat"):
                self._offset(s["repeat"], _at(where, s, "repeat"), "repeat")
            if offset is not None and previous is not None and offset < previous:
                self.problems.append(_at(where, s, "after").problem(
                    f"升级步骤“{s['action']}”的时间“{s['after']}”早于上一步，阶梯不能倒退"))
            previous = offset if offset is not None else previous
            result.append(LadderStep(s["after"], s["action"], tuple(map(role_name, s["notify"])), s.get("repeat"),
                                     bool(s.get("urgent", False))))
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
            reference = self._date(data["reference"], _at(where, data, "reference"))
        for i, p in enumerate(data["phases"]):
            pwhere = Where(where.file, data["phases"].line_of(i))
            window = self._window(p["window"], _at(pwhere, p, "window"), reference)
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
            self.problems.append(_at(where, data, "every").problem(f"报送周期“{data['every']}”无法识别：{exc.reason}"))
        units = None if data["units"] == "all" else tuple(data["units"])
        self.obligations.append(Obligation(
            data["name"], data.get("title", data["name"]), data["every"], units,
            tuple(map(role_name, data.get("report_to", ["safety_office"]))),
            _strings(data["phase"]) if data.get("phase") else frozenset(), data.get("campaign"), where,
            value_lines(data, "units"),
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
        match_lines = value_lines(data["match"], *MATCH_KEYS)
        for key, values in conditions:
            if key == "category":
                for v in sorted(values - set(self.categories)):
                    at = where_of(where, match_lines, "category", v)
                    self.problems.append(at.problem(f"规则“{data['name']}”匹配的类别“{v}”不在 categories 中"))
        deadline = data.get("deadline")
        if deadline:
            self._rule_deadline(data, where)
        for i, text in enumerate(data.get("remind", [])):
            at = _at(where, data, "remind", i)
            if not text.endswith("%"):
                self._offset(text, at, "remind")
            elif not fraction(text):
                self.problems.append(at.problem(f"提醒“{text}”应为 1% 到 99% 之间的百分比"))
        return Rule(
            name=data["name"], where=where, match=Match(conditions), priority=data.get("priority", 0),
            deadline=deadline["expr"] if deadline else None,
            deadline_from=deadline.get("from", "found") if deadline else "found",
            remind=tuple(data.get("remind", [])), escalate=self._rule_ladder(data, where),
            pause_in=frozenset(data.get("pause_in", [])),
            urgent=bool(data.get("urgent", False)),
            extension=tuple(sorted((k, tuple(v) if isinstance(v, list) else v)
                                   for k, v in _roles_named(data.get("extension", {})).items())),
            lines=match_lines + value_lines(data, "pause_in"),
        )

    def _rule_ladder(self, data: Any, where: Where) -> tuple[LadderStep, ...]:
        escalate = data.get("escalate")
        if isinstance(escalate, str):
            if escalate in self.ladders:
                return self.ladders[escalate][0]
            known = "、".join(self.ladders) or "无"
            self.problems.append(_at(where, data, "escalate").problem(
                f"规则“{data['name']}”引用的升级阶梯“{escalate}”未定义（已定义：{known}）"))
        elif escalate:
            return self._ladder(escalate, where.file)
        return ()

    def _rule_deadline(self, data: Any, where: Where) -> None:
        deadline = data["deadline"]
        try:
            self.validate_expr(deadline["expr"], None)
        except DeadlineError as exc:
            self.problems.append(_at(where, data, "deadline", "expr").problem(
                f"规则“{data['name']}”的期限“{deadline['expr']}”无法识别：{exc.reason}"))
        base = deadline.get("from", "found")
        if base not in ("found", "assigned"):
            self._date(base, _at(where, data, "deadline", "from"))

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
                    problems.append(rule.where_of("unit", name).problem(f"规则“{rule.name}”匹配的{unknown(name)}"))
                elif units[name] != name:
                    problems.append(rule.where_of("unit", name).problem(
                        f"规则“{rule.name}”匹配的单位“{name}”是“{units[name]}”的别名；事项记录的是单位名称，"
                        f"请写“{units[name]}”，否则此规则不会匹配任何事项"))
    for ob in policy.obligations:
        for name in ob.units or ():
            if name not in units:
                problems.append(ob.where_of("units", name).problem(f"报送义务“{ob.name}”的{unknown(name)}"))
    return problems



def build_policy(directory: Path, sources: dict[str, str], loaded_at: datetime,
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
                builder.problems.append(rule.where_of("pause_in", s).problem(
                    f"规则“{rule.name}”的 pause_in 状态“{s}”在流程中不存在"))
    campaign_names = {c.name for c in builder.campaigns}
    for spec in builder.reports:
        if spec.campaign and spec.campaign not in campaign_names:
            builder.problems.append(spec.where_of("campaign", spec.campaign).problem(
                f"阶段报告“{spec.name}”的专项行动“{spec.campaign}”未定义"))
    if builder.problems:
        raise ConfigError(builder.problems)
    return Policy(version_of(sources), loaded_at, tuple(dict.fromkeys(builder.categories)), tuple(rules),
                  tuple(builder.campaigns), tuple(builder.obligations), dict(sources),
                  tuple(builder.unit_phrases), tuple(builder.reports),
                  builder.extension[0] if builder.extension else ExtensionRules())



def validate_expression(text: str, reference: date | None, *, window: bool = False,
                        recurring: bool = False, calendar: WorkCalendar | None = None) -> Any:
    """Check a rule file's deadline expression; for windows return (start, end).

    School-term words ("开学前", "每学期") are read against `calendar`'s terms, the site's
    calendar.yaml: refused when it lists none; events ("两会前") against its events.
    Without a calendar (versions rebuilt from stored texts, checked when they were
    loaded) both are taken as written."""
    ref = datetime.combine(reference, time(), _REFERENCE.tzinfo) if reference else _REFERENCE
    zone = _REFERENCE.tzinfo or "Asia/Shanghai"
    try:
        deadline = parse_deadline(text, ref, zone, calendar=calendar, count=1)
    except DeadlineError as exc:
        if calendar is not None or not (exc.reason == NO_SITE or unknown_event(exc.reason)):
            raise
        if window:  # a term word names a day, never a stretch of days
            raise DeadlineError(text, text, "阶段需要起止时间") from exc
        return None
    if window:
        if calendar is not None and event_words.mentions(text, calendar):
            # A phase is fixed when the rules load; calendar.yaml's events may change.
            raise DeadlineError(text, text, "阶段需要写明起止日期，不能按日历中的事件计算，如“2027年3月5日至3月15日”")
        if deadline.kind is Kind.WINDOW and deadline.start:
            return deadline.start, deadline.dues[0]
        if deadline.kind is Kind.ONCE and len(deadline.dues) == 1:
            raise DeadlineError(text, text, "阶段需要起止时间，如“2020年9月至2020年12月”")
        raise DeadlineError(text, text, "阶段需要起止时间")
    if recurring and deadline.kind is not Kind.RECURRING:
        raise DeadlineError(text, text, "报送周期应为周期性期限，如“每季度末”“每月1日前”")
    return deadline


def validate_offset(text: str) -> datetime:
    """Check a rule file's offset; returns where it lands from a fixed instant, to order rungs."""
    offset = parse_offset(text)
    try:
        landed = offset.apply(_REFERENCE)
    except (OverflowError, ValueError):  # past the year 9999
        landed = None
    if landed is None or not FIRST_YEAR <= landed.year <= LAST_YEAR:
        raise DeadlineError(text, text, f"时长过长，超出可以计算的日期范围（{FIRST_YEAR}年至{LAST_YEAR}年）")
    return landed


def policy_from_sources(directory: Path, sources: dict[str, str], loaded_at: datetime,
                        known_states: Sequence[str] = (), calendar: WorkCalendar | None = None) -> Policy:
    """The rules from their texts (by file name in `directory`); term words are checked
    against `calendar`'s terms when given (the site's calendar.yaml), else taken as written."""
    validate = validate_expression if calendar is None else partial(validate_expression, calendar=calendar)
    return build_policy(directory, sources, loaded_at, validate, validate_offset, known_states)
