"""The organisation (org.yaml): units, people, the safety office and the higher authority."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine import yamlfile
from engine.errors import ConfigError, NotFound, Problem
from engine.mail import valid_addr_spec, visible
from engine.validate import check

# Roles a person may be given in org.yaml; more are derived from the units they head.
ROLES = {
    "inspector": "检查人员",
    "responsible": "整改责任人",
    "unit_head": "责任单位负责人",
    "leader": "分管校领导",
    "principal": "校长",
    "safety_office": "综治办（安全管理办公室）",
    "admin": "系统管理员",
}

_PERSON = {
    "type": "object",
    "required": ["name"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "minLength": 1},
        "unit": {"type": "string"},
        "email": {"type": "string"},
        "title": {"type": "string"},
        "roles": {"type": "array", "items": {"enum": sorted(ROLES)}},
    },
}
_UNIT = {
    "type": "object",
    "required": ["name", "head"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "minLength": 1},
        "aliases": {"type": "array", "items": {"type": "string"}},
        "head": {"type": "string"},
        "leader": {"type": "string"},
        "email": {"type": "string"},
        "kind": {"enum": ["office", "college", "other"]},
        "campus": {"type": "string", "minLength": 1},
    },
}
SCHEMA = {
    "type": "object",
    "required": ["units", "people", "safety_office"],
    "additionalProperties": False,
    "properties": {
        "organisation": {"type": "string"},
        "safety_office": {"type": "string"},
        "principal": {"type": "string"},
        "higher_authority": {
            "type": "object",
            "required": ["name", "email"],
            "additionalProperties": False,
            "properties": {"name": {"type": "string"}, "email": {"type": "string"}},
        },
        "units": {"type": "array", "minItems": 1, "items": _UNIT},
        "people": {"type": "array", "minItems": 1, "items": _PERSON},
    },
}


@dataclass(frozen=True)
class Person:
    name: str
    unit: str | None
    email: str | None
    title: str | None
    roles: frozenset[str]


@dataclass(frozen=True)
class Unit:
    name: str
    head: str
    leader: str | None
    email: str | None
    aliases: tuple[str, ...] = ()
    kind: str = "office"
    # The campus (a name in calendar.yaml's campuses) whose terms and local days the
    # unit's items count their deadlines with; None: the whole site's.
    campus: str | None = None
    line: int | None = field(default=None, compare=False)  # where org.yaml defines it


@dataclass(frozen=True)
class Authority:
    name: str
    email: str


@dataclass
class Org:
    name: str
    units: dict[str, Unit]
    people: dict[str, Person]
    safety_office: str
    principal: str | None = None
    higher_authority: Authority | None = None
    _aliases: dict[str, str] = field(default_factory=dict)
    _roles: dict[str, frozenset[str]] = field(default_factory=dict)

    def unit(self, name: str) -> Unit:
        """A unit by its name or one of its aliases."""
        key = self._aliases.get(name.strip(), name.strip())
        try:
            return self.units[key]
        except KeyError:
            known = "、".join(self.units)
            raise NotFound("单位", name, f"已知单位：{known}") from None

    def campus_problems(self, filename: str, campuses: Sequence[str]) -> list[Problem]:
        """Units placed on a campus calendar.yaml does not list."""
        known = "、".join(campuses) or "无（calendar.yaml 未列出校区）"
        return [Problem(filename, u.line, f"单位“{u.name}”的校区“{u.campus}”不在 calendar.yaml 的 campuses 中（已有：{known}）")
                for u in self.units.values() if u.campus is not None and u.campus not in campuses]

    def unit_names(self) -> dict[str, str]:
        """Every unit name and alias, each with the name of its unit."""
        return {**self._aliases, **{name: name for name in self.units}}

    def person(self, name: str) -> Person:
        try:
            return self.people[name.strip()]
        except KeyError:
            raise NotFound("人员", name, "请先在 org.yaml 中登记") from None

    def roles_of(self, name: str) -> frozenset[str]:
        """Roles given in org.yaml plus those that follow from heading or supervising a unit."""
        cached = self._roles.get(name)
        if cached is None:
            cached = self._roles[name] = self._derive_roles(name)
        return cached

    def _derive_roles(self, name: str) -> frozenset[str]:
        person = self.person(name)
        derived = set(person.roles)
        for unit in self.units.values():
            if unit.head == name:
                derived.add("unit_head")
            if unit.leader == name:
                derived.add("leader")
        if person.unit == self.safety_office:
            derived.add("safety_office")
        if self.principal == name:
            derived.add("principal")
        return frozenset(derived)


def load(path: Path) -> Org:
    data = yamlfile.load(path)
    problems = check(data, SCHEMA, str(path))
    if problems:
        raise ConfigError(problems)
    return build(data, str(path))


def build(data: Any, filename: str) -> Org:
    """Build the Org and cross-check its references; all problems reported together."""
    problems: list[Problem] = []
    people: dict[str, Person] = {}
    for i, p in enumerate(data["people"]):
        if p["name"] in people:
            problems.append(Problem(filename, data["people"].line_of(i), f"人员“{p['name']}”重复登记"))
        people[p["name"]] = Person(
            p["name"], p.get("unit"), p.get("email"), p.get("title"), frozenset(p.get("roles", []))
        )
    units: dict[str, Unit] = {}
    aliases: dict[str, str] = {}
    for i, u in enumerate(data["units"]):
        line = data["units"].line_of(i)
        if u["name"] in units:
            problems.append(Problem(filename, line, f"单位“{u['name']}”重复登记"))
        for role, who in (("负责人", u["head"]), ("分管校领导", u.get("leader"))):
            if who and who not in people:
                problems.append(Problem(filename, line, f"单位“{u['name']}”的{role}“{who}”不在 people 中"))
        for alias in u.get("aliases", []):
            if alias in aliases and aliases[alias] != u["name"]:
                problems.append(Problem(filename, line, f"别名“{alias}”同时属于“{aliases[alias]}”和“{u['name']}”"))
            aliases[alias] = u["name"]
        if u.get("email") and not valid_addr_spec(u["email"]):
            problems.append(Problem(filename, line, f"单位“{u['name']}”的邮箱“{u['email']}”格式不正确"))
        units[u["name"]] = Unit(
            u["name"], u["head"], u.get("leader"), u.get("email"), tuple(u.get("aliases", [])),
            u.get("kind", "office"), u.get("campus"), line,
        )
    for i, p in enumerate(data["people"]):
        if p.get("email") and not valid_addr_spec(p["email"]):
            problems.append(Problem(filename, data["people"].line_of(i), f"人员“{p['name']}”的邮箱“{p['email']}”格式不正确"))
        if p.get("unit") and p["unit"] not in units:
            problems.append(Problem(filename, data["people"].line_of(i), f"人员“{p['name']}”所属单位“{p['unit']}”不在 units 中"))
    if data["safety_office"] not in units:
        problems.append(Problem(filename, data.line_of("safety_office"), f"safety_office“{data['safety_office']}”不在 units 中"))
    principal = data.get("principal")
    if principal and principal not in people:
        problems.append(Problem(filename, data.line_of("principal"), f"校长“{principal}”不在 people 中"))
    authority = data.get("higher_authority")
    if authority and not valid_addr_spec(authority["email"]):
        problems.append(Problem(filename, authority.line_of("email"),
                                f"上级主管部门 higher_authority 的邮箱“{visible(authority['email'])}”格式不正确"))
    if problems:
        raise ConfigError(problems)
    return Org(
        name=data.get("organisation", ""),
        units=units,
        people=people,
        safety_office=data["safety_office"],
        principal=principal,
        higher_authority=Authority(authority["name"], authority["email"]) if authority else None,
        _aliases=aliases,
    )
