"""What a person may do on an item: the events to offer as buttons and the amendments to
offer as a form, by the same checks `Service.fire` and `Service.amend` make (which still
decide again when the person acts).

An event is offered when its transition leaves the item's state, the person holds one
of its roles on the item as stored (`roles_on`, scoped like every command), and none of
its guards about *who* acts (separation of duties) objects. Guards about the item's
fields (五落实, interim controls) are left to the event itself: the form supplies those
fields, and the engine's refusal names what is missing.
"""

from __future__ import annotations

from datetime import datetime

from engine.access import roles_on
from engine.errors import Refused
from engine.guards import GUARDS, FireContext
from engine.model import Item
from engine.org import Org
from engine.workflow import Amendment, Transition, Workflow, check_roles

# Guards that depend on who acts, not on the fields the event brings.
ACTOR_GUARDS = frozenset({"not_responsible", "not_rectifier", "not_submitter", "actor_in_item_unit"})


def checks(wf: Workflow) -> list[Transition]:
    """The workflow's checks of work reported done, by someone else than who reported it:
    验收 (it records the verifier) and 审核 (it may not be fired by the submitter). Their
    source states are where an item waits for a verifier (待验收, 已报送)."""
    return [t for t in wf.transitions if "record_verifier" in t.actions or "not_submitter" in t.guards]


def events_for(org: Org, wf: Workflow, actor: str, item: Item, at: datetime,
               finals: frozenset[str] = frozenset()) -> list[Transition]:
    """The transitions `actor` may fire on `item` now, in the workflow's order."""
    if item.state in finals:
        return []
    name = org.person(actor).name
    roles = roles_on(org, name, item)
    offered = []
    for t in wf.allowed_from(item.state):
        try:
            check_roles(item.id, t.event, name, roles, t.roles)
        except Refused:
            continue
        ctx = FireContext(item.copy(), item, t.event, name, roles, org, at)
        if any(GUARDS[g](ctx) for g in t.guards if g in ACTOR_GUARDS):
            continue
        offered.append(t)
    return offered


def amendments_for(org: Org, wf: Workflow, actor: str, item: Item,
                   finals: frozenset[str] = frozenset()) -> list[Amendment]:
    """The workflow's amend entries `actor` may use on `item` (none once it is closed)."""
    if item.state in finals:
        return []
    roles = roles_on(org, org.person(actor).name, item)
    if not roles:
        return []
    return [a for a in wf.amendments if not roles.isdisjoint(a.roles)]
