"""Extension requests (延期申请): the responsible unit asks for a later deadline with a
reason, whoever the rules name answers, and an approval moves the deadline through the
engine as an authorised deadline change does (`Service.revise`: ledgered, the plan basis
recorded, the steps counted afresh).

A request is read in the deadline language at the moment it is made ("10个工作日内" is
ten working days from the request, "2027年1月15日前" that day) and must give one day later
than the item's current deadline, within the rule's `extension.max_days` calendar days
(自然日) of it, and within `extension.max_count` approved extensions. An approval writes
the item's own deadline as that day ("2027年1月15日前"), so it no longer depends on when
it is read. One request per item may be pending; the requester may not answer it.

Each request and each answer is one write transaction holding the item
(`ExtensionStore.extend`): the request row, the item's ledger row, and the notifications
that put it in the digests of those concerned (the approvers are told of a request, the
requester of the answer). Everything here is decided on the item as stored, again from
fresh data when another writer got in first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, tzinfo
from typing import TYPE_CHECKING

from engine.access import roles_on
from engine.deadline import Kind, parse_deadline
from engine.deadline.dates import cn_date
from engine.errors import Refused
from engine.model import Item, LedgerEntry, check_lengths
from engine.policy import EXTENSION_APPROVERS, ExtensionRules
from engine.recipients import Addressee, resolve
from engine.text import refuse

if TYPE_CHECKING:
    from engine.service import Service

PENDING, APPROVED, REFUSED = "pending", "approved", "refused"
STATUS_TITLES = {PENDING: "待审批", APPROVED: "已批准", REFUSED: "不予批准"}
# Ledger events, and how a refusal names what was asked.
REQUEST_EVENT, APPROVE_EVENT, REFUSE_EVENT = "extension_request", "extension_approve", "extension_refuse"
ACTS = {REQUEST_EVENT: "申请延期", APPROVE_EVENT: "批准延期", REFUSE_EVENT: "不批准延期"}
# Notification kind and actions, as the digest shows them.
NOTICE_KIND = "extension"
NOTICE_ACTIONS = {PENDING: "延期申请", APPROVED: "同意延期", REFUSED: "不同意延期"}
# Who may ask: the item's responsible person or the head of its unit.
REQUESTER_ROLES = ("item_responsible", "unit_head")
LABEL_CHARS = 64  # notifications.label


@dataclass(frozen=True)
class Extension:
    """One request and, once answered, its answer."""

    id: int | None
    item_id: int
    status: str  # pending | approved | refused
    requested_by: str
    requested_at: datetime
    deadline: str  # as the requester wrote it
    new_due: date  # the last allowed day it asks for
    old_due: date | None  # the deadline when it was asked for
    reason: str
    answered_by: str | None = None
    answered_at: datetime | None = None
    answer_note: str | None = None

    @property
    def status_title(self) -> str:
        return STATUS_TITLES.get(self.status, self.status)

    def to_json(self, tz: tzinfo | None = None) -> dict[str, object]:
        def instant(value: datetime | None) -> str | None:
            return (value.astimezone(tz) if tz else value).isoformat() if value else None

        return {"id": self.id, "item_id": self.item_id, "status": self.status, "status_title": self.status_title,
                "requested_by": self.requested_by, "requested_at": instant(self.requested_at),
                "deadline": self.deadline, "new_due": self.new_due.isoformat(),
                "old_due": self.old_due.isoformat() if self.old_due else None, "reason": self.reason,
                "answered_by": self.answered_by, "answered_at": instant(self.answered_at),
                "answer_note": self.answer_note}


@dataclass(frozen=True)
class ExtensionNotice:
    """A notification about a request for the digests of `recipients`."""

    action: str  # one of NOTICE_ACTIONS' values
    label: str  # at most LABEL_CHARS characters
    recipients: tuple[Addressee, ...]
    at: datetime


@dataclass(frozen=True)
class ExtensionWrite:
    """What one request or answer writes: the item (and its ledger entry), the request as
    it is to be stored (new when its id is None) and the notifications about it."""

    item: Item
    entry: LedgerEntry
    request: Extension
    notices: tuple[ExtensionNotice, ...] = ()


@dataclass(frozen=True)
class PendingExtension:
    """A pending request with its item as stored, for a 待办 list."""

    request: Extension
    item: Item
    approvers: tuple[str, ...]  # the roles that may answer it


def cn(day: date | None) -> str:
    return cn_date(day) if day else "未设定"


def _clip(text: str, limit: int = LABEL_CHARS) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def approver_titles(roles: Sequence[str]) -> str:
    return "、".join(EXTENSION_APPROVERS.get(r, r) for r in roles)


class Extensions:
    """Requests and answers for one service (its site, store and clock)."""

    def __init__(self, service: Service) -> None:
        self.service = service

    def rules_for(self, item: Item) -> ExtensionRules:
        """The extension rules of the rule the item is bound to, in its own policy version."""
        service = self.service
        policy = service.policies.get(item.policy_version) if item.policy_version else service.policies.current
        return policy.extension_for(item.rule)

    def _rule_name(self, item: Item) -> str:
        return f"规则“{item.rule}”" if item.rule else "全校规则"

    def current_due(self, item: Item) -> date | None:
        return self.service.plan(item).due

    # -- asking ----------------------------------------------------------------------

    def request(self, item_id: int, actor: str, deadline_text: str, reason: str, at: datetime) -> Extension:
        service = self.service
        name = service.org.person(actor).name
        check_lengths({"deadline": deadline_text, "note": reason})
        text, why = refuse("新期限", deadline_text).strip(), refuse("理由", reason).strip()
        if not text:
            raise Refused(item_id, ACTS[REQUEST_EVENT], "请写明新的期限，如“2027年1月15日前”或“10个工作日内”")
        if not why:
            raise Refused(item_id, ACTS[REQUEST_EVENT], "须说明申请延期的理由")

        def decide(before: Item, existing: Sequence[Extension]) -> ExtensionWrite:
            return self._decide_request(before, existing, name, text, why, at)

        _, written = service.extension_write(item_id, REQUEST_EVENT, decide)
        return written

    def _open_item(self, item: Item, event: str) -> None:
        wf = self.service.workflows.get_or_fail(item.workflow)
        if item.state in self.service.final_states(item.workflow):
            title = wf.states[item.state].title
            raise Refused(item.id, ACTS[event], f"事项{'' if title.startswith('已') else '已'}{title}，不能再延期")

    def _decide_request(self, before: Item, existing: Sequence[Extension], name: str, text: str,
                        reason: str, at: datetime) -> ExtensionWrite:
        service, act = self.service, ACTS[REQUEST_EVENT]
        self._open_item(before, REQUEST_EVENT)
        if not roles_on(service.org, name, before) & set(REQUESTER_ROLES):
            raise Refused(before.id, act, f"{name} 无权申请延期：只有本事项的责任人或责任单位负责人可以申请")
        pending = next((e for e in existing if e.status == PENDING), None)
        if pending is not None:
            raise Refused(before.id, act, f"已有一项待审批的延期申请（{pending.requested_by}申请延期至"
                                          f"{cn(pending.new_due)}），请等待审批结果后再申请")
        rules = self.rules_for(before)
        self._check_count(before, existing, rules, act)
        old = self.current_due(before)
        new = self._new_due(before, text, at, act)
        self._check_limit(before, old, new, rules, act)
        note = f"申请延期至{cn(new)}（{text}），原期限{cn(old)}；理由：{reason}"
        entry = LedgerEntry(before.id, 0, REQUEST_EVENT, before.state, before.state, name, at, note)
        request = Extension(None, before.id or 0, PENDING, name, at, text, new, old, reason)
        told = tuple(a for a in resolve(rules.approvers, before, service.org) if a.name != name)
        notice = ExtensionNotice(NOTICE_ACTIONS[PENDING], _clip(f"{name}申请延期至{cn(new)}：{reason}"), told, at)
        return ExtensionWrite(before.copy(), entry, request, (notice,) if told else ())

    def _check_count(self, item: Item, existing: Sequence[Extension], rules: ExtensionRules, act: str) -> None:
        done = sum(e.status == APPROVED for e in existing)
        if rules.max_count == 0:
            raise Refused(item.id, act, f"按{self._rule_name(item)}，此类事项不允许延期")
        if done >= rules.max_count:
            raise Refused(item.id, act, f"本事项已延期 {done} 次，按{self._rule_name(item)}最多可延期 {rules.max_count} 次")

    def _new_due(self, item: Item, text: str, at: datetime, act: str) -> date:
        service = self.service
        deadline = parse_deadline(text, at, service.tz, calendar=service.calendar_of(item), count=1)
        if deadline.kind is not Kind.ONCE or not deadline.dues:
            raise Refused(item.id, act, f"新期限“{text}”不是一个确定的日期；请写成“2027年1月15日前”或“10个工作日内”这样的期限")
        return deadline.dues[0]

    def _check_limit(self, item: Item, old: date | None, new: date, rules: ExtensionRules, act: str) -> None:
        if old is None:
            raise Refused(item.id, act, "事项目前没有确定的整改期限，无需申请延期（如需设定期限，请由综治办调整整改时限）")
        if new <= old:
            raise Refused(item.id, act, f"新期限{cn(new)}不晚于现有期限{cn(old)}，延期的新期限必须晚于现有期限")
        days = (new - old).days
        if days > rules.max_days:
            latest = date.fromordinal(old.toordinal() + rules.max_days)
            raise Refused(item.id, act, f"新期限{cn(new)}比现有期限{cn(old)}晚 {days} 天，超过{self._rule_name(item)}"
                                        f"允许的最长延期 {rules.max_days} 天（自然日），最晚可申请延期至{cn(latest)}")

    # -- answering -------------------------------------------------------------------

    def answer(self, item_id: int, actor: str, approve: bool, note: str | None, at: datetime) -> Extension:
        service = self.service
        name = service.org.person(actor).name
        event = APPROVE_EVENT if approve else REFUSE_EVENT
        check_lengths({"note": note})
        said = refuse("备注", note).strip() if note else ""
        if not approve and not said:
            raise Refused(item_id, ACTS[event], "不予批准须说明理由，请用 --note 填写")

        def decide(before: Item, existing: Sequence[Extension]) -> ExtensionWrite:
            return self._decide_answer(before, existing, name, approve, said, at)

        _, written = service.extension_write(item_id, event, decide)
        return written

    def _pending_of(self, item: Item, existing: Sequence[Extension], act: str) -> Extension:
        pending = next((e for e in existing if e.status == PENDING), None)
        if pending is not None:
            return pending
        last = existing[-1] if existing else None
        if last is None or last.answered_at is None:
            raise Refused(item.id, act, "没有待审批的延期申请")
        when = last.answered_at.astimezone(self.service.tz)
        raise Refused(item.id, act, f"没有待审批的延期申请：最近一次申请（延期至{cn(last.new_due)}）已由{last.answered_by}"
                                    f"于{cn(when.date())} {when:%H:%M}审批，结果为{last.status_title}")

    def may_answer(self, name: str, item: Item, request: Extension, rules: ExtensionRules) -> bool:
        return name != request.requested_by and bool(roles_on(self.service.org, name, item) & set(rules.approvers))

    def _decide_answer(self, before: Item, existing: Sequence[Extension], name: str, approve: bool,
                       note: str, at: datetime) -> ExtensionWrite:
        service = self.service
        event = APPROVE_EVENT if approve else REFUSE_EVENT
        act = ACTS[event]
        pending = self._pending_of(before, existing, act)
        rules = self.rules_for(before)
        if name == pending.requested_by:
            raise Refused(before.id, act, f"{name} 是此延期申请的申请人，不能审批自己的申请")
        if not roles_on(service.org, name, before) & set(rules.approvers):
            raise Refused(before.id, act, f"{name} 无权审批此延期申请，需要以下角色之一：{approver_titles(rules.approvers)}")
        current = self.current_due(before)
        if approve:
            self._open_item(before, event)
            self._check_count(before, existing, rules, act)
            self._check_limit(before, current, pending.new_due, rules, act)
            text = f"批准延期至{cn(pending.new_due)}（原期限{cn(current)}）" + (f"；{note}" if note else "")
            draft, entry = service.revise(before, {"deadline": f"{cn(pending.new_due)}前"}, name, event, text, at)
        else:
            text = f"不批准延期至{cn(pending.new_due)}，期限仍为{cn(current)}；理由：{note}"
            draft = before.copy()
            entry = LedgerEntry(before.id, 0, event, before.state, before.state, name, at, text)
        answered = replace(pending, status=APPROVED if approve else REFUSED, answered_by=name, answered_at=at,
                           answer_note=note or None)
        told = tuple(a for a in [self._requester(pending.requested_by)] if a is not None)
        verdict = f"{name}{'同意' if approve else '不同意'}延期至{cn(pending.new_due)}" + (f"：{note}" if note else "")
        notice = ExtensionNotice(NOTICE_ACTIONS[answered.status], _clip(verdict), told, at)
        return ExtensionWrite(draft, entry, answered, (notice,) if told else ())

    def _requester(self, name: str) -> Addressee | None:
        people = self.service.org.people
        return Addressee("requester", name, people[name].email) if name in people else None

    # -- reading ---------------------------------------------------------------------

    def actions(self, item: Item, actor: str) -> frozenset[str]:
        """What `actor` may do about extensions on the item as stored: "request" and/or
        "approve" and "refuse" (the new deadline's limits are checked when it is given)."""
        service = self.service
        name = service.org.person(actor).name
        existing = service.store.extensions(item.id or 0)
        rules = self.rules_for(item)
        pending = next((e for e in existing if e.status == PENDING), None)
        closed = item.state in service.final_states(item.workflow)
        found: set[str] = set()
        if pending is not None and self.may_answer(name, item, pending, rules):
            found.add("refuse")
            if not closed:
                found.add("approve")
        approved = sum(e.status == APPROVED for e in existing)
        if (pending is None and not closed and approved < rules.max_count
                and roles_on(service.org, name, item) & set(REQUESTER_ROLES)):
            found.add("request")
        return frozenset(found)

    def pending(self, actor: str | None = None) -> list[PendingExtension]:
        """Pending requests on open items, oldest first; with `actor`, only those they may answer."""
        service = self.service
        name = service.org.person(actor).name if actor else None
        found = service.store.pending_extensions()
        items = service.store.get_many(sorted({e.item_id for e in found}))
        result = []
        for request in found:
            item = items.get(request.item_id)
            if item is None or item.state in service.final_states(item.workflow):
                continue
            rules = self.rules_for(item)
            if name is None or self.may_answer(name, item, request, rules):
                result.append(PendingExtension(request, item, rules.approvers))
        return result
