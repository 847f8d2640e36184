"""Festival-bound deadlines: the day before the next festival on or after the reference."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from engine.deadline import parse_deadline
from engine.errors import DeadlineError

SH = ZoneInfo("Asia/Shanghai")


def due(expression: str, ref: date) -> date:
    deadline = parse_deadline(expression, datetime(ref.year, ref.month, ref.day, tzinfo=SH))
    return deadline.dues[0]


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("元旦前", date(2020, 12, 31)),
        ("春节前", date(2021, 2, 11)),  # 春节 2021 = 12 February
        ("清明节前", date(2021, 4, 3)),  # 清明 2021 = 4 April
        ("劳动节前", date(2021, 4, 30)),
        ("端午节前", date(2021, 6, 13)),  # 端午 2021 = 14 June
        ("中秋节前", date(2020, 9, 30)),  # 中秋 2020 = 1 October
        ("国庆节前", date(2020, 9, 30)),
    ],
)
def test_the_festivals_of_the_issue(expression: str, expected: date) -> None:
    """Each festival resolves to the day before its next occurrence (ref 1 Aug 2020)."""
    assert due(expression, date(2020, 8, 1)) == expected


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("五一前", date(2021, 4, 30)),
        ("五一劳动节前", date(2021, 4, 30)),
        ("十一前", date(2020, 9, 30)),
        ("国庆前", date(2020, 9, 30)),
        ("清明前", date(2021, 4, 3)),
        ("端午前", date(2021, 6, 13)),
        ("中秋之前", date(2020, 9, 30)),
        ("春节以前", date(2021, 2, 11)),
        ("元宵节前", date(2021, 2, 25)),
        ("除夕前", date(2021, 2, 10)),
        ("重阳节前", date(2020, 10, 24)),
    ],
)
def test_other_names_documents_use(expression: str, expected: date) -> None:
    """五一, 十一, 国庆 without 节, 之前/以前, and the other lunar festivals."""
    assert due(expression, date(2020, 8, 1)) == expected


def test_lunar_festivals_are_computed_for_any_year() -> None:
    """Spring Festival moves: 2023-01-22, 2024-02-10, 2030-02-03."""
    assert due("春节前", date(2022, 12, 1)) == date(2023, 1, 21)
    assert due("春节前", date(2023, 12, 1)) == date(2024, 2, 9)
    assert due("春节前", date(2029, 12, 1)) == date(2030, 2, 2)


def test_qingming_is_the_solar_term() -> None:
    """清明 falls on 4 or 5 April: 2026-04-05, 2024-04-04."""
    assert due("清明节前", date(2026, 1, 1)) == date(2026, 4, 4)
    assert due("清明节前", date(2024, 1, 1)) == date(2024, 4, 3)


def test_a_festival_already_past_this_year_means_next_year() -> None:
    """After 1 October, 国庆节前 is next year's eve."""
    assert due("国庆节前", date(2020, 10, 2)) == date(2021, 9, 30)
    assert due("春节前", date(2021, 2, 13)) == date(2022, 1, 31)


def test_on_the_festival_itself_the_eve_has_passed() -> None:
    """The festival on the reference day counts: its eve is yesterday, and a warning says so."""
    deadline = parse_deadline("元旦前", datetime(2021, 1, 1, 9, 0, tzinfo=SH))
    assert deadline.dues == (date(2020, 12, 31),)
    assert any("已逾期" in w for w in deadline.warnings)


def test_a_written_year_picks_that_years_festival() -> None:
    """ "2021年春节前" and "明年春节前" name one festival, not the next one."""
    assert due("2021年春节前", date(2020, 8, 1)) == date(2021, 2, 11)
    assert due("明年国庆节前", date(2020, 8, 1)) == date(2021, 9, 30)


def test_before_the_holiday_starts() -> None:
    """ "春节放假前": the day before the first day off (2021: 除夕 11 Feb was off)."""
    assert due("春节放假前", date(2021, 1, 10)) == date(2021, 2, 10)
    assert due("国庆节假期前", date(2023, 9, 1)) == date(2023, 9, 28)


def test_before_an_unpublished_holiday_is_refused() -> None:
    """The holiday of a year nobody has arranged cannot be known."""
    with pytest.raises(DeadlineError, match="放假安排尚未公布"):
        parse_deadline("春节放假前", datetime(2027, 1, 10, tzinfo=SH))


@pytest.mark.parametrize("expression", ["春节期间", "春节后", "国庆节"])
def test_a_festival_needs_before(expression: str) -> None:
    """Only "节前" is a deadline; during or after a festival is not."""
    with pytest.raises(DeadlineError):
        parse_deadline(expression, datetime(2020, 8, 1, tzinfo=SH))
