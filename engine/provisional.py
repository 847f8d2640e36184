"""Provisional deadlines counted again once the calendar knows their year.

A working-day deadline that reaches into a year whose holiday arrangement nobody has yet
is counted with weekends and the fixed-date holidays only, and its item is marked
provisional (`Item.provisional`). When the calendar gains the year (the daemon reloads a
changed calendar.yaml, or starts after it changed; `rectify calendar apply`), every open
provisional item is bound again under its own policy version with the new calendar:

- its deadline is now exact, or moved: a ledger row `calendar_update` (actor 系统) with
  the old and new due day, overdue instant and provisional flag;
- the due day moved: its responsible person (else the unit head) is also mailed the old
  and the new deadline, the message queued in the same transaction as the ledger row;
- nothing learnt (every unknown year is still unknown): nothing is written.

The same happens to open items whose deadline is read against the school terms
("开学前", "学期末", "每学期"…, their own or their rule's) when the site has terms: a
corrected term (开学 put off by a week) moves their deadlines, recorded and told the same
way, with a note that the terms changed; and to those read against an event calendar.yaml
names ("两会前", "中考结束后3个工作日内") when its dates are corrected.

One transaction per item, re-decided from fresh data: another writer (a second daemon,
a person firing an event) can neither be overwritten nor make the mail go out twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import structlog

from engine.deadline.dates import cn_date
from engine.deadline.school import TERM_WORDS
from engine.errors import StoreError
from engine.model import Item, LedgerEntry
from engine.notices import DeadlineChange, provisional_note, unknown_years, years_text
from engine.policy import Policy
from engine.ports import ChangeRender, Rewriter
from engine.recipients import resolve
from engine.scheduler import Composed
from engine.service import BASIS_FIELDS, SYSTEM_ACTOR, Service, _basis_changes, retrying
from engine.workcal import WorkCalendar

log = structlog.get_logger("rectify.calendar")

EVENT = "calendar_update"
# What the ledger row records: the basis fields and whether the count is still provisional.
RECORDED = (*BASIS_FIELDS, "provisional")
# Fields that, unchanged, mean the new calendar taught the item nothing.
_BASIS = (*RECORDED, "started_at", "plan_note")


@dataclass(frozen=True)
class Rewrite:
    """An item's new version, its ledger entry, and the messages to queue with them."""

    item: Item
    entry: LedgerEntry
    messages: tuple[Composed, ...] = ()


class Picked:
    """A Rewriter's `decide` as a store's: the item and entry for the store to write, the
    Rewrite kept (`taken`) so its messages can be queued in the same transaction."""

    def __init__(self, decide: Callable[[Item], Rewrite | None]) -> None:
        self.decide = decide
        self.taken: Rewrite | None = None

    def __call__(self, before: Item) -> tuple[Item, LedgerEntry] | None:
        self.taken = self.decide(before)
        return None if self.taken is None else (self.taken.item, self.taken.entry)


Render = ChangeRender


@dataclass(frozen=True)
class Recounted:
    """One item whose provisional deadline was counted again (and recorded, unless a dry run)."""

    item_id: int
    title: str
    old_due: date | None
    new_due: date | None
    old_overdue_at: datetime | None
    new_overdue_at: datetime | None
    provisional: bool  # still provisional afterwards
    note: str  # the ledger row's note
    notified: tuple[str, ...]  # who is told (names); empty when the deadline did not move
    was_provisional: bool = True  # else: counted again because the terms or events changed

    @property
    def moved(self) -> bool:
        return (self.old_due, self.old_overdue_at) != (self.new_due, self.new_overdue_at)

    def to_json(self, tz: ZoneInfo) -> dict[str, Any]:
        def instant(value: datetime | None) -> str | None:
            return value.astimezone(tz).isoformat() if value else None

        return {"item": self.item_id, "title": self.title, "moved": self.moved,
                "old_due": self.old_due.isoformat() if self.old_due else None,
                "new_due": self.new_due.isoformat() if self.new_due else None,
                "old_overdue_at": instant(self.old_overdue_at), "new_overdue_at": instant(self.new_overdue_at),
                "provisional": self.provisional, "was_provisional": self.was_provisional, "note": self.note,
                "notified": list(self.notified)}


@dataclass
class RecountSummary:
    """What one run did: items looked at, and what became of them."""

    reason: str
    dry_run: bool = False
    checked: int = 0  # open items looked at: provisional ones and those read against terms or events
    unchanged: int = 0  # still provisional with the same deadline: nothing written
    terms_unchanged: int = 0  # read against the terms or events, which gave the same deadline
    failed: int = 0  # could not be counted (logged); looked at again on the next run
    items: list[Recounted] = field(default_factory=list)

    @property
    def moved(self) -> int:
        return sum(r.moved for r in self.items)

    @property
    def confirmed(self) -> int:
        """Same deadline, now exact."""
        return sum(not r.moved and not r.provisional for r in self.items)

    @property
    def still_provisional(self) -> int:
        return self.unchanged + sum(r.provisional for r in self.items)

    def counts(self) -> dict[str, Any]:
        return {"reason": self.reason, "dry_run": self.dry_run, "checked": self.checked,
                "moved": self.moved, "confirmed": self.confirmed,
                "still_provisional": self.still_provisional, "terms_unchanged": self.terms_unchanged,
                "failed": self.failed}


class Recount:
    """Counts every open provisional item again with the service's current calendar.

    `previous` is the calendar the items were counted with, when known (a reload): the
    ledger note then names exactly the years it lacked."""

    def __init__(self, service: Service, rewriter: Rewriter, render: Render, site_name: str,
                 previous: WorkCalendar | None = None, terms_changed: bool | None = None) -> None:
        self.service, self.rewriter, self.render = service, rewriter, render
        self.site_name, self.previous = site_name, previous
        # Whether the school terms (any campus's) or the events changed since the deadlines
        # were counted; None when unknown (at start, by hand), which means looking.
        self.terms_changed = terms_changed
        # The words a deadline read against the terms or the events contains.
        self.words = (*TERM_WORDS, *dict.fromkeys(e.name for e in service.calendar.events))

    def run(self, reason: str, *, dry_run: bool = False) -> RecountSummary:
        service = self.service
        summary = RecountSummary(reason, dry_run)
        finals = {name: service.final_states(name) for name in service.workflows}
        provisional = service.store.provisional_open(finals)
        known = set(provisional)
        for item_id in provisional + [i for i in self._term_items(finals) if i not in known]:
            summary.checked += 1
            try:
                done = self._dry(item_id) if dry_run else self._write(item_id)
            except StoreError:
                raise  # the database is gone: the whole run is retried later
            except Exception as exc:  # noqa: BLE001 - one broken item must not stop the others
                summary.failed += 1
                log.error("provisional_recount_failed", item=item_id, error=str(exc), exc_info=True)
                continue
            if done is not None:
                summary.items.append(done)
            elif item_id in known:
                summary.unchanged += 1
            else:
                summary.terms_unchanged += 1
        log.info("provisional_recomputed", **summary.counts())
        return summary

    def _term_items(self, finals: dict[str, frozenset[str]]) -> list[int]:
        """Open items whose own deadline, or whose rule's, may be read against the terms or
        the events; none when the site has no calendar file (no such deadline can have been
        counted) or the terms and events are known unchanged (a reload that changed only
        holidays or local days)."""
        service = self.service
        if service.calendar.terms is None and not service.calendar.events or self.terms_changed is False:
            return []
        rules = [(version, name) for version, name in service.store.rule_bindings_open(finals)
                 if _rule_reads(service.policies.get(version), name, self.words)]
        return service.store.deadlines_open(finals, self.words, rules)

    def _dry(self, item_id: int) -> Recounted | None:
        decided = self.decide(self.service.store.get(item_id), self.service.clock.now(), mail=False)
        return decided[1] if decided else None

    def _write(self, item_id: int) -> Recounted | None:
        """One transaction; decided again from fresh data when another writer got in first."""
        found: list[Recounted] = []

        def decide(before: Item) -> Rewrite | None:
            found.clear()
            decided = self.decide(before, self.service.clock.now())
            if decided is None:
                return None
            found.append(decided[1])
            return decided[0]

        if retrying(item_id, EVENT, lambda: self.rewriter.rewrite(item_id, decide)) is None:
            return None
        done = found[0]
        log.info("deadline_recounted", item=item_id, old_due=str(done.old_due), new_due=str(done.new_due),
                 provisional=done.provisional, notified=list(done.notified))
        return done

    # -- one item --------------------------------------------------------------------

    def decide(self, before: Item, at: datetime, *, mail: bool = True) -> tuple[Rewrite, Recounted] | None:
        """The item counted again under its own policy version with the current calendar,
        its ledger entry and (if the deadline moved) its notice; None when there is
        nothing to record: no longer provisional, closed, or nothing learnt."""
        service = self.service
        if not before.policy_version or before.state in service.final_states(before.workflow):
            return None
        policy = service.policies.get(before.policy_version)
        if not before.provisional and not _reads(before, policy, self.words):
            return None
        if policy.version != before.policy_version:
            # Rebinding would move the item to another version: that is `policy apply`'s job.
            log.warning("provisional_recount_skipped", item=before.id, policy_version=before.policy_version)
            return None
        old_plan = service.plan(before)
        draft = before.copy()
        new_plan = service.rebind(draft, policy)
        service.reschedule(before, draft, new_plan, at)
        if all(getattr(before, name) == getattr(draft, name) for name in _BASIS):
            return None
        note = self.note(before, draft)
        entry = LedgerEntry(before.id, 0, EVENT, before.state, draft.state, SYSTEM_ACTOR, at, note,
                            changes=_basis_changes(_zoned(before, service.tz), _zoned(draft, service.tz), RECORDED))
        moved = (before.due, before.overdue_at) != (draft.due, draft.overdue_at)
        told = [a for a in resolve(("responsible",), draft, service.org) if a.email] if moved else []
        if moved and not told:
            log.warning("no_recipient_address", item=before.id, event=EVENT, roles=["responsible"])
        done = Recounted(before.id or 0, before.title, old_plan.due, new_plan.due, before.overdue_with_pauses(),
                         draft.overdue_with_pauses(), draft.provisional, note, tuple(a.name for a in told),
                         before.provisional)
        messages = tuple(self._message(done, draft, a.role, a.name, a.email, at) for a in told) if mail else ()
        return Rewrite(draft, entry, messages), done

    def note(self, before: Item, after: Item) -> str:
        """The ledger note, in Chinese: which years the calendar learnt and what it did."""
        calendar, tz = self.service.calendar, self.service.tz
        if not before.provisional:  # counted again because the terms or the events changed
            body = self._school_note(before)
            if after.provisional:
                missing = unknown_years(after.started_at, after.due, calendar, tz)
                body += f"，为暂定（{years_text(missing)}年安排尚未公布）" if missing else "，为暂定"
            return body + self._moved(before, after)
        start = (after.started_at or after.found_at).astimezone(tz)
        last = max((d for d in (before.due, after.due) if d), default=start.date())
        span = range(start.year, last.year + 1)
        if self.previous is not None:
            learnt = [y for y in span if calendar.knows(y) and not self.previous.knows(y)]
        else:  # the year an item is reported in is nearly always known by then
            learnt = ([y for y in span if calendar.knows(y) and y > start.year]
                      or [y for y in span if calendar.knows(y) and not calendar.published(y)])
        head = f"{years_text(learnt)}年节假日安排已加入日历" if learnt else "节假日安排已更新"
        if after.provisional:
            missing = unknown_years(after.started_at, after.due, calendar, tz)
            body = f"期限重新计算，仍为暂定（{years_text(missing)}年安排尚未公布）" if missing else "期限重新计算，仍为暂定"
        else:
            body = "期限由暂定改为确定"
        return f"{head}，{body}{self._moved(before, after)}"

    def _school_note(self, item: Item) -> str:
        """What changed for a deadline read against the terms or an event."""
        text = item.deadline
        if text is None and item.policy_version:
            rule = self.service.policies.get(item.policy_version).rule_named(item.rule)
            text = rule.deadline if rule else None
        if _uses(text, self.words[len(TERM_WORDS):]):
            return "事件日期已更新（calendar.yaml 的 events），期限按新的日期重新计算"
        return "学期安排已更新（calendar.yaml 的 terms），期限按新的学期重新计算"

    def _moved(self, before: Item, after: Item) -> str:
        if before.due != after.due:
            return f"，最后期限由{_cn(before.due)}改为{_cn(after.due)}"
        if before.overdue_at != after.overdue_at:
            tz = self.service.tz
            return f"，逾期时间由{_cn_time(before.overdue_at, tz)}改为{_cn_time(after.overdue_at, tz)}"
        return "，最后期限不变"

    def _message(self, done: Recounted, item: Item, role: str, name: str, email: str | None,
                 at: datetime) -> Composed:
        service = self.service
        missing = unknown_years(item.started_at, item.due, service.calendar, service.tz) if item.provisional else []
        change = DeadlineChange(
            self.site_name, name, email or "", role, done.item_id, item.title, item.kind, item.category,
            item.level, item.unit, item.location, service.workflows.state_title(item.workflow, item.state),
            done.old_due, done.new_due, done.old_overdue_at, done.new_overdue_at, item.provisional,
            done.note, provisional_note(missing) if item.provisional else "", at, service.tz,
            was_provisional=done.was_provisional)
        rendered = self.render(change)
        return Composed(name, email or "", rendered.subject, rendered.text, rendered.html, ())


def _zoned(item: Item, tz: ZoneInfo) -> Item:
    """The item with its overdue instant in the site's zone, so that the ledger shows the
    old value (read back in UTC) and the new one (just counted) alike."""
    if item.overdue_at is None:
        return item
    shown = item.copy()
    shown.overdue_at = item.overdue_at.astimezone(tz)
    return shown


def _cn(day: date | None) -> str:
    return cn_date(day) if day else "无"


def _cn_time(value: datetime | None, tz: ZoneInfo) -> str:
    if value is None:
        return "无"
    local = value.astimezone(tz)
    return f"{_cn(local.date())} {local:%H:%M}"


def _uses(text: str | None, words: tuple[str, ...]) -> bool:
    return text is not None and any(word in text for word in words)


def _reads(item: Item, policy: Policy, words: tuple[str, ...]) -> bool:
    """Whether the item's deadline (its own, else its rule's) may be read against the terms
    or the events (it contains one of `words`)."""
    return _uses(item.deadline, words) if item.deadline else _rule_reads(policy, item.rule, words)


def _rule_reads(policy: Policy, rule_name: str | None, words: tuple[str, ...]) -> bool:
    rule = policy.rule_named(rule_name)
    return rule is not None and _uses(rule.deadline, words)
