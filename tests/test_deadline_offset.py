"""Offsets of rule files: before, at and after a due instant, and repetition intervals."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from engine.deadline import Direction, Offset, OffsetUnit, parse_offset
from engine.errors import DeadlineError
from engine.workcal import DEFAULT_CALENDAR

SH = ZoneInfo("Asia/Shanghai")


def at(y: int, m: int, d: int, hh: int = 0, mi: int = 0) -> datetime:
    return datetime(y, m, d, hh, mi, tzinfo=SH)


def moved(text: str, instant: datetime) -> str:
    return parse_offset(text).apply(instant, DEFAULT_CALENDAR, SH).isoformat()


@pytest.mark.parametrize(
    ("text", "direction", "amount", "unit"),
    [
        ("3日前", Direction.BEFORE, 3, OffsetUnit.DAY),
        ("1个工作日前", Direction.BEFORE, 1, OffsetUnit.WORKDAY),
        ("24小时前", Direction.BEFORE, 24, OffsetUnit.HOUR),
        ("到期前3天", Direction.BEFORE, 3, OffsetUnit.DAY),
        ("逾期即", Direction.AT, 0, OffsetUnit.DAY),
        ("逾期3个工作日", Direction.AFTER, 3, OffsetUnit.WORKDAY),
        ("逾期15日", Direction.AFTER, 15, OffsetUnit.DAY),
        ("逾期1个月", Direction.AFTER, 1, OffsetUnit.MONTH),
        ("逾期一周", Direction.AFTER, 1, OffsetUnit.WEEK),
        ("逾期30分钟", Direction.AFTER, 30, OffsetUnit.MINUTE),
        ("逾期三个工作日仍未整改", Direction.AFTER, 3, OffsetUnit.WORKDAY),
        ("每3个工作日重复直至整改", Direction.EVERY, 3, OffsetUnit.WORKDAY),
        ("每7日", Direction.EVERY, 7, OffsetUnit.DAY),
        ("每日", Direction.EVERY, 1, OffsetUnit.DAY),
    ],
)
def test_offsets_read(text: str, direction: Direction, amount: int, unit: OffsetUnit) -> None:
    """Each offset form reads as direction, amount and unit."""
    offset = parse_offset(text)
    assert (offset.direction, offset.amount, offset.unit) == (direction, amount, unit)


def test_calendar_offsets_keep_the_wall_clock() -> None:
    """Days and months move the local date; hours are exact."""
    due = at(2021, 1, 1)
    assert moved("3日前", due) == "2020-12-29T00:00:00+08:00"
    assert moved("24小时前", at(2021, 5, 11, 9, 30)) == "2021-05-10T09:30:00+08:00"
    assert moved("逾期15日", due) == "2021-01-16T00:00:00+08:00"
    assert moved("逾期1个月", at(2021, 1, 31)) == "2021-02-28T00:00:00+08:00"
    assert moved("逾期即", due) == "2021-01-01T00:00:00+08:00"
    assert moved("每7日", due) == "2021-01-08T00:00:00+08:00"


def test_working_days_before_leave_whole_working_days() -> None:
    """Due Friday 12 Mar 2021 (overdue Sat 00:00): one working day before is Fri 00:00,
    three are Wed 00:00."""
    overdue = at(2021, 3, 13)
    assert moved("1个工作日前", overdue) == "2021-03-12T00:00:00+08:00"
    assert moved("3个工作日前", overdue) == "2021-03-10T00:00:00+08:00"


def test_working_days_after_count_whole_working_days_overdue() -> None:
    """Overdue from Sat 13 Mar: three working days overdue is Thu 18 Mar 00:00."""
    assert moved("逾期3个工作日", at(2021, 3, 13)) == "2021-03-18T00:00:00+08:00"
    assert moved("逾期1个工作日", at(2021, 3, 12)) == "2021-03-13T00:00:00+08:00"


def test_working_days_skip_holidays_and_count_make_up_days() -> None:
    """Overdue on 1 Oct 2020: the holiday does not count; Sat 10 Oct (调休) does."""
    assert moved("逾期1个工作日", at(2020, 10, 1)) == "2020-10-10T00:00:00+08:00"
    assert moved("逾期2个工作日", at(2020, 10, 1)) == "2020-10-11T00:00:00+08:00"


def test_working_days_keep_a_time_of_day_on_working_days() -> None:
    """From Tue 09:30, two working days earlier is Fri 09:30."""
    assert moved("2个工作日前", at(2021, 3, 16, 9, 30)) == "2021-03-12T09:30:00+08:00"


def test_repetition_moves_to_the_next_occurrence() -> None:
    """ "每3个工作日重复直至整改" from Thu 18 Mar 00:00: Thu, Fri, Mon pass → Tue 00:00."""
    assert moved("每3个工作日重复直至整改", at(2021, 3, 18)) == "2021-03-23T00:00:00+08:00"


def test_working_day_offsets_into_an_unpublished_year_are_provisional() -> None:
    """shift() says when the count reached a year whose holidays are unknown."""
    offset = parse_offset("逾期3个工作日")
    _, provisional = offset.shift(at(2021, 3, 13))
    assert not provisional
    instant, provisional = offset.shift(at(2026, 12, 31))
    assert provisional and instant.isoformat() == "2027-01-06T00:00:00+08:00"


def test_the_result_is_in_the_site_zone() -> None:
    """An instant in UTC comes back in the zone asked for."""
    utc = datetime(2020, 12, 31, 16, 0, tzinfo=ZoneInfo("UTC"))
    assert Offset(Direction.BEFORE, 1, OffsetUnit.DAY).apply(
        utc, tz="Asia/Shanghai"
    ).isoformat() == ("2020-12-31T00:00:00+08:00")


@pytest.mark.parametrize("text", ["随便", "0日前", "3年前", "逾期", "每0日", ""])
def test_unreadable_offsets(text: str) -> None:
    """Anything else is refused."""
    with pytest.raises(DeadlineError):
        parse_offset(text)
