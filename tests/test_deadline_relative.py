"""Relative deadlines: counts of days, weeks, months, hours and statutory working days."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from engine.deadline import Kind, parse_deadline
from engine.workcal import WorkCalendar

SH = ZoneInfo("Asia/Shanghai")


def at(y: int, m: int, d: int, hh: int = 0, mi: int = 0) -> datetime:
    return datetime(y, m, d, hh, mi, tzinfo=SH)


def due(expression: str, ref: datetime) -> date:
    deadline = parse_deadline(expression, ref)
    assert deadline.kind is Kind.ONCE and len(deadline.dues) == 1
    return deadline.dues[0]


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("3日内", date(2021, 5, 13)),
        ("3天内", date(2021, 5, 13)),
        ("7天内", date(2021, 5, 17)),
        ("三十日内", date(2021, 6, 9)),
        ("3个自然日内", date(2021, 5, 13)),
        ("两周内", date(2021, 5, 24)),
        ("2个星期以内", date(2021, 5, 24)),
        ("一个礼拜之内", date(2021, 5, 17)),
        ("半个月内", date(2021, 5, 25)),
        ("1个月内", date(2021, 6, 10)),
        ("3个月内", date(2021, 8, 10)),
        ("1个半月内", date(2021, 6, 25)),
        ("半年内", date(2021, 11, 10)),
        ("1年内", date(2022, 5, 10)),
    ],
)
def test_calendar_counts_start_the_day_after_the_reference(expression: str, expected: date) -> None:
    """ "3日内" from 10 May ends with 13 May (the reference day is not counted)."""
    assert due(expression, at(2021, 5, 10, 9, 30)) == expected


def test_a_month_from_the_31st_is_the_last_day_of_february() -> None:
    """Calendar-month arithmetic clamps: 31 Jan + 1 month = 28 Feb, or 29 in a leap year."""
    assert due("1个月内", at(2021, 1, 31)) == date(2021, 2, 28)
    assert due("1个月内", at(2020, 1, 31)) == date(2020, 2, 29)
    assert due("1年内", at(2020, 2, 29)) == date(2021, 2, 28)


def test_hours_and_minutes_count_to_the_minute() -> None:
    """ "24小时内" from 09:30 is overdue at 09:30 the next day."""
    deadline = parse_deadline("24小时内", at(2021, 5, 10, 9, 30))
    assert deadline.overdue_at[0].isoformat() == "2021-05-11T09:30:00+08:00"
    assert deadline.dues == (date(2021, 5, 11),)
    minutes = parse_deadline("30分钟内", at(2021, 5, 10, 23, 50))
    assert minutes.overdue_at[0].isoformat() == "2021-05-11T00:20:00+08:00"
    half = parse_deadline("1个半小时内", at(2021, 5, 10, 9, 0))
    assert half.overdue_at[0].isoformat() == "2021-05-10T10:30:00+08:00"


def test_hours_ending_at_midnight_belong_to_the_day_before() -> None:
    """24 hours from 00:00 end at the next midnight: the last allowed day is the first one."""
    deadline = parse_deadline("24小时内", at(2021, 5, 10))
    assert deadline.dues == (date(2021, 5, 10),)
    assert deadline.overdue_at[0].isoformat() == "2021-05-11T00:00:00+08:00"


def test_working_days_skip_weekends() -> None:
    """ "5个工作日内" from Monday 10 May 2021 is Monday 17 May."""
    assert due("5个工作日内", at(2021, 5, 10)) == date(2021, 5, 17)
    assert due("十五个工作日内", at(2021, 5, 10)) == date(2021, 5, 31)


def test_working_days_skip_public_holidays() -> None:
    """From 30 Sep 2020 one working day is 9 Oct: 1–8 October were a holiday."""
    assert due("1个工作日内", at(2020, 9, 30)) == date(2020, 10, 9)


def test_working_days_count_make_up_days() -> None:
    """Saturday 10 Oct 2020 and Sunday 7 Feb 2021 were make-up working days (调休)."""
    assert due("1个工作日内", at(2020, 10, 9)) == date(2020, 10, 10)
    assert due("1个工作日内", at(2021, 2, 5)) == date(2021, 2, 7)


def test_working_days_starting_on_a_day_off() -> None:
    """From a Saturday, counting starts on Monday."""
    assert due("3个工作日内", at(2021, 5, 8)) == date(2021, 5, 12)


def test_working_days_into_an_unpublished_year_are_provisional() -> None:
    """Beyond the known years: weekends and fixed holidays only, marked and warned."""
    deadline = parse_deadline("5个工作日内", at(2026, 12, 28))
    assert deadline.dues == (date(2027, 1, 5),)  # 1 January off, 2–3 January a weekend
    assert deadline.provisional
    assert any("2027" in w and "暂定" in w for w in deadline.warnings)
    assert deadline.to_json()["provisional"] is True


def test_a_site_calendar_settles_an_unpublished_year() -> None:
    """Declared arrangements make the count final and use the site's extra days."""
    calendar = WorkCalendar(holidays={date(2027, 1, 4): "调休"}, years=[2027])
    deadline = parse_deadline("5个工作日内", at(2026, 12, 28), calendar=calendar)
    assert deadline.dues == (date(2027, 1, 6),)
    assert not deadline.provisional and not deadline.warnings


def test_calendar_days_are_never_provisional() -> None:
    """Only working-day counts depend on the holiday arrangement."""
    deadline = parse_deadline("30日内", at(2026, 12, 28))
    assert deadline.dues == (date(2027, 1, 27),) and not deadline.provisional


@pytest.mark.parametrize(
    "expression", ["不超过5个工作日", "5个工作日内办结", "须在5个工作日之内完成"]
)
def test_words_around_a_count(expression: str) -> None:
    """Verbs and limits around a count change nothing."""
    assert due(expression, at(2021, 5, 10)) == date(2021, 5, 17)


def test_working_days_before_the_calendar_starts_are_provisional_too() -> None:
    """A count in a year before the package's first says so, without calling it unpublished."""
    deadline = parse_deadline("5个工作日内", at(2003, 12, 29))
    assert deadline.provisional
    assert any("2003年不在节假日日历范围内" in w for w in deadline.warnings)


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("即日起7个工作日内", date(2020, 5, 14)),
        ("自即日起3日内", date(2020, 5, 9)),
        ("今天起5天内", date(2020, 5, 11)),
        ("即日起算15日内", date(2020, 5, 21)),
    ],
)
def test_a_count_that_starts_today(expression: str, expected: date) -> None:
    """"即日起N…内" counts from the reference, like "N…内"."""
    ref = datetime(2020, 5, 6, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert parse_deadline(expression, ref).dues == (expected,)
