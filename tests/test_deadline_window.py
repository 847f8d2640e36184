"""Windows: a first and a last day ("2020年9月至2020年12月", "2021年")."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from engine.deadline import Kind, parse_deadline
from engine.errors import DeadlineError

SH = ZoneInfo("Asia/Shanghai")
REF = datetime(2020, 8, 1, tzinfo=SH)


def window(expression: str, ref: datetime = REF) -> tuple[date | None, date]:
    deadline = parse_deadline(expression, ref)
    assert deadline.kind is Kind.WINDOW, deadline
    assert len(deadline.dues) == 1
    return deadline.start, deadline.dues[0]


@pytest.mark.parametrize(
    ("expression", "start", "end"),
    [
        ("2020年9月至2020年12月", date(2020, 9, 1), date(2020, 12, 31)),
        ("9月21日至12月20日", date(2020, 9, 21), date(2020, 12, 20)),
        ("2020年1月至3月底", date(2020, 1, 1), date(2020, 3, 31)),
        ("2021年", date(2021, 1, 1), date(2021, 12, 31)),
        ("2020年8月", date(2020, 8, 1), date(2020, 8, 31)),
    ],
)
def test_windows_of_the_issue(expression: str, start: date, end: date) -> None:
    """Start is the first day of the first part, the due the last day of the last."""
    assert window(expression) == (start, end)


@pytest.mark.parametrize(
    ("expression", "start", "end"),
    [
        ("2019年11月20日起至12月底", date(2019, 11, 20), date(2019, 12, 31)),
        ("2019年12月10日至12月下旬", date(2019, 12, 10), date(2019, 12, 31)),
        ("（2020年10月至12月）", date(2020, 10, 1), date(2020, 12, 31)),
        ("从2020年8月至2022年12月", date(2020, 8, 1), date(2022, 12, 31)),
        ("12月21日至30日", date(2020, 12, 21), date(2020, 12, 30)),
        ("2020年9月-12月", date(2020, 9, 1), date(2020, 12, 31)),
        ("2020.9～2020.12", date(2020, 9, 1), date(2020, 12, 31)),
        ("9月21日到12月20日", date(2020, 9, 21), date(2020, 12, 20)),
        ("即日起至12月31日", date(2020, 8, 1), date(2020, 12, 31)),
        ("二〇二一年", date(2021, 1, 1), date(2021, 12, 31)),
    ],
)
def test_window_variants(expression: str, start: date, end: date) -> None:
    """起至, 到, ~, -, 旬, brackets, a day of the same month, 即日起."""
    assert window(expression) == (start, end)


def test_a_window_ending_in_an_earlier_month_ends_next_year() -> None:
    """ "12月1日至1月15日" runs over New Year."""
    assert window("12月1日至1月15日") == (date(2020, 12, 1), date(2021, 1, 15))


def test_the_window_is_overdue_after_its_last_day() -> None:
    """The overdue instant is the end of the window's last day."""
    deadline = parse_deadline("2020年9月至2020年12月", REF)
    assert deadline.overdue_at[0].isoformat() == "2021-01-01T00:00:00+08:00"
    assert deadline.to_json()["start"] == "2020-09-01"


def test_a_window_that_ends_before_it_starts_is_refused() -> None:
    """Explicit years that run backwards are an error, not a guess."""
    with pytest.raises(DeadlineError, match="早于开始"):
        parse_deadline("2021年3月至2020年12月", REF)


def test_three_parts_are_not_a_window() -> None:
    """ "A至B至C" cannot be read."""
    with pytest.raises(DeadlineError):
        parse_deadline("2020年9月至10月至12月", REF)
