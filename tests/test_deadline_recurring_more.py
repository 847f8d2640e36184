"""Recurring deadlines as notices write them: with a time of day (每周五下午5点前, 每周一上午,
每天下班前), on a working day of the cycle (每月最后一个工作日, 每月第一个工作日), early in
the month (每月初) and in a month of the quarter (每季度首月10日前)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from engine.deadline import Kind, parse_deadline
from engine.errors import DeadlineError
from engine.workcal import DEFAULT_CALENDAR

SH = ZoneInfo("Asia/Shanghai")
REF = datetime(2020, 5, 6, 9, 0, tzinfo=SH)  # a Wednesday, the first working day after 劳动节


def recurring(expression: str, ref: datetime = REF, count: int = 3) -> list[str]:
    deadline = parse_deadline(expression, ref, count=count)
    assert deadline.kind is Kind.RECURRING, deadline
    return [at.isoformat()[:16] for at in deadline.overdue_at]


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("每周五下午5点前", ["2020-05-08T17:00", "2020-05-15T17:00", "2020-05-22T17:00"]),
        ("每周五下午五点前报送", ["2020-05-08T17:00", "2020-05-15T17:00", "2020-05-22T17:00"]),
        ("每周五17:00前", ["2020-05-08T17:00", "2020-05-15T17:00", "2020-05-22T17:00"]),
        ("每周五17时前", ["2020-05-08T17:00", "2020-05-15T17:00", "2020-05-22T17:00"]),
        ("每周五下班前", ["2020-05-08T17:30", "2020-05-15T17:30", "2020-05-22T17:30"]),
        ("每周一上午", ["2020-05-11T12:00", "2020-05-18T12:00", "2020-05-25T12:00"]),
        ("每周一上午10点前", ["2020-05-11T10:00", "2020-05-18T10:00", "2020-05-25T10:00"]),
        ("每星期三中午12点前", ["2020-05-06T12:00", "2020-05-13T12:00", "2020-05-20T12:00"]),
        ("每天下班前", ["2020-05-06T17:30", "2020-05-07T17:30", "2020-05-08T17:30"]),
        ("每日17时前报送", ["2020-05-06T17:00", "2020-05-07T17:00", "2020-05-08T17:00"]),
        ("每个工作日下午4点前", ["2020-05-06T16:00", "2020-05-07T16:00", "2020-05-08T16:00"]),
        ("每月5日17时前", ["2020-06-05T17:00", "2020-07-05T17:00", "2020-08-05T17:00"]),
        ("每月最后一个工作日下午5点前", ["2020-05-29T17:00", "2020-06-30T17:00", "2020-07-31T17:00"]),
        ("每周五24时前", ["2020-05-09T00:00", "2020-05-16T00:00", "2020-05-23T00:00"]),
        ("每周一上午10点前报送上周情况", ["2020-05-11T10:00", "2020-05-18T10:00", "2020-05-25T10:00"]),
        ("每周五下午下班前", ["2020-05-08T17:30", "2020-05-15T17:30", "2020-05-22T17:30"]),
    ],
)
def test_a_time_of_day_on_each_due(expression: str, expected: list[str]) -> None:
    """Each due is missed at its time of day on its day."""
    assert recurring(expression) == expected


def test_todays_due_whose_time_has_passed_is_not_listed() -> None:
    """"每天下班前" read at 18:00 starts with tomorrow."""
    late = datetime(2020, 5, 6, 18, 0, tzinfo=SH)
    assert recurring("每天下班前", late, 2) == ["2020-05-07T17:30", "2020-05-08T17:30"]
    deadline = parse_deadline("每周三下午5点前", late)
    assert deadline.dues[0] == date(2020, 5, 13)
    assert deadline.next_overdue(late, 1)[0].isoformat() == "2020-05-13T17:00:00+08:00"


def test_next_dues_keep_the_time_of_day() -> None:
    """The scheduler asks next_overdue at any instant: the time of day stays."""
    deadline = parse_deadline("每周五下午5点前", REF)
    friday = datetime(2020, 5, 8, 16, 0, tzinfo=SH)
    assert [t.isoformat() for t in deadline.next_overdue(friday, 2)] == [
        "2020-05-08T17:00:00+08:00",
        "2020-05-15T17:00:00+08:00",
    ]
    after = friday + timedelta(hours=2)
    assert deadline.next_dues(after, 1) == (date(2020, 5, 15),)


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("每月最后一个工作日", ["2020-05-29", "2020-06-30", "2020-07-31"]),
        ("每月的最后一个工作日", ["2020-05-29", "2020-06-30", "2020-07-31"]),
        ("每月第一个工作日", ["2020-05-06", "2020-06-01", "2020-07-01"]),
        ("每月第1个工作日", ["2020-05-06", "2020-06-01", "2020-07-01"]),
        ("每月第二个工作日", ["2020-05-07", "2020-06-02", "2020-07-02"]),
        ("每季度最后一个工作日", ["2020-06-30", "2020-09-30", "2020-12-31"]),
        ("每季度第一个工作日", ["2020-07-01", "2020-10-09", "2021-01-04"]),
        ("每周最后一个工作日", ["2020-05-09", "2020-05-15", "2020-05-22"]),  # 9 May 2020 was a make-up day
        ("每周第一个工作日", ["2020-05-06", "2020-05-11", "2020-05-18"]),
        ("每年最后一个工作日", ["2020-12-31", "2021-12-31", "2022-12-30"]),
    ],
)
def test_a_working_day_of_each_cycle(expression: str, expected: list[str]) -> None:
    """The first or last working day of each week, month, quarter or year (statutory)."""
    deadline = parse_deadline(expression, REF, count=3)
    assert [d.isoformat() for d in deadline.dues] == expected
    assert all(DEFAULT_CALENDAR.is_workday(d) for d in deadline.dues)


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("每月初", ["2020-06-05", "2020-07-05", "2020-08-05"]),
        ("每月初报送上月隐患排查情况", ["2020-06-05", "2020-07-05", "2020-08-05"]),
        ("每季度首月10日前", ["2020-07-10", "2020-10-10", "2021-01-10"]),
        ("每季度第一个月10日前", ["2020-07-10", "2020-10-10", "2021-01-10"]),
        ("每季度第1个月10日前报送上季度情况", ["2020-07-10", "2020-10-10", "2021-01-10"]),
        ("每季度末月15日前", ["2020-06-15", "2020-09-15", "2020-12-15"]),
        ("每季度最后一个月20日前", ["2020-06-20", "2020-09-20", "2020-12-20"]),
        ("每季度首月", ["2020-07-31", "2020-10-31", "2021-01-31"]),
        ("每半年首月5日前", ["2020-07-05", "2021-01-05", "2021-07-05"]),
        ("每年首月10日前", ["2021-01-10", "2022-01-10", "2023-01-10"]),
        ("每季度第一个月的10日前", ["2020-07-10", "2020-10-10", "2021-01-10"]),
        ("每周星期五前", ["2020-05-08", "2020-05-15", "2020-05-22"]),
    ],
)
def test_early_in_the_month_and_months_of_the_cycle(expression: str, expected: list[str]) -> None:
    """月初 is due on the 5th; 首月 / 末月 / 第N个月 name a month of each cycle."""
    deadline = parse_deadline(expression, REF, count=3)
    assert [d.isoformat() for d in deadline.dues] == expected


@pytest.mark.parametrize(
    "expression",
    [
        "每月首月10日前",  # a month has no first month
        "每季度第4个月",  # a quarter has three
        "每周第6个工作日",
        "每月第0个工作日",
        "每季度初",
        "每两月最后一个工作日",
        "每周五下午前",  # which hour?
        "每周五下午5点内",
        "每月第一周",  # which day of it?
    ],
)
def test_recurrences_that_cannot_be_read(expression: str) -> None:
    """What a person would have to guess is refused."""
    with pytest.raises(DeadlineError):
        parse_deadline(expression, REF)


def test_the_clock_field_is_the_time_of_day() -> None:
    """A recurrence with a time carries it; one without has none."""
    assert parse_deadline("每周五下午5点前", REF).clock == time(17, 0)
    assert parse_deadline("每周五前", REF).clock is None
