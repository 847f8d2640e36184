"""Filing obligations (报送义务) → one filing task per unit per period, never twice.

"每季度末将阶段整治情况报综治办" becomes, for each responsible unit, a task due at the
end of the current quarter. Each task's origin key names the obligation, the due day
and the unit, so generating again (after a restart, by another daemon, by hand) finds
the key taken and creates nothing.
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
