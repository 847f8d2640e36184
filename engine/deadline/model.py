"""The typed result of reading a deadline expression."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, tzinfo
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from engine.deadline.dates import end_of_day
from engine.deadline.recurrence import Recurrence
from engine.workcal import DEFAULT_CALENDAR, WorkCalendar

SHANGHAI = ZoneInfo("Asia/Shanghai")


class Kind(StrEnum):
    ONCE = "once"
    WINDOW = "window"
    RECURRING = "recurring"
    IMMEDIATE = "immediate"
    ONGOING = "ongoing"


@dataclass(frozen=True, init=False)
class Deadline:
    """When something is due, as read from a Chinese expression at a reference time.

    dues: the last allowed days (once: one or more; window: its end; recurring: the
        next ones after the reference; immediate and ongoing: none).
    overdue_at: for each due, the instant the item becomes overdue: the end of the
        due day in the site's zone, or the exact instant for hour and minute counts.
    start: a window's first day.
    ongoing: 长期坚持, also when it comes with 立整立改 or a date.
    provisional: a working-day count reached a year whose holidays are not known.
    clock: a recurrence's time of day, when its dues are missed at that time.
    warnings: Chinese sentences the user should see (provisional counts, dues
        already past at the reference time, clamped month days).
    """

    kind: Kind
    expression: str
    dues: tuple[date, ...] = ()
    overdue_at: tuple[datetime, ...] = ()
    start: date | None = None
    ongoing: bool = False
    provisional: bool = False
    warnings: tuple[str, ...] = ()
    recurrence: Recurrence | None = field(default=None, repr=False)
    zone: tzinfo = field(default=SHANGHAI, repr=False, compare=False)
    calendar: WorkCalendar = field(default=DEFAULT_CALENDAR, repr=False, compare=False)
    clock: time | None = None  # a recurrence's time of day ("每周五下午5点前")

    def __init__(
        self,
        kind: Kind,
        expression: str,
        dues: tuple[date, ...] = (),
        overdue_at: tuple[datetime, ...] = (),
        start: date | None = None,
        ongoing: bool = False,
        provisional: bool = False,
        warnings: tuple[str, ...] = (),
        recurrence: Recurrence | None = None,
        zone: tzinfo = SHANGHAI,
        calendar: WorkCalendar = DEFAULT_CALENDAR,
        clock: time | None = None,
    ) -> None:
        # Stores into the instance dict instead of the frozen dataclass's twelve
        # object.__setattr__ calls (a keyword update costs twice these): parsing builds
        # one Deadline per expression.
        fields = self.__dict__
        fields["kind"] = kind
        fields["expression"] = expression
        fields["dues"] = dues
        fields["overdue_at"] = overdue_at
        fields["start"] = start
        fields["ongoing"] = ongoing
        fields["provisional"] = provisional
        fields["warnings"] = warnings
        fields["recurrence"] = recurrence
        fields["zone"] = zone
        fields["calendar"] = calendar
        fields["clock"] = clock

    @property
    def immediate(self) -> bool:
        return self.kind is Kind.IMMEDIATE

    def next_dues(self, after: datetime, n: int = 1) -> tuple[date, ...]:
        """The next n due days still open at `after` (their overdue instant is later)."""
        return tuple(due for due, _ in self._upcoming(after, n))

    def next_overdue(self, after: datetime, n: int = 1) -> tuple[datetime, ...]:
        """The overdue instants of `next_dues(after, n)`."""
        return tuple(at for _, at in self._upcoming(after, n))

    def _upcoming(self, after: datetime, n: int) -> list[tuple[date, datetime]]:
        if after.tzinfo is None:
            raise ValueError("next_dues needs an aware datetime")
        if self.recurrence is None:
            return [
                pair for pair in zip(self.dues, self.overdue_at, strict=True) if pair[1] > after
            ][:n]
        first = after.astimezone(self.zone).date()
        dues, _ = self.recurrence.dues_from(first, n + 1, self.calendar)
        pairs = [(due, self.overdue_of(due)) for due in dues]
        return [pair for pair in pairs if pair[1] > after][:n]

    def overdue_of(self, due: date) -> datetime:
        """When a recurrence's due day is missed: its time of day, else the day's end."""
        if self.clock is None:
            return end_of_day(due, self.zone)
        return datetime.combine(due, self.clock, self.zone)

    def to_json(self) -> dict[str, Any]:
        """The CLI's JSON object: dates as YYYY-MM-DD, instants as ISO 8601 with offset."""
        data: dict[str, Any] = {"kind": self.kind.value, "dues": [d.isoformat() for d in self.dues]}
        if self.kind is Kind.WINDOW and self.start is not None:
            data["start"] = self.start.isoformat()
        data["overdue_at"] = [t.isoformat() for t in self.overdue_at]
        data["ongoing"] = self.ongoing
        data["provisional"] = self.provisional
        data["warnings"] = list(self.warnings)
        return data
