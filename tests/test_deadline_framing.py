"""Words around the deadline (于…前, 在…之前, 到…, 截至…, …前报送 / 前完成 / 前上报至…)
and a weekday in brackets that confirms the day: never a second deadline, and a weekday
that does not match is refused naming both."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from engine.deadline import Kind, parse_deadline
from engine.errors import DeadlineError

SH = ZoneInfo("Asia/Shanghai")
REF = datetime(2020, 5, 6, 9, 0, tzinfo=SH)  # a Wednesday


def dues(expression: str) -> tuple[date, ...]:
    deadline = parse_deadline(expression, REF)
    assert deadline.kind is Kind.ONCE, deadline
    return deadline.dues


@pytest.mark.parametrize(
    ("expression", "due"),
    [
        ("于5月8日前报送", date(2020, 5, 8)),
        ("请于5月8日前报送至区教育局", date(2020, 5, 8)),
        ("在5月20日之前完成", date(2020, 5, 20)),
        ("务必在本月25日之前完成整改", date(2020, 5, 25)),
        ("请各校于2020年5月15日前将材料报送至教育局安全科", date(2020, 5, 15)),
        ("截至5月31日", date(2020, 5, 31)),
        ("截止5月31日", date(2020, 5, 31)),
        ("截止到6月10日", date(2020, 6, 10)),
        ("截止时间为6月10日", date(2020, 6, 10)),
        ("到6月底", date(2020, 6, 30)),
        ("到6月底前完成", date(2020, 6, 30)),
        ("5月20日前上报至区教育局安全科", date(2020, 5, 20)),
        ("6月1日前交安全办", date(2020, 6, 1)),
        ("6月1日前交至安全办公室", date(2020, 6, 1)),
        ("6月5日前报送", date(2020, 6, 5)),
        ("6月5日前完成", date(2020, 6, 5)),
        ("于6月5日前完成整改并报送整改报告", date(2020, 6, 5)),
        ("整改报告须于6月5日之前上报", date(2020, 6, 5)),
        ("最迟不超过6月5日", date(2020, 6, 5)),
        ("不晚于6月5日", date(2020, 6, 5)),
        ("完成时限：6月5日前", date(2020, 6, 5)),
        ("整改时限为2020年6月5日", date(2020, 6, 5)),
        ("请在下周一前报送", date(2020, 5, 11)),
        ("最迟于5月28日前", date(2020, 5, 28)),
        ("最晚于5月28日前完成", date(2020, 5, 28)),
        ("请于5月15日（星期五）17:00前将汇总表报送至安全科邮箱", date(2020, 5, 15)),
        ("截至2020年5月31日前", date(2020, 5, 31)),
        ("6月30日前（含当日）", date(2020, 6, 30)),
        ("6月30日前（包括当天）", date(2020, 6, 30)),
        ("当天发现当天整改", date(2020, 5, 6)),
        ("5月31日下班前报送至安全科", date(2020, 5, 31)),
        ("6月底前完成2020年度总结", date(2020, 6, 30)),
        ("请于2020年6月10日前报送2019年度报告", date(2020, 6, 10)),
    ],
)
def test_prepositions_and_verbs_around_a_date(expression: str, due: date) -> None:
    """于 / 在 / 到 / 截至 before, 报送 / 完成 / 上报至 after: the date is the deadline."""
    assert dues(expression) == (due,)


@pytest.mark.parametrize(
    ("expression", "due"),
    [
        ("5月8日（星期五）前", date(2020, 5, 8)),
        ("5月8日(周五)前", date(2020, 5, 8)),
        ("5月8日（礼拜五）前报送", date(2020, 5, 8)),
        ("2020年5月8日（星期五）", date(2020, 5, 8)),
        ("2020-05-08（周五）前", date(2020, 5, 8)),
        ("5月11日（下周一）前", date(2020, 5, 11)),
        ("5月8日（本周五）前", date(2020, 5, 8)),
        ("下周一（5月11日）前", date(2020, 5, 11)),
        ("25日（周一）前", date(2020, 5, 25)),
        ("明天（周四）前", date(2020, 5, 7)),
        ("于5月8日（星期五）下班前报送", date(2020, 5, 8)),
        ("（下周一）前", date(2020, 5, 11)),
        ("星期五（5月8日）前", date(2020, 5, 8)),
    ],
)
def test_a_weekday_in_brackets_confirms_the_day(expression: str, due: date) -> None:
    """The weekday is checked against the date and adds no second deadline."""
    assert dues(expression) == (due,)


@pytest.mark.parametrize(
    ("expression", "date_text", "weekday_text"),
    [
        ("5月8日（星期四）前", "2020年5月8日是星期五", "不是星期四"),
        ("5月8日(周一)前", "2020年5月8日是星期五", "不是星期一"),
        ("2020年12月31日(周五)前", "2020年12月31日是星期四", "不是星期五"),
        ("明天（周五）前", "2020年5月7日是星期四", "不是星期五"),
        ("5月18日（下周一）前", "2020年5月18日", "“下周一”是2020年5月11日"),
        ("下周一（5月12日）前", "2020年5月12日", "“下周一”是2020年5月11日"),
    ],
)
def test_a_weekday_that_does_not_match_is_refused_naming_both(
    expression: str, date_text: str, weekday_text: str
) -> None:
    """The refusal names the date as written and the weekday (or day) it really is."""
    with pytest.raises(DeadlineError) as caught:
        parse_deadline(expression, REF)
    message = str(caught.value)
    assert date_text in message and weekday_text in message and "请核对" in message


def test_a_weekday_after_a_month_is_refused() -> None:
    """A weekday only confirms a single day."""
    with pytest.raises(DeadlineError, match="具体日期"):
        parse_deadline("5月（周五）前", REF)


@pytest.mark.parametrize(
    "expression",
    [
        "请于5月20日前报送至邮箱abc123@163.com",
        "5月20日前报送，联系电话：88881234",
        "5月20日前报送3份",
        "5月20日前报送第3批材料",
    ],
)
def test_numbers_that_are_no_time_are_filler(expression: str) -> None:
    """An e-mail address, a telephone number or a count of copies is not an unread time."""
    assert dues(expression) == (date(2020, 5, 20),)


def test_a_number_that_is_no_date_says_what_to_write() -> None:
    """"9.30前" names the number and suggests a whole date."""
    with pytest.raises(DeadlineError) as caught:
        parse_deadline("9.30前", REF)
    assert "9.30" in str(caught.value) and "9月30日前" in str(caught.value)
