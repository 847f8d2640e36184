"""The site calendar as data: declared years, local days, campuses and terms, and the
questions asked of it (what a day is, which term or vacation covers it, the WorkCalendar
deadlines count with)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from enum import StrEnum

from engine.workcal import (
    FIXED_HOLIDAYS,
    WORKDAY_END,
    SchoolTerm,
    SiteEvent,
    WorkCalendar,
    festival_date,
    statutory_day,
    vacation_name,
)

CALENDAR_FILE = "calendar.yaml"
ONE_DAY = timedelta(days=1)
WEEKDAYS = "一二三四五六日"
# The statutory festivals every published arrangement gives days off for.
STATUTORY_FESTIVALS = ("元旦", "春节", "清明节", "劳动节", "端午节", "中秋节", "国庆节")
ADVICE = "；国务院公布后请写入站点 calendar.yaml 的 years（或升级 chinese_calendar）"


class DayKind(StrEnum):
    """What a day is, as the calendar shows it."""

    WORKDAY = "workday"  # an ordinary working day
    WEEKEND = "weekend"  # an ordinary Saturday or Sunday
    HOLIDAY = "holiday"  # a statutory day off (a festival and its bridged days)
    MAKEUP = "makeup"  # a statutory make-up working day (调休上班)
    LOCAL_OFF = "local_off"  # the school's own day off
    LOCAL_WORK = "local_work"  # the school's own working day


class Arrangement(StrEnum):
    """Where a year's holiday arrangement comes from."""

    PUBLISHED = "published"  # carried by the calendar package
    DECLARED = "declared"  # declared in calendar.yaml
    PROVISIONAL = "provisional"  # nobody has it: weekends and fixed-date holidays only


@dataclass(frozen=True)
class Day:
    """One day as a person checks it against the notice and the school calendar."""

    day: date
    kind: DayKind
    working: bool
    name: str | None = None  # the festival, or the reason of a local day


@dataclass(frozen=True)
class Term:
    name: str
    start: date
    end: date
    campus: str | None = None
    # Where calendar.yaml writes it; not part of the term (moving the line changes nothing).
    line: int | None = field(default=None, compare=False)

    def covers(self, day: date) -> bool:
        return self.start <= day <= self.end


@dataclass(frozen=True)
class Event:
    """One occurrence of an event the safety office names (两会, 中考), first and last day
    included, which deadlines such as "两会前" are read against."""

    name: str
    start: date
    end: date
    # Where calendar.yaml writes it; not part of the event.
    line: int | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Vacation:
    """The gap after a term: from the day after it ends to the day before the next starts
    (`end` None while the next term is not in the calendar)."""

    name: str  # 寒假 | 暑假 | 假期
    start: date
    end: date | None
    after: Term
    campus: str | None = None

    def covers(self, day: date) -> bool:
        return self.start <= day and (self.end is None or day <= self.end)


@dataclass(frozen=True)
class DeclaredYear:
    year: int
    holidays: Mapping[date, str]
    workdays: Mapping[date, str]
    line: int | None
    notice: str | None = None


@dataclass(frozen=True)
class LocalDay:
    day: date
    off: bool
    reason: str
    campus: str | None
    line: int | None


@dataclass
class SiteCalendar:
    """A site's calendar: the WorkCalendar deadlines count with, the school's terms and
    the events it names; `workday_end` (from rectify.yaml) rides along so that every
    deadline read with the site's calendar reads 下班前 alike."""

    source: str | None = None  # the file, None when the site has none
    digest: str = ""
    years: dict[int, DeclaredYear] = field(default_factory=dict)
    campuses: tuple[str, ...] = ()
    local: tuple[LocalDay, ...] = ()
    terms: tuple[Term, ...] = ()
    events: tuple[Event, ...] = ()
    workday_end: time = WORKDAY_END

    def __post_init__(self) -> None:
        self._calendars: dict[str | None, WorkCalendar] = {}
        self._terms: dict[str | None, tuple[Term, ...]] = {}
        self._vacations: dict[str | None, tuple[Vacation, ...]] = {}
        self.workcal = self.calendar_for(None)

    # -- working days ---------------------------------------------------------------

    def calendar_for(self, campus: str | None = None) -> WorkCalendar:
        """The WorkCalendar of the whole site, or of one campus (its local days added)."""
        found = self._calendars.get(campus)
        if found is None:
            self._check_campus(campus)
            off, on = self._statutory_days()
            for scope in (None, campus) if campus else (None,):
                for local in self.local:
                    if local.campus == scope:
                        (off if local.off else on)[local.day] = local.reason
                        (on if local.off else off).pop(local.day, None)
            # Without a calendar file there are no terms to read "开学前" against.
            terms = None if self.source is None and not self.terms else [
                SchoolTerm(t.name, t.start, t.end) for t in self.terms_for(campus)]
            events = [SiteEvent(e.name, e.start, e.end) for e in self.events]
            found = self._calendars[campus] = WorkCalendar(
                holidays=off, workdays=on, years=self.years.keys(), advice=ADVICE, terms=terms,
                events=events, workday_end=self.workday_end)
        return found

    def _statutory_days(self) -> tuple[dict[date, str], dict[date, str]]:
        off: dict[date, str] = {}
        on: dict[date, str] = {}
        for declared in self.years.values():
            off.update(declared.holidays)
            on.update(declared.workdays)
        return off, on

    def arrangement(self, year: int) -> Arrangement:
        if self.workcal.published(year):
            return Arrangement.PUBLISHED
        return Arrangement.DECLARED if year in self.years else Arrangement.PROVISIONAL

    def day(self, day: date, campus: str | None = None) -> Day:
        """What `day` is, and why (festival name or local reason)."""
        working = self.calendar_for(campus).is_workday(day)
        # A campus's own day wins over the site's, which wins over the statutory one.
        for scope in (campus, None) if campus else (None,):
            for local in self.local:
                if local.day == day and local.campus == scope:
                    kind = DayKind.LOCAL_OFF if local.off else DayKind.LOCAL_WORK
                    return Day(day, kind, working, local.reason)
        named = self._statutory_name(day)
        if named is not None:
            return Day(day, DayKind.MAKEUP if named[0] else DayKind.HOLIDAY, working, named[1])
        if day.weekday() >= 5:
            return Day(day, DayKind.WEEKEND, working)
        return Day(day, DayKind.WORKDAY, working)

    def _statutory_name(self, day: date) -> tuple[bool, str] | None:
        for declared in self.years.values():
            if day in declared.workdays:
                return True, declared.workdays[day]
            if day in declared.holidays:
                return False, declared.holidays[day]
        found = statutory_day(day)
        if found is not None:
            return found
        if not self.workcal.published(day.year) and (day.month, day.day) in FIXED_HOLIDAYS:
            return False, {1: "元旦", 5: "劳动节", 10: "国庆节"}[day.month]
        return None

    def days(self, first: date, last: date, campus: str | None = None) -> Iterator[Day]:
        day = first
        while day <= last:
            yield self.day(day, campus)
            day += ONE_DAY

    # -- terms and vacations --------------------------------------------------------

    def terms_for(self, campus: str | None = None) -> tuple[Term, ...]:
        """The terms that apply to the site (campus None) or to one campus, in order."""
        found = self._terms.get(campus)
        if found is None:
            self._check_campus(campus)
            own = [t for t in self.terms if campus is not None and t.campus == campus]
            shared = [t for t in self.terms if t.campus is None
                      and not any(o.start <= t.end and t.start <= o.end for o in own)]
            found = self._terms[campus] = tuple(sorted(own + shared, key=lambda t: t.start))
        return found

    def vacations(self, campus: str | None = None) -> tuple[Vacation, ...]:
        found = self._vacations.get(campus)
        if found is None:
            terms = self.terms_for(campus)
            result = []
            for i, term in enumerate(terms):
                following = terms[i + 1] if i + 1 < len(terms) else None
                start = term.end + ONE_DAY
                end = following.start - ONE_DAY if following else None
                if end is None or end >= start:
                    result.append(Vacation(vacation_name(start), start, end, term, campus))
            found = self._vacations[campus] = tuple(result)
        return found

    def term_at(self, day: date, campus: str | None = None) -> Term | None:
        return next((t for t in self.terms_for(campus) if t.covers(day)), None)

    def next_term(self, after: date, campus: str | None = None) -> Term | None:
        """The first term starting after `after`."""
        return next((t for t in self.terms_for(campus) if t.start > after), None)

    def vacation_at(self, day: date, campus: str | None = None) -> Vacation | None:
        return next((v for v in self.vacations(campus) if v.covers(day)), None)

    def next_vacation(self, after: date, campus: str | None = None, name: str | None = None) -> Vacation | None:
        """The first vacation (of that name: 寒假, 暑假) starting after `after`."""
        return next((v for v in self.vacations(campus)
                     if v.start > after and (name is None or v.name == name)), None)

    def previous_vacation(self, before: date, campus: str | None = None,
                          name: str | None = None) -> Vacation | None:
        """The last vacation (of that name) that ended before `before`."""
        ended = [v for v in self.vacations(campus)
                 if v.end is not None and v.end < before and (name is None or v.name == name)]
        return ended[-1] if ended else None

    def _check_campus(self, campus: str | None) -> None:
        if campus is not None and campus not in self.campuses:
            known = "、".join(self.campuses) or "无（calendar.yaml 未列出 campuses）"
            raise ValueError(f"未知的校区“{campus}”（已登记：{known}）")

    # -- reporting --------------------------------------------------------------------

    def where(self, line: int | None) -> str:
        source = self.source or CALENDAR_FILE
        return f"{source}:{line}" if line else source

    def missing_festivals(self, year: int) -> list[tuple[str, date]]:
        """Statutory festivals that fall on a working day in a declared year: likely left out."""
        days = ((name, festival_date(name, year)) for name in STATUTORY_FESTIVALS)
        return [(name, day) for name, day in days if self.workcal.is_workday(day)]


def weekday_name(day: date) -> str:
    return "星期" + WEEKDAYS[day.weekday()]
