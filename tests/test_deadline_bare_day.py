"""A bare day of the month: "25日前" is the 25th of this month while it is still ahead,
else of the next month that has that day."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from engine.deadline import Kind, parse_deadline
from engine.errors import DeadlineError

SH = ZoneInfo("Asia/Shanghai")


def due(expression: str, ref: date) -> date:
    deadline = parse_deadline(expression, datetime(ref.year, ref.month, ref.day, 9, tzinfo=SH))
    assert deadline.kind is Kind.ONCE
    return deadline.dues[0]


@pytest.mark.parametrize(
    ("expression", "ref", "expected"),
    [
        ("25日前", date(2020, 5, 6), date(2020, 5, 25)),
        ("25日前", date(2020, 5, 25), date(2020, 5, 25)),  # the day itself is still ahead
        ("25日前", date(2020, 5, 26), date(2020, 6, 25)),
        ("25号前", date(2020, 5, 6), date(2020, 5, 25)),
        ("25日之前", date(2020, 12, 30), date(2021, 1, 25)),
        ("5日前", date(2020, 5, 6), date(2020, 6, 5)),
        ("3日前报送", date(2020, 5, 1), date(2020, 5, 3)),
        ("请于10日前上报", date(2020, 5, 6), date(2020, 5, 10)),
        ("31日前", date(2020, 4, 5), date(2020, 5, 31)),  # April has no 31st
        ("30日前", date(2020, 2, 1), date(2020, 3, 30)),  # nor February a 30th
        ("29日前", date(2021, 2, 1), date(2021, 3, 29)),
        ("29日前", date(2020, 2, 1), date(2020, 2, 29)),
        ("二十五日前", date(2020, 5, 6), date(2020, 5, 25)),
        ("15日以前完成整改", date(2020, 5, 6), date(2020, 5, 15)),
        ("20日止", date(2020, 5, 6), date(2020, 5, 20)),
    ],
)
def test_the_next_such_day(expression: str, ref: date, expected: date) -> None:
    """This month's day while it is ahead, else the next month's that has it."""
    assert due(expression, ref) == expected


def test_a_bare_day_with_a_time() -> None:
    """ "25日17时前" ends at 17:00 on the 25th."""
    deadline = parse_deadline("25日17时前", datetime(2020, 5, 6, tzinfo=SH))
    assert deadline.overdue_at[0].isoformat() == "2020-05-25T17:00:00+08:00"


@pytest.mark.parametrize("expression", ["32日前", "0日前", "10天前"])
def test_no_such_day(expression: str) -> None:
    """A day past 31, the 0th, or "N天前" (days ago) is refused."""
    with pytest.raises(DeadlineError):
        parse_deadline(expression, datetime(2020, 5, 6, tzinfo=SH))


@pytest.mark.parametrize("expression", ["3号楼", "3号配电房", "25号"])
def test_a_number_sign_alone_is_no_day(expression: str) -> None:
    """"3号楼" is a building: only 前 / a time / a weekday make 号 a day of the month."""
    with pytest.raises(DeadlineError):
        parse_deadline(expression, datetime(2020, 5, 6, tzinfo=SH))
