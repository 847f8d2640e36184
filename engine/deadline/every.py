"""Reading a 每… atom into a recurrence rule.

    每天 / 每日               every day              每N天      every N days from the reference
    每个工作日                every working day      每N个工作日 every N working days from it
    每周 / 每周五(前)         each Sunday / Friday   每N周      every 7N days from the reference
    每月 / 每月1日前 / 每月底 each month's end / 1st / end;  每月上旬/中旬/下旬: 10th / 20th / end
    每季度(末)                each quarter's end     每半年     30 June and 31 December
    每年 / 每年12月25日前     31 December / 25 December
    每年N次 (N divides 12)    the ends of N equal parts of the year (每年2次 = 每半年)
    每N个月 (N divides 12)    the end of each N-month cycle counted from January
    每月初                    the 5th (月初 is the first five days)
    每季度首月10日前          the 10th of each quarter's first month (末月, 第N个月 likewise;
                              also 每半年 / 每年)
    每月第一个工作日 / 每月最后一个工作日 / 每周最后一个工作日 / 每季度第N个工作日
                              that working day of each cycle (the site's calendar)
    Any of them may end at a time of day: 每周五下午5点前, 每周一上午, 每天下班前.

Anything a person would have to guess is refused: "每季度10日前" (which month of the
quarter?), "每月2次" (which days?), "每学年" (not supported yet).

    每学期 / 每学期末 / 每学期放假前   each term's last day     (the site's terms)
    每学期开学前                      the day before each term starts
"""

from __future__ import annotations

import re

from engine.deadline import school
from engine.deadline.points import Ref, fail
from engine.deadline.recurrence import (
    DayCycle,
    Interval,
    MonthCycle,
    Recurrence,
    TermCycle,
    WeekCycle,
    WorkdayCycle,
)

_DAY_UNITS = frozenset({"天", "日", "自然日"})
_WEEK_UNITS = frozenset({"周", "星期", "礼拜"})
_MONTHS = {"月": 1, "季": 3, "季度": 3, "半年": 6, "年": 12, "年度": 12}
_WEEKDAY = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6}
_WEEKDAY.update({str(i + 1): i for i in range(7)})
_XUN_DAY = {"上": 10, "中": 20, "下": None}
# 月初 is the first five days of the month (engine.deadline.points): 每月初 is due on the 5th.
_EARLY_DAY = 5
_NOT_YET = {
    "学年": "学年由站点校历确定，暂不支持",
    "旬": "暂不支持按旬的周期",
    "半月": "暂不支持每半月的周期",
    "小时": "暂不支持按小时的周期",
}


def rule_of(m: re.Match[str], ref: Ref) -> Recurrence:
    """The recurrence a 每… atom states (see the module docstring)."""
    unit = m["ev_unit"]
    if unit in _NOT_YET:
        raise fail(ref, m.group("every"), _NOT_YET[unit])
    if unit == "学期":
        return _termly(m, ref)
    if m["ev_school"]:
        raise fail(ref, m.group("every"), f"“{m['ev_school']}”只能用于每学期")
    n = int(m["ev_n"]) if m["ev_n"] else 1
    if n == 0:
        raise fail(ref, m.group("every"), "周期不能为0")
    _check_anchors(m, ref, unit)
    if m["ev_wdn"]:
        return _nth_workday(m, ref, unit, n)
    times = int(m["ev_times"]) if m["ev_times"] else 1
    if times != 1:
        return _times_a_year(m, ref, unit, n, times)
    if unit in _DAY_UNITS:
        return DayCycle() if n == 1 else Interval(ref.today, n, "day")
    if unit == "工作日":
        return DayCycle(workdays_only=True) if n == 1 else Interval(ref.today, n, "workday")
    if unit in _WEEK_UNITS:
        return _weekly(m, ref, n)
    return _monthly(m, ref, _MONTHS[unit] * n)


def _check_anchors(m: re.Match[str], ref: Ref, unit: str) -> None:
    """Each unit takes only the anchors that make sense for it."""
    months = _MONTHS.get(unit)
    part = m.group("every")
    if unit in _WEEK_UNITS:
        if m["ev_end"]:
            raise fail(ref, part, "“周末”指周六还是周日无法确定")
        if m["ev_day"] or m["ev_xun"] or m["ev_month"]:
            raise fail(ref, part, "每周只能接星期几（周一至周日）")
        return
    if m["ev_weekday"]:
        raise fail(ref, part, "星期几只能用于每周")
    if m["ev_month"] and months != 12:
        raise fail(ref, part, "月份只能用于每年")
    if m["ev_cm"] and (months not in (3, 6, 12) or m["ev_month"]):
        raise fail(ref, part, "“首月/末月/第N个月”只能用于每季度、每半年或每年，如“每季度首月10日前”")
    if (m["ev_day"] or m["ev_xun"]) and months not in (1, 12) and not m["ev_cm"]:
        raise fail(ref, part, "无法确定是周期中哪个月的这一天，请写如“每季度首月10日前”")
    if m["ev_early"] and months != 1:
        raise fail(ref, part, "“初”只能用于每月（每月初），其他周期请写具体日期")
    if m["ev_end"] and months is None:
        raise fail(ref, part, "“底/末”只能用于月、季度、半年或年")
    if m["ev_day"] and not 1 <= int(m["ev_day"]) <= 31:
        raise fail(ref, part, "日期应在1到31之间")


def _termly(m: re.Match[str], ref: Ref) -> Recurrence:
    part = m.group("every")
    school.terms_of(ref, part)
    anchored = m["ev_n"] or m["ev_month"] or m["ev_day"] or m["ev_xun"] or m["ev_weekday"]
    if anchored or m["ev_times"] and m["ev_times"] != "1":
        raise fail(ref, part, "每学期只能写作“每学期”“每学期末”或“每学期开学前”")
    if m["ev_school"] == "开学" and not m["ev_rel"]:
        raise fail(ref, part, "应写作“每学期开学前”")
    if m["ev_school"] == "放假" and not m["ev_rel"]:
        raise fail(ref, part, "应写作“每学期放假前”")
    if m["ev_school"] and m["ev_end"]:
        raise fail(ref, part, "无法确定是学期开始还是结束")
    return TermCycle(opening=m["ev_school"] == "开学")


def _times_a_year(m: re.Match[str], ref: Ref, unit: str, n: int, times: int) -> Recurrence:
    anchored = m["ev_month"] or m["ev_day"] or m["ev_xun"] or m["ev_weekday"]
    if _MONTHS.get(unit) != 12 or n != 1 or anchored or times < 1 or 12 % times:
        raise fail(ref, m.group("every"), f"无法确定每{unit}{times}次的具体日期")
    months = 12 // times
    return MonthCycle(months, months)


def _weekly(m: re.Match[str], ref: Ref, n: int) -> Recurrence:
    if n == 1:
        return WeekCycle(_WEEKDAY[m["ev_weekday"]] if m["ev_weekday"] else 6)
    if m["ev_weekday"]:
        raise fail(ref, m.group("every"), "无法确定隔周的星期几从哪一周算起")
    return Interval(ref.today, 7 * n, "day")


def _monthly(m: re.Match[str], ref: Ref, months: int) -> Recurrence:
    day = _anchor_day(m)
    if 12 % months:
        if day is not None or m["ev_month"]:
            raise fail(ref, m.group("every"), "无法确定这一周期中的具体日期")
        return Interval(ref.today, months, "month")
    if months != 12 and months != 1 and day is not None and not m["ev_cm"]:
        raise fail(ref, m.group("every"), "无法确定是周期中哪个月的这一天")
    if m["ev_cm"]:
        month = _month_of_cycle(m, ref, months)
    else:
        month = int(m["ev_month"]) if m["ev_month"] else months
    if not 1 <= month <= 12:
        raise fail(ref, f"{month}月", "月份应在1到12之间")
    if month == 2 and day is not None and day > 29 or day == 31 and month in (4, 6, 9, 11):
        raise fail(ref, m.group("every"), f"{month}月没有{day}日")
    return MonthCycle(months, month, day)


def _month_of_cycle(m: re.Match[str], ref: Ref, months: int) -> int:
    """首月 1, 末月 / 最后一个月 the cycle's last, 第N个月 N (within the cycle)."""
    word = m["ev_cm"]
    if word == "首月":
        return 1
    if word == "末月" or word.startswith("最后"):
        return months
    index = int(word.strip("第个月"))
    if not 1 <= index <= months:
        raise fail(ref, m.group("every"), f"一个周期只有{months}个月")
    return index


def _nth_workday(m: re.Match[str], ref: Ref, unit: str, n: int) -> Recurrence:
    """每月第一个工作日, 每月最后一个工作日, 每周最后一个工作日, 每季度第3个工作日."""
    part = m.group("every")
    months = 0 if unit in _WEEK_UNITS else _MONTHS.get(unit)
    if months is None or n != 1 or m["ev_month"] or m["ev_cm"] or m["ev_times"]:
        raise fail(ref, part, "第几个工作日只能用于每周、每月、每季度、每半年或每年")
    word = m["ev_wdn"]
    nth = -1 if word.startswith("最后") else int(word[1:])
    if nth == 0 or nth > (5 if months == 0 else 20):
        raise fail(ref, part, "周期中没有这么多个工作日")
    return WorkdayCycle(months, nth)


def _anchor_day(m: re.Match[str]) -> int | None:
    if m["ev_day"]:
        return int(m["ev_day"])
    if m["ev_early"]:
        return _EARLY_DAY
    if m["ev_xun"]:
        return _XUN_DAY[m["ev_xun"]]
    return None
