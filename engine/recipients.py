"""Who a plan's roles are, for one item: names and addresses from org.yaml, never from item text."""

from __future__ import annotations

from dataclasses import dataclass

from engine.errors import NotFound
from engine.model import Item
from engine.org import Org, Unit


@dataclass(frozen=True)
class Addressee:
    role: str
    name: str
    email: str | None


def resolve(roles: tuple[str, ...], item: Item, org: Org) -> list[Addressee]:
    """Each role's people for this item, each person once, in role order."""
    found: list[Addressee] = []
    seen: set[str] = set()
    for role in roles:
        for addressee in _for_role(role, item, org):
            if addressee.name not in seen:
                seen.add(addressee.name)
                found.append(addressee)
    return found


def _person(role: str, name: str | None, org: Org) -> list[Addressee]:
    if not name or name not in org.people:
        return []
    return [Addressee(role, name, org.people[name].email)]


def _unit(item: Item, org: Org) -> Unit | None:
    if not item.unit:
        return None
    try:
        return org.unit(item.unit)
    except NotFound:
        return None


def _for_role(role: str, item: Item, org: Org) -> list[Addressee]:
    unit = _unit(item, org)
    if role == "responsible":
        return _person(role, item.responsible, org) or (_person(role, unit.head, org) if unit else [])
    if role == "watcher":
        return _person(role, item.fields.get("watcher"), org)
    if role == "unit_head":
        return _person(role, unit.head, org) if unit else []
    if role == "leader":
        return _person(role, unit.leader, org) if unit else []
    if role == "principal":
        return _person(role, org.principal, org)
    if role == "safety_office":
        office = org.units[org.safety_office]
        return [Addressee(role, office.name, office.email)] if office.email else _person(role, office.head, org)
    if role == "higher_authority" and org.higher_authority:
        return [Addressee(role, org.higher_authority.name, org.higher_authority.email)]
    return []
