"""The application service: report items and fire events, through the workflow only."""

from __future__ import annotations

import copy
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from functools import cached_property
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import structlog

from engine.access import roles_on
from engine.errors import (
    AlreadyExists,
    ConcurrentUpdate,
    OutOfRange,
    RectifyError,
    Refused,
    StoreError,
)
from engine.evidence import Accepted, Keeper, carried, count_after, records
from engine.extensions import Extension, Extensions, ExtensionWrite, PendingExtension
from engine.guards import FireContext
from engine.model import (
    FIELD_WORDS,
    FIELDS,
    KINDS,
    LEVELS,
    REPORT_FIELDS,
    Item,
    LedgerEntry,
    changed_fields,
    check_lengths,
    typed_by_hand,
)
from engine.obligations import BACKFILL_NOTE, DueFiling
from engine.org import Org
from engine.plan import Plan, bind, paused_spell, plan_item
from engine.policy import ExtensionRules, Policy, check_category
from engine.policybook import PolicyBook
from engine.ports import Builder, Clock, EvidenceStore, ItemStore, Saver, SourceLoader
from engine.snapshot import Snapshot
from engine.text import refuse
from engine.workcal import WorkCalendar
from engine.workflow import Workflow, Workflows, check_roles

log = structlog.get_logger("rectify.engine")

# How often fire() re-reads and re-decides when another writer got in first.
RETRIES = 5
SYSTEM_ACTOR = "系统"
# The ledger event of a note added outside any workflow event (`rectify amend --note`).
NOTE_EVENT = "note"
T = TypeVar("T")


def retrying(item_id: int, event: str, write: Callable[[], T]) -> T:
    """`write()` (one read-decide-write transaction), tried again when another writer
    changed the item first, up to RETRIES times; then ConcurrentUpdate."""
    for attempt in range(RETRIES):
        try:
            return write()
        except ConcurrentUpdate:
            log.info("retry_after_concurrent_update", item=item_id, _event=event, attempt=attempt + 1)
    raise ConcurrentUpdate(item_id)


def _log_transition(item_id: int | None, event: str, source: str | None, dest: str, actor: str) -> None:
    # `_event` becomes the `event` key: structlog reserves `event` for the message,
    # which adapters.logs renames to `msg`.
    log.info("transition", item=item_id, _event=event, actor=actor, **{"from": source, "to": dest})


class BadValue(RectifyError):
    exit_code = 2

    def __init__(self, field: str, value: object, reason: str) -> None:
        spec = FIELDS.get(field)
        label = f"“{spec.title}”（{field}）" if spec else f"“{field}”"
        shown = str(value) if len(str(value)) <= 60 else str(value)[:60] + "…"
        super().__init__(f"字段{label}的值“{shown}”无效：{reason}")


def utc(at: datetime, what: str = "时间") -> datetime:
    """One aware UTC instant: what the store keeps and the ledger hashes."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise BadValue("at", at.isoformat(), f"{what}缺少时区")
    try:
        return at.astimezone(UTC)
    except OverflowError:
        raise OutOfRange(what, at.isoformat()) from None


@dataclass
class NewItem:
    """What `report` needs to record a new item."""

    title: str
    category: str = ""
    level: str = "一般"
    unit: str | None = None
    location: str | None = None
    reporter: str | None = None
    found_at: datetime | None = None
    kind: str = "hazard"
    workflow: str | None = None
    responsible: str | None = None
    deadline: str | None = None
    fields: Mapping[str, Any] | None = None
    note: str | None = None
    origin: str | None = None
    # Files the reporter gives as evidence (photos of the hazard), checked, not kept yet:
    # kept when the report is written, recorded in its first ledger row, attached with it.
    evidence: Sequence[Accepted] = ()


class Service:
    """The only way an item changes: report, fire, amend, revise, apply_policy, open_filings.

    It works on one Snapshot of the site (`site`), the one reference a reload swaps.
    Files an event or a report carries are kept in the evidence store (`evidence`: how
    to reach it, when first needed) only once the write is decided allowed, at most
    `max_files` per item."""

    def __init__(self, store: ItemStore, site: Snapshot, clock: Clock, *, load: SourceLoader | None = None,
                 build: Builder | None = None, save: Saver | None = None,
                 evidence: Callable[[], EvidenceStore] | None = None, max_files: int = 30) -> None:
        self.store, self.clock = store, clock
        self.site = site
        self._evidence, self.max_files = evidence, max_files
        # Older policy versions, rebuilt from the texts the store kept; the current one is
        # always the snapshot's.
        self.policies = PolicyBook(lambda: self.site.rules, load=load, build=build, save=save)

    def swap(self, site: Snapshot) -> None:
        """A reload: every later tick, command and request works on `site`."""
        self.site = site

    def pinned(self) -> Service:
        """A view of this service that keeps the current snapshot even when a reload swaps
        it (for a web request, which may run beside a reload)."""
        view = copy.copy(self)
        view.policies = self.policies.pinned(self.site.rules)
        return view

    @cached_property
    def evidence(self) -> EvidenceStore:
        """Where the site keeps evidence files."""
        if self._evidence is None:
            raise StoreError("没有配置佐证文件的存储位置（rectify.yaml 的 evidence），不能保存佐证文件")
        return self._evidence()

    def _keeping(self, uploads: Sequence[Accepted], write: Callable[[], T]) -> T:
        """`write()`, with the files of `uploads` kept in the evidence store just before
        it and none of them left behind when it fails (engine.evidence.Keeper). The caller
        has decided the write allowed: a refusal comes before anything is kept."""
        if not uploads:
            return write()
        return Keeper(self.evidence, self.store.referenced).around(uploads, write)

    def unattached_evidence(self, before: datetime) -> list[str]:
        """The evidence files kept before `before` that no attachment names (left by
        writes that died between keeping their files and committing)."""
        return Keeper(self.evidence, self.store.referenced).unattached(before)

    def sweep_evidence(self, before: datetime) -> list[str]:
        """Remove those files; returns the ones removed (engine.evidence.Keeper.sweep)."""
        return Keeper(self.evidence, self.store.referenced).sweep(before)

    @property
    def org(self) -> Org:
        return self.site.org

    @property
    def workflows(self) -> Workflows:
        return self.site.workflows

    @property
    def calendar(self) -> WorkCalendar:
        return self.site.workcal

    @property
    def tz(self) -> ZoneInfo:
        return self.site.tz

    def calendar_of(self, item: Item) -> WorkCalendar:
        """The calendar the item's deadline counts with: its unit's campus's, else the site's."""
        return self.site.calendar_of_unit(item.unit)

    def final_states(self, workflow: str) -> frozenset[str]:
        return self.site.final_states(workflow)

    def plan(self, item: Item, policy: Policy | None = None) -> Plan:
        """The item's plan under the version it is bound to, or under `policy` (a draft, a
        newer version) as if it were bound to that instead."""
        return plan_item(item, policy or self.policies.get(item.policy_version),
                         final_states=self.final_states(item.workflow), calendar=self.calendar_of(item), tz=self.tz)

    def rebind(self, item: Item, policy: Policy) -> Plan:
        """Record on `item` the rule and deadline `policy` gives it; returns its plan."""
        bind(item, policy, calendar=self.calendar_of(item), tz=self.tz).apply(item)
        return self.plan(item, policy)

    @staticmethod
    def schedule(item: Item, plan: Plan) -> None:
        """When the scheduler next needs the item: its first step after its cursor."""
        step = plan.next_step(item.planned_until)
        item.next_action_at = step.at if step else None

    def reschedule(self, before: Item, draft: Item, plan: Plan, at: datetime) -> None:
        """Schedule `draft` after its plan was rebuilt at `at`. When the deadline moved
        (or was first set), its steps count afresh from `at`, as for an item reported
        then (Plan.catch_up): the new plan's reminders already in the past are not sent
        (they never fell due under any plan in force), and if the item is overdue its
        latest escalation reached is sent even when the cursor had passed its instant.
        An unchanged deadline keeps the cursor: steps queued are not repeated."""
        if draft.overdue_at is not None and draft.overdue_at != before.overdue_at:
            draft.planned_until, _ = plan.catch_up(at)
        self.schedule(draft, plan)

    def workflow_for(self, kind: str, level: str, explicit: str | None) -> Workflow:
        """The caller's choice, else major_hazard for 重大 hazards, else the kind's default."""
        if explicit:
            wf = self.workflows.get_or_fail(explicit)
        elif kind == "hazard" and level == "重大" and "major_hazard" in self.workflows:
            wf = self.workflows["major_hazard"]
        else:
            wf = self.workflows.get_or_fail(kind)
        if wf.kind != kind:
            raise BadValue("workflow", wf.name, f"流程“{wf.title}”用于{KINDS[wf.kind]}，不能用于{KINDS[kind]}")
        return wf

    def report(self, r: NewItem, at: datetime | None = None) -> Item:
        """Record `r`, reported at `at` (default now: `rectify report --at` enters a
        paper record afterwards, or tries a policy out in simulated time)."""
        if r.fields:
            r = replace(r, fields=self.typed_fields(r.fields))
        item, entry = self.prepare(r, at)
        count_after(0, carried(entry.changes), self.max_files)
        saved = self._keeping(r.evidence, lambda: self.store.add(item, entry))
        _log_transition(saved.id, "report", None, saved.state, entry.actor)
        return saved

    def prepare(self, r: NewItem, at: datetime | None = None,
                allowed: Collection[str] = REPORT_FIELDS) -> tuple[Item, LedgerEntry]:
        """The new item `r` describes, bound to its rule and planned, with its first ledger
        entry; nothing is stored (report stores one, an import stores many at once). Only
        the fields in `allowed` may be given: what a reporter knows, never what the
        workflow records (verifier, closure) later."""
        check_lengths({"title": r.title, "category": r.category, "note": r.note})
        title, category, note = refuse("标题", r.title), refuse("类别", r.category), r.note and refuse("备注", r.note)
        if not title.strip():
            raise BadValue("title", r.title, "标题不能为空")
        if r.kind not in KINDS:
            raise BadValue("kind", r.kind, "应为 " + " 或 ".join(KINDS))
        if r.level not in LEVELS:
            raise BadValue("level", r.level, "应为 " + " 或 ".join(LEVELS))
        wf = self.workflow_for(r.kind, r.level, r.workflow)
        now = utc(at or self.clock.now())
        found_at = utc(r.found_at, "发现时间") if r.found_at else now
        if found_at > now:
            raise BadValue("found_at", _local_text(r.found_at, self.tz),
                           f"发现时间不能晚于上报时间（{_local_text(now, self.tz)}）")
        item = Item(id=None, kind=r.kind, workflow=wf.name, state=wf.initial, title=title.strip(),
                    found_at=found_at, category=category, level=r.level, origin=r.origin,
                    entered_at=now)
        for name in (r.fields or {}):
            if name in FIELDS and name not in allowed and FIELDS[name].settable:
                raise BadValue(name, r.fields[name], "登记时不能填写，请在相应流程事件中填写")  # type: ignore[index]
        values = {"unit": r.unit, "location": r.location, "reporter": r.reporter,
                  "responsible": r.responsible, "deadline": r.deadline, **(r.fields or {})}
        for name, value in values.items():
            if value not in (None, ""):
                item.set(name, self.clean_value(name, value))
        check_category(self.policies.current, item.kind, item.category)
        if wf.initial == "assigned":
            item.assigned_at = now
        plan = self.rebind(item, self.policies.for_binding())
        # Owed nothing for what it was reported too late for (Plan.catch_up).
        item.planned_until, step = plan.catch_up(now)
        item.next_action_at = step.at if step else None
        actor = item.reporter or SYSTEM_ACTOR
        changes = {k: [None, v] for k, v in item.snapshot().items() if v is not None}
        changes.update(_basis_changes(None, item))
        changes.update(records(r.evidence))
        return item, LedgerEntry(None, 0, "report", None, wf.initial, actor, now, note, changes=changes)

    def revise(self, before: Item, sets: Mapping[str, Any], actor: str, event: str,
               note: str | None = None, at: datetime | None = None) -> tuple[Item, LedgerEntry]:
        """`before` with fields changed outside the workflow (an import correcting a list,
        an amendment), replanned if its deadline basis changed; the state stays. Nothing
        is stored; whoever calls it has decided that `actor` may make the change."""
        when = utc(at or self.clock.now())
        draft = before.copy()
        for name, value in sets.items():
            draft.set(name, value)
        policy = (self.policies.get(before.policy_version) if before.policy_version
                  else self.policies.for_binding())
        self._refresh(before, draft, policy, when)
        changes = changed_fields(before, draft)
        changes.update(_basis_changes(before, draft))
        entry = LedgerEntry(before.id, 0, event, before.state, draft.state, actor, when, note, changes=changes)
        return draft, entry

    def amend(self, item_id: int, actor: str, sets: Mapping[str, Any], note: str | None = None,
              at: datetime | None = None) -> Item:
        """Change fields of an item outside any event — correct a location, set a new
        deadline, re-grade it — as the workflow's `amend` entries allow `actor` on the item
        as stored; ledgered as an "amend" row (a deadline change counts its steps afresh)."""
        name = self.org.person(actor).name
        cleaned = {field: self.clean_value(field, value) for field, value in self.typed_fields(sets).items()}
        check_lengths({"note": note})
        note = note and refuse("备注", note)
        if not cleaned:
            raise BadValue("amend", "", "没有要修改的字段，请用 --set 字段=值 指定")
        when = utc(at or self.clock.now())

        def decide(before: Item) -> tuple[Item, LedgerEntry]:
            wf = self.workflows.get_or_fail(before.workflow)
            if before.state in self.final_states(before.workflow):
                raise Refused(before.id, "amend", f"事项已{wf.states[before.state].title}，不能再修改")
            roles = roles_on(self.org, name, before)
            check_roles(before.id, "amend", name, roles, ("any",))
            used = wf.amendment_for(before.id, cleaned, roles, name)
            if any(a.note_required for a in used) and not (note and note.strip()):
                titles = "、".join(a.title for a in used if a.note_required)
                raise Refused(before.id, "amend", f"{titles}须说明理由，请用 --note 填写")
            draft, entry = self.revise(before, cleaned, name, "amend", note, when)
            if "category" in cleaned:
                check_category(self.policies.current, draft.kind, draft.category)
            if not entry.changes:
                raise Refused(before.id, "amend", "所给的值与现有内容相同，没有需要修改的内容")
            conflict = duty_conflict(draft)
            if conflict:
                raise Refused(before.id, "amend", conflict)
            return draft, entry

        before, saved = self._transition(item_id, "amend", decide)
        log.info("amended", item=item_id, actor=name, fields=sorted(cleaned))
        return saved

    def add_note(self, item_id: int, actor: str, note: str, at: datetime | None = None) -> Item:
        """A note (备注) on an item without changing anything else: ledgered as a "note"
        row by `actor`, who must have the item in scope (as for an event open to "any"),
        while the item is not closed."""
        name = self.org.person(actor).name
        check_lengths({"note": note})
        text = refuse("备注", note or "").strip()
        if not text:
            raise BadValue("note", note, "备注不能为空")
        when = utc(at or self.clock.now())

        def decide(before: Item) -> tuple[Item, LedgerEntry]:
            wf = self.workflows.get_or_fail(before.workflow)
            if before.state in self.final_states(before.workflow):
                raise Refused(before.id, NOTE_EVENT, f"事项已{wf.states[before.state].title}，不能再添加备注")
            check_roles(before.id, NOTE_EVENT, name, roles_on(self.org, name, before), ("any",))
            return before.copy(), LedgerEntry(before.id, 0, NOTE_EVENT, before.state, before.state, name, when, text)

        _, saved = self._transition(item_id, NOTE_EVENT, decide)
        log.info("noted", item=item_id, actor=name)
        return saved

    def write_batch(self, new: Sequence[tuple[Item, LedgerEntry]],
                    changed: Sequence[tuple[Item, int, LedgerEntry]]) -> list[int]:
        """Write items prepared by `prepare` and corrections decided by `revise` (an import)
        in one transaction, everything or nothing; the new items' ids in order."""
        return self.store.add_batch(new, changed)

    def open_filings(self, filings: Sequence[DueFiling], at: datetime) -> list[Item]:
        """Create the filing tasks not created yet; another writer's duplicate is skipped,
        and a task that cannot be created is logged without holding up the others."""
        taken = self.store.origins([r.origin for r in filings])
        created = []
        for r in filings:
            if r.origin in taken:
                continue
            try:
                unit = self.org.unit(r.unit)
                created.append(self.report(NewItem(
                    title=r.title, kind="task", unit=unit.name, responsible=unit.head, found_at=at,
                    deadline=r.due.isoformat(), origin=r.origin, fields={"requirement": r.obligation},
                    note=BACKFILL_NOTE if r.backfilled else None), at))
            except AlreadyExists:
                continue
            except StoreError:
                raise  # the database itself: the tick reports it and retries
            except RectifyError as exc:
                log.error("report_task_failed", origin=r.origin, error=str(exc))
        return created

    @staticmethod
    def typed_fields(sets: Mapping[str, Any]) -> dict[str, Any]:
        """Fields as a person typed them (by name or label: 责任人=张海峰) under their names;
        a field only an import fills in is refused, as unknown ones are by clean_value."""
        result: dict[str, Any] = {}
        for typed, value in sets.items():
            name = FIELD_WORDS.name_of(typed) or typed
            spec = FIELDS.get(name)
            if spec is not None and spec.settable and not spec.by_hand:
                raise BadValue(name, value, f"“{spec.title}”取自导入的清单，不能手工设置")
            result[name] = value
        return result

    def clean_value(self, name: str, value: Any) -> Any:
        """A --set value checked and normalised: units by alias, people against org.yaml."""
        check_lengths({name: value})
        spec = FIELDS.get(name)
        if name in ("state", "状态"):
            raise BadValue(name, value, "状态只能通过流程事件改变，不能直接设置")
        if spec is None:
            hint = FIELD_WORDS.suggest(name, typed_by_hand())
            raise BadValue(name, value, f"未知字段（{hint}可设置的字段：{FIELD_WORDS.listing(typed_by_hand())}）")
        if not spec.settable:
            raise BadValue(name, value, f"“{spec.title}”由流程自动记录，不能手工设置")
        text = refuse(spec.title, str(value)).strip()
        if spec.kind == "unit":
            return self.org.unit(text).name
        if spec.kind == "person":
            return self.org.person(text).name
        if name == "level" and text not in LEVELS:
            raise BadValue(name, value, "应为 " + " 或 ".join(LEVELS))
        return text

    def fire(self, item_id: int, event: str, actor: str, sets: Mapping[str, Any] | None = None,
             note: str | None = None, at: datetime | None = None,
             evidence: Sequence[Accepted] = ()) -> Item:
        """Fire `event` on the item as `actor`; re-decide from fresh data if someone wrote first.
        `evidence`: files (checked, not kept yet) the event carries, kept in the evidence
        store once the event is decided allowed, recorded in its ledger row and attached
        to the item with it, within the item's file limit; or not kept at all."""
        check_lengths({"note": note})
        actor = self.org.person(actor).name
        cleaned = {name: self.clean_value(name, value) for name, value in self.typed_fields(sets or {}).items()}
        note = note and refuse("备注", note)
        when = utc(at or self.clock.now())

        files = records(evidence)
        fired = [event]  # the event's name, once the item's workflow has read what was typed

        def decide(item: Item) -> tuple[Item, LedgerEntry]:
            draft, entry = self._decide(item, event, actor, cleaned, note, when, len(evidence))
            fired[0] = entry.event
            if files:
                entry = replace(entry, changes={**entry.changes, **files})
            return draft, entry

        if files:
            before, saved = self._fire_with_files(item_id, event, decide, evidence)
        else:
            before, saved = self._transition(item_id, event, decide)
        _log_transition(item_id, fired[0], before.state, saved.state, actor)
        return saved

    def _fire_with_files(self, item_id: int, event: str, decide: Callable[[Item], tuple[Item, LedgerEntry]],
                         evidence: Sequence[Accepted]) -> tuple[Item, Item]:
        """Decided on the item as it stands and counted against its file limit, writing
        nothing (a refusal keeps no file); then the files kept and the event written,
        decided and counted again in its transaction."""
        _, entry = decide(self.store.get(item_id))
        count_after(len(self.store.attachments(item_id)), carried(entry.changes), self.max_files)
        return self._keeping(evidence, lambda: self._transition(item_id, event, decide, self.max_files))

    def _transition(self, item_id: int, event: str, decide: Callable[[Item], tuple[Item, LedgerEntry]],
                    max_files: int | None = None) -> tuple[Item, Item]:
        """store.transition, deciding again from fresh data when another writer got in first."""
        return retrying(item_id, event, lambda: self.store.transition(item_id, decide, max_files))

    def _decide(self, before: Item, event: str, actor: str, sets: Mapping[str, Any],
                note: str | None, at: datetime, files: int = 0) -> tuple[Item, LedgerEntry]:
        wf = self.workflows.get_or_fail(before.workflow)
        event = wf.event_named(event)
        if before.state not in wf.states:
            raise Refused(before.id, event, f"事项处于流程“{wf.title}”未定义的状态“{before.state}”")
        draft = before.copy()
        for name, value in sets.items():
            draft.set(name, value)
        ctx = FireContext(draft, before, event, actor, roles_on(self.org, actor, before), self.org, at, files)
        wf.fire(ctx, sets.keys())
        conflict = duty_conflict(draft)
        if conflict:
            raise Refused(before.id, event, conflict)
        policy = self.policies.get(before.policy_version) if before.policy_version else self.policies.for_binding()
        if draft.state != before.state:
            draft.paused_seconds += paused_spell(before, policy, at)
            draft.entered_at = at
        if draft.assigned_at is None and (event == "assign" or draft.state == "assigned"):
            draft.assigned_at = at
        self._refresh(before, draft, policy, at)
        changes = changed_fields(before, draft)
        changes.update(_basis_changes(before, draft))
        entry = LedgerEntry(before.id, 0, event, before.state, draft.state, actor, at, note, changes=changes)
        return draft, entry

    def _refresh(self, before: Item, draft: Item, policy: Policy, at: datetime) -> None:
        """Rebind and replan only when something the plan depends on changed: most
        transitions move between ordinary states and leave the plan as it was."""
        finals = self.final_states(draft.workflow)
        if draft.state in finals:
            if before.policy_version is None:
                bind(draft, policy, calendar=self.calendar_of(draft), tz=self.tz).apply(draft)
            draft.next_action_at = None
            return
        old, new = before.__dict__, draft.__dict__
        inputs_changed = (before.policy_version is None
                          or any(old[n] != new[n] for n in _BASIS_INPUTS)
                          or before.fields.get("tags") != draft.fields.get("tags"))
        rule = policy.rule_named(before.rule)
        pausing = rule.pause_in if rule else frozenset()
        clock_changed = (before.state in finals
                         or before.paused_seconds != draft.paused_seconds
                         or (before.state != draft.state and (before.state in pausing or draft.state in pausing)))
        if inputs_changed:
            self.reschedule(before, draft, self.rebind(draft, policy), at)
        elif clock_changed:
            self.schedule(draft, self.plan(draft, policy))

    def apply_policy(self, item_id: int, actor: str, policy: Policy | None = None,
                note: str | None = None) -> tuple[Item, Item]:
        """Bind an item in flight to `policy` (the current one by default), recorded in its
        ledger; steps already queued are not repeated, later ones follow the new plan."""
        target = policy or self.policies.for_binding()
        at = self.clock.now()

        def decide(before: Item) -> tuple[Item, LedgerEntry]:
            draft = before.copy()
            self.reschedule(before, draft, self.rebind(draft, target), at)
            entry = LedgerEntry(before.id, 0, "policy_apply", before.state, draft.state, actor, at,
                                note, changes=_basis_changes(before, draft))
            return draft, entry

        before, after = self._transition(item_id, "policy_apply", decide)
        log.info("policy_applied", item=item_id, actor=actor, old=before.policy_version,
                 new=after.policy_version, rule=after.rule)
        return before, after

    # -- extension requests (延期申请, engine.extensions) ------------------------------

    def request_extension(self, item_id: int, actor: str, deadline_text: str, reason: str,
                          at: datetime | None = None) -> Extension:
        """Ask for a later deadline (`deadline_text` in the deadline language, read at `at`)
        with a reason, as the item's responsible person or its unit head; ledgered, and
        the approvers are told in their next digest. Refused (with the limit named) when
        not allowed, not later, over the rule's limits, or another request is pending."""
        return Extensions(self).request(item_id, actor, deadline_text, reason, utc(at or self.clock.now()))

    def answer_extension(self, item_id: int, actor: str, approve: bool, note: str | None = None,
                         at: datetime | None = None) -> Extension:
        """Approve (the deadline moves as an authorised deadline change does) or refuse (a
        note is required; the deadline stays) the item's pending request, as one of the
        approvers the rules name, never its requester; ledgered, the requester is told."""
        return Extensions(self).answer(item_id, actor, approve, note, utc(at or self.clock.now()))

    def pending_extensions(self, actor: str | None = None) -> list[PendingExtension]:
        """Pending requests on open items, oldest first; with `actor`, those they may answer."""
        return Extensions(self).pending(actor)

    def extensions(self, item_id: int) -> list[Extension]:
        """Every request made for the item, oldest first."""
        return self.store.extensions(item_id)

    def extension_actions(self, item: Item, actor: str) -> frozenset[str]:
        """What `actor` may do about the item's extensions now: "request", "approve",
        "refuse" (for showing buttons; the commands check everything again)."""
        return Extensions(self).actions(item, actor)

    def extension_rules(self, item: Item) -> ExtensionRules:
        """Who answers the item's requests, how many it may have, how long each may be."""
        return Extensions(self).rules_for(item)

    def extension_write(self, item_id: int, event: str,
                        decide: Callable[[Item, Sequence[Extension]], ExtensionWrite]) -> tuple[Item, Extension]:
        """store.extend, deciding again from fresh data when another writer got in first."""
        item, written = retrying(item_id, event, lambda: self.store.extend(item_id, decide))
        log.info(event, item=item_id, actor=written.answered_by or written.requested_by, status=written.status)
        return item, written



def _local_text(at: datetime | None, tz: ZoneInfo) -> str:
    """An instant as people read it in the site's zone: 2021-03-01 09:00."""
    return at.astimezone(tz).strftime("%Y-%m-%d %H:%M") if at else ""


def duty_conflict(item: Item) -> str | None:
    """Why the item would break separation of duties: one person both the responsible
    person (the rectifier, or who reported the rectification done) and the verifier."""
    verifier = item.fields.get("verifier")
    if verifier and verifier == item.responsible:
        return f"{verifier} 已是本事项的验收人，不能同时是责任人"
    if verifier and verifier == item.fields.get("rectifier"):
        return f"{verifier} 已是本事项的验收人，不能同时是实施整改的人"
    if verifier and verifier == item.fields.get("submitter"):
        return f"{verifier} 已是本事项的验收人，不能同时是申请验收的人"
    return None


BASIS_FIELDS = ("policy_version", "rule", "due", "overdue_at")
# What binding reads from an item (besides its tags): a change means rebinding.
_BASIS_INPUTS = ("kind", "category", "level", "unit", "deadline", "assigned_at", "found_at", "workflow")


def _basis_changes(before: Item | None, after: Item,
                   names: tuple[str, ...] = BASIS_FIELDS) -> dict[str, list[Any]]:
    """Ledger changes for the plan basis: which policy version and rule set which deadline."""
    changes = {}
    for name in names:
        old = getattr(before, name) if before else None
        new = getattr(after, name)
        if old != new:
            changes[name] = [_plain(old), _plain(new)]
    return changes


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date | datetime) else value
