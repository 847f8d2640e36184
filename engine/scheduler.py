"""One tick of the scheduler: queue the steps that came due, compose digests, deliver them.

    schedule  items whose next action time has come (an indexed column) are claimed in
              batches; for each, the plan (the same pure function `simulate` uses) gives
              the steps since its cursor; they are queued as notifications in the same
              transaction that moves the cursor. A unique key per (item, policy version,
              step, instant) makes queuing a step twice impossible.
    compose   unsent notifications are grouped per recipient into one digest email each,
              rendered once and stored, so every retry sends the same message.
    deliver   pending messages are handed to the mailer; temporary failures back off
              with jitter, permanent ones (and too many tries) become dead letters.

Nothing here knows SQL or SMTP: the Outbox protocol and the Mailer do.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import structlog

from engine.errors import RectifyError
from engine.mail import (
    Attachment,
    InlineImage,
    OutgoingMessage,
    PermanentFailure,
    Recipient,
    TemporaryFailure,
    retry_delay,
)
from engine.model import Item
from engine.notices import Digest, Notice, provisional_note, unknown_years
from engine.obligations import current_filings
from engine.plan import Step
from engine.ports import DigestRender, Mailer, Outbox
from engine.recipients import Addressee, resolve
from engine.service import Service

log = structlog.get_logger("rectify.scheduler")

# An item whose plan cannot be computed (bad data) is looked at again after this long,
# rather than at every tick.
RETRY_BROKEN_ITEM = timedelta(hours=1)
# Messages are leased for delivery a few at a time: the lease (claim_seconds) must
# outlast sending a whole batch, or another daemon would take the rest and send it too.
SEND_BATCH = 50


@dataclass(frozen=True)
class Queued:
    """A step to record as a notification."""

    item_id: int
    policy_version: str
    step: Step
    recipients: tuple[Addressee, ...]
    late: bool


@dataclass(frozen=True)
class Decision:
    """What a tick decided for one claimed item: what to queue and where its cursor goes."""

    notifications: list[Queued]
    planned_until: datetime | None
    next_action_at: datetime | None


@dataclass(frozen=True)
class Pending:
    """A queued notification not yet in any message, with its item as it is now."""

    id: int
    item: Item
    policy_version: str
    step_key: str
    step_at: datetime
    kind: str
    action: str
    label: str
    recipients: list[dict[str, Any]]  # role, name, email
    late: bool


@dataclass(frozen=True)
class Composed:
    """A digest for one recipient, rendered, with the notifications it carries."""

    recipient_name: str
    recipient_email: str
    subject: str
    text: str
    html: str | None
    notification_ids: tuple[int, ...]
    attachments: tuple[Attachment, ...] = ()
    inline_images: tuple[InlineImage, ...] = ()


@dataclass(frozen=True)
class Outgoing:
    """A message claimed for delivery."""

    id: int
    recipient_name: str
    recipient_email: str
    subject: str
    text: str
    html: str | None
    attempts: int
    attachments: tuple[Attachment, ...] = ()
    inline_images: tuple[InlineImage, ...] = ()

    @property
    def key(self) -> str:
        """The message's stable identity: its .eml name and the left half of its Message-ID."""
        return f"notice-{self.id}"


@dataclass
class TickSummary:
    """What one tick did, counted (logged as the `tick` event, printed by `rectify tick`)."""

    at: datetime
    items: int = 0
    queued: int = 0
    composed: int = 0
    opened: int = 0
    stage_reports: int = 0  # stage-report messages queued
    sent: int = 0
    retried: int = 0
    dead: int = 0
    seconds: float = 0.0
    site_wide: bool = True  # whether this process did the site-wide work (held the site lock)
    errors: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"at": self.at.isoformat(), "opened": self.opened, "reports": self.stage_reports, "items": self.items, "queued": self.queued,
                "composed": self.composed, "sent": self.sent, "retried": self.retried,
                "dead": self.dead, "site_wide": self.site_wide, "seconds": round(self.seconds, 3)}


Render = DigestRender


class Scheduler:
    def __init__(self, service: Service, outbox: Outbox, render: Render, mailer: Mailer, *,
                 site_name: str, tick_seconds: float = 60, batch_size: int = 500,
                 claim_seconds: float = 300, max_attempts: int = 12,
                 rng: random.Random | None = None,
                 periodic: Callable[[datetime], int] | None = None,
                 site_wide: Callable[[], bool] | None = None) -> None:
        self.service, self.outbox, self.render, self.mailer = service, outbox, render, mailer
        # Site-wide work once per period (stage reports); returns how many it queued.
        self.periodic = periodic
        # Whether this process may do the site-wide work now (it holds the site lock);
        # other daemons on the same database only schedule, compose and deliver.
        self.site_wide = site_wide
        self.site_name = site_name
        self.tick_seconds, self.batch_size = tick_seconds, batch_size
        self.claim_seconds, self.max_attempts = claim_seconds, max_attempts
        self.rng = rng or random.Random()
        # Obligations failing at the last tick, with the reason logged for each.
        self._failing: dict[str, str] = {}

    @property
    def organisation(self) -> str:
        """The name messages are signed with: org.yaml's organisation, else the site's name."""
        return self.service.org.name or self.site_name

    # -- one tick --------------------------------------------------------------------

    def tick(self, at: datetime) -> TickSummary:
        summary = TickSummary(at)
        previous = self.outbox.previous_tick()
        summary.site_wide = self.site_wide is None or self.site_wide()
        if summary.site_wide:
            summary.opened = self.open_obligations(at)
            if self.periodic is not None:
                try:
                    summary.stage_reports = self.periodic(at)
                except Exception as exc:  # noqa: BLE001 - reminders and escalations go on
                    log.error("periodic_failed", error=f"{type(exc).__name__}: {exc}", exc_info=True)
        summary.items, summary.queued = self.schedule(at, previous)
        summary.composed = self.compose(at)
        self.deliver(at, summary)
        return summary

    def open_obligations(self, at: datetime) -> int:
        """Create this period's filing tasks that do not exist yet (idempotent by origin).
        An obligation that cannot be worked out is logged when it starts failing (or its
        reason changes) and when it recovers, not at every tick; the others go ahead."""
        service = self.service
        try:
            due, failures = current_filings(service.policies.current, service.org, at, service.tz, service.calendar)
            created = len(service.open_filings(due, at))
        except RectifyError as exc:
            log.error("obligations_failed", error=str(exc))
            return 0
        failing = {f.obligation: f for f in failures}
        for name, f in failing.items():
            if self._failing.get(name) != f.reason:
                log.error("obligation_failed", obligation=name, where=f.where, error=f.reason)
        for name in self._failing.keys() - failing.keys():
            log.info("obligation_recovered", obligation=name)
        self._failing = {name: f.reason for name, f in failing.items()}
        return created

    def schedule(self, at: datetime, previous: datetime | None = None) -> tuple[int, int]:
        """Queue every step due by `at`; batches until no claimed item is left due."""
        items = queued = 0
        while True:
            claimed, added = self.outbox.schedule_due(at, self.batch_size, lambda i: self.decide(i, at, previous))
            items, queued = items + claimed, queued + added
            if claimed < self.batch_size:
                return items, queued

    def decide(self, item: Item, at: datetime, previous: datetime | None = None) -> Decision:
        """The steps of the item's plan since its cursor, up to `at`, and its next action time.

        A step is late when it fell due after the previous tick and is older than two
        ticks: the daemon was down when it fell due."""
        try:
            plan = self.service.plan(item)
            steps = list(plan.steps(item.planned_until, at))
            grace = timedelta(seconds=2 * self.tick_seconds)
            org = self.service.org
            # Late (补发) only if the step fell due after the previous tick and long ago:
            # no tick ran in between. A step older than the previous tick did not exist
            # then (the deadline changed since), so it was not missed by downtime.
            queued = [Queued(item.id or 0, plan.policy_version, s, tuple(resolve(s.recipients, item, org)),
                             previous is not None and previous < s.at < at - grace) for s in steps]
            after = max(at, item.planned_until) if item.planned_until else at
            upcoming = plan.next_step(after)
        except Exception as exc:  # noqa: BLE001 - one broken item must not stop the tick
            log.error("plan_failed", item=item.id, error=str(exc), exc_info=True)
            return Decision([], item.planned_until, at + RETRY_BROKEN_ITEM)
        for q in queued:
            if not any(a.email for a in q.recipients):
                log.warning("no_recipient_address", item=item.id, step=q.step.key, roles=list(q.step.recipients))
        return Decision(queued, after, upcoming.at if upcoming else None)

    def compose(self, at: datetime) -> int:
        total = 0
        while True:
            taken, written = self.outbox.compose(at, self.batch_size * 4, lambda p: self.digests(p, at))
            total += written
            if taken == 0:
                return total

    def digests(self, pending: list[Pending], at: datetime) -> list[Composed]:
        """One digest per recipient address for these notifications."""
        by_address: dict[str, list[tuple[Pending, dict[str, Any]]]] = defaultdict(list)
        names: dict[str, str] = {}
        for p in pending:
            for r in p.recipients:
                if r.get("email"):
                    by_address[r["email"].lower()].append((p, r))
                    names.setdefault(r["email"].lower(), r["name"])
        composed = []
        tz = self.service.tz
        for address, entries in by_address.items():
            entries.sort(key=lambda e: (e[0].step_at, e[0].item.id or 0))
            notices = _collapse_repeats([self._notice(p, r, at) for p, r in entries],
                                        [p.step_key for p, _ in entries])
            email = entries[0][1]["email"]
            digest = Digest(self.organisation, names[address], email, notices, at, tz,
                            office=self.service.org.safety_office)
            rendered = self.render(digest)
            composed.append(Composed(names[address], email, rendered.subject, rendered.text, rendered.html,
                                     tuple(sorted({p.id for p, _ in entries}))))
        return composed

    def _notice(self, p: Pending, recipient: dict[str, Any], at: datetime) -> Notice:
        item = p.item
        state = self.service.workflows.state_title(item.workflow, item.state)
        overdue = item.overdue_with_pauses()
        # Days overdue as the recipient reads the mail, not when the step fell due.
        days = overdue_days(overdue, item.due, at, self.service.tz) if overdue and p.kind == "escalate" else 0
        others = tuple(r["name"] for r in p.recipients if r["name"] != recipient["name"])
        note = provisional_note(unknown_years(item.started_at, item.due, self.service.calendar,
                                              self.service.tz)) if item.provisional else ""
        return Notice(item.id or 0, item.title, item.kind, item.category, item.level, item.unit, item.location,
                      state, item.due, overdue, p.kind, p.action, p.label, p.step_at, days, p.late,
                      recipient["role"], others, item.provisional, note)

    def deliver(self, at: datetime, summary: TickSummary | None = None) -> TickSummary:
        """Send the pending messages that are due; stop at the first temporary failure
        (the server is likely down for all of them) and leave the rest for later."""
        summary = summary or TickSummary(at)
        while True:
            batch = self.outbox.claim_messages(at, min(self.batch_size, SEND_BATCH),
                                               at + timedelta(seconds=self.claim_seconds))
            if not batch:
                return summary
            stopped = self._send_batch(batch, at, summary)
            if stopped:
                return summary

    def _send_batch(self, batch: list[Outgoing], at: datetime, summary: TickSummary) -> bool:
        session = getattr(self.mailer, "session", None)
        context: AbstractContextManager[Any] = session() if callable(session) else nullcontext()
        with context:
            for index, m in enumerate(batch):
                message = OutgoingMessage(m.key, m.subject, m.text, m.html,
                                          (Recipient(m.recipient_name, m.recipient_email),),
                                          attachments=m.attachments, inline_images=m.inline_images)
                attempts = m.attempts + 1
                try:
                    self.mailer.send(message)
                except TemporaryFailure as exc:
                    self._failed(m, attempts, at, str(exc), summary)
                    self.outbox.release([x.id for x in batch[index + 1:]], at)
                    return True
                except PermanentFailure as exc:
                    self.outbox.mark_dead(m.id, attempts, str(exc))
                    summary.dead += 1
                    log.error("mail_dead_letter", message=m.id, error=str(exc))
                else:
                    self.outbox.mark_sent(m.id, at)
                    summary.sent += 1
        return False

    def _failed(self, m: Outgoing, attempts: int, at: datetime, error: str, summary: TickSummary) -> None:
        if attempts >= self.max_attempts:
            self.outbox.mark_dead(m.id, attempts, f"已尝试 {attempts} 次：{error}")
            summary.dead += 1
            log.error("mail_dead_letter", message=m.id, attempts=attempts, error=error)
            return
        delay = retry_delay(attempts, rng=self.rng)
        self.outbox.mark_retry(m.id, attempts, at + timedelta(seconds=delay), error)
        summary.retried += 1
        log.warning("mail_retry", message=m.id, attempts=attempts, retry_in=round(delay), error=error)


def overdue_days(overdue: datetime, due: date | None, at: datetime, tz: ZoneInfo) -> int:
    """Days overdue at `at` as the 台账 and the stage report count them (days past the
    due day, at least 1), or 0 when the item fell overdue today (the mail says 今日逾期)."""
    today = at.astimezone(tz).date()
    fell = overdue.astimezone(tz).date()
    if fell >= today:
        return 0
    return max(1, (today - (due or fell)).days)


def _collapse_repeats(notices: list[Notice], keys: list[str]) -> tuple[Notice, ...]:
    """One notice per item, rung and role: repetitions of a repeating rung that fell due
    while no daemon ran (keys "escalate1.0", "escalate1.1", …) become their latest, with
    how many there were and since when. Notices stay in time order, by their latest."""
    groups: dict[tuple[int, str, str], list[Notice]] = {}
    for notice, key in zip(notices, keys, strict=True):
        groups.setdefault((notice.item_id, key.split(".")[0], notice.role), []).append(notice)
    collapsed = [group[-1] if len(group) == 1
                 else replace(group[-1], repeats=len(group), first_at=group[0].at)
                 for group in groups.values()]
    return tuple(sorted(collapsed, key=lambda n: (n.at, n.item_id)))
