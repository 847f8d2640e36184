"""Deadline words from the school calendar, read against the site's terms.

The terms come from the site's `calendar.yaml` (`WorkCalendar.terms`); vacations are the
gaps between consecutive terms, named 寒假 or 暑假 by the month they start in. At the
reference day:

    开学前          the day before the next term starts (a term starting after today)
    开学后第N周 / 开学第N天 / 开学后第N个月
                    the N-th week (7 days from the first day), day or month of the first
                    term whose N-th period has not ended: a window alone, due at its end
                    with 前 / 内
    开学后N…内      N days / weeks / months / working days counted from the first day of
                    the first term whose count has not yet run out: the current term
                    during its first N…, otherwise the next one ("开学后2周内" from a
                    term starting 1 September: by the end of 15 September)
    放假前          the last day before the next vacation starts: the current term's last
                    day (in a vacation: the next term's)
    寒假前 / 暑假前  the last day before the next winter / summer vacation starts
    学期末 / 本学期末 / 学期结束前
                    the current term's last day (in a vacation: the next term's)

A word that needs a term the calendar does not list is refused, naming the day after
which no term is written; so is any of them without a site calendar.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from engine.deadline.dates import add_months, cn_date
from engine.deadline.points import Ref, fail
from engine.errors import DeadlineError
from engine.workcal import SchoolTerm, vacation_name

# Every expression read against the terms contains one of these (some others do too,
# which only means looking at an item whose deadline then turns out not to move).
TERM_WORDS = ("开学", "放假", "寒假", "暑假", "学期")

ONE_DAY = timedelta(days=1)
NO_SITE = "学期由站点校历确定：请在站点 calendar.yaml 的 terms 中写入本校学期（或用 --site 指定站点）"
_DAYS = {"天": 1, "日": 1, "周": 7, "星期": 7, "礼拜": 7}


def terms_of(ref: Ref, part: str) -> tuple[SchoolTerm, ...]:
    """The calendar's terms; refused when there is no site calendar."""
    terms = ref.calendar.terms
    if terms is None:
        raise fail(ref, part, NO_SITE)
    return terms


def missing(ref: Ref, part: str, after: date, what: str = "的学期", then: str = "") -> DeadlineError:
    """"日历中没有2027年7月9日以后的学期（calendar.yaml 的 terms）": the term to write in."""
    return fail(ref, part, f"日历中没有{_cn(after)}以后{what}（calendar.yaml 的 terms）{then}")


def due_of(m: re.Match[str], ref: Ref) -> tuple[date, bool]:
    """The last allowed day a school atom names, and whether a working-day count in it
    was provisional."""
    word, part, rel = m["sc_word"], m.group("school"), m["rel"]
    terms = terms_of(ref, part)
    today = ref.today
    if m["sc_n"] is not None:
        if word != "开学" or rel not in ("内", "以内", "之内"):
            raise fail(ref, m.group(), "只能写作“开学后若干天（周、月、工作日）内”")
        return _after_opening(m, ref, terms)
    if word == "开学":
        if rel not in ("前", "之前", "以前"):
            raise fail(ref, m.group(), "应写作“开学前”或“开学后若干天内”")
        term = next((t for t in terms if t.start > today), None)
        if term is None:
            raise missing(ref, part, today, "开始的学期")
        return term.start - ONE_DAY, False
    if word.endswith(("末", "底", "结束")):
        if rel not in (None, "前", "之前", "以前"):
            raise fail(ref, m.group(), "应写作“学期末”或“学期结束前”")
        if word == "学期结束" and rel is None:
            raise fail(ref, m.group(), "应写作“学期结束前”")
        term = next((t for t in terms if t.end >= today), None)
        if term is None:
            raise missing(ref, part, today)
        return term.end, False
    if rel not in ("前", "之前", "以前"):
        raise fail(ref, m.group(), f"应写作“{word}前”")
    name = None if word == "放假" else word
    for i, term in enumerate(terms):
        following = terms[i + 1] if i + 1 < len(terms) else None
        start = term.end + ONE_DAY
        if term.end < today or following is not None and following.start <= start:
            continue  # already over, or no vacation between it and the next term
        if name is None or vacation_name(start) == name:
            return term.end, False
    last = terms[-1].end if terms and terms[-1].end >= today else today
    raise missing(ref, part, last, then=f"，无法确定下一个{name or '假期'}")


def nth_period(m: re.Match[str], ref: Ref) -> tuple[date, date]:
    """ "开学后第一周", "开学第一天", "开学后第二个月": the N-th week, day or month of the
    first term whose N-th period has not ended by the reference day (first and last day)."""
    if m["sc_word"] != "开学":
        raise fail(ref, m.group(), "只能写作“开学后第N周（天、个月）”")
    if m["rel"] is not None and m["rel"] not in ("前", "之前", "以前", "内", "以内", "之内"):
        raise fail(ref, m.group(), "应写作“开学后第N周”或“开学后第N周内”")
    n = int(m["sc_nth"])
    if n == 0:
        raise fail(ref, m.group(), "应从第1周（天、个月）算起")
    unit = m["sc_nth_unit"]
    for term in terms_of(ref, m.group("school")):
        if unit == "月":
            first = add_months(term.start, n - 1)
            last = add_months(term.start, n) - ONE_DAY
        else:
            days = 7 if unit in ("周", "星期") else 1
            first = term.start + timedelta(days=days * (n - 1))
            last = first + timedelta(days=days - 1)
        if last >= ref.today:
            return first, last
    raise missing(ref, m.group("school"), ref.today, "开始的学期")


def _after_opening(m: re.Match[str], ref: Ref, terms: tuple[SchoolTerm, ...]) -> tuple[date, bool]:
    unit, n = m["sc_unit"], m["sc_n"]
    amount = 0 if n == "半" else int(n)
    if amount == 0 and n != "半":
        raise fail(ref, m.group(), "时长不能为0")
    if n == "半" and unit != "月":
        raise fail(ref, m.group(), "无法确定半天、半周或半个工作日")
    for term in terms:
        due, provisional = _count(term.start, unit, amount, n == "半", ref)
        if due >= ref.today:
            return due, provisional
    raise missing(ref, m.group("school"), ref.today, "开始的学期")


def _count(start: date, unit: str, amount: int, half: bool, ref: Ref) -> tuple[date, bool]:
    """As "N日内" from a reference: the first day of the term is not counted."""
    if unit == "工作日":
        day, provisional = ref.calendar.add_workdays(start, amount)
        return day, provisional
    if unit == "月":
        return (start + timedelta(days=15) if half else add_months(start, amount)), False
    return start + timedelta(days=amount * _DAYS[unit]), False


def _cn(day: date) -> str:
    return cn_date(day)
