"""Filing obligations (报送义务) → one filing task per unit per period, never twice.

"每季度末将阶段整治情况报综治办" becomes, for each responsible unit, a task due at the
end of the current quarter. Each task's origin key names the obligation, the due day
and the unit, so generating again (after a restart, by another daemon, by hand) finds
the key taken and creates nothing.

Periods that ended while no daemon ran (`missed_filings`: after the last tick, before
the period open now) get their task afterwards, once, marked 补建 (`DueFiling.backfilled`);
nothing is created for a period that ended before the site's first tick.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from engine.deadline import parse_deadline
from engine.errors import RectifyError
from engine.org import Org
from engine.policy import Campaign, Obligation, Policy
from engine.workcal import WorkCalendar


@dataclass(frozen=True)
class DueFiling:
    """One unit's filing owed for the obligation's current period (its task's origin key)."""

    origin: str
    obligation: str
    title: str
    unit: str
    due: date
    # The period ended while no daemon ran: its task is created afterwards (补建).
    backfilled: bool = False


# The most missed periods of one obligation created after downtime (a weekly filing
# missed for eight years); older ones are left, and logged by the caller.
MAX_MISSED = 400
BACKFILL_NOTE = "补建：本期报送任务的期限在系统停止运行期间已过，未能按时生成，现予补建"


def _units(ob: Obligation, org: Org) -> list[str]:
    if ob.units is not None:
        return [org.unit(u).name for u in ob.units]
    # "every unit" reports to the safety office; the office does not report to itself.
    return [u for u in org.units if not ("safety_office" in ob.report_to and u == org.safety_office)]


def _in_scope(ob: Obligation, campaign: Campaign | None, due: date) -> bool:
    if campaign and campaign.phases and not (campaign.phases[0].start <= due <= campaign.phases[-1].end):
        return False
    if ob.phases:
        phase = campaign.phase_at(due) if campaign else None
        return phase in ob.phases
    return True


@dataclass(frozen=True)
class Failure:
    """An obligation whose period could not be worked out, and why (in Chinese)."""

    obligation: str
    where: str  # file:line of the obligation in rules/
    reason: str

    def describe(self) -> str:
        return f"{self.where}: 报送义务“{self.obligation}”本期无法生成：{self.reason}"


def current_filings(policy: Policy, org: Org, at: datetime, tz: ZoneInfo,
                    calendar: WorkCalendar | None = None) -> tuple[list[DueFiling], list[Failure]]:
    """For each obligation, the period open at `at`: one DueFiling per unit (periods in
    working days count with the site's `calendar`). An obligation that cannot be worked
    out (a term-based period past the last term in calendar.yaml, a unit org.yaml no
    longer has) is returned as a Failure and does not hold up the others."""
    found: list[DueFiling] = []
    failures: list[Failure] = []
    for ob in policy.obligations:
        try:
            found += _period(ob, policy, org, at, tz, calendar)
        except RectifyError as exc:
            failures.append(Failure(ob.name, f"{ob.where.file}:{ob.where.line}", str(exc)))
    return found, failures


def _period(ob: Obligation, policy: Policy, org: Org, at: datetime, tz: ZoneInfo,
            calendar: WorkCalendar | None) -> list[DueFiling]:
    campaign = policy.campaign(ob.campaign) if ob.campaign else None
    start = at
    if campaign and campaign.phases:
        opening = datetime.combine(campaign.phases[0].start, datetime.min.time(), tz)
        start = max(at, opening)
    deadline = parse_deadline(ob.every, start, tz, calendar=calendar, count=1)
    dues = deadline.next_dues(start, 1)
    if not dues or not _in_scope(ob, campaign, dues[0]) or start > at:
        return []
    return [DueFiling(f"obligation:{ob.name}:{dues[0].isoformat()}:{unit}", ob.name,
                      f"{ob.title}（{dues[0].isoformat()} 前）", unit, dues[0])
            for unit in _units(ob, org)]


def missed_filings(policy: Policy, org: Org, since: datetime, at: datetime, tz: ZoneInfo,
                   calendar: WorkCalendar | None = None) -> tuple[list[DueFiling], list[Failure]]:
    """For each obligation, the periods open at `since` (the previous tick) or after it
    that ended by `at`: their tasks, marked backfilled (补建), oldest first. A period whose
    task was created in time is returned too; its origin is taken, so nothing is created
    twice. Obligations that cannot be worked out are Failures, as in `current_filings`."""
    found: list[DueFiling] = []
    failures: list[Failure] = []
    if since >= at:
        return found, failures
    for ob in policy.obligations:
        try:
            found += _ended(ob, policy, org, since, at, tz, calendar)
        except RectifyError as exc:
            failures.append(Failure(ob.name, f"{ob.where.file}:{ob.where.line}", str(exc)))
    return found, failures


def _ended(ob: Obligation, policy: Policy, org: Org, since: datetime, at: datetime, tz: ZoneInfo,
           calendar: WorkCalendar | None) -> list[DueFiling]:
    campaign = policy.campaign(ob.campaign) if ob.campaign else None
    start = since
    if campaign and campaign.phases:
        start = max(since, datetime.combine(campaign.phases[0].start, datetime.min.time(), tz))
    if start >= at:
        return []
    deadline = parse_deadline(ob.every, start, tz, calendar=calendar, count=1)
    dues: list[date] = []
    after = start
    while len(dues) < MAX_MISSED:
        batch = [d for d in deadline.next_dues(after, 32) if d not in dues]
        ended = [d for d in batch if deadline.overdue_of(d) <= at]
        dues += ended
        if len(ended) < len(batch) or not batch:
            break
        after = deadline.overdue_of(ended[-1])
    units = _units(ob, org)
    return [DueFiling(f"obligation:{ob.name}:{due.isoformat()}:{unit}", ob.name,
                      f"{ob.title}（{due.isoformat()} 前，补建）", unit, due, backfilled=True)
            for due in dues[:MAX_MISSED] if _in_scope(ob, campaign, due) for unit in units]

