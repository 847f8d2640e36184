"""Recurring due days: "每季度末", "每月1日前", "每周五前", "每3个工作日".

Each rule answers one question, `dues_from(first, n, calendar)`: the next n due days
on or after `first`, and whether a working-day count behind them was provisional.
Calendar-aligned rules (cycles of months, weeks, days) do not depend on when counting
starts; interval rules ("每3天", "每2周", "每3个工作日") count from an origin day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal, Protocol

from engine.deadline.dates import add_months, days_in_month
from engine.workcal import WorkCalendar

Dues = tuple[tuple[date, ...], bool]
_WEEK = timedelta(weeks=1)


class Recurrence(Protocol):
    def dues_from(self, first: date, n: int, calendar: WorkCalendar) -> Dues:
        """The next n due days on or after `first`, and whether any is provisional."""
        ...


@dataclass(frozen=True, slots=True)
class MonthCycle:
    """Cycles of `months` months aligned to January (1, 2, 3, 4, 6 or 12), due in the
    `month`-th month of each cycle on `day`, or on its last day when `day` is None.
    A day the month lacks ("每月31日" in April) falls on the month's last day."""

    months: int
    month: int
    day: int | None = None

    def dues_from(self, first: date, n: int, calendar: WorkCalendar) -> Dues:
        # Months are counted as year * 12 + month - 1 so cycles line up with January.
        index = (first.year * 12 + first.month - 1) // self.months * self.months + self.month - 1
        dues: list[date] = []
        day, months = self.day, self.months
        while len(dues) < n:
            year, month = divmod(index, 12)
            last = days_in_month(year, month + 1)
            due = date(year, month + 1, last if day is None or day >= last else day)
            if due >= first:
                dues.append(due)
            index += months
        return tuple(dues), False


@dataclass(frozen=True, slots=True)
class WeekCycle:
    """Every week on `weekday` (Monday = 0; Sunday, the week's last day, = 6)."""

    weekday: int = 6

    def dues_from(self, first: date, n: int, calendar: WorkCalendar) -> Dues:
        due = first + timedelta(days=(self.weekday - first.weekday()) % 7)
        dues = [due]
        for _ in range(n - 1):
            due += _WEEK
            dues.append(due)
        return tuple(dues), False


@dataclass(frozen=True, slots=True)
class DayCycle:
    """Every day, or every working day."""

    workdays_only: bool = False

    def dues_from(self, first: date, n: int, calendar: WorkCalendar) -> Dues:
        if not self.workdays_only:
            return tuple(first + timedelta(days=k) for k in range(n)), False
        day, provisional = calendar.workday_on_or_after(first)
        dues = [day]
        while len(dues) < n:
            day, later = calendar.add_workdays(day, 1)
            dues.append(day)
            provisional = provisional or later
        return tuple(dues), provisional


@dataclass(frozen=True, slots=True)
class Interval:
    """Every `step` days, working days or months counted from `origin` (origin itself is
    not a due day: "每7日" from 1 May is due 8 May, 15 May, …)."""

    origin: date
    step: int
    unit: Literal["day", "workday", "month"]

    def dues_from(self, first: date, n: int, calendar: WorkCalendar) -> Dues:
        if self.unit == "day":
            k = max(1, -(-(first - self.origin).days // self.step))
            return tuple(self.origin + timedelta(days=(k + i) * self.step) for i in range(n)), False
        if self.unit == "month":
            return self._months_from(first, n), False
        return self._workdays_from(first, n, calendar)

    def _months_from(self, first: date, n: int) -> tuple[date, ...]:
        # Always from the origin, so a clamped 31st does not drift to the 28th for good.
        k = max(
            1, ((first.year - self.origin.year) * 12 + first.month - self.origin.month) // self.step
        )
        dues: list[date] = []
        while len(dues) < n:
            due = add_months(self.origin, k * self.step)
            if due >= first:
                dues.append(due)
            k += 1
        return tuple(dues)

    def _workdays_from(self, first: date, n: int, calendar: WorkCalendar) -> Dues:
        due, provisional = calendar.add_workdays(self.origin, self.step)
        dues: list[date] = []
        while len(dues) < n:
            if due >= first:
                dues.append(due)
            due, later = calendar.add_workdays(due, self.step)
            provisional = provisional or later
        return tuple(dues), provisional


@dataclass(frozen=True, slots=True)
class TermCycle:
    """Once per school term, from the calendar's terms: due on each term's last day
    ("每学期", "每学期末", "每学期放假前"), or on the day before it starts ("每学期开学前").
    Only the terms the calendar lists: fewer than n dues when it lists fewer."""

    opening: bool = False

    def dues_from(self, first: date, n: int, calendar: WorkCalendar) -> Dues:
        dues: list[date] = []
        for term in calendar.terms or ():
            due = term.start - timedelta(days=1) if self.opening else term.end
            if due >= first:
                dues.append(due)
                if len(dues) == n:
                    break
        return tuple(dues), False


@dataclass(frozen=True, slots=True)
class WorkdayCycle:
    """The `nth` working day of each cycle of `months` months aligned to January ("每月
    第一个工作日"), or of each week when `months` is 0 ("每周最后一个工作日"); nth -1 is the
    last working day. A cycle with fewer working days has no due (never in practice)."""

    months: int
    nth: int

    def dues_from(self, first: date, n: int, calendar: WorkCalendar) -> Dues:
        dues: list[date] = []
        provisional = False
        start, end = self._cycle(first)
        while len(dues) < n:
            days = [start + timedelta(days=k) for k in range((end - start).days + 1)]
            work = [d for d in days if calendar.is_workday(d)]
            if len(work) >= abs(self.nth):
                due = work[self.nth - 1 if self.nth > 0 else self.nth]
                if due >= first:
                    dues.append(due)
                    provisional = provisional or not calendar.knows(due.year)
            start, end = self._cycle(end + timedelta(days=1))
        return tuple(dues), provisional

    def _cycle(self, day: date) -> tuple[date, date]:
        """The first and last day of the cycle holding `day`."""
        if self.months == 0:
            monday = day - timedelta(days=day.weekday())
            return monday, monday + timedelta(days=6)
        index = (day.year * 12 + day.month - 1) // self.months * self.months
        start = date(index // 12, index % 12 + 1, 1)
        last = add_months(start, self.months) - timedelta(days=1)
        return start, last
