"""China's working days and festivals, as a school safety office counts them.

`WorkCalendar` answers "is this a working day?" with the statutory arrangement:
weekends off, public holidays off, make-up working days (调休) on. The arrangement
comes from the `chinese_calendar` package, which knows only the years the State
Council has published. A site may add its own days off and working days, and may
declare further years fully arranged (`years=`), for instance from a site file.

For a year nobody has arranged the calendar still answers, *provisionally*: weekends
and the fixed-date holidays (元旦 1 Jan, 劳动节 1 May, 国庆 1–3 Oct) are off, the rest
on. Every count reports whether it touched such a year, so a caller can mark the
result provisional and warn; nothing is guessed silently.

`festival_date(name, year)` computes festival days: lunar ones (春节, 元宵节, 端午节,
中秋节, 重阳节, 除夕) with `lunardate`, 清明节 as the solar term with
`chinese_calendar`, the others by their fixed date.

    cal = WorkCalendar()
    cal.add_workdays(date(2020, 9, 30), 1)   # Counted(day=date(2020, 10, 9), provisional=False)
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping
from datetime import MAXYEAR, MINYEAR, date, time, timedelta
from functools import lru_cache
from typing import NamedTuple

from chinese_calendar import constants as _statutory
from chinese_calendar import get_solar_terms
from lunardate import LunarDate

ONE_DAY = timedelta(days=1)
# When 下班前 ("before the end of the working day") is overdue, unless the site sets its
# own (rectify.yaml: deadlines.workday_end), which its calendar then carries.
WORKDAY_END = time(17, 30)

# Fixed-date statutory days off, the only ones that can be known before the State
# Council publishes a year's arrangement.
FIXED_HOLIDAYS: frozenset[tuple[int, int]] = frozenset({(1, 1), (5, 1), (10, 1), (10, 2), (10, 3)})

_FIXED_FESTIVALS = {"元旦": (1, 1), "劳动节": (5, 1), "国庆节": (10, 1)}
_LUNAR_FESTIVALS = {
    "春节": (1, 1),
    "元宵节": (1, 15),
    "端午节": (5, 5),
    "中秋节": (8, 15),
    "重阳节": (9, 9),
}
FESTIVALS: tuple[str, ...] = (*_FIXED_FESTIVALS, *_LUNAR_FESTIVALS, "清明节", "除夕")

# The package names its days in English; people check them against the Chinese notice.
_STATUTORY_NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "抗战胜利70周年纪念日",
}


class SchoolTerm(NamedTuple):
    """One school term, first and last day included (from a site's calendar.yaml)."""

    name: str
    start: date
    end: date


class SiteEvent(NamedTuple):
    """One occurrence of an event the site's calendar.yaml names (两会, 中考), first and
    last day included: deadlines such as "两会前" and "中考结束后3个工作日内" are read
    against it. `name` is as calendar.yaml writes it."""

    name: str
    start: date
    end: date


def vacation_name(start: date) -> str:
    """寒假 for a vacation starting between November and March, 暑假 between May and
    September, otherwise 假期 (vacations are the gaps between a site's terms)."""
    if start.month in (11, 12, 1, 2, 3):
        return "寒假"
    if start.month in (5, 6, 7, 8, 9):
        return "暑假"
    return "假期"


class Counted(NamedTuple):
    """A day reached by counting working days, and whether the count is provisional."""

    day: date
    provisional: bool


def _as_dates(days: Mapping[date, str] | Iterable[date]) -> frozenset[date]:
    return frozenset(days.keys() if isinstance(days, Mapping) else days)


# The package's arrangements, the same for every calendar made.
_BASE_OFF = frozenset(_statutory.holidays)
_BASE_ON = frozenset(_statutory.workdays)
_FIRST_PUBLISHED = min(d.year for d in _BASE_OFF)
_LAST_PUBLISHED = max(d.year for d in _BASE_OFF)
_PUBLISHED = frozenset(range(_FIRST_PUBLISHED, _LAST_PUBLISHED + 1))
# Counts this short walk day by day until their year's list of working days is made.
_SHORT_COUNT = 40
_PACKAGE_WORKDAYS: dict[int, list[int]] = {}


class WorkCalendar:
    """Statutory working days plus a site's own days off and make-up working days.

    holidays: extra days off (a date, or a mapping date → name); they win over the
        package's make-up working days.
    workdays: extra working days (a date, or a mapping date → name); they win over
        weekends and the package's holidays.
    years: years whose arrangement the caller declares complete, on top of those the
        package knows; counts inside them are not provisional. The fixed-date holidays
        (元旦, 劳动节, 国庆 1–3 Oct) stay off in such years without being listed.
    terms: the school's terms in order, which deadline words like "开学前", "学期末" and
        "每学期" are read against; None when there is no site calendar (such words are
        then refused). They live here so that anything keyed by the calendar object
        (memoised deadlines) changes when the site's calendar is reloaded.
    events: the occurrences of the events the site names (calendar.yaml's `events`), in
        order, which "两会前", "中考结束前" are read against; for the same reason here.
    workday_end: when 下班前 is overdue (rectify.yaml's deadlines.workday_end), so that
        every deadline read with the site's calendar reads it alike.
    """

    __slots__ = (
        "_off", "_on", "_known", "_published", "first_known", "last_known", "_advice", "terms",
        "events", "workday_end", "_workdays",
    )

    def __init__(
        self,
        *,
        holidays: Mapping[date, str] | Iterable[date] = (),
        workdays: Mapping[date, str] | Iterable[date] = (),
        years: Iterable[int] = (),
        advice: str = "",
        terms: Iterable[SchoolTerm] | None = None,
        events: Iterable[SiteEvent] = (),
        workday_end: time = WORKDAY_END,
    ) -> None:
        self.terms = None if terms is None else tuple(sorted(terms, key=lambda t: t.start))
        self.events = tuple(sorted(events, key=lambda e: (e.start, e.end, e.name)))
        self.workday_end = workday_end
        extra_off, extra_on = _as_dates(holidays), _as_dates(workdays)
        clash = extra_off & extra_on
        if clash:
            raise ValueError(f"days both off and working: {sorted(clash)}")
        self._off = (_BASE_OFF - extra_on) | extra_off
        self._on = (_BASE_ON - extra_off) | extra_on
        self.first_known, self.last_known = _FIRST_PUBLISHED, _LAST_PUBLISHED
        self._published = _PUBLISHED
        self._known = self._published | frozenset(years)
        self._advice = advice  # appended to provisional warnings: where to add a year
        # Year → its working days' ordinals, as asked; shared by every calendar with the
        # package's days alone (working days depend on the days off and on only).
        self._workdays: dict[int, list[int]] = {} if extra_off or extra_on else _PACKAGE_WORKDAYS

    def published(self, year: int) -> bool:
        """True when the calendar package itself carries the year's arrangement."""
        return year in self._published

    def knows(self, year: int) -> bool:
        """True when the year's holiday arrangement is known (published or declared)."""
        return year in self._known

    def is_workday(self, day: date) -> bool:
        """Whether people work on `day`; provisional for years nobody has arranged."""
        if day in self._on:
            return True
        if day in self._off:
            return False
        if day.weekday() >= 5:
            return False
        # Outside the package's years the fixed-date holidays are off by law, whether
        # or not a site has declared the year's other arrangements.
        return day.year in self._published or (day.month, day.day) not in FIXED_HOLIDAYS

    def add_workdays(self, start: date, n: int) -> Counted:
        """The n-th working day after `start` (n > 0) or before it (n < 0); `start` itself
        is never counted, as in "N个工作日内" where counting begins the next day.
        Counted on each year's working days (bisected), not day by day."""
        if n == 0:
            return Counted(start, not self.knows(start.year))
        if abs(n) <= _SHORT_COUNT and self._workdays is not _PACKAGE_WORKDAYS and start.year not in self._workdays:
            return self._stepped(start, n)
        year, at = start.year, start.toordinal()
        if n > 0:
            days = self._workdays_of(year)
            i = bisect.bisect_right(days, at)
            while i + n > len(days):
                n -= len(days) - i
                year += 1
                days, i = self._workdays_of(year), 0
            found = date.fromordinal(days[i + n - 1])
            first, last = date.fromordinal(at + 1).year, found.year
        else:
            days = self._workdays_of(year)
            i = bisect.bisect_left(days, at)
            while i + n < 0:
                n += i
                year -= 1
                days = self._workdays_of(year)
                i = len(days)
            found = date.fromordinal(days[i + n])
            first, last = found.year, date.fromordinal(at - 1).year
        return Counted(found, any(y not in self._known for y in range(first, last + 1)))

    def _stepped(self, start: date, n: int) -> Counted:
        step = ONE_DAY if n > 0 else -ONE_DAY
        day, left, provisional = start, abs(n), False
        while left:
            day += step
            if self.is_workday(day):
                left -= 1
            if day.year not in self._known:
                provisional = True
        return Counted(day, provisional)

    def _workdays_of(self, year: int) -> list[int]:
        """The ordinals of the year's working days, in order (OverflowError outside the
        years a date can have, as stepping past them would raise)."""
        days = self._workdays.get(year)
        if days is None:
            if not MINYEAR <= year <= MAXYEAR:
                raise OverflowError("date value out of range")
            begin, end = date(year, 1, 1).toordinal(), date(year, 12, 31).toordinal()
            days = [o for o in range(begin, end + 1) if self.is_workday(date.fromordinal(o))]
            self._workdays[year] = days
        return days

    def workday_on_or_after(self, day: date) -> Counted:
        """`day` if it is a working day, else the next working day."""
        provisional = False
        while not self.is_workday(day):
            provisional = provisional or day.year not in self._known
            day += ONE_DAY
        return Counted(day, provisional or day.year not in self._known)

    def workday_on_or_before(self, day: date) -> Counted:
        """`day` if it is a working day, else the previous working day."""
        provisional = False
        while not self.is_workday(day):
            provisional = provisional or day.year not in self._known
            day -= ONE_DAY
        return Counted(day, provisional or day.year not in self._known)

    def holiday_block_start(self, day: date) -> date:
        """First day of the run of days off that contains `day` (e.g. a festival's
        holiday). Raises ValueError when `day` is a working day."""
        if self.is_workday(day):
            raise ValueError(f"{day} is a working day")
        while not self.is_workday(day - ONE_DAY):
            day -= ONE_DAY
        return day

    def provisional_warning(self, year: int) -> str:
        """The Chinese sentence that marks a count reaching into an unarranged year."""
        if year < self.first_known:
            return (
                f"{year}年不在节假日日历范围内（{self.first_known}–{self.last_known}年），"
                "工作日暂按周末和固定日期节日（元旦、劳动节、国庆节）计算，结果为暂定"
            ) + self._advice
        return (
            f"{year}年的法定节假日安排尚未公布（日历只到{self.last_known}年），"
            "工作日暂按周末和固定日期节日（元旦、劳动节、国庆节）计算，结果为暂定"
        ) + self._advice


def statutory_day(day: date) -> tuple[bool, str] | None:
    """The calendar package's own entry for `day`: (a working day?, the festival's Chinese
    name), or None when it lists nothing (an ordinary day, or a year it does not know)."""
    name = _statutory.workdays.get(day)
    if name is not None:
        return True, _STATUTORY_NAMES.get(name, name)
    name = _statutory.holidays.get(day)
    if name is not None:
        return False, _STATUTORY_NAMES.get(name, name)
    return None


DEFAULT_CALENDAR = WorkCalendar()


@lru_cache(maxsize=4096)
def festival_date(name: str, year: int) -> date:
    """The day of festival `name` (one of FESTIVALS) in Gregorian `year` (remembered:
    the lunar conversion is most of reading "春节前").

    除夕 is the eve of that year's 春节. Raises ValueError outside the range the
    lunar and solar-term computations cover (about 1900–2099).
    """
    if name in _FIXED_FESTIVALS:
        month, day = _FIXED_FESTIVALS[name]
        return date(year, month, day)
    if name in _LUNAR_FESTIVALS:
        return _lunar(year, *_LUNAR_FESTIVALS[name])
    if name == "除夕":
        return _lunar(year, 1, 1) - ONE_DAY
    if name == "清明节":
        return _qingming(year)
    raise ValueError(f"unknown festival: {name}")


# lunardate 0.3 renamed toSolarDate (now deprecated) to to_solar_date; accept either.
_TO_SOLAR = getattr(LunarDate, "to_solar_date", None) or LunarDate.toSolarDate


def _lunar(year: int, month: int, day: int) -> date:
    try:
        return _TO_SOLAR(LunarDate(year, month, day))
    except (ValueError, IndexError) as exc:
        raise ValueError(f"lunar date {year}-{month}-{day} out of range") from exc


def _qingming(year: int) -> date:
    """清明 is the solar term of the sun at 15°, on 4 or 5 April (rarely the 6th)."""
    try:
        terms = get_solar_terms(date(year, 4, 3), date(year, 4, 6))
    except NotImplementedError as exc:
        raise ValueError(f"solar terms of {year} out of range") from exc
    for day, term in terms:
        if term == "清明":
            return day
    raise ValueError(f"no 清明 found in {year}")


def next_festival(name: str, on_or_after: date) -> date:
    """The first day of festival `name` on or after `on_or_after`."""
    year = on_or_after.year
    if on_or_after > _latest(name, year):
        year += 1  # already past this year: skip computing a date that cannot qualify
    day = festival_date(name, year)
    return day if day >= on_or_after else festival_date(name, year + 1)


def _latest(name: str, year: int) -> date:
    """A day no earlier than the festival can fall in `year` (a lunar date falls 20 to 50
    days after the Gregorian date with the same month and day numbers)."""
    if name in _FIXED_FESTIVALS:
        return date(year, *_FIXED_FESTIVALS[name])
    if name in _LUNAR_FESTIVALS:
        return date(year, *_LUNAR_FESTIVALS[name]) + timedelta(days=60)
    if name == "除夕":
        return date(year, 3, 1)
    return date(year, 4, 6)  # 清明
