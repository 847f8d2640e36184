"""The site calendar (calendar.yaml): holiday arrangements the calendar package does not
know yet, the school's own days off and working days, and its terms.

The State Council publishes each year's holiday arrangement (放假调休安排) in November or
December of the year before; the `chinese_calendar` package knows the years published
before it was released. A site declares later years in `years:` as the notice gives
them, which makes their working-day counts exact instead of provisional. `local:` adds
the school's own days (a city's extra day off, a campus closure, a Saturday of classes);
`terms:` gives each term's first and last day, and the vacations (寒假, 暑假) are the
gaps between consecutive terms.

    years:
      2027:
        notice: "国务院办公厅关于2027年部分节假日安排的通知"
        holidays: {"2027-01-01至2027-01-03": "元旦", "2027-02-06至2027-02-13": "春节"}
        workdays: {"2027-02-14": "春节"}
    campuses: ["本部", "东校区"]
    local:
      - {days: "2027-03-12", off: "全市中小学停课一天"}
      - {days: "2027-04-10", work: "运动会调课，周六上课", campus: "东校区"}
    terms:
      - {name: "2026-2027学年第一学期", start: "2026-09-01", end: "2027-01-22"}

Rules (every problem is reported with its line; any problem means nothing is loaded):
- a day is listed once per meaning: the same day named twice differently, or both a
  holiday and a make-up working day, is refused; a make-up working day (调休上班) is a
  Saturday or Sunday by definition;
- a year's entry may hold days of its own year and of the December before (the notice
  for 2019 set 元旦 from 30 December 2018); a year the package already knows may be
  declared only as the package has it (a site written before the package was upgraded
  keeps working); the school's own changes go in `local:`;
- local days win over the statutory arrangement; a local day that changes nothing (an
  extra day off on a day off) is refused as a likely typo;
- terms: end on or after start, no overlap with another term of the same scope, campus
  named in `campuses:`. A term with a campus replaces, for that campus, the site-wide
  terms it overlaps; a campus without terms of its own follows the site-wide ones.
- a vacation starts the day after a term ends and ends the day before the next term
  starts (open-ended after the last term); it is 寒假 when it starts in November to
  March, 暑假 when it starts in May to September.

Items carry no campus yet: deadlines use the site-wide calendar (`workcal`);
`calendar_for(campus)` adds that campus's local days.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

from engine import yamlfile
from engine.errors import ConfigError, Problem
from engine.validate import check
from engine.workcal import (
    DEFAULT_CALENDAR,
    FIXED_HOLIDAYS,
    SchoolTerm,
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

_NAME = {"type": "string", "minLength": 1}
_DAYS = {"type": "object", "additionalProperties": _NAME}
_YEAR = {
    "type": "object",
    "required": ["holidays"],
    "additionalProperties": False,
    "properties": {
        "notice": {"type": "string"},
        "holidays": {**_DAYS, "minProperties": 1},
        "workdays": _DAYS,
    },
}
_LOCAL = {
    "type": "object",
    "required": ["days"],
    "additionalProperties": False,
    "properties": {"days": _NAME, "off": _NAME, "work": _NAME, "campus": _NAME},
}
_TERM = {
    "type": "object",
    "required": ["name", "start", "end"],
    "additionalProperties": False,
    "properties": {"name": _NAME, "start": _NAME, "end": _NAME, "campus": _NAME},
}
SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "$schema": {"type": "string"},
        # Each section may be left empty ("years:" with its entries commented out).
        "years": {"type": ["object", "null"], "additionalProperties": _YEAR},
        "campuses": {"type": ["array", "null"], "items": _NAME},
        "local": {"type": ["array", "null"], "items": _LOCAL},
        "terms": {"type": ["array", "null"], "items": _TERM},
    },
}

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_RANGE = re.compile(r"\s*(\S+?)\s*(?:至|到|~|～|\.\.)\s*(\S+)\s*")
_YEAR_KEY = re.compile(r"\d{4}")
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
    """A site's calendar: the WorkCalendar deadlines count with, and the school's terms."""

    source: str | None = None  # the file, None when the site has none
    digest: str = ""
    years: dict[int, DeclaredYear] = field(default_factory=dict)
    campuses: tuple[str, ...] = ()
    local: tuple[LocalDay, ...] = ()
    terms: tuple[Term, ...] = ()

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
            found = self._calendars[campus] = WorkCalendar(
                holidays=off, workdays=on, years=self.years.keys(), advice=ADVICE, terms=terms)
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


# -- loading ------------------------------------------------------------------------


def loads(text: str, filename: str) -> SiteCalendar:
    """Parse, validate and build; ConfigError with every problem, or the whole calendar."""
    data = yamlfile.loads(text, filename)
    if data is None:
        return SiteCalendar(filename, _digest(text))
    problems = check(data, SCHEMA, filename)
    if problems:
        raise ConfigError(problems)
    return _Builder(filename).build(data, _digest(text))


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


class _Builder:
    """Reads every section, collecting problems instead of stopping at the first."""

    def __init__(self, filename: str) -> None:
        self.filename = filename
        self.problems: list[Problem] = []
        # Every statutory day named so far: day -> (working?, name, line).
        self.statutory: dict[date, tuple[bool, str, int | None]] = {}

    def problem(self, line: int | None, message: str) -> None:
        self.problems.append(Problem(self.filename, line, message))

    def build(self, data: Any, digest: str) -> SiteCalendar:
        campuses = self._campuses(data)
        years = self._years(data.get("years"))
        local = self._local(data.get("local"), campuses)
        terms = self._terms(data.get("terms"), campuses)
        # Built from what was readable, so that its checks report alongside the rest.
        calendar = SiteCalendar(self.filename, digest, years, campuses, tuple(local), tuple(terms))
        self._check_local_effect(calendar)
        if self.problems:
            raise ConfigError(sorted(self.problems, key=lambda p: p.line or 0))
        return calendar

    # -- sections ---------------------------------------------------------------------

    def _campuses(self, data: Any) -> tuple[str, ...]:
        names: Any = data.get("campuses") or []
        seen: list[str] = []
        for i, name in enumerate(names):
            if name in seen:
                self.problem(names.line_of(i), f"校区“{name}”重复登记")
            else:
                seen.append(name)
        return tuple(seen)

    def _years(self, section: Any) -> dict[int, DeclaredYear]:
        years: dict[int, DeclaredYear] = {}
        for key, entry in (section or {}).items():
            line = section.line_of(key)
            if not _YEAR_KEY.fullmatch(key) or not 1900 <= int(key) <= 2099:
                self.problem(line, f"年份“{key}”应为四位数字的年份，如 2027")
                continue
            year = int(key)
            holidays = self._days_of(year, entry["holidays"], working=False)
            workdays = self._days_of(year, entry.get("workdays") or {}, working=True)
            declared = DeclaredYear(year, holidays, workdays, line, entry.get("notice"))
            self._check_against_package(declared)
            years[year] = declared
        return years

    def _days_of(self, year: int, entries: Any, *, working: bool) -> dict[date, str]:
        """The days a year's holidays or workdays mapping names, each checked."""
        days: dict[date, str] = {}
        for key, name in entries.items():
            line = entries.line_of(key)
            span = self._span(key, line)
            if span is None:
                continue
            name = name.strip()
            for day in span:
                if not (day.year == year or (day.year == year - 1 and day.month == 12)):
                    self.problem(line, f"{day.isoformat()} 不属于{year}年的安排"
                                 f"（只能写{year}年内的日期，或{year - 1}年12月的元旦调休）")
                    break
                if working and day.weekday() < 5:
                    self.problem(line, f"调休上班日 {day.isoformat()} 是{weekday_name(day)}："
                                 "调休上班日只能是星期六或星期日，日期是否写错？")
                    continue
                if self._named(day, working, name, line):
                    days[day] = name
        return days

    def _named(self, day: date, working: bool, name: str, line: int | None) -> bool:
        """Record a statutory day; False when it contradicts an earlier listing."""
        earlier = self.statutory.get(day)
        if earlier is None:
            self.statutory[day] = (working, name, line)
            return True
        if earlier[0] != working:
            what = "调休上班日" if earlier[0] else "放假日"
            self.problem(line, f"{day.isoformat()} 已在第{earlier[2]}行列为{what}（{earlier[1]}），"
                         "同一天不能既放假又上班")
            return False
        if earlier[1] != name:
            self.problem(line, f"{day.isoformat()} 已在第{earlier[2]}行列为“{earlier[1]}”，"
                         f"这里又写作“{name}”：同一天只能有一个名称")
            return False
        return True

    def _check_against_package(self, declared: DeclaredYear) -> None:
        """A year the package knows may be declared only as the package has it."""
        if not DEFAULT_CALENDAR.published(declared.year):
            return
        differ = []
        first = min([*declared.holidays, *declared.workdays, date(declared.year, 1, 1)])
        for day in _span_days(first, date(declared.year, 12, 31)):
            package = statutory_day(day)
            package_working = package[0] if package else day.weekday() < 5
            if day in declared.workdays:
                mine = True
            elif day in declared.holidays:
                mine = False
            else:
                mine = day.weekday() < 5 and (day.month, day.day) not in FIXED_HOLIDAYS
            if mine != package_working:
                differ.append(f"{day.isoformat()} 内置为{'工作日' if package_working else '休息日'}，"
                              f"这里为{'工作日' if mine else '休息日'}")
        if differ:
            shown = "；".join(differ[:5]) + (f"；等共 {len(differ)} 天" if len(differ) > 5 else "")
            self.problem(declared.line, f"{declared.year}年的安排已内置（chinese_calendar，国务院已公布），"
                         f"这里写的与之不符：{shown}。学校自己的调整请写在 local 中")

    def _local(self, section: Any, campuses: tuple[str, ...]) -> list[LocalDay]:
        result: list[LocalDay] = []
        seen: dict[tuple[date, str | None], LocalDay] = {}
        for i, entry in enumerate(section or []):
            line = section.line_of(i)
            if ("off" in entry) == ("work" in entry):
                self.problem(line, "每一项需要 off（放假，写明原因）或 work（上班，写明原因）其中之一")
                continue
            campus = entry.get("campus")
            if campus is not None and campus not in campuses:
                self.problem(line, _unknown_campus(campus, campuses))
                continue
            span = self._span(entry["days"], line)
            off = "off" in entry
            reason = (entry["off"] if off else entry["work"]).strip()
            for day in span or ():
                local = LocalDay(day, off, reason, campus, line)
                earlier = seen.get((day, campus))
                if earlier is not None and (earlier.off, earlier.reason) != (off, reason):
                    self.problem(line, f"{day.isoformat()} 已在第{earlier.line}行列为"
                                 f"{'放假' if earlier.off else '上班'}（{earlier.reason}），"
                                 "同一天只能列一次")
                    continue
                seen[(day, campus)] = local
                result.append(local)
        return result

    def _check_local_effect(self, calendar: SiteCalendar) -> None:
        """A local entry whose days are all already what it says is likely a typo."""
        off, on = calendar._statutory_days()
        statutory = WorkCalendar(holidays=off, workdays=on, years=calendar.years.keys())
        by_line: dict[int | None, list[LocalDay]] = {}
        for local in calendar.local:
            by_line.setdefault(local.line, []).append(local)
        for line, days in by_line.items():
            if not all(statutory.knows(d.day.year) for d in days):
                continue  # the year's arrangement may still change what the day is
            if all(statutory.is_workday(d.day) != d.off for d in days):
                what = "休息日" if days[0].off else "工作日"
                self.problem(line, f"{days[0].day.isoformat()} 本来就是{what}"
                             f"（{weekday_name(days[0].day)}），列在这里没有作用：日期是否写错？")

    def _terms(self, section: Any, campuses: tuple[str, ...]) -> list[Term]:
        terms: list[Term] = []
        for i, entry in enumerate(section or []):
            line = section.line_of(i)
            start = self._date(entry["start"], line)
            end = self._date(entry["end"], line)
            campus = entry.get("campus")
            known = campus is None or campus in campuses
            if not known:
                self.problem(line, _unknown_campus(campus, campuses))
            if start is None or end is None:
                continue
            if end < start:
                self.problem(line, f"学期“{entry['name']}”结束日期 {end.isoformat()} 早于开始日期 {start.isoformat()}")
            elif known:
                terms.append(Term(entry["name"].strip(), start, end, campus, line))
        self._check_terms(terms)
        return terms

    def _check_terms(self, terms: list[Term]) -> None:
        for scope in {t.campus for t in terms}:
            mine = sorted((t for t in terms if t.campus == scope), key=lambda t: t.start)
            names: dict[str, Term] = {}
            for term in mine:
                if term.name in names:
                    self.problem(term.line, f"学期“{term.name}”重复（另见第{names[term.name].line}行）")
                names[term.name] = term
            for a, b in zip(mine, mine[1:], strict=False):
                if b.start <= a.end:
                    self.problem(b.line, f"学期“{b.name}”（{b.start.isoformat()} 起）与第{a.line}行的"
                                 f"“{a.name}”（至 {a.end.isoformat()}）时间重叠")

    # -- dates ------------------------------------------------------------------------

    def _date(self, text: str, line: int | None) -> date | None:
        text = text.strip()
        try:
            if _DATE.fullmatch(text):
                return date.fromisoformat(text)
        except ValueError:
            self.problem(line, f"日期“{text}”不存在")
            return None
        self.problem(line, f"日期“{text}”应写成 YYYY-MM-DD，如 2027-01-01")
        return None

    def _span(self, text: str, line: int | None) -> list[date] | None:
        """A date or a range "A至B" (both days included)."""
        m = _RANGE.fullmatch(text)
        if m is None:
            day = self._date(text, line)
            return [day] if day else None
        first, last = self._date(m[1], line), self._date(m[2], line)
        if first is None or last is None:
            return None
        if last < first:
            self.problem(line, f"日期范围“{text}”的结束早于开始")
            return None
        if (last - first).days > 366:
            self.problem(line, f"日期范围“{text}”超过一年，日期是否写错？")
            return None
        return list(_span_days(first, last))


def _span_days(first: date, last: date) -> Iterable[date]:
    day = first
    while day <= last:
        yield day
        day += ONE_DAY


def _unknown_campus(campus: str, campuses: tuple[str, ...]) -> str:
    known = "、".join(campuses) if campuses else "无"
    return f"未知的校区“{campus}”：请先在 campuses 中登记（已登记：{known}）"


def schema_document() -> dict[str, Any]:
    """The JSON Schema shipped next to calendar.yaml, for editors to complete and check."""
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "title": "rectify 站点日历",
            **SCHEMA}
