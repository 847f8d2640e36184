"""Deadlines counted from a holiday: "节后第一个工作日", "国庆节后3个工作日内", "节前".

A holiday is a run of days off around a festival, as the working calendar (statutory,
with the site's own years) has it:

    春节后… / 国庆假期后…   the run of days off holding that festival: the first one whose
                            run has not ended by the reference day (or in the year written)
    节后… / 节假日后…       the next run of days off that includes a weekday (a holiday, not
                            an ordinary weekend), or the one the reference day is in
    …后第N个工作日          the N-th working day after the run (第一个: the first day back;
                            节后上班第N天 likewise)
    …后N个工作日内          the same day: N working days counted from the first day back
    …后N天内 / 第N天        N calendar days after the run's last day
    节前 / 节假日前         the day before the next such run starts (after the reference day)

A run in a year whose arrangement is not published is refused: the first day back
depends on it.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from engine.deadline.points import _FESTIVAL, _SHIFT, Point, Ref, fail
from engine.workcal import festival_date

ONE_DAY = timedelta(days=1)
_DAYS = {"天": 1, "日": 1, "周": 7, "星期": 7}
# Festivals with no statutory days off.
_NO_DAYS_OFF = frozenset({"元宵节", "重阳节"})
# How far ahead an unnamed holiday is looked for: every year has several.
_HORIZON = 400


def point(m: re.Match[str], ref: Ref) -> tuple[Point, bool]:
    """The day a holiday atom names, and whether a working-day count was provisional."""
    first, last = _run(m, ref)
    if m["ho_eve"] is not None:
        day = first - ONE_DAY
        return Point(day, day, None, day.year, day.month, False, "day"), False
    unit = m["ho_unit"] or m["ho_nth_unit"]
    amount = int(m["ho_n"] or m["ho_nth"])
    if amount == 0:
        raise fail(ref, m.group(), "天数不能为0")
    provisional = False
    if unit == "工作日" or m["ho_work"] and m["ho_nth"]:  # 节后上班第一天: a working day
        day, provisional = ref.calendar.add_workdays(last, amount)
    else:
        day = last + timedelta(days=amount * _DAYS[unit])
    return Point(day, day, None, day.year, day.month, False, "day"), provisional


def _run(m: re.Match[str], ref: Ref) -> tuple[date, date]:
    """The first and last day off of the holiday the atom names."""
    if m["fest"] is None:
        return _next_run(m, ref)
    name = _FESTIVAL[m["fest"]]
    if name in _NO_DAYS_OFF:
        raise fail(ref, m.group(), f"{name}不是法定节假日，没有“节后”；请写具体日期")
    if m["fest_y"] or m["fest_yw"]:
        years = [int(m["fest_y"]) if m["fest_y"] else ref.today.year + _SHIFT[m["fest_yw"]]]
    else:
        years = [ref.today.year - 1, ref.today.year, ref.today.year + 1]
    for year in years:
        try:
            day = festival_date(name, year)
        except ValueError as exc:
            raise fail(ref, m.group(), "超出可计算节日日期的年份范围") from exc
        first, last = _run_around(m, ref, day)
        if last >= ref.today or len(years) == 1:
            return first, last
    raise AssertionError("a festival falls every year")


def _run_around(m: re.Match[str], ref: Ref, day: date) -> tuple[date, date]:
    calendar = ref.calendar
    if not calendar.knows(day.year):
        raise fail(ref, m.group(), f"{day.year}年的放假安排尚未公布，无法确定节后的日期；请写具体日期")
    if calendar.is_workday(day):
        raise fail(ref, m.group(), f"{day.year}年{m['fest']}（{day.month}月{day.day}日）不放假，请写具体日期")
    first = calendar.holiday_block_start(day)
    last = day
    while not calendar.is_workday(last + ONE_DAY):
        last += ONE_DAY
    return first, last


def _next_run(m: re.Match[str], ref: Ref) -> tuple[date, date]:
    """The first run of days off with a weekday in it, from the reference day on."""
    calendar = ref.calendar
    day = ref.today
    for _ in range(_HORIZON):
        if not calendar.knows(day.year):
            raise fail(ref, m.group(), f"{day.year}年的放假安排尚未公布，无法确定下一个节假日；请写具体日期")
        if day.weekday() < 5 and not calendar.is_workday(day):
            first = calendar.holiday_block_start(day)
            last = day
            while not calendar.is_workday(last + ONE_DAY):
                last += ONE_DAY
            # 节前 on a day off is before the next holiday, not the one under way.
            if m["ho_eve"] is None or first > ref.today:
                return first, last
            day = last
        day += ONE_DAY
    raise fail(ref, m.group(), "一年内没有节假日，请写具体日期")
