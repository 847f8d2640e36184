"""Calendar arithmetic on local dates: month ends, month steps, instants of day ends."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

# When 下班前 is overdue unless the site sets its own (its WorkCalendar carries it).
from engine.workcal import WORKDAY_END as WORKDAY_END

ONE_DAY = timedelta(days=1)
MIDNIGHT = time(0)
# The years a deadline may fall in: those of any real document, and far enough from
# datetime's limits (years 1 to 9999) that every reminder and escalation around them
# can still be computed.
FIRST_YEAR, LAST_YEAR = 1900, 2999


def instant_in_range(value: datetime, zone: tzinfo) -> bool:
    """Whether an instant falls in FIRST_YEAR to LAST_YEAR as written, in UTC and in `zone`
    (9999-12-31T23:59-05:00 is already year 10000 in UTC). Every instant a user gives is
    held to this, so no offset the planner adds to one (a deadline, a ladder of
    escalations, a year of steps ahead) can leave the years datetime can represent."""
    try:
        years = (value.year, value.astimezone(UTC).year, value.astimezone(zone).year)
    except (OverflowError, ValueError):
        return False
    return all(FIRST_YEAR <= year <= LAST_YEAR for year in years)


_DAYS_IN_MONTH = (0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def days_in_month(year: int, month: int) -> int:
    """28 to 31 (calendar.monthrange also computes a weekday, which costs more)."""
    if month == 2 and year % 4 == 0 and (year % 100 != 0 or year % 400 == 0):
        return 29
    return _DAYS_IN_MONTH[month]


def month_end(year: int, month: int) -> date:
    """The last day of a month."""
    return date(year, month, days_in_month(year, month))


def month_shift(year: int, month: int, n: int) -> tuple[int, int]:
    """(year, month) moved by n months."""
    index = year * 12 + month - 1 + n
    return index // 12, index % 12 + 1


def add_months(day: date, n: int) -> date:
    """Calendar-month arithmetic: the same day n months on, clamped to the month's end
    (from 31 January one month is 28 or 29 February)."""
    year, month = month_shift(day.year, day.month, n)
    return date(year, month, min(day.day, days_in_month(year, month)))


def end_of_day(day: date, zone: tzinfo) -> datetime:
    """The instant a day ends in a zone, which is the first instant of the next day."""
    return datetime.combine(day + ONE_DAY, MIDNIGHT, zone)


def last_day_before(instant: datetime) -> date:
    """The last day wholly or partly before `instant` (local): an instant at midnight
    belongs to the day that just ended."""
    day = instant.date()
    return day - ONE_DAY if instant.time() == MIDNIGHT else day


def zone_of(tz: tzinfo | str) -> tzinfo:
    """A zone from a tzinfo or an IANA name ("Asia/Shanghai")."""
    if isinstance(tz, tzinfo):
        return tz
    try:
        return ZoneInfo(tz)
    except (ValueError, KeyError) as exc:
        raise ValueError(f"unknown time zone: {tz}") from exc


def cn_date(day: date) -> str:
    """A day as Chinese documents write it: 2021年3月5日."""
    return f"{day.year}年{day.month}月{day.day}日"
