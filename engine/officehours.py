"""When messages may go out: the site's office hours, and the steps a rule marks urgent.

The instant a step falls due is kept as the plan computes it (the ledger, `explain` and
the overdue clock use it); only *delivery* waits. Outside office hours a tick queues
the steps that fell due but composes and sends only urgent ones; the first tick inside
office hours composes everything that waited, one digest per recipient. Whatever the
channel (email today, a group robot beside it), the decision is made here, once.

Office hours (rectify.yaml `delivery.office_hours`): the working days of the site's
calendar (statutory days, 调休 make-up working days, the school's own days off from
calendar.yaml) or every day, from `start` (inclusive) to `end` (exclusive) site time;
08:00–18:00 on working days by default.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from engine.plan import Step
from engine.policy import Rule
from engine.workcal import WorkCalendar

DAY_MINUTES = 24 * 60
# How far ahead the next opening is looked for: a calendar may declare long breaks, but
# not a year without one working day.
LOOKAHEAD_DAYS = 400
DAYS = {"working": "工作日", "all": "每天"}


def minutes_of(text: str) -> int:
    """"08:30" → 510; "24:00" → 1440 (the end of the day)."""
    hours, _, minutes = text.partition(":")
    return int(hours) * 60 + int(minutes)


def clock_text(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@dataclass(frozen=True)
class OfficeHours:
    """When non-urgent messages may be delivered."""

    start: int = 8 * 60  # minutes after midnight, inclusive
    end: int = 18 * 60  # minutes after midnight, exclusive; 1440 is midnight at the day's end
    days: str = "working"  # working: the site calendar's working days | all: every day

    @property
    def always(self) -> bool:
        """Open at every instant: every day, 00:00–24:00."""
        return self.days == "all" and self.start == 0 and self.end >= DAY_MINUTES

    def describe(self) -> str:
        """E.g. "工作日 08:00–18:00"."""
        if self.always:
            return "全天"
        return f"{DAYS[self.days]} {clock_text(self.start)}–{clock_text(self.end)}"

    def _day_open(self, day: date, calendar: WorkCalendar) -> bool:
        return self.days == "all" or calendar.is_workday(day)

    def is_open(self, at: datetime, tz: ZoneInfo, calendar: WorkCalendar) -> bool:
        """Whether `at` (aware) falls in office hours."""
        if self.always:
            return True
        local = at.astimezone(tz)
        minute = local.hour * 60 + local.minute
        return self._day_open(local.date(), calendar) and self.start <= minute < self.end

    def opens_at(self, at: datetime, tz: ZoneInfo, calendar: WorkCalendar) -> datetime | None:
        """The first instant at or after `at` inside office hours (`at` itself when open);
        None when the calendar has no opening within LOOKAHEAD_DAYS."""
        if self.is_open(at, tz, calendar):
            return at
        local = at.astimezone(tz)
        day = local.date()
        if self._day_open(day, calendar) and local.hour * 60 + local.minute < self.start:
            return self._opening(day, tz)
        for _ in range(LOOKAHEAD_DAYS):
            day += timedelta(days=1)
            if self._day_open(day, calendar):
                return self._opening(day, tz)
        return None

    def _opening(self, day: date, tz: ZoneInfo) -> datetime:
        return datetime.combine(day, time(self.start // 60, self.start % 60), tz)


ALWAYS = OfficeHours(0, DAY_MINUTES, "all")


def urgent_step(rule: Rule | None, step: Step) -> bool:
    """Whether the rule says this step goes out at once, office hours or not: the whole
    rule (`urgent: true`), or this rung of its ladder (a step's `urgent: true`)."""
    if rule is None:
        return False
    if rule.urgent:
        return True
    return step.kind == "escalate" and step.index < len(rule.escalate) and rule.escalate[step.index].urgent


def held_recipients(recipients: list[list[dict[str, Any]]]) -> int:
    """How many addresses the notifications waiting for office hours are for (each
    notification's recipients: role, name, email): the digests they will become."""
    return len({r["email"].lower() for found in recipients for r in found if r.get("email")})
