"""Offsets from a due instant, as rule files write them.

    3日前, 1个工作日前, 24小时前, 到期前3日     before the instant
    逾期即, 到期即                              at the instant
    逾期3个工作日, 逾期15日, 逾期1个月, 3日后   after the instant
    每3个工作日重复直至整改, 每7日              every interval (the next repetition)

`Offset.apply(instant, calendar, tz)` moves an aware instant and returns it in `tz`:
- minutes and hours are exact elapsed time;
- days, weeks and months move the local date and keep the wall-clock time (so "3日前"
  of 1 January 00:00 is 29 December 00:00, also across a daylight-saving change);
- working days count *working time*: only the hours of working days elapse. "3个工作日前"
  of an overdue instant lands where exactly three whole working days remain, and
  "逾期3个工作日" where three whole working days have passed. An instant on a day off
  counts from the start of the next working day. When the result falls at midnight,
  the earliest such instant is returned: one working day after Friday 00:00 is Saturday
  00:00 (Friday has passed), not Monday.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from enum import StrEnum

from engine.deadline.dates import MIDNIGHT, ONE_DAY, add_months, zone_of
from engine.errors import DeadlineError
from engine.numerals import normalize
from engine.workcal import DEFAULT_CALENDAR, WorkCalendar


class OffsetUnit(StrEnum):
    MINUTE = "minute"
    HOUR = "hour"
    DAY = "day"
    WORKDAY = "workday"
    WEEK = "week"
    MONTH = "month"


class Direction(StrEnum):
    BEFORE = "before"
    AT = "at"
    AFTER = "after"
    EVERY = "every"


_UNITS = {
    "分钟": OffsetUnit.MINUTE,
    "小时": OffsetUnit.HOUR,
    "钟头": OffsetUnit.HOUR,
    "天": OffsetUnit.DAY,
    "日": OffsetUnit.DAY,
    "自然日": OffsetUnit.DAY,
    "工作日": OffsetUnit.WORKDAY,
    "周": OffsetUnit.WEEK,
    "星期": OffsetUnit.WEEK,
    "月": OffsetUnit.MONTH,
}
_UNIT = r"(?:个)?(?:工作日|自然日|天|日|周|星期|小时|钟头|分钟|(?<=个)月)"
_OFFSET = re.compile(
    rf"""
    (?P<at>(?:逾期|到期|超期)(?:即|时|当时|后立即|立即))
  | (?:逾期|超期)后?(?P<after>\d+){_UNIT}(?:后|时|以上)?(?:仍?未(?:整改|完成|销号))?
  | (?P<after2>\d+){_UNIT}(?:后|之后|以后)
  | (?:到期|截止|期满)前(?P<before>\d+){_UNIT}
  | (?P<before2>\d+){_UNIT}(?:之前|以前|前)
  | 每(?P<every>\d+)?{_UNIT}(?:重复|一次|提醒一次)?(?:,?(?:直至|直到|至).*)?
    """,
    re.VERBOSE,
)
_UNIT_WORD = re.compile(r"工作日|自然日|天|日|周|星期|小时|钟头|分钟|月")


@dataclass(frozen=True, slots=True)
class Offset:
    """A signed move from an instant, or a repetition interval (Direction.EVERY)."""

    direction: Direction
    amount: int
    unit: OffsetUnit
    text: str = ""

    def apply(
        self,
        instant: datetime,
        calendar: WorkCalendar | None = None,
        tz: tzinfo | str = "Asia/Shanghai",
    ) -> datetime:
        """The moved instant, in `tz` (for EVERY: the next repetition after `instant`)."""
        return self.shift(instant, calendar, tz)[0]

    def shift(
        self,
        instant: datetime,
        calendar: WorkCalendar | None = None,
        tz: tzinfo | str = "Asia/Shanghai",
    ) -> tuple[datetime, bool]:
        """Like `apply`, also saying whether a working-day count was provisional."""
        if instant.tzinfo is None:
            raise ValueError("Offset.apply needs an aware datetime")
        zone = zone_of(tz)
        local = instant.astimezone(zone)
        signed = -self.amount if self.direction is Direction.BEFORE else self.amount
        if signed == 0:
            return local, False
        return _move(local, signed, self.unit, calendar or DEFAULT_CALENDAR)


def _move(
    local: datetime, n: int, unit: OffsetUnit, calendar: WorkCalendar
) -> tuple[datetime, bool]:
    zone = local.tzinfo
    if unit is OffsetUnit.MINUTE or unit is OffsetUnit.HOUR:
        step = timedelta(minutes=n) if unit is OffsetUnit.MINUTE else timedelta(hours=n)
        return (local + step).astimezone(zone), False
    if unit is OffsetUnit.WORKDAY:
        return _move_workdays(local, n, calendar)
    if unit is OffsetUnit.MONTH:
        day = add_months(local.date(), n)
    else:
        day = local.date() + timedelta(days=n * (7 if unit is OffsetUnit.WEEK else 1))
    return datetime.combine(day, local.time(), zone), False


def _move_workdays(local: datetime, n: int, calendar: WorkCalendar) -> tuple[datetime, bool]:
    """Move by n working days of working time (see the module docstring)."""
    zone = local.tzinfo
    day, clock = local.date(), local.timetz().replace(tzinfo=None)
    provisional = False
    if not calendar.is_workday(day):
        day, provisional = calendar.workday_on_or_after(day)
        clock = MIDNIGHT
    target, later = calendar.add_workdays(day, n)
    provisional = provisional or later
    if clock != MIDNIGHT:
        return datetime.combine(target, clock, zone), provisional
    # Midnight before `target` is also the end of the working day before it: the
    # earliest instant is the day after that working day.
    previous, earlier = calendar.workday_on_or_before(target - ONE_DAY)
    return datetime.combine(previous + ONE_DAY, MIDNIGHT, zone), provisional or earlier


def parse_offset(text: str) -> Offset:
    """Read an offset of a rule file (see the module docstring); DeadlineError if unsure."""
    norm = normalize(text)
    m = _OFFSET.fullmatch(norm)
    if m is None:
        raise DeadlineError(text, norm, "无法识别的提醒或升级时间")
    if m["at"]:
        return Offset(Direction.AT, 0, OffsetUnit.DAY, text)
    for group, direction in (
        ("after", Direction.AFTER),
        ("after2", Direction.AFTER),
        ("before", Direction.BEFORE),
        ("before2", Direction.BEFORE),
        ("every", Direction.EVERY),
    ):
        if m.start(group) >= 0 or (group == "every" and norm.startswith("每")):
            return _offset(text, norm, m, group, direction)
    raise AssertionError("offset alternative without a group")


def _offset(text: str, norm: str, m: re.Match[str], group: str, direction: Direction) -> Offset:
    amount = int(m[group]) if m[group] else 1
    if amount == 0:
        raise DeadlineError(
            text, norm, "间隔不能为0" if direction is Direction.EVERY else "时长不能为0"
        )
    unit_word = _UNIT_WORD.search(norm, m.end(group) if m[group] else 1)
    assert unit_word is not None
    return Offset(direction, amount, _UNITS[unit_word.group()], text)
