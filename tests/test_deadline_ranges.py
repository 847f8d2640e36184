"""Ranges as notices write them: a day range inside one month, month ranges, ranges across
months and years, with every dash people type, and 即日起至…: windows with a start."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from engine.deadline import Kind, parse_deadline
from engine.errors import DeadlineError

SH = ZoneInfo("Asia/Shanghai")
REF = datetime(2020, 5, 6, 9, 0, tzinfo=SH)
DASHES = ["-", "—", "–", "－", "～", "~", "〜", "至", "到"]


def window(expression: str, ref: datetime = REF) -> tuple[date | None, date]:
    deadline = parse_deadline(expression, ref)
    assert deadline.kind is Kind.WINDOW, deadline
    return deadline.start, deadline.dues[0]


@pytest.mark.parametrize("dash", DASHES)
@pytest.mark.parametrize(
    ("template", "start", "end"),
    [
        ("5月8{}12日", date(2020, 5, 8), date(2020, 5, 12)),
        ("5月8日{}12日", date(2020, 5, 8), date(2020, 5, 12)),
        ("5月8日{}5月12日", date(2020, 5, 8), date(2020, 5, 12)),
        ("2020年5月8{}12日", date(2020, 5, 8), date(2020, 5, 12)),
        ("5月20日{}6月10日", date(2020, 5, 20), date(2020, 6, 10)),
        ("3{}4月", date(2020, 3, 1), date(2020, 4, 30)),
        ("2018年3{}5月期间", date(2018, 3, 1), date(2018, 5, 31)),
        ("2020年3月{}5月", date(2020, 3, 1), date(2020, 5, 31)),
        ("2020年11月{}2021年2月", date(2020, 11, 1), date(2021, 2, 28)),
        ("2020年12月20日{}2021年1月10日", date(2020, 12, 20), date(2021, 1, 10)),
        ("12月28日{}1月5日", date(2020, 12, 28), date(2021, 1, 5)),
        ("6月1{}15号", date(2020, 6, 1), date(2020, 6, 15)),
        ("9月21日{}12月20日", date(2020, 9, 21), date(2020, 12, 20)),
    ],
)
def test_every_dash_makes_the_same_window(template: str, start: date, end: date, dash: str) -> None:
    """-, —, –, ～, ~, 至 and 到 all join a start and an end; a shared unit is written once."""
    assert window(template.format(dash)) == (start, end)


@pytest.mark.parametrize(
    ("expression", "start", "end"),
    [
        ("自即日起至6月30日", date(2020, 5, 6), date(2020, 6, 30)),
        ("即日起到6月30日", date(2020, 5, 6), date(2020, 6, 30)),
        ("即日起至6月底", date(2020, 5, 6), date(2020, 6, 30)),
        ("从即日起至6月30日止", date(2020, 5, 6), date(2020, 6, 30)),
        ("自即日起至2020年12月31日", date(2020, 5, 6), date(2020, 12, 31)),
        ("即日起—6月30日", date(2020, 5, 6), date(2020, 6, 30)),
        ("集中整治时间为5月8日至12日", date(2020, 5, 8), date(2020, 5, 12)),
        ("排查阶段（5月8—15日）", date(2020, 5, 8), date(2020, 5, 15)),
        ("2020年5月—6月开展专项检查", date(2020, 5, 1), date(2020, 6, 30)),
        ("于3—4月份开展", date(2020, 3, 1), date(2020, 4, 30)),
        ("5月8日～12日前完成", date(2020, 5, 8), date(2020, 5, 12)),
        ("三至五月", date(2020, 3, 1), date(2020, 5, 31)),
        ("5月8日（周五）至12日（周二）", date(2020, 5, 8), date(2020, 5, 12)),
        ("5月8日(星期五)—5月12日(星期二)", date(2020, 5, 8), date(2020, 5, 12)),
        ("5月8日起至12日止", date(2020, 5, 8), date(2020, 5, 12)),
        ("从5月8日开始至12日", date(2020, 5, 8), date(2020, 5, 12)),
        ("5月底至6月上旬", date(2020, 5, 31), date(2020, 6, 10)),
        ("2020年三至五月期间", date(2020, 3, 1), date(2020, 5, 31)),
        ("第二至第三季度", date(2020, 4, 1), date(2020, 9, 30)),
        ("第二季度至第三季度", date(2020, 4, 1), date(2020, 9, 30)),
        ("二至三季度", date(2020, 4, 1), date(2020, 9, 30)),
        ("5月中旬至6月上旬", date(2020, 5, 11), date(2020, 6, 10)),
        ("5月8日8:00至12日17:00", date(2020, 5, 8), date(2020, 5, 12)),
        ("2020.5.8-2020.5.12", date(2020, 5, 8), date(2020, 5, 12)),
        ("3月份至5月份", date(2020, 3, 1), date(2020, 5, 31)),
        ("11月1日—次年1月31日", date(2020, 11, 1), date(2021, 1, 31)),
    ],
)
def test_ranges_with_words_around(expression: str, start: date, end: date) -> None:
    """即日起 starts at the reference day; the words around a range change nothing."""
    assert window(expression) == (start, end)


@pytest.mark.parametrize(
    "expression",
    [
        "2020.09-12",  # September 12th, or September to December?
        "3-5个工作日内",  # a range of counts
        "5月12-8日",  # ends before it starts
        "5月8-32日",
        "5月8日（周五）至12日（周三）",  # 12 May 2020 was a Tuesday
    ],
)
def test_ranges_that_cannot_be_read(expression: str) -> None:
    """A range of counts, one that runs backwards, or a day the month lacks is refused."""
    with pytest.raises(DeadlineError):
        parse_deadline(expression, REF)
