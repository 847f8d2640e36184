"""calendar.yaml's text → SiteCalendar: parse, check every section and collect every
problem with its line; any problem means nothing is loaded."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from datetime import date, time
from typing import Any

from engine import yamlfile
from engine.deadline import events as event_words
from engine.errors import ConfigError, Problem
from engine.sitecalendar.model import (
    ONE_DAY,
    DeclaredYear,
    Event,
    LocalDay,
    SiteCalendar,
    Term,
    weekday_name,
)
from engine.sitecalendar.schema import SCHEMA
from engine.validate import check
from engine.workcal import (
    DEFAULT_CALENDAR,
    FIXED_HOLIDAYS,
    WORKDAY_END,
    WorkCalendar,
    statutory_day,
)

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_RANGE = re.compile(r"\s*(\S+?)\s*(?:至|到|~|～|\.\.)\s*(\S+)\s*")
_YEAR_KEY = re.compile(r"\d{4}")


def loads(text: str, filename: str, workday_end: time = WORKDAY_END) -> SiteCalendar:
    """Parse, validate and build; ConfigError with every problem, or the whole calendar.
    `workday_end` is the site's end of the working day (rectify.yaml), which the calendar
    carries to every deadline read with it."""
    data = yamlfile.loads(text, filename)
    if data is None:
        return SiteCalendar(filename, _digest(text), workday_end=workday_end)
    problems = check(data, SCHEMA, filename)
    if problems:
        raise ConfigError(problems)
    return _Builder(filename).build(data, _digest(text), workday_end)


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

    def build(self, data: Any, digest: str, workday_end: time) -> SiteCalendar:
        campuses = self._campuses(data)
        years = self._years(data.get("years"))
        local = self._local(data.get("local"), campuses)
        terms = self._terms(data.get("terms"), campuses)
        events = self._events(data.get("events"))
        # Built from what was readable, so that its checks report alongside the rest.
        calendar = SiteCalendar(self.filename, digest, years, campuses, tuple(local), tuple(terms),
                                tuple(events), workday_end)
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

    def _events(self, section: Any) -> list[Event]:
        """Each event's occurrences, checked: a name the deadline language already reads
        otherwise, a name given twice, a bad day, an end before its start, occurrences of
        one event that overlap."""
        events: list[Event] = []
        seen: dict[str, tuple[str, int | None]] = {}
        for key, value in (section or {}).items():
            line = section.line_of(key)
            name = str(key).strip()
            if not self._event_name(name, line, seen):
                continue
            listed: Any = value if isinstance(value, list) else None  # a LineList
            entries = listed if listed is not None else [value]
            found = [self._occurrence(name, entry, listed.line_of(i) if listed is not None else line)
                     for i, entry in enumerate(entries)]
            mine = sorted((e for e in found if e is not None), key=lambda e: e.start)
            for a, b in zip(mine, mine[1:], strict=False):
                if b.start <= a.end:
                    self.problem(b.line, f"事件“{name}”的日期 {b.start.isoformat()} 起，与第{a.line}行写的"
                                 f" {a.start.isoformat()} 至 {a.end.isoformat()} 重叠")
            events += mine
        return events

    def _event_name(self, name: str, line: int | None, seen: dict[str, tuple[str, int | None]]) -> bool:
        """A name the deadline language can read as the event: not blank, not written
        twice, and no built-in word ("春节", "开学") that would be read instead."""
        folded = event_words.fold(name)
        if not folded:
            self.problem(line, "事件名称不能为空")
            return False
        if folded in seen:
            earlier, at = seen[folded]
            again = "" if earlier == name else f"（写作“{earlier}”）"
            self.problem(line, f"事件“{name}”重复：已在第{at}行写过{again}，同一事件的多个日期请写成列表")
            return False
        seen[folded] = (name, line)
        word = event_words.builtin_word(name)
        if word is not None:
            self.problem(line, f"事件名称“{name}”与期限中的内置用语“{word}”冲突：期限中的“{word}”"
                         "仍按内置含义计算，请换一个名称（如加上活动名称）")
            return False
        return True

    def _occurrence(self, name: str, entry: Any, line: int | None) -> Event | None:
        """A day, "start至end", or {start, end}."""
        if isinstance(entry, str):
            m = _RANGE.fullmatch(entry)
            first = self._date(m[1] if m else entry, line)
            last = self._date(m[2], line) if m else first
        else:
            first = self._date(entry["start"], line)
            last = self._date(entry["end"], line) if "end" in entry else first
        if first is None or last is None:
            return None
        if last < first:
            self.problem(line, f"事件“{name}”结束日期 {last.isoformat()} 早于开始日期 {first.isoformat()}")
            return None
        if (last - first).days > 366:
            self.problem(line, f"事件“{name}”从 {first.isoformat()} 到 {last.isoformat()} 超过一年，日期是否写错？")
            return None
        return Event(name, first, last, line)

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
