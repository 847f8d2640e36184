"""Who may act on, and see, which item: a person's roles scoped to the item's unit.

A role from org.yaml counts only where it reaches: a unit head for the items of the
units they head, a 分管校领导 for the units they supervise, an 整改责任人 for their own
unit's items; the safety office, the principal, inspectors (they inspect the whole
school) and the administrator for every item. Roles relative to the item come on top:
its responsible person, its reporter, the people of its unit. Everything is decided on
the item as stored before the command, never on values the command brings.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.errors import Forbidden
from engine.model import Item
from engine.org import Org

# Roles that reach every item of the site.
SITE_WIDE = frozenset({"safety_office", "principal", "inspector", "admin"})
# Fields naming a person whom the item concerns: they may see it.
CONCERNED = ("responsible", "reporter", "watcher", "rectifier", "verifier", "submitter", "approver")


def roles_on(org: Org, actor: str, item: Item) -> frozenset[str]:
    """The roles `actor` (a name in org.yaml) holds on this item."""
    person = org.person(actor)
    name = person.name
    given = org.roles_of(name)
    roles = set(given & SITE_WIDE)
    unit = item.unit
    if unit:
        if unit in org.headed_by(name):
            roles.add("unit_head")
        if unit in org.supervised_by(name):
            roles.add("leader")
        if person.unit == unit:
            roles.add("item_unit")
            if "responsible" in given:
                roles.add("responsible")
    if name == item.responsible:
        roles.add("item_responsible")
    if name == item.reporter:
        roles.add("item_reporter")
    return frozenset(roles)


def may_see(org: Org, actor: str, item: Item) -> bool:
    """Whether `actor` may see the item at all: any role on it, or named on it."""
    if roles_on(org, actor, item):
        return True
    name = org.person(actor).name
    return any(item.get(field) == name for field in CONCERNED)


# Who may run the commands that change many items at once (an import, a policy apply).
OFFICE = frozenset({"safety_office", "admin"})


def require_office(org: Org, actor: str, what: str) -> str:
    """`actor`'s name in org.yaml if they belong to the safety office or administer the
    site; Forbidden otherwise."""
    name = org.person(actor).name
    if not org.roles_of(name) & OFFICE:
        raise Forbidden(name, what, "综治办（安全管理办公室）或系统管理员")
    return name


@dataclass(frozen=True)
class Scope:
    """What a person may see, as a filter a store can apply: every item, or the items
    of these units plus those naming the person."""

    person: str
    everything: bool
    units: frozenset[str]


def scope_of(org: Org, actor: str) -> Scope:
    person = org.person(actor)
    name = person.name
    if org.roles_of(name) & SITE_WIDE:
        return Scope(name, True, frozenset())
    units = set(org.headed_by(name) | org.supervised_by(name))
    if person.unit:
        units.add(person.unit)
    return Scope(name, False, frozenset(units))
