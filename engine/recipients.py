"""Who a plan's roles are, for one item: names and addresses from org.yaml, never from item text.

An item without a unit goes to the safety office until it is assigned (`_unassigned`),
and nothing goes outside the school while org.yaml is still the demo's (Org.configured)."""

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


def _office(role: str, org: Org) -> list[Addressee]:
    """The safety office: its mailbox, else its head."""
    office = org.units[org.safety_office]
    return [Addressee(role, office.name, office.email)] if office.email else _person(role, office.head, org)


def _for_role(role: str, item: Item, org: Org) -> list[Addressee]:
    unit = _unit(item, org)
    if unit is None and role in ("responsible", "unit_head", "leader"):
        return _unassigned(role, item, org)
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
        return _office(role, org)
    if role == "higher_authority" and org.higher_authority and org.configured:
        # A site still holding the demo's org.yaml mails nobody outside the school.
        return [Addressee(role, org.higher_authority.name, org.higher_authority.email)]
    return []


def _unassigned(role: str, item: Item, org: Org) -> list[Addressee]:
    """An item without a unit (reported as 不确定, or its unit gone from org.yaml) is the
    safety office's to assign (待分派): what its unit and responsible person would be
    told reaches the office ("unassigned"), what the unit's leader would be told the
    office's leader; a responsible person named on the item is still told."""
    if role == "responsible" and item.responsible:
        return _person(role, item.responsible, org)
    if role == "leader":
        return _person(role, org.units[org.safety_office].leader, org)
    return _office("unassigned", org)
