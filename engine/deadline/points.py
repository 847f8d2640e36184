"""Turning one date atom into the days it names: "2020年底", "下月10日", "春节", "下周三".

A `Point` is a stretch of days with a first and a last day (one day for "12月25日" or
"9月底", a whole month for "2020年8月"), perhaps ending at a time of day ("24时").
Missing parts come from the atom before it in the same expression ("2020年9月底、
12月底" → 12月 is in 2020) or else from the reference day ("8月25日前" → this year).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta, tzinfo
from typing import TYPE_CHECKING, NamedTuple

from engine.deadline.dates import WORKDAY_END, cn_date, end_of_day, month_end, month_shift
from engine.errors import DeadlineError
from engine.workcal import WorkCalendar, festival_date, next_festival

if TYPE_CHECKING:
    from engine.deadline.events import Named


class Ref:
    """What every atom is read against: the expression, the reference instant in the
    site's zone, its day, the zone, the working calendar, when 下班 is, and the events
    of the calendar the expression names (by the character each is written as:
    `engine.deadline.events`)."""

    __slots__ = ("expression", "now", "today", "zone", "calendar", "workday_end", "events")

    def __init__(
        self,
        expression: str,
        now: datetime,
        zone: tzinfo,
        calendar: WorkCalendar,
        workday_end: time = WORKDAY_END,
        events: Mapping[str, Named] | None = None,
    ) -> None:
        self.expression, self.now, self.today = expression, now, now.date()
        self.zone, self.calendar, self.workday_end = zone, calendar, workday_end
        self.events: Mapping[str, Named] = events or {}


class Point(NamedTuple):
    first: date
    last: date
    instant: datetime | None  # set when the point ends at a time of day
    year: int
    month: int | None
    explicit_year: bool
    grain: str  # year, half, quarter, month, xun, week, day, festival


# How far a word moves from the reference: 今年/本月 0, 明年/下月/次年 +1, 去年/上月 -1.
_SHIFT = {
    "今": 0,
    "本": 0,
    "当": 0,
    "这": 0,
    "这个": 0,
    "明": 1,
    "次": 1,
    "翌": 1,
    "下": 1,
    "下一": 1,
    "下个": 1,
    "下一个": 1,
    "去": -1,
    "上": -1,
    "上一": -1,
    "上个": -1,
    "上一个": -1,
}
_WEEKDAY = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6}
_WEEKDAY.update({str(i + 1): i for i in range(7)})
_DAYWORD = {
    "今天": 0,
    "今日": 0,
    "当天": 0,
    "当日": 0,
    "本日": 0,
    "即日": 0,
    "明天": 1,
    "明日": 1,
    "次日": 1,
    "翌日": 1,
    "后天": 2,
}
# The words documents use for each festival, mapped to the calendar's name for it.
_FESTIVAL = {
    "元旦": "元旦",
    "春节": "春节",
    "除夕": "除夕",
    "元宵": "元宵节",
    "元宵节": "元宵节",
    "清明": "清明节",
    "清明节": "清明节",
    "五一劳动节": "劳动节",
    "五一": "劳动节",
    "劳动节": "劳动节",
    "端午": "端午节",
    "端午节": "端午节",
    "中秋": "中秋节",
    "中秋节": "中秋节",
    "十一国庆": "国庆节",
    "十一国庆节": "国庆节",
    "国庆": "国庆节",
    "国庆节": "国庆节",
    "十一": "国庆节",
    "重阳": "重阳节",
    "重阳节": "重阳节",
}
_XUN = {"上": (1, 10), "中": (11, 20), "下": (21, 31), "上中": (1, 20), "中下": (11, 31)}
# 月初 is the first five days, 月中 the middle 旬; 年初 is January and February,
# 年中 June and July (as JioNLP and the documents read them).
_MONTH_PART = {"初": (1, 5), "中": (11, 20)}
_YEAR_PART = {"初": (1, 2), "中": (6, 7)}


def fail(ref: Ref, part: str, reason: str) -> DeadlineError:
    return DeadlineError(ref.expression, part, reason)


def absolute(m: re.Match[str], ref: Ref, ctx: Point | None) -> Point:
    """An `abs` atom: a year, half, quarter, month, 旬 or day, perhaps ending at 底/末."""
    year, explicit = _year(m, ref, ctx)
    if m["mon"]:
        point = _month(m, ref, ctx, year, explicit)
    elif m["half"]:
        start = 1 if m["half"] == "上" else 7
        point = Point(
            date(year, start, 1), month_end(year, start + 5), None, year, None, explicit, "half"
        )
        if m["part"]:
            raise fail(ref, m.group(), "半年初、半年中无法确定具体日期，请写具体日期")
    elif m["bxun"]:  # "下旬前": this month's (or the month of the atom before)
        year, month = (ctx.year, ctx.month) if ctx and ctx.month else (year, ref.today.month)
        point = _day_in_month(None, m["bxun"], ref, year, month, explicit)
    elif m["quarter"] or m["q"]:
        point = _quarter(m, ref, year, explicit)
        if m["part"]:
            raise fail(ref, m.group(), "季度初、季度中无法确定具体日期，请写“第一季度末前”或具体日期")
    elif m["part"]:
        low, high = _YEAR_PART[m["part"][-1]]
        point = Point(
            date(year, low, 1), month_end(year, high), None, year, None, explicit, "part"
        )
    else:  # a whole year, the commonest case ("2020年底前"): built once
        last = date(year, 12, 31)
        point = Point(
            last if m["end"] else date(year, 1, 1), last, None, year, None, explicit, "year"
        )
        return point if m["clock"] is None else with_time(m, ref, point)
    if m["end"]:
        # Its last day alone (NamedTuple._replace costs four times this).
        point = Point(point.last, point.last, point.instant, point.year, point.month,
                      point.explicit_year, point.grain)
    return point if m["clock"] is None else with_time(m, ref, point)


def _year(m: re.Match[str], ref: Ref, ctx: Point | None) -> tuple[int, bool]:
    if m["y"]:
        return int(m["y"]), True
    if m["yw"]:
        return ref.today.year + _SHIFT[m["yw"]], True
    return (ctx.year if ctx else ref.today.year), False


def _quarter(m: re.Match[str], ref: Ref, year: int, explicit: bool) -> Point:
    if m["q"]:
        quarter = int(m["q"])
        if not 1 <= quarter <= 4:
            raise fail(ref, m.group(), "季度应为第一至第四季度")
    else:
        index = year * 4 + (ref.today.month - 1) // 3 + _SHIFT.get(m["qw"] or "本", 0)
        year, quarter = index // 4, index % 4 + 1
    first_month = quarter * 3 - 2
    return Point(
        date(year, first_month, 1),
        month_end(year, first_month + 2),
        None,
        year,
        None,
        explicit,
        "quarter",
    )


def _month(m: re.Match[str], ref: Ref, ctx: Point | None, year: int, explicit: bool) -> Point:
    if m["m"]:
        month = int(m["m"])
        if not 1 <= month <= 12:
            raise fail(ref, f"{month}月", "月份应在1到12之间")
    elif m["mw"]:
        if m["year"]:
            raise fail(ref, m.group(), "年份与“本月/下月”不能同时使用")
        year, month = month_shift(ref.today.year, ref.today.month, _SHIFT[m["mw"]])
    elif m["year"]:
        raise fail(ref, m.group(), "缺少月份")
    else:  # 月底, 月内: this month (or the month of the atom before)
        year, month = (
            (ctx.year, ctx.month) if ctx and ctx.month else (ref.today.year, ref.today.month)
        )
    if m["part"]:
        if m["part"].startswith("年"):
            raise fail(ref, m.group(), "月份之后不能再写“年初/年中”")
        low, high = _MONTH_PART[m["part"]]
        return Point(
            date(year, month, low), date(year, month, high), None, year, month, explicit, "part"
        )
    point = _day_in_month(m["d"], m["xun"], ref, year, month, explicit)
    return _check_weekday(m["d_wd"], ref, point) if m["d_wd"] else point


_WEEKDAY_NAME = "一二三四五六日"


def _check_weekday(weekday: str, ref: Ref, point: Point) -> Point:
    """ "2020年12月31日（星期四）": the weekday must agree with the date, or it is a typo."""
    if point.first.weekday() != _WEEKDAY[weekday]:
        day = point.first
        raise fail(
            ref,
            f"{day.month}月{day.day}日星期{weekday}",
            f"日期与星期不符：{cn_date(day)}是星期{_WEEKDAY_NAME[day.weekday()]}，不是星期{weekday}，"
            "请核对日期或星期",
        )
    return point


def confirm_weekday(m: re.Match[str], ref: Ref, point: Point) -> Point:
    """ "25日（周一）", "5月11日（下周一）": the weekday after a date confirms it; a
    weekday that does not match, or a 下周 that is another week, is refused naming both."""
    if point.first != point.last:
        raise fail(ref, m.group(), "星期只能跟在具体日期之后，用来核对日期")
    point = _check_weekday(m["cf_d"], ref, point)
    if m["cf_w"] is not None:
        monday = ref.today - timedelta(days=ref.today.weekday())
        named = monday + timedelta(weeks=_SHIFT[m["cf_w"]], days=_WEEKDAY[m["cf_d"]])
        if named != point.first:
            raise fail(
                ref,
                m["confirm"],
                f"“{m['confirm']}”是{cn_date(named)}，与所写的{cn_date(point.first)}不是同一天，"
                "请核对日期或星期",
            )
    return point


def _day_in_month(
    day: str | None, xun: str | None, ref: Ref, year: int, month: int, explicit: bool
) -> Point:
    last = month_end(year, month)
    if day:
        number = int(day)
        if not 1 <= number <= last.day:
            raise fail(ref, f"{month}月{day}日", f"{year}年{month}月没有{day}日")
        one = date(year, month, number)
        return Point(one, one, None, year, month, explicit, "day")
    if xun:
        low, high = _XUN[xun]
        return Point(
            date(year, month, low),
            date(year, month, min(high, last.day)),
            None,
            year,
            month,
            explicit,
            "xun",
        )
    return Point(date(year, month, 1), last, None, year, month, explicit, "month")


def day_of_month(m: re.Match[str], ref: Ref, ctx: Point) -> Point:
    """ "30日" after "12月21日至": a day of the month named just before."""
    if ctx.month is None:
        raise fail(ref, m.group(), "缺少月份")
    return with_time(m, ref, _day_in_month(m["n"], None, ref, ctx.year, ctx.month, False))


def bare_day(m: re.Match[str], ref: Ref) -> Point:
    """ "25日前" with no month: the 25th of this month while it is still ahead (today
    included), else of the next month that has that day ("31日前" on 5 April: 31 May)."""
    number = int(m["n"])
    if not 1 <= number <= 31:
        raise fail(ref, m.group(), "日期应在1到31之间")
    year, month = ref.today.year, ref.today.month
    if number < ref.today.day:
        year, month = month_shift(year, month, 1)
    while number > month_end(year, month).day:
        year, month = month_shift(year, month, 1)
    one = date(year, month, number)
    return with_time(m, ref, Point(one, one, None, year, month, False, "day"))


def iso(m: re.Match[str], ref: Ref) -> Point:
    """2020-12-31, 2020/9/1, 2020.12 (a month)."""
    year, month = int(m["iso_y"]), int(m["iso_m"])
    if not 1 <= month <= 12:
        raise fail(ref, m.group("iso"), "月份应在1到12之间")
    point = _day_in_month(m["iso_d"], None, ref, year, month, True)
    if m["iso_wd"]:
        point = _check_weekday(m["iso_wd"], ref, point)
    return with_time(m, ref, point)


def week(m: re.Match[str], ref: Ref) -> Point:
    """本周, 下周三 (weeks run Monday to Sunday); a bare 周五 is the next Friday."""
    today = ref.today
    if m["wk_w"] is None:
        day = today + timedelta(days=(_WEEKDAY[m["wk_d"]] - today.weekday()) % 7)
        return with_time(m, ref, Point(day, day, None, day.year, day.month, False, "day"))
    monday = today - timedelta(days=today.weekday()) + timedelta(weeks=_SHIFT[m["wk_w"]])
    if m["wk_d"]:
        day = monday + timedelta(days=_WEEKDAY[m["wk_d"]])
        return with_time(m, ref, Point(day, day, None, day.year, day.month, False, "day"))
    sunday = monday + timedelta(days=6)
    return Point(monday, sunday, None, sunday.year, sunday.month, False, "week")


def dayword(m: re.Match[str], ref: Ref) -> Point:
    """今天, 当日, 次日 …: a day counted from the reference day."""
    day = ref.today + timedelta(days=_DAYWORD[m["dayword"]])
    return with_time(m, ref, Point(day, day, None, day.year, day.month, False, "day"))


def festival(m: re.Match[str], ref: Ref) -> Point:
    """ "春节前": the day before the next 春节 on or after the reference day (or in the
    year written). "国庆节放假前": the day before that holiday's first day off."""
    name = _FESTIVAL[m["fest"]]
    try:
        if m["fest_y"] or m["fest_yw"]:
            year = int(m["fest_y"]) if m["fest_y"] else ref.today.year + _SHIFT[m["fest_yw"]]
            day = festival_date(name, year)
        else:
            day = next_festival(name, ref.today)
    except ValueError as exc:
        raise fail(ref, m["fest"], "超出可计算节日日期的年份范围") from exc
    if m["fest_off"]:
        day = _holiday_start(m, ref, day)
    eve = day - timedelta(days=1)
    return Point(eve, eve, None, eve.year, eve.month, bool(m["fest_y"] or m["fest_yw"]), "festival")


def _holiday_start(m: re.Match[str], ref: Ref, day: date) -> date:
    if not ref.calendar.knows(day.year):
        raise fail(ref, m.group("festival"), f"{day.year}年的放假安排尚未公布，无法确定放假日期")
    if ref.calendar.is_workday(day):
        raise fail(ref, m.group("festival"), f"{day}不放假")
    return ref.calendar.holiday_block_start(day)


def with_time(m: re.Match[str], ref: Ref, point: Point) -> Point:
    """Attach a time of day ("24时", "下午5点", "17:30", "下班") to a one-day point."""
    if m["clock"] is None:
        return point
    if point.first != point.last:
        raise fail(ref, m.group(), "时刻只能跟在具体日期之后")
    hour, minute = _clock(m, ref)
    day = point.last
    instant = (
        end_of_day(day, ref.zone)
        if hour == 24
        else datetime(day.year, day.month, day.day, hour, minute, tzinfo=ref.zone)
    )
    return point._replace(instant=instant)


# Words for a time of day: 上午 ends at noon, 中午 is noon, 下班 the site's end of the
# working day (Ref.workday_end). 下午 and 晚上 alone name no hour and are refused.
_TIME_WORDS = {"上午": (12, 0), "中午": (12, 0)}


def clock_of(m: re.Match[str], ref: Ref) -> time | None:
    """An atom's time of day as a time, None for 24时 (the end of the day)."""
    hour, minute = _clock(m, ref)
    return None if hour == 24 else time(hour, minute)


def _clock(m: re.Match[str], ref: Ref) -> tuple[int, int]:
    word = m["tword"]
    if word is not None:
        if word.endswith("下班"):
            return ref.workday_end.hour, ref.workday_end.minute
        if word in _TIME_WORDS:
            return _TIME_WORDS[word]
        raise fail(ref, m.group(), f"“{word}”没有写明几点，请写如“{word}5点前”或“下班前”")
    hour = int(m["hh"])
    minute = 30 if m["hh_half"] else int(m["mi"] or m["mi2"] or 0)
    ampm = m["ampm"]
    if ampm in ("下午", "晚上", "晚") and 1 <= hour < 12:
        hour += 12
    elif ampm in ("晚上", "晚") and hour == 12:
        hour = 24
    elif ampm == "中午" and 1 <= hour <= 2:
        hour += 12
    elif ampm in ("上午", "早上", "凌晨") and hour > 12:
        raise fail(ref, m.group(), f"{ampm}没有{hour}点")
    if hour > 24 or minute > 59 or (hour == 24 and minute):
        raise fail(ref, m.group(), "时刻不存在")
    return hour, minute
