"""The working-day and festival calendar: statutory days, site additions, provisional years."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.workcal import DEFAULT_CALENDAR, FESTIVALS, WorkCalendar, festival_date, next_festival
from tests.examples import examples


def test_statutory_holidays_and_make_up_days() -> None:
    """National Day 2020 is off; Saturday 10 Oct 2020 is a make-up working day."""
    cal = DEFAULT_CALENDAR
    assert not cal.is_workday(date(2020, 10, 1))
    assert cal.is_workday(date(2020, 10, 10))
    assert not cal.is_workday(date(2020, 10, 11))
    assert cal.is_workday(date(2020, 10, 9))


def test_add_workdays_forward_and_back() -> None:
    """The start day is not counted; negative counts go back."""
    cal = DEFAULT_CALENDAR
    assert cal.add_workdays(date(2020, 9, 30), 1) == (date(2020, 10, 9), False)
    assert cal.add_workdays(date(2020, 10, 9), -1) == (date(2020, 9, 30), False)
    assert cal.add_workdays(date(2021, 3, 12), 0) == (date(2021, 3, 12), False)


def test_unpublished_years_are_provisional_with_fixed_holidays() -> None:
    """Past the package's last year only weekends and fixed-date holidays are off."""
    cal = DEFAULT_CALENDAR
    year = cal.last_known + 1
    assert not cal.knows(year)
    assert not cal.is_workday(date(year, 1, 1))
    assert not cal.is_workday(date(year, 10, 3))
    day, provisional = cal.add_workdays(date(cal.last_known, 12, 30), 3)
    assert provisional and day.year == year
    assert str(year) in cal.provisional_warning(year)


def test_site_days_off_and_working_days() -> None:
    """A site's extra day off and extra working day override the statutory calendar."""
    cal = WorkCalendar(holidays=[date(2021, 3, 15)], workdays={date(2021, 3, 13): "补课"})
    assert not cal.is_workday(date(2021, 3, 15))
    assert cal.is_workday(date(2021, 3, 13))
    assert cal.add_workdays(date(2021, 3, 12), 2) == (date(2021, 3, 16), False)


def test_declared_years_are_not_provisional_and_keep_fixed_holidays() -> None:
    """A site that declares 2027 arranged gets final counts; 1 January stays off."""
    cal = WorkCalendar(holidays=[date(2027, 2, 8)], years=[2027])
    assert cal.knows(2027)
    assert not cal.is_workday(date(2027, 1, 1))
    assert not cal.is_workday(date(2027, 2, 8))
    assert cal.add_workdays(date(2026, 12, 31), 1) == (date(2027, 1, 4), False)


def test_a_day_both_off_and_working_is_refused() -> None:
    """Contradictory site days are a configuration error."""
    with pytest.raises(ValueError):
        WorkCalendar(holidays=[date(2027, 1, 2)], workdays=[date(2027, 1, 2)])


def test_holiday_block_start() -> None:
    """The 2023 Mid-Autumn/National Day holiday began on 29 September."""
    assert DEFAULT_CALENDAR.holiday_block_start(date(2023, 10, 1)) == date(2023, 9, 29)
    with pytest.raises(ValueError):
        DEFAULT_CALENDAR.holiday_block_start(date(2023, 10, 9))


def test_festivals_agree_with_the_published_holidays() -> None:
    """Every computed festival day from 2008 on is a day off in the package's table."""
    for year in range(2008, DEFAULT_CALENDAR.last_known + 1):
        for name in ("春节", "清明节", "劳动节", "端午节", "中秋节", "国庆节", "元旦"):
            day = festival_date(name, year)
            assert not DEFAULT_CALENDAR.is_workday(day), (name, year, day)


def test_festival_dates() -> None:
    """Lunar festivals, the solar term 清明 and the eve 除夕."""
    assert festival_date("春节", 2021) == date(2021, 2, 12)
    assert festival_date("除夕", 2021) == date(2021, 2, 11)
    assert festival_date("端午节", 2021) == date(2021, 6, 14)
    assert festival_date("中秋节", 2021) == date(2021, 9, 21)
    assert festival_date("清明节", 2026) == date(2026, 4, 5)
    assert len(FESTIVALS) == 10
    with pytest.raises(ValueError):
        festival_date("春节", 2150)


def test_next_festival_on_or_after() -> None:
    """The festival day itself counts as on or after."""
    assert next_festival("国庆节", date(2020, 10, 1)) == date(2020, 10, 1)
    assert next_festival("国庆节", date(2020, 10, 2)) == date(2021, 10, 1)


def _stepped(calendar: WorkCalendar, start: date, n: int) -> tuple[date, bool]:
    """add_workdays as the definition says it: day by day, start not counted."""
    step = timedelta(days=1 if n > 0 else -1)
    day, left, provisional = start, abs(n), False
    while left:
        day += step
        left -= calendar.is_workday(day)
        provisional = provisional or not calendar.knows(day.year)
    return day, provisional if n else not calendar.knows(start.year)


SITE_DAYS = WorkCalendar(holidays={date(2021, 5, 6): "校运动会"}, workdays=[date(2021, 5, 8), date(2027, 1, 2)],
                         years=[2031])


@settings(max_examples=examples(400))
@given(start=st.dates(min_value=date(2000, 1, 1), max_value=date(2040, 12, 31)),
       n=st.integers(min_value=-800, max_value=800), site=st.booleans())
def test_counting_working_days_by_year_is_counting_them_day_by_day(start: date, n: int, site: bool) -> None:
    calendar = SITE_DAYS if site else DEFAULT_CALENDAR
    counted = calendar.add_workdays(start, n)
    assert (counted.day, counted.provisional) == _stepped(calendar, start, n)


def test_counting_across_the_first_and_last_years_a_date_can_have_overflows() -> None:
    with pytest.raises(OverflowError):
        DEFAULT_CALENDAR.add_workdays(date(9999, 12, 30), 5)
    with pytest.raises(OverflowError):
        DEFAULT_CALENDAR.add_workdays(date(1, 1, 3), -5)
