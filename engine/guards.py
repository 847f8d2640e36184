"""The only guards and actions a workflow file may name.

A workflow file refers to these by name; nothing else is callable from YAML, so a
workflow file can never import code. A guard returns None when the transition may
go ahead, or the reason (Chinese) why not. An action changes the draft item.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from engine.model import Item
from engine.org import Org


@dataclass
class FireContext:
    """What a guard or action may look at: the draft item, the item before, who and when."""

    item: Item
    before: Item
    event: str
    actor: str
    roles: frozenset[str]
    org: Org
    at: datetime
    files: int = 0  # how many files (photos, PDFs) the event carries as evidence


Guard = Callable[[FireContext], "str | None"]
Action = Callable[[FireContext], None]

FIVE_IN_PLACE = {
    "responsible": "责任落实（责任人）",
    "measures": "措施落实（整改措施）",
    "funds": "资金落实（整改资金）",
    "deadline": "时限落实（整改时限）",
    "contingency_plan": "预案落实（应急预案）",
}


# Separation of duties is judged on the item as stored before the command and on the
# item it would leave: naming oneself (or someone else) in the same command changes nothing.
def _named(ctx: FireContext, field: str) -> bool:
    return ctx.actor in (ctx.before.get(field), ctx.item.get(field))


def not_responsible(ctx: FireContext) -> str | None:
    if _named(ctx, "responsible"):
        return f"验收人不能是整改责任人本人（{ctx.actor}）"
    return None


def not_rectifier(ctx: FireContext) -> str | None:
    if _named(ctx, "rectifier"):
        return f"验收人不能是实施整改的人（{ctx.actor}）"
    return None


def not_submitter(ctx: FireContext) -> str | None:
    if _named(ctx, "submitter"):
        if ctx.before.kind == "hazard":
            return f"验收人不能是申请验收（报告整改完成）的人（{ctx.actor}）"
        return f"审核人不能是报送人本人（{ctx.actor}）"
    return None


def evidence_given(ctx: FireContext) -> str | None:
    """Rectification reported done with something to show for it: files carried by the
    event (after-photos, a PDF) or the 整改佐证 field."""
    if ctx.files or ctx.item.has("evidence"):
        return None
    return "报告整改完成须附整改后照片（或 PDF 文件），或填写“整改佐证”"


def five_in_place(ctx: FireContext) -> str | None:
    """时限 is in place with the item's own deadline or the one its rule gives it."""
    missing = [title for name, title in FIVE_IN_PLACE.items()
               if not (ctx.item.has(name) or (name == "deadline" and ctx.item.due is not None))]
    if missing:
        return "重大隐患须“五落实”后方可制定方案，尚缺：" + "、".join(missing)
    return None


def interim_controls_in_place(ctx: FireContext) -> str | None:
    missing = [title for name, title in (("interim_controls", "防控措施"), ("watcher", "专人盯防人员"))
               if not ctx.item.has(name)]
    if missing:
        return "重大隐患整改期间须落实" + "和".join(missing)
    return None


def actor_in_item_unit(ctx: FireContext) -> str | None:
    person = ctx.org.people.get(ctx.actor)
    unit = ctx.before.unit
    if unit and person and person.unit != unit and "safety_office" not in ctx.roles:
        return f"{ctx.actor} 不属于责任单位“{unit}”"
    return None


def record_rectifier(ctx: FireContext) -> None:
    ctx.item.fields["rectifier"] = ctx.actor


def record_verifier(ctx: FireContext) -> None:
    ctx.item.fields["verifier"] = ctx.actor
    ctx.item.fields["verified_at"] = ctx.at.isoformat()


def record_submitter(ctx: FireContext) -> None:
    ctx.item.fields["submitter"] = ctx.actor


def record_closure(ctx: FireContext) -> None:
    ctx.item.fields["closed_at"] = ctx.at.isoformat()
    ctx.item.fields["approver"] = ctx.actor


def clear_verification(ctx: FireContext) -> None:
    """A rejected rectification must be verified again, by someone, later."""
    ctx.item.fields.pop("verifier", None)
    ctx.item.fields.pop("verified_at", None)
    ctx.item.fields["rejections"] = int(ctx.item.fields.get("rejections", 0)) + 1


GUARDS: dict[str, Guard] = {
    "not_responsible": not_responsible,
    "not_rectifier": not_rectifier,
    "not_submitter": not_submitter,
    "five_in_place": five_in_place,
    "interim_controls_in_place": interim_controls_in_place,
    "actor_in_item_unit": actor_in_item_unit,
    "evidence_given": evidence_given,
}

ACTIONS: dict[str, Action] = {
    "record_rectifier": record_rectifier,
    "record_verifier": record_verifier,
    "record_submitter": record_submitter,
    "record_closure": record_closure,
    "clear_verification": clear_verification,
}
