"""Everyday festival names and deadlines counted from a holiday with the working calendar:
节后第一个工作日, 节后N个工作日内, 国庆节后3个工作日内, 节前, and 开学后第一周 with the
site's terms."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from engine import sitecalendar
from engine.deadline import Kind, parse_deadline
from engine.errors import DeadlineError
from engine.workcal import WorkCalendar

SH = ZoneInfo("Asia/Shanghai")


def due(expression: str, ref: date, calendar: WorkCalendar | None = None) -> date:
    deadline = parse_deadline(
        expression, datetime(ref.year, ref.month, ref.day, 9, tzinfo=SH), calendar=calendar
    )
    assert deadline.kind is Kind.ONCE, deadline
    return deadline.dues[0]


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("十一前", date(2020, 9, 30)),
        ("五一前", date(2021, 4, 30)),
        ("端午前", date(2021, 6, 13)),
        ("中秋前", date(2020, 9, 30)),
        ("元旦前", date(2020, 12, 31)),
        ("国庆前", date(2020, 9, 30)),
        ("清明前", date(2021, 4, 3)),
        ("重阳前", date(2020, 10, 24)),
        ("元宵前", date(2021, 2, 25)),
        ("五一劳动节前", date(2021, 4, 30)),
        ("十一国庆节前", date(2020, 9, 30)),
        ("于十一前完成", date(2020, 9, 30)),
        ("务必在元旦之前上报", date(2020, 12, 31)),
    ],
)
def test_everyday_festival_names(expression: str, expected: date) -> None:
    """Short names read as the full ones: the day before the next festival."""
    assert due(expression, date(2020, 8, 1)) == expected


@pytest.mark.parametrize(
    ("expression", "ref", "expected"),
    [
        # 国庆 and 中秋 2020: 1-8 October off, back on Friday 9 October.
        ("国庆节后第一个工作日", date(2020, 9, 1), date(2020, 10, 9)),
        ("国庆假期后第一个工作日", date(2020, 9, 1), date(2020, 10, 9)),
        ("十一后第一个工作日", date(2020, 9, 1), date(2020, 10, 9)),
        ("国庆节后3个工作日内", date(2020, 9, 1), date(2020, 10, 12)),  # 10 Oct was a make-up day
        ("国庆节假期结束后3个工作日内", date(2020, 9, 1), date(2020, 10, 12)),
        ("国庆长假后第2个工作日", date(2020, 9, 1), date(2020, 10, 10)),
        ("国庆节后3天内", date(2020, 9, 1), date(2020, 10, 11)),
        ("十一假期结束后第一个工作日", date(2020, 10, 3), date(2020, 10, 9)),  # in the holiday
        # 春节 2021: 11-17 February off, back on Thursday 18 February.
        ("春节后第一个工作日", date(2020, 12, 1), date(2021, 2, 18)),
        ("2021年春节后第一个工作日", date(2020, 12, 1), date(2021, 2, 18)),
        ("春节假期后5个工作日内", date(2020, 12, 1), date(2021, 2, 23)),  # 20 Feb a make-up day
        # 端午 2020: 25-27 June off, Sunday 28 June a make-up working day.
        ("端午节后第一个工作日", date(2020, 6, 1), date(2020, 6, 28)),
        # The next holiday, unnamed.
        ("节后第一个工作日", date(2020, 9, 1), date(2020, 10, 9)),
        ("节后第1个工作日报送", date(2020, 9, 1), date(2020, 10, 9)),
        ("节后3个工作日内", date(2020, 9, 1), date(2020, 10, 12)),
        ("节假日后第一个工作日", date(2020, 9, 1), date(2020, 10, 9)),
        ("假期结束后第一个工作日", date(2020, 9, 1), date(2020, 10, 9)),
        ("节后第一个工作日", date(2020, 6, 1), date(2020, 6, 28)),
        ("节后第一个工作日", date(2020, 10, 5), date(2020, 10, 9)),  # during the holiday
        ("节后上班第一天", date(2020, 9, 1), date(2020, 10, 9)),
        ("节后上班后3个工作日内", date(2020, 9, 1), date(2020, 10, 12)),
        ("国庆节后一周内", date(2020, 9, 1), date(2020, 10, 15)),
        ("清明节后第一个工作日", date(2020, 12, 1), date(2021, 4, 6)),
        ("十一长假后第一个工作日", date(2020, 9, 1), date(2020, 10, 9)),
        ("春节返岗后3个工作日内", date(2020, 12, 1), date(2021, 2, 20)),
        ("五一节前", date(2020, 9, 1), date(2021, 4, 30)),
        ("节前", date(2020, 9, 1), date(2020, 9, 30)),
        ("节前完成安全检查", date(2020, 9, 1), date(2020, 9, 30)),
        ("节前安全大检查于节前完成", date(2020, 9, 1), date(2020, 9, 30)),
        ("节假日前", date(2020, 12, 1), date(2020, 12, 31)),
    ],
)
def test_counted_from_a_holiday(expression: str, ref: date, expected: date) -> None:
    """From the last day off of the holiday's run, by the statutory calendar."""
    assert due(expression, ref) == expected


def test_a_time_of_day_after_a_holiday() -> None:
    """ "节后第一个工作日下班前" ends at the end of that working day."""
    deadline = parse_deadline("节后第一个工作日下班前", datetime(2020, 9, 1, tzinfo=SH))
    assert deadline.overdue_at[0].isoformat() == "2020-10-09T17:30:00+08:00"


@pytest.mark.parametrize(
    "expression",
    [
        "春节后第一个工作日",  # 2027's arrangement is not published (in the package)
        "节后3个工作日内",
    ],
)
def test_a_holiday_in_an_unpublished_year_is_refused(expression: str) -> None:
    """The first day back depends on the arrangement: refused, naming the year."""
    with pytest.raises(DeadlineError, match="2027年的放假安排尚未公布"):
        parse_deadline(expression, datetime(2026, 12, 20, tzinfo=SH))


@pytest.mark.parametrize("expression", ["春节后", "国庆节后", "节后", "重阳节后第一个工作日"])
def test_after_a_holiday_without_a_count_is_refused(expression: str) -> None:
    """"春节后" is a start, not a deadline; 重阳 is no day off."""
    with pytest.raises(DeadlineError):
        parse_deadline(expression, datetime(2020, 8, 1, tzinfo=SH))


TERMS = sitecalendar.loads(
    """\
terms:
  - {name: "2026-2027学年第一学期", start: "2026-09-01", end: "2027-01-22"}
  - {name: "2026-2027学年第二学期", start: "2027-02-22", end: "2027-07-09"}
""",
    "calendar.yaml",
).workcal


@pytest.mark.parametrize(
    ("expression", "ref", "kind", "start", "end"),
    [
        ("开学后第一周", date(2026, 8, 10), "window", date(2026, 9, 1), date(2026, 9, 7)),
        ("开学第一周", date(2026, 8, 10), "window", date(2026, 9, 1), date(2026, 9, 7)),
        ("开学后第二周", date(2026, 8, 10), "window", date(2026, 9, 8), date(2026, 9, 14)),
        ("开学后第一周内", date(2026, 8, 10), "once", None, date(2026, 9, 7)),
        ("开学后第一周内完成", date(2026, 9, 3), "once", None, date(2026, 9, 7)),
        ("开学第一天", date(2026, 8, 10), "window", date(2026, 9, 1), date(2026, 9, 1)),
        ("开学后第一个月内", date(2026, 8, 10), "once", None, date(2026, 9, 30)),
        ("开学后第一周", date(2026, 10, 12), "window", date(2027, 2, 22), date(2027, 2, 28)),
    ],
)
def test_weeks_of_the_term(
    expression: str, ref: date, kind: str, start: date | None, end: date
) -> None:
    """The N-th week (7 days from the first day of term), day or month of the next term
    whose N-th period has not ended."""
    deadline = parse_deadline(
        expression, datetime(ref.year, ref.month, ref.day, tzinfo=SH), calendar=TERMS
    )
    assert (deadline.kind.value, deadline.start, deadline.dues[0]) == (kind, start, end)


def test_weeks_of_the_term_need_the_sites_terms() -> None:
    """Without a site calendar the school words are refused, pointing to calendar.yaml."""
    with pytest.raises(DeadlineError, match="calendar.yaml"):
        parse_deadline("开学后第一周", datetime(2026, 8, 10, tzinfo=SH))
