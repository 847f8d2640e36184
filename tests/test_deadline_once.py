"""Once deadlines: the last allowed day(s) of a date written in a policy document."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from engine.deadline import Kind, parse_deadline

SH = ZoneInfo("Asia/Shanghai")
REF = datetime(2020, 8, 1, tzinfo=SH)


def dues(expression: str, ref: datetime = REF) -> list[str]:
    deadline = parse_deadline(expression, ref)
    assert deadline.kind is Kind.ONCE, deadline
    return [d.isoformat() for d in deadline.dues]


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("2020年底前", "2020-12-31"),
        ("2019年12月底前", "2019-12-31"),
        ("8月25日前", "2020-08-25"),
        ("11月底前", "2020-11-30"),
        ("2022年底前", "2022-12-31"),
        ("年底前", "2020-12-31"),
        ("年内", "2020-12-31"),
        ("上半年前", "2020-06-30"),
        ("下半年内", "2020-12-31"),
        ("第一季度末", "2020-03-31"),
        ("三季度末前", "2020-09-30"),
        ("本月底前", "2020-08-31"),
        ("下月10日前", "2020-09-10"),
        ("次年3月底前", "2021-03-31"),
        ("明年6月底前", "2021-06-30"),
        ("2020年12月31日24时前", "2020-12-31"),
        ("2020-12-31", "2020-12-31"),
        ("2020/9/1前", "2020-09-01"),
        ("2020.12.10前", "2020-12-10"),
    ],
)
def test_forms_listed_in_the_issue(expression: str, expected: str) -> None:
    """Each absolute form of the issue reads as its last allowed day."""
    assert dues(expression) == [expected]


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("2020年年底前", "2020-12-31"),
        ("2020年末", "2020-12-31"),
        ("2020年度内", "2020-12-31"),
        ("今年年底前", "2020-12-31"),
        ("当年底前", "2020-12-31"),
        ("本年度内", "2020-12-31"),
        ("明年底前", "2021-12-31"),
        ("下一年3月底前", "2021-03-31"),
        ("2021年第二季度末", "2021-06-30"),
        ("第4季度内", "2020-12-31"),
        ("本季度末", "2020-09-30"),
        ("下季度末前", "2020-12-31"),
        ("季度末前", "2020-09-30"),
        ("月底前", "2020-08-31"),
        ("本月内", "2020-08-31"),
        ("下个月底前", "2020-09-30"),
        ("次月15日前", "2020-09-15"),
        ("12月中旬前", "2020-12-20"),
        ("12月上旬前", "2020-12-10"),
        ("2021年上半年前", "2021-06-30"),
        ("2月下旬前", "2020-02-29"),
        ("9月30号前", "2020-09-30"),
        ("2020年12月31日之前", "2020-12-31"),
        ("2020年12月31日以前", "2020-12-31"),
        ("2020年12月31日为止", "2020-12-31"),
        ("2020年12月底止", "2020-12-31"),
        ("12月份前", "2020-12-31"),
        ("2022年前", "2022-12-31"),
        ("9月前", "2020-09-30"),
    ],
)
def test_variants_real_documents_use(expression: str, expected: str) -> None:
    """前/之前/以前/底/末/内/为止, 年度, 今年/当年/次月, 旬 and 号 all read the same way."""
    assert dues(expression) == [expected]


def test_x_before_includes_x_and_ends_at_the_end_of_that_day() -> None:
    """ "8月25日前" may be done on 25 August; it is overdue from 26 August 00:00 local."""
    deadline = parse_deadline("8月25日前", REF)
    assert deadline.dues == (date(2020, 8, 25),)
    assert deadline.overdue_at == (datetime(2020, 8, 26, tzinfo=SH),)
    assert deadline.overdue_at[0].isoformat() == "2020-08-26T00:00:00+08:00"


def test_several_dues_share_the_year_written_first() -> None:
    """ "2020年9月底、12月底前" has two dues, both in 2020."""
    assert dues("2020年9月底、12月底前") == ["2020-09-30", "2020-12-31"]
    assert dues("9月底和12月底前") == ["2020-09-30", "2020-12-31"]
    assert dues("2020年12月,2021年3月底前") == ["2020-12-31", "2021-03-31"]


def test_list_of_festivals_takes_the_final_before() -> None:
    """ "元旦、春节前": the day before each festival."""
    assert dues("元旦、春节前") == ["2020-12-31", "2021-02-11"]


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("二〇二〇年底前", "2020-12-31"),
        ("二零二一年三月底前", "2021-03-31"),
        ("十二月三十一日前", "2020-12-31"),
        ("十一月底前", "2020-11-30"),
        ("２０２０年１２月３１日前", "2020-12-31"),
        ("2020 年 12 月 31 日前", "2020-12-31"),
        ("（2020年底前）", "2020-12-31"),
    ],
)
def test_chinese_numerals_full_width_digits_and_spaces(expression: str, expected: str) -> None:
    """Chinese numerals, full-width digits, spaces and brackets read like plain digits."""
    assert dues(expression) == [expected]


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("2020年底前完成", "2020-12-31"),
        ("力争在2022年底前基本整改完毕", "2022-12-31"),
        ("12月25日前报送工作总结", "2020-12-25"),
        ("整治方案请于8月25日前报学校综治办汇总", "2020-08-25"),
        ("完成时间：2020年12月10日前", "2020-12-10"),
        ("不晚于2020年12月31日", "2020-12-31"),
        ("截至2020年11月30日", "2020-11-30"),
        ("各单位务必于2020年12月20日前将总结报送", "2020-12-20"),
    ],
)
def test_surrounding_words_are_ignored(expression: str, expected: str) -> None:
    """Verbs and subjects around the date change nothing."""
    assert dues(expression) == [expected]


def test_a_time_of_day_sets_the_overdue_instant() -> None:
    """ "24时前" ends at midnight; "17时前" at 17:00; "下午5点半" at 17:30."""
    midnight = parse_deadline("2020年12月31日24时前", REF)
    assert midnight.overdue_at[0].isoformat() == "2021-01-01T00:00:00+08:00"
    five = parse_deadline("2020年12月31日17时前", REF)
    assert five.dues == (date(2020, 12, 31),)
    assert five.overdue_at[0].isoformat() == "2020-12-31T17:00:00+08:00"
    half = parse_deadline("12月31日下午5点半前", REF)
    assert half.overdue_at[0].isoformat() == "2020-12-31T17:30:00+08:00"
    iso = parse_deadline("2020-12-31 18:00前", REF)
    assert iso.overdue_at[0].isoformat() == "2020-12-31T18:00:00+08:00"


def test_missing_year_comes_from_the_reference_even_when_past() -> None:
    """ "8月25日前" read on 1 September is this year's, already past, with a warning."""
    deadline = parse_deadline("8月25日前", datetime(2020, 9, 1, tzinfo=SH))
    assert deadline.dues == (date(2020, 8, 25),)
    assert deadline.warnings and "已逾期" in deadline.warnings[0]


def test_day_words_and_weeks() -> None:
    """当天, 次日, 本周内 (Sunday), 下周三前, 周五前 (the coming Friday)."""
    saturday = datetime(2020, 8, 1, 10, 0, tzinfo=SH)
    assert dues("当天", saturday) == ["2020-08-01"]
    assert dues("次日", saturday) == ["2020-08-02"]
    assert dues("本周内", saturday) == ["2020-08-02"]
    assert dues("下周三前", saturday) == ["2020-08-05"]
    assert dues("周五前", saturday) == ["2020-08-07"]
    assert dues("下个星期五前", saturday) == ["2020-08-07"]


def test_site_time_zone_decides_the_day_and_the_instant() -> None:
    """The reference day and the end of the day are in the site's zone."""
    late_utc = datetime(2020, 12, 31, 20, 0, tzinfo=ZoneInfo("UTC"))  # 1 Jan 04:00 in Shanghai
    assert parse_deadline("年底前", late_utc).dues == (date(2021, 12, 31),)
    assert parse_deadline("年底前", late_utc, "UTC").dues == (date(2020, 12, 31),)
    utc = parse_deadline("2020年底前", REF, "UTC")
    assert utc.overdue_at[0].isoformat() == "2021-01-01T00:00:00+00:00"


def test_several_dues_come_in_time_order_once_each() -> None:
    """"五一、十一前" lists October before May; 中秋 on 国庆 (2020) is one due."""
    assert dues("五一、十一前") == ["2020-09-30", "2021-04-30"]
    assert dues("国庆、中秋前") == ["2020-09-30"]
