"""Deadlines around an event the site's calendar names: "两会前", "中考结束后3个工作日内".

calendar.yaml's `events:` gives each event one or more occurrences, a day or a first
and last day (`WorkCalendar.events`). Before the atoms are found, every known name in
the expression is written as one private-use character (`substitute`), so the grammar
reads "两会结束前" like any other atom (`grammar._EVENT`) and needs no names of its own.
A name is found as calendar.yaml writes it, folded as expressions are (full-width
letters and digits, spaces and brackets ignored: `fold`); it is not taken where a
built-in word runs across it ("开学前" is never the event "学"). At the reference day,
for an event from S to E (S = E for a single day):

    两会前 / 两会开始前 / 两会召开前 / 两会开幕前 / 两会举行前 / 两会到来前
                            the day before it starts (S - 1), as 春节前 and 开学前
    两会结束前 / 两会闭幕前 / 两会结束为止   its last day (E)
    两会开始 / 两会结束      that day (S, E): "即日起至两会结束"
    两会 / 两会期间          a window from S to E; with 内 due at E
    两会后N个工作日内 / N天内 / N周内, 两会后第N个工作日 / 第N天
                            counted from E (from S after 开始 / 召开 / 开幕 / 举行), the
                            first day after it being the first counted
    2027年两会前, 明年中考前  the occurrence starting in that year

Of several occurrences, the first whose due day (a window's last day) is not before the
reference day is read; when all are past, the last one, with the warning every past due
gets. "两会后" with no count names a start, not a deadline, and is refused; so is a time
of day after an event, and an event the calendar lacks (`engine.deadline.vague`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from datetime import date, timedelta
from functools import lru_cache
from typing import NamedTuple

from engine.deadline.grammar import ATOM, expand_ranges
from engine.deadline.points import _SHIFT, Point, Ref, fail
from engine.errors import DeadlineError
from engine.numerals import normalize
from engine.workcal import SiteEvent, WorkCalendar

ONE_DAY = timedelta(days=1)
# The private-use characters names are written as (one per distinct name).
FIRST_MARK, LAST_MARK = 0xE000, 0xF8FF
MAX_NAMES = LAST_MARK - FIRST_MARK + 1
_MARK = re.compile(f"[{chr(FIRST_MARK)}-{chr(LAST_MARK)}]")
_STARTS = frozenset({"开始", "开幕", "召开", "举行", "到来"})
_ENDS = frozenset({"结束", "闭幕"})
_BEFORE = frozenset({"前", "之前", "以前"})
_UNTIL = frozenset({"为止", "止"})
_WITHIN = frozenset({"内", "以内", "之内"})
_DAYS = {"天": 1, "日": 1, "周": 7, "星期": 7}
# What a name is followed by when it is part of a deadline (or a time of day, refused
# after an event); elsewhere it is the subject ("中考考场隐患6月10日前整改").
_FOLLOWED = (
    "(?=开始|开幕|召开|举行|到来|结束|闭幕|期间|之前|以前|前|之后|以后|后|为止|止|以内|之内|内"
    "|上午|中午|下午|晚上|下班|$)"
)
# The forms a name is checked in when calendar.yaml is loaded (`builtin_word`).
_FORMS = ("", "前", "开始前", "结束前", "期间", "后3个工作日内")


class Named(NamedTuple):
    """One event as the expression reads it: its name as calendar.yaml writes it, and
    its occurrences (first and last day) in order."""

    name: str
    occurrences: tuple[tuple[date, date], ...]


def fold(name: str) -> str:
    """A name as expressions are compared: NFKC, then the deadline clean-up (`normalize`)."""
    return normalize(unicodedata.normalize("NFKC", name))


class _Matcher(NamedTuple):
    pattern: re.Pattern[str]
    marks: dict[str, str]  # folded name -> its private-use character
    named: dict[str, Named]  # private-use character -> the event


@lru_cache(maxsize=32)
def _matcher(events: tuple[SiteEvent, ...]) -> _Matcher:
    """The names of `events` as one pattern, longest first. Keyed by the events
    themselves, so a calendar with other events (a reload) never gets another's answer."""
    occurrences: dict[str, list[tuple[date, date]]] = {}
    names: dict[str, str] = {}
    for event in events:
        key = fold(event.name)
        names.setdefault(key, event.name)
        occurrences.setdefault(key, []).append((event.start, event.end))
    ordered = sorted(occurrences, key=lambda k: (-len(k), k))[:MAX_NAMES]
    marks = {key: chr(FIRST_MARK + i) for i, key in enumerate(ordered)}
    named = {marks[k]: Named(names[k], tuple(sorted(occurrences[k]))) for k in ordered}
    alternatives = "|".join(re.escape(k) for k in ordered if k)
    return _Matcher(re.compile(f"(?:{alternatives}){_FOLLOWED}" if alternatives else "(?!)"), marks, named)


def has_mark(text: str) -> bool:
    """Whether `text` holds a character events are written as."""
    return _MARK.search(text) is not None


def substitute(text: str, events: tuple[SiteEvent, ...]) -> tuple[str, dict[str, Named]]:
    """`text` with every name of `events` that is part of a deadline written as its
    private-use character, and the events those characters stand for."""
    matcher = _matcher(events)
    hits = list(matcher.pattern.finditer(text))
    if not hits or _MARK.search(text):  # a private-use character typed is read as none
        return text, {}
    atoms = [m.span() for m in ATOM.finditer(text)]
    pieces: list[str] = []
    used: dict[str, Named] = {}
    last = 0
    for hit in hits:
        if _crossed(hit.start(), hit.end(), atoms):
            continue
        mark = matcher.marks[hit.group()]
        pieces += (text[last : hit.start()], mark)
        used[mark] = matcher.named[mark]
        last = hit.end()
    return "".join(pieces) + text[last:], used


def mentions(expression: str, calendar: WorkCalendar) -> tuple[str, ...]:
    """The events of `calendar` an expression is read against, by name."""
    if not calendar.events:
        return ()
    _, used = substitute(expand_ranges(normalize(expression)), calendar.events)
    return tuple(event.name for event in used.values())


def _crossed(first: int, end: int, atoms: list[tuple[int, int]]) -> bool:
    """Whether a built-in atom runs across the name at [first, end) or is exactly it: the
    built-in word wins ("开学前" is never the event "学"); one inside it does not
    ("开学典礼前" is the event 开学典礼)."""
    for start, stop in atoms:
        if start < end and stop > first and (start < first or stop > end or (start, stop) == (first, end)):
            return True
    return False


def builtin_word(name: str) -> str | None:
    """The built-in deadline word that would hide an event named `name` in an expression
    ("春节" → "春节前", "学期" → "学期结束前", "当天"), or None."""
    folded = fold(name)
    for form in _FORMS:
        text = folded + form
        for m in ATOM.finditer(text):
            if m.start() < len(folded) and (m.end() > len(folded) or m.span() == (0, len(folded))):
                return m.group()
    return None


def restored(exc: DeadlineError, named: dict[str, Named]) -> DeadlineError:
    """A refusal with the private-use characters written as the names again."""
    table = str.maketrans({mark: event.name for mark, event in named.items()})
    return DeadlineError(exc.expression, exc.part.translate(table), exc.reason.translate(table))


# -- what an event atom names ---------------------------------------------------------


def point(m: re.Match[str], ref: Ref) -> tuple[Point, bool]:
    """The days an event atom names, and whether a working-day count in it was provisional."""
    event = ref.events.get(m["evt"])
    if event is None:
        raise fail(ref, m.group(), f"含有无法识别的字符 U+{ord(m['evt']):04X}")
    written = _written(m, event)
    if m["clock"] is not None:
        raise fail(ref, written, "事件之后不能再接时刻，请写具体日期和时刻，如“3月4日下午5点前”")
    occurrences = _in_year(m, ref, event, written)
    read = _reader(m, ref, event, written)
    found: tuple[Point, bool] | None = None
    for first, last in occurrences:
        found = read(first, last)
        if found[0].last >= ref.today:
            break
    assert found is not None  # calendar.yaml gives every event an occurrence
    return found


def _written(m: re.Match[str], event: Named) -> str:
    """The atom as the person wrote it (the name instead of its character)."""
    return m.group().replace(m["evt"], event.name)


def _in_year(m: re.Match[str], ref: Ref, event: Named, written: str) -> tuple[tuple[date, date], ...]:
    """The occurrences to choose from: all, or those starting in the year written."""
    if m["evt_y"] is None and m["evt_yw"] is None:
        return event.occurrences
    year = int(m["evt_y"]) if m["evt_y"] else ref.today.year + _SHIFT[m["evt_yw"]]
    found = tuple(o for o in event.occurrences if o[0].year == year)
    if not found:
        raise fail(ref, written, f"站点 calendar.yaml 的 events 中没有{year}年的“{event.name}”，请写入其日期或写明具体日期")
    return found


_Read = Callable[[date, date], tuple[Point, bool]]


def _reader(m: re.Match[str], ref: Ref, event: Named, written: str) -> _Read:
    """How one occurrence (first and last day) becomes the days the atom names."""
    form, rel = m["evt_form"], m["rel"]
    if m["evt_after"] is not None:
        return _after_reader(m, ref, event, written)
    if m["evt_during"] is not None:
        if form in _ENDS:
            raise fail(ref, written, f"应写作“{event.name}期间”或“{event.name}结束前”")
        return _span
    if rel in _BEFORE:
        return _last_day if form in _ENDS else _eve
    if rel in _UNTIL:
        if form not in _ENDS:
            raise fail(ref, written, f"无法确定是“{event.name}”开始还是结束，请写“{event.name}开始前”或“{event.name}结束前”")
        return _last_day
    if rel in _WITHIN and form is not None:
        raise fail(ref, written, f"应写作“{event.name}期间”“{event.name}结束前”或“{event.name}后N个工作日内”")
    if form in _ENDS:
        return _last_day
    return _first_day if form in _STARTS else _span


def _after_reader(m: re.Match[str], ref: Ref, event: Named, written: str) -> _Read:
    """ "两会后3个工作日内", "中考结束后第1个工作日": counted from the last day (the first
    after 开始 / 召开 …)."""
    unit = m["evt_unit"] or m["evt_nth_unit"]
    if unit is None or m["rel"] not in (None, *_WITHIN):
        raise fail(ref, written, f"“{event.name}后”没有写明截止时间，请写如“{event.name}后3个工作日内”或“{event.name}结束前”")
    amount = int(m["evt_n"] or m["evt_nth"])
    if amount == 0:
        raise fail(ref, written, "天数不能为0")
    from_start = m["evt_form"] in _STARTS

    def counted(first: date, last: date) -> tuple[Point, bool]:
        base = first if from_start else last
        if unit == "工作日":
            day, provisional = ref.calendar.add_workdays(base, amount)
        else:
            day, provisional = base + timedelta(days=amount * _DAYS[unit]), False
        return _day(day), provisional

    return counted


def _day(day: date) -> Point:
    return Point(day, day, None, day.year, day.month, True, "day")


def _eve(first: date, last: date) -> tuple[Point, bool]:
    return _day(first - ONE_DAY), False


def _first_day(first: date, last: date) -> tuple[Point, bool]:
    return _day(first), False


def _last_day(first: date, last: date) -> tuple[Point, bool]:
    return _day(last), False


def _span(first: date, last: date) -> tuple[Point, bool]:
    return Point(first, last, None, last.year, last.month, True, "event"), False
