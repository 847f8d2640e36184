"""One tick of the scheduler: queue the steps that came due, compose digests, deliver them.

    schedule  items whose next action time has come (an indexed column) are claimed in
              batches; for each, the plan (the same pure function `simulate` uses) gives
              the steps since its cursor; they are queued as notifications in the same
              transaction that moves the cursor. A unique key per (item, policy version,
              step, instant) makes queuing a step twice impossible.
    compose   unsent notifications are grouped per recipient into one digest email each
              (one entry per item: engine.digests), rendered once and stored, so every
              retry sends the same message. Outside the site's office hours only urgent
              notifications are composed (engine.officehours); the others wait for the
              first tick inside, which sends them in one digest per recipient.
    deliver   pending messages are handed to the mailer; temporary failures back off
              with jitter, permanent ones (and too many tries) become dead letters.
              Outside office hours only urgent messages are sent.

Nothing here knows SQL or SMTP: the Outbox protocol and the Mailer do.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import structlog

from engine.digests import entries
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
from engine.obligations import Failure, current_filings, missed_filings
from engine.officehours import ALWAYS, OfficeHours, urgent_step
from engine.plan import Step
from engine.ports import DigestRender, Mailer, Outbox
from engine.recipients import Addressee, resolve
from engine.robots import GroupContext, group_messages
from engine.service import Service

if TYPE_CHECKING:
    from engine.robotdelivery import RobotChannel

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
    urgent: bool = False  # the rule says: deliver at once, outside office hours too


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
    urgent: bool = False


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
    # "mail", or "robot": a group robot's message (engine/robots.py), its `robot` the
    # robot's id, platform, message type, part and the mobiles it mentions.
    channel: str = "mail"
    robot: dict[str, Any] | None = None
    # Sent at once, outside office hours too (an urgent step, a login link, an alert to
    # the administrator); every other message waits for office hours.
    urgent: bool = False


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
    urgent: bool = False

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
    backfilled: int = 0  # of `opened`: tasks of periods missed while no daemon ran (补建)
    office_open: bool = True  # whether the tick was inside office hours (else only urgent went out)
    stage_reports: int = 0  # stage-report messages queued
    sent: int = 0
    retried: int = 0
    dead: int = 0
    robot_sent: int = 0  # group robots' messages (engine/robotdelivery.py)
    robot_retried: int = 0
    robot_dead: int = 0
    seconds: float = 0.0
    site_wide: bool = True  # whether this process did the site-wide work (held the site lock)
    errors: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"at": self.at.isoformat(), "opened": self.opened, "backfilled": self.backfilled,
                "reports": self.stage_reports, "items": self.items, "queued": self.queued,
                "composed": self.composed, "sent": self.sent, "retried": self.retried,
                "dead": self.dead, "site_wide": self.site_wide, "office_open": self.office_open,
                "seconds": round(self.seconds, 3),
                "robot_sent": self.robot_sent, "robot_retried": self.robot_retried, "robot_dead": self.robot_dead}


Render = DigestRender


class Scheduler:
    def __init__(self, service: Service, outbox: Outbox, render: Render, mailer: Mailer, *,
                 site_name: str, tick_seconds: float = 60, batch_size: int = 500,
                 claim_seconds: float = 300, max_attempts: int = 12,
                 rng: random.Random | None = None,
                 periodic: Callable[[datetime], int] | None = None,
                 site_wide: Callable[[], bool] | None = None,
                 robots: RobotChannel | None = None,
                 office_hours: OfficeHours = ALWAYS) -> None:
        self.service, self.outbox, self.render, self.mailer = service, outbox, render, mailer
        # The second channel: group robots (None: mail only).
        self.robots = robots
        # When non-urgent messages may go out (rectify.yaml delivery.office_hours).
        self.office_hours = office_hours
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
            summary.opened, summary.backfilled = self.open_obligations(at, previous)
            if self.periodic is not None:
                try:
                    summary.stage_reports = self.periodic(at)
                except Exception as exc:  # noqa: BLE001 - reminders and escalations go on
                    log.error("periodic_failed", error=f"{type(exc).__name__}: {exc}", exc_info=True)
        summary.items, summary.queued = self.schedule(at, previous)
        summary.office_open = self.office_open(at)
        summary.composed = self.compose(at)
        if self.robots is not None:
            # Before mail: an admin alert it queues goes out now. Outside office hours only
            # urgent group messages go (a retry of another waits, as mail does).
            self.robots.deliver(at, summary, only_urgent=not summary.office_open)
        self.deliver(at, summary)
        return summary

    def office_open(self, at: datetime) -> bool:
        """Whether `at` is in the site's office hours (its calendar's working days)."""
        return self.office_hours.is_open(at, self.service.tz, self.service.calendar)

    def office_opens_at(self, at: datetime) -> datetime | None:
        """When what waits for office hours goes out: `at` itself when open."""
        return self.office_hours.opens_at(at, self.service.tz, self.service.calendar)

    def open_obligations(self, at: datetime, previous: datetime | None = None) -> tuple[int, int]:
        """Create this period's filing tasks that do not exist yet (idempotent by origin),
        and those of the periods that ended since the `previous` tick while no daemon ran
        (补建); returns (created, of which backfilled). An obligation that cannot be worked
        out is logged when it starts failing (or its reason changes) and when it
        recovers, not at every tick; the others go ahead."""
        service = self.service
        policy, org, tz, calendar = service.policies.current, service.org, service.tz, service.calendar
        try:
            due, failures = current_filings(policy, org, at, tz, calendar)
            if previous is not None:
                missed, more = missed_filings(policy, org, previous, at, tz, calendar)
                due, failures = missed + due, failures + [f for f in more if f not in failures]
            created = service.open_filings(due, at)
        except RectifyError as exc:
            log.error("obligations_failed", error=str(exc))
            return 0, 0
        backfilled = {r.origin for r in due if r.backfilled}
        late = [i.origin for i in created if i.origin in backfilled]
        if late:
            log.warning("obligations_backfilled", tasks=len(late), since=previous.isoformat() if previous else None,
                        origins=late[:10])
        self._log_failures(failures)
        return len(created), len(late)

    def _log_failures(self, failures: list[Failure]) -> None:
        failing = {f.obligation: f for f in failures}
        for name, f in failing.items():
            if self._failing.get(name) != f.reason:
                log.error("obligation_failed", obligation=name, where=f.where, error=f.reason)
        for name in self._failing.keys() - failing.keys():
            log.info("obligation_recovered", obligation=name)
        self._failing = {name: f.reason for name, f in failing.items()}

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
                             previous is not None and previous < s.at < at - grace, urgent_step(plan.rule, s))
                      for s in steps]
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
        """Digests of the notifications queued so far: all of them in office hours, only
        the urgent ones outside (the others wait for the first tick inside)."""
        total = 0
        only_urgent = not self.office_open(at)
        while True:
            taken, written = self.outbox.compose(at, self.batch_size * 4,
                                                 lambda p: self.digests(p, at) + self.group_messages(p, at),
                                                 only_urgent)
            total += written
            if taken == 0:
                return total

    def digests(self, pending: list[Pending], at: datetime) -> list[Composed]:
        """One digest per recipient address for these notifications, one entry per item
        (engine.digests). Reminders and escalations of an item closed since they fell due
        are not sent: it needs nothing any more."""
        by_address: dict[str, list[tuple[Pending, dict[str, Any]]]] = defaultdict(list)
        names: dict[str, str] = {}
        overdue: dict[int, datetime | None] = {}
        for p in pending:
            if p.kind in ("remind", "escalate") and self._closed(p.item):
                log.info("notification_dropped_closed", item=p.item.id, step=p.step_key)
                continue
            if (p.item.id or 0) not in overdue:
                overdue[p.item.id or 0] = self._overdue(p.item)
            for r in p.recipients:
                if r.get("email"):
                    by_address[r["email"].lower()].append((p, r))
                    names.setdefault(r["email"].lower(), r["name"])
        composed = []
        tz = self.service.tz
        for address, group in by_address.items():
            group.sort(key=lambda e: (e[0].step_at, e[0].item.id or 0))
            notices = entries([self._notice(p, r, at, overdue[p.item.id or 0]) for p, r in group],
                              [p.step_key for p, _ in group], at)
            email = group[0][1]["email"]
            digest = Digest(self.organisation, names[address], email, notices, at, tz,
                            office=self.service.org.safety_office)
            rendered = self.render(digest)
            composed.append(Composed(names[address], email, rendered.subject, rendered.text, rendered.html,
                                     tuple(sorted({p.id for p, _ in group})),
                                     urgent=any(p.urgent for p, _ in group)))
        return composed

    def group_messages(self, pending: list[Pending], at: datetime) -> list[Composed]:
        """The group robots' messages for these notifications (none without robots)."""
        if self.robots is None:
            return []
        service = self.service
        return group_messages(pending, at, GroupContext(self.organisation, service.org, service.tz,
                                                         service.workflows.state_title))

    def _closed(self, item: Item) -> bool:
        try:
            return item.state in self.service.final_states(item.workflow)
        except RectifyError:
            return False

    def _overdue(self, item: Item) -> datetime | None:
        """When the item falls (fell) overdue as its plan has it now: None while paused."""
        try:
            return self.service.plan(item).overdue_at
        except Exception:  # noqa: BLE001 - a broken plan: the stored instant will do
            return item.overdue_with_pauses()

    def _notice(self, p: Pending, recipient: dict[str, Any], at: datetime, overdue: datetime | None) -> Notice:
        item = p.item
        state = self.service.workflows.state_title(item.workflow, item.state)
        # Days overdue as the recipient reads the mail, not when the step fell due.
        days = overdue_days(overdue, item.due, at, self.service.tz) if overdue and p.kind == "escalate" else 0
        others = tuple(r["name"] for r in p.recipients if r["name"] != recipient["name"])
        note = provisional_note(unknown_years(item.started_at, item.due, self.service.calendar,
                                              self.service.tz)) if item.provisional else ""
        return Notice(item.id or 0, item.title, item.kind, item.category, item.level, item.unit, item.location,
                      state, item.due, overdue, p.kind, p.action, p.label, p.step_at, days, p.late,
                      recipient["role"], others, item.provisional, note)

    def deliver(self, at: datetime, summary: TickSummary | None = None) -> TickSummary:
        """Send the pending messages that are due (outside office hours, only the urgent
        ones); stop at the first temporary failure (the server is likely down for all of
        them) and leave the rest for later."""
        summary = summary or TickSummary(at)
        only_urgent = not self.office_open(at)
        while True:
            batch = self.outbox.claim_messages(at, min(self.batch_size, SEND_BATCH),
                                               at + timedelta(seconds=self.claim_seconds), only_urgent)
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

