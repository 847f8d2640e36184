"""Deadlines around events the site's calendar.yaml names (issue 20, class 9): "两会前",
"中考结束前", "两会期间", "两会后3个工作日内", read against `events:`; an event the
calendar lacks is refused, saying it can be added there.

The event dates below are invented for the tests."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from engine.deadline import Kind, parse_deadline
from engine.deadline.events import builtin_word, mentions
from engine.errors import DeadlineError
from engine.plan import read_deadline
from engine.workcal import SchoolTerm, SiteEvent, WorkCalendar

SH = ZoneInfo("Asia/Shanghai")
REF = datetime(2027, 1, 10, 9, 0, tzinfo=SH)  # a Sunday
LIANGHUI = SiteEvent("两会", date(2027, 3, 5), date(2027, 3, 11))
ZHONGKAO = SiteEvent("中考", date(2027, 6, 20), date(2027, 6, 22))
EXAMS = (SiteEvent("期末考试", date(2027, 1, 18), date(2027, 1, 20)),
         SiteEvent("期末考试", date(2027, 7, 5), date(2027, 7, 7)))
CEREMONY = SiteEvent("开学典礼", date(2027, 2, 22), date(2027, 2, 22))
# 2027 declared complete (as a site's calendar.yaml years: would), so counts are exact.
CAL = WorkCalendar(events=(LIANGHUI, ZHONGKAO, *EXAMS, CEREMONY), years=[2027],
                   terms=[SchoolTerm("第二学期", date(2027, 2, 22), date(2027, 7, 9))])


def read(expression: str, ref: datetime = REF, calendar: WorkCalendar = CAL) -> dict:
    return parse_deadline(expression, ref, calendar=calendar).to_json()


def refusal(expression: str, calendar: WorkCalendar = CAL) -> DeadlineError:
    with pytest.raises(DeadlineError) as caught:
        parse_deadline(expression, REF, calendar=calendar)
    assert caught.value.reason
    return caught.value


@pytest.mark.parametrize(
    ("expression", "kind", "start", "due"),
    [
        # 前 is before the event starts, as 春节前 and 开学前 are.
        ("两会前", "once", None, "2027-03-04"),
        ("两会开始前", "once", None, "2027-03-04"),
        ("两会召开前", "once", None, "2027-03-04"),
        ("两会开幕之前", "once", None, "2027-03-04"),
        ("两会举行以前", "once", None, "2027-03-04"),
        ("中考到来前", "once", None, "2027-06-19"),
        ("中考前", "once", None, "2027-06-19"),
        # 结束前 includes the last day.
        ("两会结束前", "once", None, "2027-03-11"),
        ("两会闭幕前", "once", None, "2027-03-11"),
        ("两会结束为止", "once", None, "2027-03-11"),
        ("中考结束前", "once", None, "2027-06-22"),
        # The event named alone, or 期间: a window over it; with 内 due at its end.
        ("两会期间", "window", "2027-03-05", "2027-03-11"),
        ("两会", "window", "2027-03-05", "2027-03-11"),
        ("两会期间内", "once", None, "2027-03-11"),
        # Counts from the last day (from the first after 开始 / 召开 / 开幕 / 举行).
        ("两会后3个工作日内", "once", None, "2027-03-16"),
        ("两会结束后3个工作日内", "once", None, "2027-03-16"),
        ("两会结束后5天内", "once", None, "2027-03-16"),
        ("两会后1周内", "once", None, "2027-03-18"),
        ("中考后第一个工作日", "once", None, "2027-06-23"),
        ("中考结束后的第2天", "once", None, "2027-06-24"),
        ("两会开幕后2天内", "once", None, "2027-03-07"),
        ("两会召开后3个工作日内", "once", None, "2027-03-10"),
        # The words around a deadline change nothing.
        ("请于两会前报送", "once", None, "2027-03-04"),
        ("在两会召开之前完成整改", "once", None, "2027-03-04"),
        ("截至两会结束前", "once", None, "2027-03-11"),
        ("全国两会前", "once", None, "2027-03-04"),
        # A year picks that year's occurrence.
        ("2027年两会前", "once", None, "2027-03-04"),
        ("今年中考结束前", "once", None, "2027-06-22"),
        # Ranges and lists with other dates.
        ("即日起至两会结束", "window", "2027-01-10", "2027-03-11"),
        ("自即日起至两会前", "window", "2027-01-10", "2027-03-04"),
        ("两会结束至3月31日", "window", "2027-03-11", "2027-03-31"),
        ("开学典礼前", "once", None, "2027-02-21"),
        # The built-in word wins over an event whose name it contains.
        ("开学前", "once", None, "2027-02-21"),
        # An event that is the subject, not the deadline.
        ("中考考场隐患6月10日前整改", "once", None, "2027-06-10"),
        ("两会期间安保隐患3日内整改", "once", None, "2027-01-13"),
    ],
)
def test_event_forms(expression: str, kind: str, start: str | None, due: str) -> None:
    data = read(expression)
    assert (data["kind"], data.get("start"), data["dues"]) == (kind, start, [due]), expression


def test_an_event_deadline_is_overdue_at_the_end_of_its_day() -> None:
    assert read("两会前")["overdue_at"] == ["2027-03-05T00:00:00+08:00"]
    assert read("两会结束前")["overdue_at"] == ["2027-03-12T00:00:00+08:00"]


def test_a_list_of_events_is_due_on_each() -> None:
    assert read("两会结束前、中考前")["dues"] == ["2027-03-11", "2027-06-19"]


def test_of_several_occurrences_the_first_not_yet_past_is_read() -> None:
    """期末考试 twice a year: the January one until its eve has passed, then July's."""
    assert read("期末考试前")["dues"] == ["2027-01-17"]
    assert read("期末考试前", datetime(2027, 1, 18, 8, 0, tzinfo=SH))["dues"] == ["2027-07-04"]
    assert read("期末考试结束前", datetime(2027, 1, 19, 8, 0, tzinfo=SH))["dues"] == ["2027-01-20"]
    assert read("期末考试期间", datetime(2027, 1, 21, 8, 0, tzinfo=SH))["start"] == "2027-07-05"


def test_an_event_already_past_is_kept_and_warned_about() -> None:
    """As a date already past: kept, never moved, with the warning."""
    late = datetime(2027, 8, 1, 9, 0, tzinfo=SH)
    data = read("两会结束前", late)
    assert data["dues"] == ["2027-03-11"] and any("已逾期" in w for w in data["warnings"])
    assert read("期末考试前", late)["dues"] == ["2027-07-04"]  # the last occurrence


def test_a_count_into_an_unarranged_year_is_provisional() -> None:
    """Working days after an event count like any other: provisional where the year's
    arrangement is not known."""
    calendar = WorkCalendar(events=[SiteEvent("两会", date(2031, 3, 5), date(2031, 3, 11))])
    data = read("两会后3个工作日内", calendar=calendar)
    assert data["provisional"] is True and data["dues"] == ["2031-03-14"]
    assert read("两会后3个工作日内")["provisional"] is False


@pytest.mark.parametrize(
    ("expression", "part", "words"),
    [
        ("两会后", "两会后", ["没有写明截止时间", "两会后3个工作日内"]),
        ("两会结束后开展检查", "两会结束后", ["没有写明截止时间"]),
        ("两会为止", "两会为止", ["开始还是结束"]),
        ("两会结束期间", "两会结束期间", ["两会期间"]),
        ("两会结束内", "两会结束内", ["两会后N个工作日内"]),
        ("两会后0个工作日内", "两会后0个工作日内", ["不能为0"]),
        ("两会前后", "两会前后", ["不是截止期限"]),
        ("两会前3天", "3天", ["时长不能与日期并列"]),
        ("2028年两会前", "2028年两会前", ["events", "2028年的“两会”"]),
        ("明年中考前", "明年中考前", ["2028年的“中考”"]),
    ],
)
def test_event_forms_that_are_refused(expression: str, part: str, words: list[str]) -> None:
    """Errors name the event as written, never the character it is read as."""
    error = refusal(expression)
    assert error.part == part and all(w in error.reason for w in words), error
    assert not any(0xE000 <= ord(c) <= 0xF8FF for c in str(error))


@pytest.mark.parametrize("expression", ["两会结束下午5点前", "两会下午5点前", "中考下班前"])
def test_a_time_after_an_event_is_refused(expression: str) -> None:
    error = refusal(expression)
    assert error.part.startswith(("两会", "中考")) and "事件之后不能再接时刻" in error.reason


@pytest.mark.parametrize("expression", ["两会结束前", "中考前", "上级检查验收前", "两会召开前"])
def test_an_event_the_calendar_lacks_is_refused_with_where_to_add_it(expression: str) -> None:
    """Without events, and on a calendar naming others: the reason says where to add it."""
    for calendar in (WorkCalendar(), WorkCalendar(events=[CEREMONY])):
        error = refusal(expression, calendar)
        assert error.reason.startswith("站点日历中没有“")
        assert "calendar.yaml 的 events" in error.reason and "3月10日前" in error.reason
    assert "日历中已有的事件：开学典礼" in refusal("上级检查验收前", WorkCalendar(events=[CEREMONY])).reason


def test_names_are_found_as_people_type_them() -> None:
    """Full-width letters and digits, spaces and brackets do not matter, in calendar.yaml
    or in the expression."""
    calendar = WorkCalendar(events=[SiteEvent("Ｇ20 峰会", date(2027, 9, 4), date(2027, 9, 5)),
                                    SiteEvent("二模", date(2027, 4, 20), date(2027, 4, 21))])
    for text in ("G20峰会前", "Ｇ２０峰会前", "（G20峰会）前", "G20 峰会 前"):
        assert read(text, calendar=calendar)["dues"] == ["2027-09-03"], text
    assert read("二模结束前", calendar=calendar)["dues"] == ["2027-04-21"]


def test_a_private_use_character_typed_in_an_expression_is_refused() -> None:
    """The characters names are read as cannot be smuggled in."""
    for calendar in (WorkCalendar(), CAL):
        assert "U+E000" in refusal("\ue000前", calendar).reason
    # Also beside a name: the one typed is never taken for the one a name is read as.
    for mark in ("\ue000", "\ue001", "\ue002"):
        assert "无法识别的字符" in refusal(f"两会前{mark}前").reason


def test_a_name_that_is_a_built_in_word_is_found() -> None:
    """What calendar.yaml refuses as an event name (it would be read otherwise)."""
    assert builtin_word("春节") == "春节"
    assert builtin_word("开学") == "开学"
    assert builtin_word("节") == "节前"
    assert builtin_word("学期") == "学期结束前"
    assert builtin_word("当天") == "当天"
    assert builtin_word("十一") == "十一"
    for name in ("两会", "中考", "月考", "开学典礼", "元旦晚会", "期末考试", "上级检查", "G20峰会"):
        assert builtin_word(name) is None, name


def test_mentions_names_the_events_an_expression_is_read_against() -> None:
    assert mentions("两会结束前、中考前", CAL) == ("两会", "中考")
    assert mentions("6月30日前", CAL) == ()
    assert mentions("两会前", WorkCalendar()) == ()


def test_answers_follow_the_calendars_events_never_a_stale_one() -> None:
    """The name matcher and the planner's memo are keyed by what the answer depends on:
    a calendar whose events moved (a reload) reads them anew."""
    ref = datetime(2027, 1, 4, 9, 0, tzinfo=SH)
    before = WorkCalendar(events=[LIANGHUI])
    moved = WorkCalendar(events=[SiteEvent("两会", date(2027, 3, 3), date(2027, 3, 9))])
    renamed = WorkCalendar(events=[SiteEvent("全国两会", date(2027, 3, 1), date(2027, 3, 2))])
    assert read("两会前", ref, before)["dues"] == ["2027-03-04"]
    assert read("两会前", ref, moved)["dues"] == ["2027-03-02"]
    assert read("两会前", ref, before)["dues"] == ["2027-03-04"]
    assert read("全国两会前", ref, renamed)["dues"] == ["2027-02-28"]
    assert read_deadline("两会前", ref, SH, before).dues == (date(2027, 3, 4),)
    assert read_deadline("两会前", ref, SH, moved).dues == (date(2027, 3, 2),)
    with pytest.raises(DeadlineError):
        read_deadline("两会前", ref, SH, WorkCalendar())


def test_events_change_nothing_else() -> None:
    """A calendar with events reads every other expression as one without."""
    plain = WorkCalendar(years=[2027], terms=CAL.terms)
    for text in ("2027年底前", "5个工作日内", "开学前", "学期末", "春节前", "每季度末", "今天下班前",
                 "中考考场隐患6月10日前整改", "立整立改"):
        assert read(text, calendar=CAL) == read(text, calendar=plain), text


def test_kinds_of_event_deadlines() -> None:
    assert parse_deadline("两会期间", REF, calendar=CAL).kind is Kind.WINDOW
    assert parse_deadline("两会前", REF, calendar=CAL).kind is Kind.ONCE
