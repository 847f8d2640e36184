"""The organisation (org.yaml): units, people, the safety office and the higher authority."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from engine import yamlfile
from engine.errors import ConfigError, NotFound, Problem
from engine.mail import valid_addr_spec, visible
from engine.names import Vocabulary, did_you_mean, normalise
from engine.robots import LEADERS, ROBOTS_SCHEMA, Robot, mobile_number, parse_robots
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
# Every role as people write it in org.yaml and in the rules: its name, its title and the
# other words the shipped comments and the documents use for it.
ROLE_WORDS = Vocabulary({
    "inspector": ("检查人员", "检查员"),
    "responsible": ("整改责任人", "责任人"),
    "watcher": ("专人盯防人员", "专人盯防", "盯防人"),
    "unit_head": ("责任单位负责人", "单位负责人"),
    "leader": ("分管校领导", "分管领导"),
    "principal": ("校长",),
    "safety_office": ("综治办", "安全管理办公室", "综治办（安全管理办公室）"),
    "higher_authority": ("上级教育部门", "上级主管部门"),
    "admin": ("系统管理员", "管理员"),
})


def role_words(names: Iterable[str]) -> list[str]:
    """The roles `names` and every word for them (a schema's enum: editors offer them all)."""
    wanted = set(names)
    return sorted(wanted) + [w for w, n in ROLE_WORDS.words.items() if n in wanted and w not in wanted]


def role_name(typed: str) -> str:
    """The role a word in a site file stands for (校长 → principal), else the word."""
    return ROLE_WORDS.name_of(typed) or typed

_PERSON = {
    "type": "object",
    "required": ["name"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "minLength": 1},
        "unit": {"type": "string"},
        "email": {"type": "string"},
        # A mainland mobile number, for @-mentions by the group robots (engine/robots.py).
        "mobile": {"type": ["string", "integer"]},
        "title": {"type": "string"},
        "roles": {"type": "array", "items": {"enum": role_words(ROLES)}},
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
        "robots": ROBOTS_SCHEMA,
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
        # The school leaders' group (校领导群): its robots tell the principal and the
        # 分管校领导 who belong to no unit.
        "leaders": {"type": "object", "additionalProperties": False, "properties": {"robots": ROBOTS_SCHEMA}},
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
    mobile: str | None = None  # 11 digits (engine.robots.mobile_number)


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
    robots: tuple[Robot, ...] = ()  # the unit's group robots (企业微信、钉钉)


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
    leader_robots: tuple[Robot, ...] = ()  # the school leaders' group robots
    _aliases: dict[str, str] = field(default_factory=dict)
    _roles: dict[str, frozenset[str]] = field(default_factory=dict)
    _scopes: dict[str, tuple[frozenset[str], frozenset[str]]] = field(default_factory=dict)
    # What org.yaml still holds of the shipped demo (demo_traces), in Chinese; empty for
    # a configured site. While it holds any, nobody outside the site is mailed.
    demo: tuple[str, ...] = ()

    @property
    def configured(self) -> bool:
        """org.yaml describes the site's own organisation, not the shipped demo's."""
        return not self.demo

    def unit(self, name: str) -> Unit:
        """A unit by its name or one of its aliases, however it was spaced or encoded."""
        wanted = normalise(name)
        key = self._aliases.get(wanted, wanted)
        try:
            return self.units[key]
        except KeyError:
            # The closest names, as the importer suggests them; all units only when none is close.
            hint = did_you_mean(wanted, self.unit_names()) or "已知单位：" + "、".join(self.units)
            raise NotFound("单位", wanted or name, hint) from None

    def campus_problems(self, filename: str, campuses: Sequence[str]) -> list[Problem]:
        """Units placed on a campus calendar.yaml does not list."""
        known = "、".join(campuses) or "无（calendar.yaml 未列出校区）"
        return [Problem(filename, u.line, f"单位“{u.name}”的校区“{u.campus}”不在 calendar.yaml 的 campuses 中（已有：{known}）")
                for u in self.units.values() if u.campus is not None and u.campus not in campuses]

    def robots(self) -> dict[str, Robot]:
        """Every group robot by its id (engine.robots.Robot.id), the first of duplicates."""
        found: dict[str, Robot] = {}
        for robot in (*self.leader_robots, *(r for u in self.units.values() for r in u.robots)):
            found.setdefault(robot.id, robot)
        return found

    def unit_names(self) -> dict[str, str]:
        """Every unit name and alias, each with the name of its unit."""
        return {**self._aliases, **{name: name for name in self.units}}

    def person(self, name: str) -> Person:
        """A person by name, however it was spaced or encoded ("郭晓明\u3000" is 郭晓明)."""
        wanted = normalise(name)
        try:
            return self.people[wanted]
        except KeyError:
            hint = did_you_mean(wanted, self.people) or "请先在 org.yaml 中登记"
            raise NotFound("人员", wanted or repr(name), hint) from None

    def headed_by(self, name: str) -> frozenset[str]:
        """The units whose items `name` acts on as unit head: those whose `head` they are,
        and their own unit when org.yaml gives them the unit_head role (a deputy)."""
        return self._scope(name)[0]

    def supervised_by(self, name: str) -> frozenset[str]:
        """The units `name` supervises as 分管校领导 (their `leader`)."""
        return self._scope(name)[1]

    def _scope(self, name: str) -> tuple[frozenset[str], frozenset[str]]:
        # Asked on every transition: worked out once per person.
        found = self._scopes.get(name)
        if found is None:
            heads = {u.name for u in self.units.values() if u.head == name}
            person = self.people.get(name)
            if person and person.unit and "unit_head" in person.roles:
                heads.add(person.unit)
            leads = frozenset(u.name for u in self.units.values() if u.leader == name)
            found = self._scopes[name] = (frozenset(heads), leads)
        return found

    def roles_of(self, name: str) -> frozenset[str]:
        """Roles given in org.yaml plus those that follow from heading or supervising a unit."""
        cached = self._roles.get(name)
        if cached is None:
            cached = self._roles[name] = self._derive_roles(name)
        return cached

    def _derive_roles(self, typed: str) -> frozenset[str]:
        person = self.person(typed)
        name = person.name
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


def parse(text: str, filename: str) -> Org:
    """org.yaml's text: parsed, checked against the schema and built."""
    data = yamlfile.loads(text, filename)
    problems = check(data, SCHEMA, filename)
    if problems:
        raise ConfigError(problems)
    return build(data, filename)


def build(data: Any, filename: str) -> Org:
    """Build the Org and cross-check its references; all problems reported together."""
    problems: list[Problem] = []
    people = _people(data["people"], filename, problems)
    units, aliases = _units(data["units"], people, filename, problems)
    problems += _people_problems(data["people"], units, filename)
    safety_office = normalise(data["safety_office"])
    if safety_office not in units:
        problems.append(Problem(filename, data.line_of("safety_office"), f"safety_office“{safety_office}”不在 units 中"))
    principal = _name_or_none(data.get("principal"))
    if principal and principal not in people:
        problems.append(Problem(filename, data.line_of("principal"), f"校长“{principal}”不在 people 中"))
    leader_robots, found = parse_robots((data.get("leaders") or {}).get("robots"), LEADERS, filename)
    problems += found
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
        safety_office=safety_office,
        principal=principal,
        higher_authority=Authority(authority["name"], authority["email"]) if authority else None,
        leader_robots=leader_robots,
        _aliases=aliases,
    )


def _people(entries: Any, filename: str, problems: list[Problem]) -> dict[str, Person]:
    """The people by normalised name; empty and duplicate names are problems."""
    people: dict[str, Person] = {}
    lines: dict[str, int] = {}
    for i, p in enumerate(entries):
        name, line = normalise(p["name"]), entries.line_of(i)
        if not name:
            problems.append(Problem(filename, line, "人员姓名为空（只有空白或不可见字符）"))
        elif name in people:
            problems.append(Problem(filename, line, _duplicate("人员", p["name"], name, lines[name])))
        else:
            lines[name] = line
            mobile = mobile_number(p["mobile"]) if p.get("mobile") not in (None, "") else None
            people[name] = Person(name, _name_or_none(p.get("unit")), p.get("email"), p.get("title"),
                                  frozenset(role_name(r) for r in p.get("roles", [])), mobile)
    return people


def _units(entries: Any, people: dict[str, Person], filename: str,
           problems: list[Problem]) -> tuple[dict[str, Unit], dict[str, str]]:
    """The units by normalised name and every alias with its unit's name."""
    units: dict[str, Unit] = {}
    aliases: dict[str, str] = {}
    lines: dict[str, int] = {}
    for i, u in enumerate(entries):
        line = entries.line_of(i)
        name = normalise(u["name"])
        if not name:
            problems.append(Problem(filename, line, "单位名称为空（只有空白或不可见字符）"))
            continue
        if name in units:
            problems.append(Problem(filename, line, _duplicate("单位", u["name"], name, lines[name])))
            continue
        lines[name] = line
        robots, found = parse_robots(u.get("robots"), name, filename)
        units[name] = unit = _unit(u, name, line, robots)
        problems += found + _unit_problems(u, unit, people, aliases, filename)
    for alias, owner in aliases.items():
        if alias in units and alias != owner:
            problems.append(Problem(filename, units[owner].line, f"别名“{alias}”与单位“{alias}”同名"))
    return units, aliases


def _unit(u: Any, name: str, line: int, robots: tuple[Robot, ...]) -> Unit:
    own_aliases = tuple(dict.fromkeys(a for a in map(normalise, u.get("aliases", [])) if a and a != name))
    return Unit(name, normalise(u["head"]), _name_or_none(u.get("leader")), u.get("email"), own_aliases,
                u.get("kind", "office"), u.get("campus"), line, robots)


def _unit_problems(u: Any, unit: Unit, people: dict[str, Person], aliases: dict[str, str],
                   filename: str) -> list[Problem]:
    """A unit's head and leader must be people, its aliases its own; records the aliases."""
    problems = []
    for role, who in (("负责人", unit.head), ("分管校领导", unit.leader)):
        if who and who not in people:
            problems.append(Problem(filename, unit.line, f"单位“{unit.name}”的{role}“{who}”不在 people 中"
                                    + _hint(who, people)))
    for alias in unit.aliases:
        if alias in aliases and aliases[alias] != unit.name:
            problems.append(Problem(filename, unit.line, f"别名“{alias}”同时属于“{aliases[alias]}”和“{unit.name}”"))
        aliases[alias] = unit.name
    if u.get("email") and not valid_addr_spec(u["email"]):
        problems.append(Problem(filename, unit.line, f"单位“{unit.name}”的邮箱“{u['email']}”格式不正确"))
    return problems


def _people_problems(entries: Any, units: dict[str, Unit], filename: str) -> list[Problem]:
    """Each person's address and unit."""
    problems = []
    for i, p in enumerate(entries):
        line, name = entries.line_of(i), normalise(p["name"])
        if p.get("email") and not valid_addr_spec(p["email"]):
            problems.append(Problem(filename, line, f"人员“{name}”的邮箱“{p['email']}”格式不正确"))
        if p.get("mobile") not in (None, "") and mobile_number(p["mobile"]) is None:
            problems.append(Problem(filename, p.line_of("mobile"),
                                    f"人员“{name}”的手机号“{visible(str(p['mobile']))[:40]}”不是有效的中国大陆手机号"
                                    "（应为 11 位数字，以 1 开头、第二位为 3 至 9，如 13912345678；可带 +86）"))
        unit = _name_or_none(p.get("unit"))
        if unit and unit not in units:
            problems.append(Problem(filename, line, f"人员“{name}”所属单位“{unit}”不在 units 中" + _hint(unit, units)))
    return problems


def _hint(name: str, known: Any) -> str:
    found = did_you_mean(name, known)
    return f"（{found}）" if found else ""


def _name_or_none(value: str | None) -> str | None:
    return (normalise(value) or None) if value else None


def _duplicate(what: str, typed: str, name: str, first_line: int) -> str:
    """A second entry for one name; says so when only invisible characters told them apart."""
    same = "" if typed == name else f"（写作“{typed}”，去掉空白和不可见字符后相同）"
    return f"{what}“{name}”重复登记{same}，第{first_line}行已登记"


# Domains reserved for examples (RFC 2606): no mail sent there reaches anyone.
EXAMPLE_DOMAINS = ("example.org", "example.com", "example.net")


def is_example_address(address: str | None) -> bool:
    domain = (address or "").rpartition("@")[2].lower()
    return any(domain == d or domain.endswith("." + d) for d in EXAMPLE_DOMAINS) or domain.endswith(".example")


def addresses(org: Org) -> list[str]:
    """Every address org.yaml gives: units', people's and the higher authority's."""
    found = [u.email for u in org.units.values()] + [p.email for p in org.people.values()]
    found.append(org.higher_authority.email if org.higher_authority else None)
    return [a for a in found if a]


def demo_traces(org: Org, demo: Org) -> tuple[str, ...]:
    """What `org` still holds of `demo` (the shipped org.yaml, which `rectify init`
    writes): its organisation name, its invented people (same name and address) and its
    higher authority. Each trace as a sentence saying what to replace."""
    traces: list[str] = []
    if org.name and org.name == demo.name:
        traces.append(f"organisation 仍是演示用的“{org.name}”，请改为本校名称")
    invented = [p.name for p in org.people.values()
                if p.name in demo.people and demo.people[p.name].email == p.email]
    if invented:
        shown = "、".join(invented[:5]) + ("等" if len(invented) > 5 else "")
        traces.append(f"people 中仍有 {len(invented)} 名演示用的虚构人员（{shown}），请换成本校人员和邮箱")
    if org.higher_authority is not None and org.higher_authority == demo.higher_authority:
        traces.append(f"higher_authority 仍是演示用的“{org.higher_authority.name}”"
                      f"（{org.higher_authority.email}），请改为本校的上级主管部门")
    return tuple(traces)
