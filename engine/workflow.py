"""Workflows: YAML state machines run on `transitions`, one shared machine per workflow.

Records are never attached to a machine: each event is fired on a short-lived draft
through `machine.events[name].trigger(draft)`, so a million items cost nothing here.
Guards and actions are looked up by name in `engine.guards`; nothing is imported.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from functools import cached_property, partial
from typing import Any

from transitions import Machine

from engine import yamlfile
from engine.errors import ConfigError, NotFound, Problem, Refused
from engine.guards import ACTIONS, GUARDS, FireContext
from engine.model import FIELDS
from engine.names import Vocabulary
from engine.org import ROLES, role_name
from engine.validate import check

# Roles that depend on the item: the actor is its responsible person, in its unit, its reporter.
ITEM_ROLES = {"item_responsible": "本事项责任人", "item_unit": "责任单位人员", "item_reporter": "本事项报告人"}
ALL_ROLES = {**ROLES, **ITEM_ROLES}
ITEM_ROLE_WORDS = Vocabulary({name: (title,) for name, title in ITEM_ROLES.items()})


def workflow_role(typed: str) -> str:
    """The role a word in a workflow file stands for: an org.yaml role in English or as
    people say it (检查人员, 校长), or one of the item's roles (本事项责任人)."""
    return ITEM_ROLE_WORDS.name_of(typed) or role_name(typed)

_NAME = {"type": "string", "pattern": "^[a-z][a-z0-9_]*$"}
_NAMES = {"type": "array", "items": {"type": "string"}}
SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["name", "title", "kind", "initial", "states", "transitions"],
    "additionalProperties": False,
    "properties": {
        "$schema": {"type": "string"},
        "name": _NAME,
        "title": {"type": "string"},
        "kind": {"enum": ["hazard", "task"]},
        "description": {"type": "string"},
        "initial": {"type": "string"},
        "states": {
            "type": "array",
            "minItems": 2,
            "items": {
                "type": "object",
                "required": ["name", "title"],
                "additionalProperties": False,
                "properties": {
                    "name": _NAME,
                    "title": {"type": "string"},
                    "final": {"type": "boolean"},
                    "description": {"type": "string"},
                },
            },
        },
        "amend": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["title", "fields", "roles"],
                "additionalProperties": False,
                "properties": {
                    "title": {"type": "string"},
                    "fields": {**_NAMES, "minItems": 1},
                    "roles": {**_NAMES, "minItems": 1},
                    "note_required": {"type": "boolean"},
                    "description": {"type": "string"},
                },
            },
        },
        "transitions": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["event", "title", "source", "dest"],
                "additionalProperties": False,
                "properties": {
                    "event": _NAME,
                    "title": {"type": "string"},
                    "source": {"anyOf": [{"type": "string"}, _NAMES]},
                    "dest": {"type": "string"},
                    "requires": _NAMES,
                    "may_set": _NAMES,
                    "roles": _NAMES,
                    "guards": _NAMES,
                    "actions": _NAMES,
                    "description": {"type": "string"},
                },
            },
        },
    },
}


@dataclass(frozen=True)
class State:
    name: str
    title: str
    final: bool


@dataclass(frozen=True)
class Transition:
    event: str
    title: str
    sources: tuple[str, ...]
    dest: str
    requires: tuple[str, ...]
    roles: tuple[str, ...]
    guards: tuple[str, ...]
    actions: tuple[str, ...]
    # Fields the event may be given besides those it requires; nothing else may change with it.
    may_set: tuple[str, ...] = ()

    @property
    def settable(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys((*self.requires, *self.may_set)))


@dataclass(frozen=True)
class Amendment:
    """Fields that may be changed outside any event (a correction, a new deadline), by whom."""

    title: str
    fields: tuple[str, ...]
    roles: tuple[str, ...]
    note_required: bool = False


class _GuardRefused(Exception):
    def __init__(self, reason: str) -> None:
        self.reason = reason


def _conditions(names: tuple[str, ...], event_data: Any) -> bool:
    """A transition's guards, in the order the file names them; the first to object wins."""
    ctx = event_data.kwargs["ctx"]
    for name in names:
        reason = GUARDS[name](ctx)
        if reason:
            raise _GuardRefused(reason)
    return True


def _actions(names: tuple[str, ...], event_data: Any) -> None:
    ctx = event_data.kwargs["ctx"]
    for name in names:
        ACTIONS[name](ctx)


class Workflow:
    """One workflow definition and its shared `transitions` machine."""

    def __init__(self, name: str, title: str, kind: str, initial: str,
                 states: list[State], transitions: list[Transition], source: str = "",
                 amendments: tuple[Amendment, ...] = ()) -> None:
        self.name, self.title, self.kind, self.initial, self.source = name, title, kind, initial, source
        self.amendments = amendments
        self.states = {s.name: s for s in states}
        self.transitions = transitions
        self._events = list(dict.fromkeys(t.event for t in transitions))
        self._event_names = frozenset(self._events)
        # What people may type for an event or a state: its name or its title (交办, 整改中).
        self.event_words = Vocabulary({e: [t.title for t in transitions if t.event == e and t.title]
                                       for e in self._events})
        self.state_words = Vocabulary({s.name: s.title for s in states})
        self._from: dict[str, list[Transition]] = {
            s.name: [t for t in transitions if s.name in t.sources] for s in states
        }

    @cached_property
    def machine(self) -> Machine:
        """The `transitions` machine, built on the first fire: listing, showing and
        planning never need it, and a site's files are loaded for every command."""
        machine = Machine(
            model=None, states=list(self.states), initial=self.initial,
            auto_transitions=False, send_event=True, ignore_invalid_triggers=False,
        )
        # One condition and one callback per transition, each running all the named
        # guards or actions: every callback the machine dispatches costs a transition time.
        for t in self.transitions:
            machine.add_transition(
                t.event, list(t.sources), t.dest,
                conditions=[partial(_conditions, t.guards)] if t.guards else [],
                after=[partial(_actions, t.actions)] if t.actions else [],
            )
        return machine

    def events(self) -> list[str]:
        return self._events

    def allowed_from(self, state: str) -> list[Transition]:
        return self._from.get(state, [])

    def event_named(self, typed: str) -> str:
        """The event `typed` names (its name or title, as people type it), else `typed`."""
        return self.event_words.name_of(typed) or typed

    def transition_for(self, item_id: object, state: str, event: str) -> Transition:
        if event not in self._event_names:
            hint = self.event_words.suggest(event)
            raise Refused(item_id, event, f"流程“{self.title}”中没有这个事件（{hint or ''}"
                          f"可用事件：{self.event_words.listing()}）")
        for t in self.allowed_from(state):
            if t.event == event:
                return t
        allowed = "、".join(f"{t.event}（{t.title}）" for t in self.allowed_from(state)) or "无（已办结）"
        state_title = self.states[state].title if state in self.states else state
        raise Refused(item_id, event, f"当前状态为“{state_title}”（{state}），可执行的事件：{allowed}")

    def fire(self, ctx: FireContext, given: Collection[str] = ()) -> Transition:
        """Check and fire ctx.event on the draft ctx.item, whose fields `given` the command
        set; raise Refused with the reason. Who may fire it is decided on ctx.roles, the
        actor's roles on the item as it was before the command."""
        item = ctx.item
        t = self.transition_for(item.id, ctx.before.state, ctx.event)
        check_roles(item.id, ctx.event, ctx.actor, ctx.roles, t.roles)
        refused = [n for n in given if n not in t.settable]
        if refused:
            raise Refused(item.id, ctx.event, _not_settable(t, refused))
        missing = [f"{n}（{FIELDS[n].title if n in FIELDS else n}）" for n in t.requires if not item.has(n)]
        if missing:
            raise Refused(item.id, ctx.event, "缺少必填字段：" + "、".join(missing)
                          + "，请用 --set 字段=值 提供")
        try:
            fired = self.machine.events[ctx.event].trigger(item, ctx=ctx)
        except _GuardRefused as exc:
            raise Refused(item.id, ctx.event, exc.reason) from None
        if not fired:  # a guard said no without a reason; should not happen with our guards
            raise Refused(item.id, ctx.event, "流程条件不满足")
        return t

    def amendment_for(self, item_id: object, fields: Collection[str], roles: frozenset[str],
                      actor: str) -> tuple[Amendment, ...]:
        """The amendments through which `actor` (with `roles` on the item) may change all
        of `fields`; Refused naming the first field nobody allows them to change."""
        used: dict[Amendment, None] = {}
        for name in fields:
            allowing = [a for a in self.amendments if name in a.fields]
            if not allowing:
                open_to = "、".join(f for a in self.amendments for f in a.fields) or "无"
                raise Refused(item_id, "amend", f"流程“{self.title}”不允许修改“{_field_title(name)}”（{name}）"
                              f"（可修改：{open_to}）")
            mine = [a for a in allowing if a.roles and not roles.isdisjoint(a.roles)]
            if not mine:
                needed = "、".join(dict.fromkeys(ALL_ROLES.get(r, r) for a in allowing for r in a.roles))
                raise Refused(item_id, "amend", f"{actor} 无权修改“{_field_title(name)}”，需要以下角色之一：{needed}")
            used[mine[0]] = None
        return tuple(used)

    def mermaid(self) -> str:
        lines = ["stateDiagram-v2", f"    %% {self.title}（{self.name}）"]
        for s in self.states.values():
            lines.append(f"    {s.name}: {s.name} {s.title}")
        lines.append(f"    [*] --> {self.initial}")
        for t in self.transitions:
            label = f"{t.event} {t.title}"
            for src in t.sources:
                lines.append(f"    {src} --> {t.dest}: {label}")
        for s in self.states.values():
            if s.final:
                lines.append(f"    {s.name} --> [*]")
        return "\n".join(lines)


def check_roles(item_id: object, event: str, actor: str, held: frozenset[str], needed: tuple[str, ...]) -> None:
    """Refused unless `actor` holds one of the `needed` roles on the item. "any" asks for
    some role on it (in scope at all): nobody acts on an item outside their scope."""
    if "any" in needed and held:
        return
    if not held.isdisjoint(needed):
        return
    if not held:
        raise Refused(item_id, event, f"{actor} 与此事项无关（不是其责任单位、分管或负责人员），无权操作")
    names = "、".join(ALL_ROLES.get(r, "任何相关人员" if r == "any" else r) for r in needed)
    raise Refused(item_id, event, f"{actor} 无权执行此操作，需要以下角色之一：{names}")


def _field_title(name: str) -> str:
    spec = FIELDS.get(name)
    return spec.title if spec else name


def _not_settable(t: Transition, refused: list[str]) -> str:
    shown = "、".join(f"“{_field_title(n)}”（{n}）" for n in refused)
    allowed = "、".join(f"{_field_title(n)}（{n}）" for n in t.settable) or "无"
    return (f"“{t.title}”（{t.event}）不能同时修改{shown}；此事件可设置：{allowed}。"
            "修改整改时限、等级或责任单位请用 rectify amend（须有权限，记入台账）")


def parse(text: str, filename: str) -> Workflow:
    """One workflow file's text: parsed, checked against the schema and built."""
    data = yamlfile.loads(text, filename)
    problems = check(data, SCHEMA, filename)
    if problems:
        raise ConfigError(problems)
    for entry in [*data["transitions"], *data.get("amend", [])]:
        roles = entry.get("roles")
        if roles:
            roles[:] = [workflow_role(r) if isinstance(r, str) else r for r in roles]
    return build(data, filename)


def misnamed(stem: str, wf: Workflow, filename: str) -> Problem | None:
    """A workflow file is named after the workflow it defines."""
    return Problem(filename, 1, f"文件名应与流程名一致：{wf.name}.yaml") if stem != wf.name else None


def _problems(data: Any, filename: str) -> list[Problem]:
    """Cross-references the schema cannot see: states, guards, actions, roles, fields."""
    problems: list[Problem] = []
    states = [s["name"] for s in data["states"]]
    for i, name in enumerate(states):
        if name in states[:i]:
            problems.append(Problem(filename, data["states"].line_of(i), f"状态“{name}”重复定义"))
    if data["initial"] not in states:
        problems.append(Problem(filename, data.line_of("initial"), f"初始状态“{data['initial']}”未定义"))
    for i, t in enumerate(data["transitions"]):
        problems += _transition_problems(t, set(states), filename, data["transitions"].line_of(i))
    amend = data.get("amend", [])
    for i, a in enumerate(amend):
        problems += _amend_problems(a, filename, amend.line_of(i))
    return problems


def _settable_problems(names: list[str], filename: str, line: int, where: str) -> list[Problem]:
    """Fields a command may give must exist and be settable by people (not system-kept)."""
    problems = []
    for name in names:
        spec = FIELDS.get(name)
        if spec is None:
            known = "、".join(n for n, f in FIELDS.items() if f.settable)
            problems.append(Problem(filename, line, f"{where}的字段“{name}”不存在（可用：{known}）"))
        elif not spec.settable:
            problems.append(Problem(filename, line, f"{where}的字段“{name}”（{spec.title}）由流程自动记录，不能由人设置"))
    return problems


def _amend_problems(a: Any, filename: str, line: int) -> list[Problem]:
    problems = _settable_problems(a["fields"], filename, a.line_of("fields"), f"修改项“{a['title']}”")
    for role in a["roles"]:
        if role not in ALL_ROLES:
            known = "、".join(sorted(ALL_ROLES))
            problems.append(Problem(filename, a.line_of("roles"), f"修改项“{a['title']}”的角色“{role}”不存在（可用：{known}）"))
    return problems


def _transition_problems(t: Any, states: set[str], filename: str, line: int) -> list[Problem]:
    problems = []
    sources = [t["source"]] if isinstance(t["source"], str) else t["source"]
    for s in [*sources, t["dest"]]:
        if s not in states:
            problems.append(Problem(filename, line, f"事件“{t['event']}”引用了未定义的状态“{s}”"))
    problems += _settable_problems([*t.get("requires", []), *t.get("may_set", [])], filename,
                                   t.line_of("may_set") if "may_set" in t else t.line_of("requires"),
                                   f"事件“{t['event']}”")
    checks = (("guards", GUARDS, "条件"), ("actions", ACTIONS, "动作"),
              ("roles", {**ALL_ROLES, "any": ""}, "角色"))
    for key, registry, what in checks:
        for name in t.get(key, []):
            if name not in registry:
                known = "、".join(sorted(registry))
                problems.append(Problem(filename, t.line_of(key), f"事件“{t['event']}”的{what}“{name}”不存在（可用：{known}）"))
    return problems


def build(data: Any, filename: str) -> Workflow:
    problems = _problems(data, filename)
    if problems:
        raise ConfigError(problems)
    states = [State(s["name"], s["title"], bool(s.get("final", False))) for s in data["states"]]
    transitions = [
        Transition(
            event=t["event"], title=t["title"],
            sources=tuple([t["source"]] if isinstance(t["source"], str) else t["source"]),
            dest=t["dest"], requires=tuple(t.get("requires", [])), roles=tuple(t.get("roles", [])),
            guards=tuple(t.get("guards", [])), actions=tuple(t.get("actions", [])),
            may_set=tuple(t.get("may_set", [])),
        )
        for t in data["transitions"]
    ]
    amendments = tuple(Amendment(a["title"], tuple(a["fields"]), tuple(a["roles"]), bool(a.get("note_required", False)))
                       for a in data.get("amend", []))
    return Workflow(data["name"], data["title"], data["kind"], data["initial"], states, transitions, filename,
                    amendments)


class Workflows(dict[str, Workflow]):
    """All workflows of a site, by name."""

    def get_or_fail(self, name: str) -> Workflow:
        try:
            return self[name]
        except KeyError:
            raise NotFound("流程", name, "已定义的流程：" + "、".join(self)) from None

    def state_named(self, typed: str) -> str:
        """The state `typed` names in any workflow (its name or title: 整改中 → rectifying);
        NotFound listing the states, with the closest, when none has it."""
        for wf in self.values():
            name = wf.state_words.name_of(typed)
            if name:
                return name
        words = Vocabulary({n: t for wf in self.values() for n, t in ((s.name, s.title) for s in wf.states.values())})
        hint = words.suggest(typed)
        raise NotFound("状态", typed, (hint or "") + "已定义的状态：" + words.listing())

    def state_title(self, workflow: str, state: str | None) -> str:
        """The state's title in its workflow; the bare name when either is unknown."""
        if state is None:
            return ""
        wf = self.get(workflow)
        return wf.states[state].title if wf and state in wf.states else state
