"""Reading a whole deadline expression: atoms, the text between them, and what they make.

The steps: normalise the text; find the atoms (`grammar.ATOM`); check that the filler
around and between them changes nothing (no unread digits, no hedges); set aside
立整立改 / 长期坚持; then read what is left as exactly one of
    a recurrence  (one 每… atom),
    a relative count from the reference (one amount atom: 3日内, 5个工作日内, 24小时内),
    a window      (two date atoms joined by 至/到/~/-, or one bare year or month),
    once          (one or more date atoms, joined by 、/和/及 or nothing).
Anything else is refused with the part that could not be read.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, tzinfo

from engine.deadline import dates, events, every, grammar, holiday, points, school, vague
from engine.deadline.dates import add_months, end_of_day, last_day_before, zone_of
from engine.deadline.model import SHANGHAI, Deadline, Kind
from engine.deadline.points import Point, Ref, fail
from engine.deadline.recurrence import MonthCycle, Recurrence, TermCycle
from engine.errors import DeadlineError
from engine.numerals import normalize
from engine.workcal import DEFAULT_CALENDAR, WorkCalendar

_BEFORE = frozenset({"前", "之前", "以前", "为止", "止"})
_WITHIN = frozenset({"内", "以内", "之内"})
_DAYS = {"天": 1, "日": 1, "自然日": 1, "日历日": 1, "日历天": 1, "周": 7, "星期": 7, "礼拜": 7}
_MONTHS = {"月": 1, "年": 12}
_MINUTES = {"小时": 60, "钟头": 60, "分钟": 1}
# Periods that, named alone, are windows ("2021年", "6月上旬", "第二季度", "年初").
_PERIODS = frozenset({"year", "month", "half", "quarter", "xun", "part", "week", "event"})
_WEEKEND = "“周末”指周六还是周日无法确定，请写“周五前”“周日前”或具体日期"
_YEARS = f"{dates.FIRST_YEAR}年至{dates.LAST_YEAR}年"
# The kinds as module constants: reading an enum member off its class costs a descriptor
# call, a few times per parse.
_ONCE, _WINDOW, _RECURRING, _IMMEDIATE, _ONGOING = (
    Kind.ONCE, Kind.WINDOW, Kind.RECURRING, Kind.IMMEDIATE, Kind.ONGOING)


def parse_deadline(
    expression: str,
    ref: datetime,
    tz: tzinfo | str = SHANGHAI,
    *,
    calendar: WorkCalendar | None = None,
    count: int = 4,
    workday_end: time | None = None,
) -> Deadline:
    """Read a Chinese deadline expression at reference instant `ref` (aware) in zone `tz`.

    `calendar` is the site's (working days, terms, events, end of the working day);
    `count` is how many dues a recurring deadline lists; `workday_end`, when given, is
    when 下班前 is overdue instead of the calendar's (the site's end of the working day).
    Raises DeadlineError naming the part that cannot be read with certainty; never guesses.
    """
    if ref.tzinfo is None:
        raise ValueError("parse_deadline needs an aware reference datetime")
    if count < 1:
        raise ValueError("count must be at least 1")
    zone = tz if isinstance(tz, tzinfo) else zone_of(tz)
    text = grammar.expand_ranges(normalize(expression))
    if not text:
        raise DeadlineError(expression, "", "期限为空")
    calendar = calendar or DEFAULT_CALENDAR
    named: dict[str, events.Named] = {}
    if calendar.events:
        text, named = events.substitute(text, calendar.events)
    reading = _Reading(
        expression, ref.astimezone(zone), zone, calendar, workday_end or calendar.workday_end, named
    )
    try:
        deadline = reading.read(text, count)
    except (OverflowError, ValueError) as exc:  # a count that runs past the year 9999
        raise DeadlineError(expression, "", f"超出可以计算的日期范围（{_YEARS}）") from exc
    except DeadlineError as exc:
        if named:
            raise events.restored(exc, named) from None
        raise
    for day in (deadline.start, *deadline.dues):
        if day is not None and not dates.FIRST_YEAR <= day.year <= dates.LAST_YEAR:
            raise DeadlineError(expression, "", f"{day.isoformat()} 超出可以计算的日期范围（{_YEARS}）")
    return deadline


class _Scan:
    """The atoms of one expression: date atoms with their kinds and joins, and flags."""

    __slots__ = ("core", "kinds", "joins", "immediate", "ongoing")

    def __init__(self) -> None:
        self.core: list[re.Match[str]] = []
        self.kinds: list[str] = []
        self.joins: list[str] = []
        self.immediate = self.ongoing = False


class _Reading(Ref):
    """Reading one expression: the reference, plus what the atoms have said so far."""

    __slots__ = ("text", "warnings", "provisional")

    def __init__(
        self,
        expression: str,
        now: datetime,
        zone: tzinfo,
        calendar: WorkCalendar,
        workday_end: time,
        named: dict[str, events.Named],
    ) -> None:
        # Ref's fields, set here rather than through super() to save a call per parse.
        self.expression, self.now, self.today = expression, now, now.date()
        self.zone, self.calendar, self.workday_end = zone, calendar, workday_end
        self.events = named
        self.text = ""
        self.warnings: list[str] = []
        self.provisional = False

    def read(self, text: str, count: int) -> Deadline:
        """The Deadline the text states (see the module docstring for the steps)."""
        self.text = text
        scan = self._scan()
        core, kinds = scan.core, scan.kinds
        if not core:
            kind = _IMMEDIATE if scan.immediate else _ONGOING
            return self._deadline(kind, (), (), None, scan.ongoing)
        if "school" in kinds:
            return self._school(core, kinds, scan.ongoing)
        if len(core) == 1:
            if kinds[0] == "amount":
                return self._relative(core[0], scan.ongoing)
            if kinds[0] != "every":
                return self._single(core[0], kinds[0], scan.ongoing)
        if "every" in kinds:
            return self._recurring(core, scan.ongoing, count)
        return self._dates(core, kinds, scan.joins, scan.ongoing)

    def _scan(self) -> _Scan:
        """Find the atoms, set 立整立改 / 长期坚持 aside and join the date atoms."""
        scan = _Scan()
        first = last = None
        previous_end = -1
        # A private-use character typed (no event of the calendar) is refused as the
        # event alternative reads it.
        atoms = grammar.ATOM_WITH_EVENTS if self.events or events.has_mark(self.text) else grammar.ATOM
        for m in atoms.finditer(self.text):
            kind = grammar.kind_of(m)
            if kind == "abs" and self._is_filler(m):
                continue
            first = first or m
            last = m
            if kind == "immediate" or kind == "ongoing":
                scan.immediate = scan.immediate or kind == "immediate"
                scan.ongoing = scan.ongoing or kind == "ongoing"
                previous_end = -1  # text after 立整立改 / 长期坚持 is a new clause
                continue
            if scan.core and not self._joined(scan, previous_end, m):
                continue
            scan.core.append(m)
            scan.kinds.append(kind)
            previous_end = m.end()
        if first is None or last is None:
            raise fail(self, self.text, vague.reason(self.text, self.calendar.events))
        if first.start() or last.end() != len(self.text):
            self._check_ends(first, last, "range" in scan.joins)
        return scan

    def _joined(self, scan: _Scan, previous_end: int, m: re.Match[str]) -> bool:
        """Record how `m` joins the date atoms before it; False to leave `m` out."""
        join = self._join(previous_end, m)
        if join != "text":
            scan.joins.append(join)
            return True
        if _names_a_period(m):
            return False  # "每月5日前报送上月情况": what is reported, not when
        gap = self.text[previous_end : m.start()]
        if _repeats(scan, gap, m):
            return False  # "当天发现当天整改", "6月30日前（含当日）": said again
        if _reported_year(scan, m):
            return False  # "6月底前完成2020年度总结": what is done, not when
        if scan.kinds[-1] == "every" and gap.endswith("第"):
            raise fail(
                self, scan.core[-1].group() + gap + m.group(),
                "无法确定周期中第几周（天）的哪一天，请写如“每月7日前”或“每月第一个工作日”",
            )
        if _counts_from_today(scan, self.text[previous_end : m.start()], m):
            scan.core.clear()  # "即日起7个工作日内": a count from the reference
            scan.kinds.clear()
            return True
        if len(scan.core) > 1 or not _names_a_period(scan.core[0]):
            raise fail(self, m.group(), "一个期限中写了多个无法合并的时间")
        scan.core.clear()  # "上年度隐患于每年3月底前报送": the same, before it
        scan.kinds.clear()
        return True

    # -- atoms and filler -------------------------------------------------------------

    def _is_filler(self, m: re.Match[str]) -> bool:
        """A bare 年/月/季度 only counts with 底/末/内 ("年底", "月内"); elsewhere it is a word."""
        if m["year"] or m["m"] or m["half"] or m["q"] or m["mw"] or m["qw"]:
            return False
        if m["end"] or m["part"] or m["xun"] or m["bxun"] or m["d"] or m["rel"] in _WITHIN:
            return False
        if m["ybare"] and m["rel"] in _BEFORE:
            raise fail(self, m.group(), "“年前”既可指年底前也可指春节前，请写明日期")
        return True

    def _check_ends(self, first: re.Match[str], last: re.Match[str], ranged: bool) -> None:
        """The text before the first atom and after the last must not change its meaning."""
        lead, tail = self.text[: first.start()], self.text[last.end() :]
        for filler in (lead, tail):
            if grammar.STRAY_NUMBER.search(filler):
                raise fail(self, filler, "含有无法识别的数字")
        # Hedges matter around dates and counts; "发现后立即整改" is still immediate.
        if grammar.HEDGE_BEFORE.search(lead) and not _is_special(first):
            raise fail(self, lead + first.group(), "不是确定的期限")
        if _is_special(last):
            return
        if last["week"] is not None and tail.startswith("末"):
            raise fail(self, last.group() + "末", _WEEKEND)
        if grammar.UNREAD_PART.match(tail):
            raise fail(self, last.group() + tail[:2], "年份、月份或日期写法不完整")
        hedge = grammar.HEDGE_AFTER.match(tail)
        if hedge and not (hedge.group() == "期间" and ranged):
            raise fail(self, last.group() + tail[:2], "不是截止期限")
        if last["rel"] is None and last["end"] is None and last["ev_rel"] is None:
            if _is_dated(last) and grammar.LATER_RELATION.match(tail):
                raise fail(self, last.group() + tail, "无法确定所指的日期")

    def _join(self, previous_end: int, m: re.Match[str]) -> str:
        """How an atom joins the date atom before it: list, range, or other text."""
        gap = self.text[previous_end : m.start()] if previous_end >= 0 else "…"
        if not gap:
            return "adjacent"
        if grammar.LIST_MARK.fullmatch(gap):
            return "list"
        if grammar.RANGE_MARK.fullmatch(gap):
            return "range"
        if grammar.STRAY_NUMBER.search(gap):
            raise fail(self, gap, "含有无法识别的数字")
        return "text"

    # -- what the atoms make ----------------------------------------------------------

    def _recurring(self, core: list[re.Match[str]], ongoing: bool, count: int) -> Deadline:
        if len(core) > 1:
            raise fail(self, self.text, "周期性期限中又写了其他时间")
        m = core[0]
        if m["rel"] and m["rel"] not in _BEFORE or m["confirm"]:
            raise fail(self, m.group(), "周期性期限后不能再接“内”或星期，如“每周五前”“每月5日前”")
        clock = points.clock_of(m, self) if m["clock"] else None
        rule = every.rule_of(m, self)
        if isinstance(rule, MonthCycle) and rule.day is not None and rule.day > 28:
            self.warnings.append(f"有的月份没有{rule.day}日，这些月份按当月最后一天计算")
        dues, provisional = rule.dues_from(self.today, count, self.calendar)
        if isinstance(rule, TermCycle) and len(dues) < count:
            last = max((t.end for t in self.calendar.terms or ()), default=self.today)
            if not dues:
                raise school.missing(self, m.group("every"), max(last, self.today))
            self.warnings.append(f"日历中只写到{last.isoformat()}结束的学期，以后的期限待写入学期后确定")
        self._provisional(provisional, dues)
        deadline = self._deadline(_RECURRING, dues, (), None, ongoing, rule, clock)
        overdue = tuple(deadline.overdue_of(d) for d in dues)
        if clock is not None and dues and overdue[0] <= self.now:
            return self._recurring_later(deadline, count)
        return replace_overdue(deadline, overdue)

    def _school(self, core: list[re.Match[str]], kinds: list[str], ongoing: bool) -> Deadline:
        """"开学前", "学期末", "开学后2周内": one word of the school calendar, alone."""
        if len(core) > 1:
            m = core[kinds.index("school")]
            raise fail(self, m.group(), "学期用语不能与其他时间并列或连用")
        m = core[0]
        if m["clock"]:
            raise fail(self, m.group(), "学期用语后不能再接时刻")
        if m["sc_nth"] is not None:
            first, last = school.nth_period(m, self)
            overdue = end_of_day(last, self.zone)
            self._past(overdue, last)
            start = None if m["rel"] else first
            kind = _ONCE if m["rel"] else _WINDOW
            return self._deadline(kind, (last,), (overdue,), start, ongoing)
        due, provisional = school.due_of(m, self)
        self._provisional(provisional, (due,))
        overdue = end_of_day(due, self.zone)
        self._past(overdue, due)
        return self._deadline(_ONCE, (due,), (overdue,), None, ongoing)

    def _relative(self, m: re.Match[str], ongoing: bool) -> Deadline:
        if _is_day_of_month(m):
            point = points.bare_day(m, self)
            point = points.confirm_weekday(m, self, point) if m["confirm"] else point
            return self._single_point(point, ongoing)
        if m["rel"] is not None and m["rel"] not in _WITHIN:
            raise fail(
                self, m.group(), "“前”不能跟在时长之后：若指若干天内，请写“3日内”；若指某日，请写“5月3日前”"
            )
        if m["clock"]:
            raise fail(self, m.group(), "时长后不能再接时刻")
        instant = self._count_from_reference(m)
        return self._deadline(_ONCE, (last_day_before(instant),), (instant,), None, ongoing)

    def _count_from_reference(self, m: re.Match[str]) -> datetime:
        """The instant a count from the reference ends: whole days end at the end of their
        last day (the reference day is not counted); hours and minutes to the minute."""
        unit, n, half = m["unit"], m["n"], bool(m["n_half"])
        amount = 0 if n == "半" else int(n)
        if amount == 0 and n != "半":
            raise fail(self, m.group(), "时长不能为0")
        if unit in _MINUTES:
            minutes = amount * _MINUTES[unit] + (_MINUTES[unit] // 2 if half or n == "半" else 0)
            if unit == "分钟" and (half or n == "半"):
                raise fail(self, m.group(), "无法确定半分钟")
            return self.now + timedelta(minutes=minutes)
        return end_of_day(self._count_days(m, unit, amount, half or n == "半"), self.zone)

    def _count_days(self, m: re.Match[str], unit: str, amount: int, half: bool) -> date:
        today = self.today
        if unit == "工作日":
            if half:
                raise fail(self, m.group(), "无法确定半个工作日")
            if amount > (dates.LAST_YEAR - today.year + 1) * 366:
                # No year has more working days than days: past the last year, refused as
                # any count that runs out of range, without walking the years to it.
                raise OverflowError(m.group())
            day, provisional = self.calendar.add_workdays(today, amount)
            self._provisional(provisional, (day,))
            return day
        if unit in _MONTHS:
            # 半个月 is 15 days (as documents mean it); 半年 is six calendar months.
            day = add_months(today, amount * _MONTHS[unit] + (6 if half and unit == "年" else 0))
            return day + timedelta(days=15) if half and unit == "月" else day
        if unit in _DAYS and not half:
            return today + timedelta(days=amount * _DAYS[unit])
        if unit == "号":
            raise fail(self, m.group(), "缺少月份")
        raise fail(self, m.group(), "无法确定半天或半周的截止时刻")

    def _dates(
        self, core: list[re.Match[str]], kinds: list[str], joins: list[str], ongoing: bool
    ) -> Deadline:
        pts = self._points(core, kinds)
        if "adjacent" in joins and "week" in kinds:
            pts = self._confirmed(core, kinds, joins, pts)
        if "festival" in kinds:
            self._check_relations(core, kinds)
        if "range" in joins:
            return self._window(core, pts, joins, ongoing)
        # In time order and once each: "五一、十一前" lists next May after this October,
        # and 中秋 may fall on 国庆.
        pairs = sorted({(p.instant or end_of_day(p.last, self.zone), _due_of(p)) for p in pts})
        for at, due in pairs:
            self._past(at, due)
        dues = tuple(due for _, due in pairs)
        return self._deadline(_ONCE, dues, tuple(at for at, _ in pairs), None, ongoing)

    def _single(self, m: re.Match[str], kind: str, ongoing: bool) -> Deadline:
        """One date atom, the commonest expression ("2020年底前"), read without lists."""
        if kind == "abs":
            point = points.absolute(m, self, None)
            point = points.confirm_weekday(m, self, point) if m["confirm"] else point
        else:
            point = self._point(m, kind, None)
        if kind == "festival" and m["rel"] not in _BEFORE:
            raise fail(self, m.group(), "节日只能作“节前”期限")
        if (
            point.grain in _PERIODS
            and not (m["end"] or m["rel"] or m["clock"])
            and not grammar.UNTIL.search(self.text, 0, m.start())
        ):
            # "2021年", "2020年8月": a whole year or month named alone is a window.
            return self._window_of(point, point, ongoing)
        return self._single_point(point, ongoing)

    def _single_point(self, point: Point, ongoing: bool) -> Deadline:
        if point.instant is None:
            due, overdue = point.last, end_of_day(point.last, self.zone)
        else:
            due, overdue = last_day_before(point.instant), point.instant
        if overdue <= self.now:
            self._past(overdue, due)
        return self._deadline(_ONCE, (due,), (overdue,), None, ongoing)

    def _confirmed(
        self, core: list[re.Match[str]], kinds: list[str], joins: list[str], pts: list[Point]
    ) -> list[Point]:
        """ "下周一（5月11日）前": a weekday written right beside a date confirms it, and is
        dropped; one that names another day is refused, naming both."""
        dropped: set[int] = set()
        for i, join in enumerate(joins):
            pair = (i, i + 1)
            if join != "adjacent" or "week" not in (kinds[i], kinds[i + 1]):
                continue
            week, day = pair if kinds[i] == "week" else pair[::-1]
            if pts[week].first != pts[week].last or pts[day].first != pts[day].last:
                continue
            if pts[week].first != pts[day].first:
                raise fail(
                    self,
                    core[i].group() + core[i + 1].group(),
                    f"“{core[week]['week']}”是{dates.cn_date(pts[week].first)}，"
                    f"与所写的{dates.cn_date(pts[day].first)}不是同一天，请核对日期或星期",
                )
            dropped.add(week)
        return [p for i, p in enumerate(pts) if i not in dropped]

    def _points(self, core: list[re.Match[str]], kinds: list[str]) -> list[Point]:
        pts: list[Point] = []
        for m, kind in zip(core, kinds, strict=True):
            pts.append(self._point(m, kind, pts[-1] if pts else None))
        return pts

    def _point(self, m: re.Match[str], kind: str, ctx: Point | None) -> Point:
        point = self._point_of(m, kind, ctx)
        return points.confirm_weekday(m, self, point) if m["confirm"] else point

    def _point_of(self, m: re.Match[str], kind: str, ctx: Point | None) -> Point:
        if kind == "abs":
            return points.absolute(m, self, ctx)
        if kind == "iso":
            return points.iso(m, self)
        if kind == "festival":
            return points.festival(m, self)
        if kind == "week":
            return points.week(m, self)
        if kind == "dayword":
            return points.dayword(m, self)
        if kind == "holiday":
            point, provisional = holiday.point(m, self)
            self._provisional(provisional, (point.last,))
            return points.with_time(m, self, point)
        if kind == "event":
            point, provisional = events.point(m, self)
            self._provisional(provisional, (point.last,))
            return point
        if ctx is not None and m["unit"] in ("日", "号") and m["n_half"] is None and m["n"] != "半":
            return points.day_of_month(m, self, ctx)
        raise fail(self, m.group(), "时长不能与日期并列")

    def _check_relations(self, core: list[re.Match[str]], kinds: list[str]) -> None:
        """Festivals need 前 ("春节前"), from themselves or from the end of their list."""
        final = core[-1]["rel"]
        for m, kind in zip(core, kinds, strict=True):
            if kind == "festival" and (m["rel"] or final) not in _BEFORE:
                raise fail(self, m.group(), "节日只能作“节前”期限")

    def _window(
        self, core: list[re.Match[str]], pts: list[Point], joins: list[str], ongoing: bool
    ) -> Deadline:
        if len(pts) != 2 or joins != ["range"]:
            raise fail(self, self.text, "时间段应写作“开始至结束”")
        start, end = pts
        if end.last < start.first and core[1]["amount"] is not None:
            raise fail(self, self.text, "结束日期早于开始日期，请按“开始至结束”的顺序写")
        if end.last < start.first and not end.explicit_year:
            # "12月1日至1月15日": the end is in the next year.
            end = self._point(
                core[1], grammar.kind_of(core[1]), start._replace(year=start.year + 1)
            )
        if end.last < start.first:
            raise fail(self, self.text, "结束时间早于开始时间")
        return self._window_of(start, end, ongoing)

    def _window_of(self, start: Point, end: Point, ongoing: bool) -> Deadline:
        overdue = end.instant or end_of_day(end.last, self.zone)
        due = _due_of(end)
        self._past(overdue, due)
        return self._deadline(_WINDOW, (due,), (overdue,), start.first, ongoing)

    # -- results ----------------------------------------------------------------------

    def _provisional(self, provisional: bool, dues: tuple[date, ...]) -> None:
        """Mark the result provisional and name each unarranged year the count crossed."""
        if not provisional:
            return
        self.provisional = True
        first, last = min(self.today.year, *(d.year for d in dues)), max(d.year for d in dues)
        for year in range(first, last + 1):
            if not self.calendar.knows(year):
                self.warnings.append(self.calendar.provisional_warning(year))

    def _past(self, overdue: datetime, due: date) -> None:
        if overdue <= self.now:
            self.warnings.append(f"期限{due.isoformat()}早于参考时间，已逾期")

    def _deadline(
        self,
        kind: Kind,
        dues: tuple[date, ...],
        overdue: tuple[datetime, ...],
        start: date | None,
        ongoing: bool,
        recurrence: Recurrence | None = None,
        clock: time | None = None,
    ) -> Deadline:
        return Deadline(
            kind,
            self.expression,
            dues,
            overdue,
            start,
            ongoing or kind is _ONGOING,
            self.provisional,
            tuple(self.warnings),
            recurrence,
            self.zone,
            self.calendar,
            clock,
        )

    def _recurring_later(self, deadline: Deadline, count: int) -> Deadline:
        """Today's due whose time has passed ("每天下班前" read at 18:00) is not listed:
        the next `count` dues still open at the reference."""
        dues = deadline.next_dues(self.now, count)
        overdue = tuple(deadline.overdue_of(d) for d in dues)
        return replace_overdue(deadline, overdue, dues)


def replace_overdue(
    deadline: Deadline, overdue: tuple[datetime, ...], dues: tuple[date, ...] | None = None
) -> Deadline:
    """The same deadline with its overdue instants (and dues) set."""
    deadline.__dict__.update(overdue_at=overdue)
    if dues is not None:
        deadline.__dict__.update(dues=dues)
    return deadline


_TODAY = frozenset({"即日", "今天", "今日", "当天", "当日", "本日"})
_INCLUDING = ("含", "包含", "包括")


def _reported_year(scan: _Scan, m: re.Match[str]) -> bool:
    """A bare year ("2020年度") after a deadline with its own 前/内 names what is reported."""
    if m["abs"] is None or not m["y"] or m["end"] or m["rel"] or m["clock"] or m["part"]:
        return False
    if m["mon"] or m["half"] or m["q"] or m["quarter"] or m["bxun"]:
        return False
    return scan.core[-1]["rel"] is not None or scan.core[-1]["ev_rel"] is not None


def _repeats(scan: _Scan, gap: str, m: re.Match[str]) -> bool:
    """The same time written again ("节前检查于节前完成"), or "（含当日）" after a date."""
    if len(scan.core) == 1 and m.group() == scan.core[0].group():
        return True
    return m["dayword"] in ("当日", "当天") and gap.endswith(_INCLUDING) and m.end() == len(
        m.string
    )


def _counts_from_today(scan: _Scan, gap: str, m: re.Match[str]) -> bool:
    """ "即日起7个工作日内", "自即日起3日内": today is where the count starts."""
    if len(scan.core) != 1 or scan.kinds[0] != "dayword" or m["amount"] is None:
        return False
    return scan.core[0]["dayword"] in _TODAY and gap in ("起", "开始", "起算", "算起")


def _names_a_period(m: re.Match[str]) -> bool:
    """上月, 本季度, 上年度, 上半年, 上周, 两会期间 with no 前/内/底 name a period a report
    covers."""
    if m["week"] is not None:
        return m["wk_d"] is None and not (m["rel"] or m["clock"])
    if m.re is grammar.ATOM_WITH_EVENTS and m["event"] is not None:
        return m["evt_form"] is None and m["evt_after"] is None and not (m["rel"] or m["clock"])
    if m["abs"] is None or m["y"] or m["m"] or m["d"] or m["q"] or m["xun"]:
        return False
    if m["end"] or m["rel"] or m["clock"]:
        return False
    return bool(m["yw"] or m["mw"] or m["qw"] or m["half"])


def _is_day_of_month(m: re.Match[str]) -> bool:
    """ "25日前", "25号前", "25日17时前": a day of the month, not an amount of days
    ("3号楼" alone is a building, not a day)."""
    if m["unit"] not in ("日", "号") or m["n"] == "半" or m["n_half"]:
        return False
    return m["rel"] in _BEFORE or m["clock"] is not None or m["confirm"] is not None


def _is_special(m: re.Match[str]) -> bool:
    return m["immediate"] is not None or m["ongoing"] is not None


def _is_dated(m: re.Match[str]) -> bool:
    return (
        m["abs"] is not None
        or m["iso"] is not None
        or m["week"] is not None
        or m["dayword"] is not None
    )


def _due_of(point: Point) -> date:
    return last_day_before(point.instant) if point.instant else point.last
