"""Whole phrases as policy documents and task lists write them, with their own words around."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from engine.deadline import parse_deadline
from engine.errors import DeadlineError

SH = ZoneInfo("Asia/Shanghai")
REF = datetime(2020, 8, 1, 9, 0, tzinfo=SH)


def read(expression: str) -> tuple[str, list[str]]:
    deadline = parse_deadline(expression, REF)
    return deadline.kind.value, [d.isoformat() for d in deadline.dues[:2]]


@pytest.mark.parametrize(
    ("expression", "kind", "dues"),
    [
        ("收到通知后3个工作日内", "once", ["2020-08-05"]),
        ("发现后24小时内", "once", ["2020-08-02"]),
        ("每月5日前报送上月隐患排查情况", "recurring", ["2020-08-05", "2020-09-05"]),
        ("每季度末报送本季度整治情况", "recurring", ["2020-09-30", "2020-12-31"]),
        ("每年12月底前报送本年度工作总结", "recurring", ["2020-12-31", "2021-12-31"]),
        ("上年度隐患于每年3月底前报送", "recurring", ["2021-03-31", "2022-03-31"]),
        ("12月10日至12月20日期间", "window", ["2020-12-20"]),
        ("到2022年", "once", ["2022-12-31"]),
        ("截至2020年8月", "once", ["2020-08-31"]),
        ("在11月底前集中开展一次全覆盖", "once", ["2020-11-30"]),
        ("2020年底前完成100%覆盖", "once", ["2020-12-31"]),
        ("2020.09-2020.12", "window", ["2020-12-31"]),
        ("每月至少1次", "recurring", ["2020-08-31", "2020-09-30"]),
        ("每周至少开展一次", "recurring", ["2020-08-02", "2020-08-09"]),
        ("每年至少2次", "recurring", ["2020-12-31", "2021-06-30"]),
        ("主要领导是否每半年检查1次", "recurring", ["2020-12-31", "2021-06-30"]),
        ("全员安全生产培训每年2次是否落实", "recurring", ["2020-12-31", "2021-06-30"]),
        ("每周向市教育局报送", "recurring", ["2020-08-02", "2020-08-09"]),
        ("2020年12月31日17:00前", "once", ["2020-12-31"]),
        ("次日上午10时前", "once", ["2020-08-02"]),
        ("2020年12月31日前（含）", "once", ["2020-12-31"]),
        ("二〇二〇年十二月三十一日", "once", ["2020-12-31"]),
        ("2020年12月31日（星期四）前", "once", ["2020-12-31"]),
        ("立即停用", "immediate", []),
        ("长期坚持，常抓不懈", "ongoing", []),
        ("2019年底前中小学幼儿园一键式紧急报警装置与公安联网", "once", ["2019-12-31"]),
        (
            "整治情况于2020年9月底、12月底前将阶段整治情况报学校综治办",
            "once",
            ["2020-09-30", "2020-12-31"],
        ),
        ("安全监管平台于9月28日前报送工作方案", "once", ["2020-09-28"]),
        ("动员部署阶段（9月20日前）", "once", ["2020-09-20"]),
        ("实施攻坚阶段（9月21日至12月20日）", "window", ["2020-12-20"]),
        ("巩固提高阶段（12月21日至12月30日）", "window", ["2020-12-30"]),
        ("集中攻坚（2021年）", "window", ["2021-12-31"]),
        ("分别于2020年9月30日和12月31日前", "once", ["2020-09-30", "2020-12-31"]),
    ],
)
def test_phrases_from_documents(expression: str, kind: str, dues: list[str]) -> None:
    """Subjects, verbs, objects and brackets around the deadline leave it unchanged."""
    assert read(expression) == (kind, dues)


@pytest.mark.parametrize(
    "expression",
    [
        "3至5个工作日内",  # a range of counts
        "2020.09-12",  # September 12th, or September to December?
        "9.30前",  # no year, an unusual spelling
        "下班前",  # which day?
        "本学期末",  # the school calendar is the site's
        "寒假前",
        "及时整改",  # timely, but by when?
        "限期整改",
        "主要领导每半年检查1次、分管领导每季度检查1次",  # two rules in one cell
        "2020年12月31日(周五)前",  # 31 Dec 2020 was a Thursday
    ],
)
def test_phrases_that_need_a_person(expression: str) -> None:
    """What a careful reader would have to ask about is refused."""
    with pytest.raises(DeadlineError):
        parse_deadline(expression, REF)
