"""Parts of periods: 上旬 / 中旬 / 下旬 and their pairs, 第N季度, 上/下半年, 年初 / 年中,
月初 / 月中. Named alone they are windows; with 前 / 内 they are due at their end; 末 and
底 stay single days."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from engine.deadline import Kind, parse_deadline
from engine.errors import DeadlineError

SH = ZoneInfo("Asia/Shanghai")
REF = datetime(2020, 5, 6, 9, 0, tzinfo=SH)


def read(expression: str) -> tuple[str, date | None, date]:
    deadline = parse_deadline(expression, REF)
    return deadline.kind.value, deadline.start, deadline.dues[0]


@pytest.mark.parametrize(
    ("expression", "start", "end"),
    [
        ("6月上旬", date(2020, 6, 1), date(2020, 6, 10)),
        ("6月中旬", date(2020, 6, 11), date(2020, 6, 20)),
        ("6月下旬", date(2020, 6, 21), date(2020, 6, 30)),
        ("2月下旬", date(2020, 2, 21), date(2020, 2, 29)),
        ("6月上中旬", date(2020, 6, 1), date(2020, 6, 20)),
        ("6月中下旬", date(2020, 6, 11), date(2020, 6, 30)),
        ("2021年3月中下旬", date(2021, 3, 11), date(2021, 3, 31)),
        ("下月上旬", date(2020, 6, 1), date(2020, 6, 10)),
        ("本月下旬", date(2020, 5, 21), date(2020, 5, 31)),
        ("十二月上旬", date(2020, 12, 1), date(2020, 12, 10)),
        ("第一季度", date(2020, 1, 1), date(2020, 3, 31)),
        ("第二季度", date(2020, 4, 1), date(2020, 6, 30)),
        ("第三季度", date(2020, 7, 1), date(2020, 9, 30)),
        ("第四季度", date(2020, 10, 1), date(2020, 12, 31)),
        ("三季度", date(2020, 7, 1), date(2020, 9, 30)),
        ("2021年第一季度", date(2021, 1, 1), date(2021, 3, 31)),
        ("本季度", date(2020, 4, 1), date(2020, 6, 30)),
        ("下季度", date(2020, 7, 1), date(2020, 9, 30)),
        ("上半年", date(2020, 1, 1), date(2020, 6, 30)),
        ("下半年", date(2020, 7, 1), date(2020, 12, 31)),
        ("今年下半年", date(2020, 7, 1), date(2020, 12, 31)),
        ("2021年上半年", date(2021, 1, 1), date(2021, 6, 30)),
        ("年初", date(2020, 1, 1), date(2020, 2, 29)),
        ("2021年初", date(2021, 1, 1), date(2021, 2, 28)),
        ("2021年年初", date(2021, 1, 1), date(2021, 2, 28)),
        ("明年年初", date(2021, 1, 1), date(2021, 2, 28)),
        ("年中", date(2020, 6, 1), date(2020, 7, 31)),
        ("今年年中", date(2020, 6, 1), date(2020, 7, 31)),
        ("6月初", date(2020, 6, 1), date(2020, 6, 5)),
        ("下月初", date(2020, 6, 1), date(2020, 6, 5)),
        ("本月中", date(2020, 5, 11), date(2020, 5, 20)),
        ("于第三季度开展检查", date(2020, 7, 1), date(2020, 9, 30)),
        ("计划在下半年完成", date(2020, 7, 1), date(2020, 12, 31)),
        ("（2020年6月上旬）", date(2020, 6, 1), date(2020, 6, 10)),
        ("本周", date(2020, 5, 4), date(2020, 5, 10)),
        ("下周", date(2020, 5, 11), date(2020, 5, 17)),
        ("下周开展自查", date(2020, 5, 11), date(2020, 5, 17)),
    ],
)
def test_parts_named_alone_are_windows(expression: str, start: date, end: date) -> None:
    """A part of a period named alone runs from its first day to its last."""
    assert read(expression) == ("window", start, end)


@pytest.mark.parametrize(
    ("expression", "due"),
    [
        ("6月上旬前", date(2020, 6, 10)),
        ("6月中旬前", date(2020, 6, 20)),
        ("6月上中旬前", date(2020, 6, 20)),
        ("6月中下旬前完成", date(2020, 6, 30)),
        ("第二季度末", date(2020, 6, 30)),
        ("第二季度末前", date(2020, 6, 30)),
        ("第三季度内", date(2020, 9, 30)),
        ("三季度底前", date(2020, 9, 30)),
        ("上半年前", date(2020, 6, 30)),
        ("下半年内", date(2020, 12, 31)),
        ("年底", date(2020, 12, 31)),
        ("年末前", date(2020, 12, 31)),
        ("2021年初前", date(2021, 2, 28)),
        ("年中前", date(2020, 7, 31)),
        ("6月末", date(2020, 6, 30)),
        ("6月底前", date(2020, 6, 30)),
        ("下月初前", date(2020, 6, 5)),
        ("下旬前", date(2020, 5, 31)),
        ("下周内", date(2020, 5, 17)),
        ("本周内完成", date(2020, 5, 10)),
        ("中旬前完成", date(2020, 5, 20)),
    ],
)
def test_parts_with_a_relation_or_an_end_are_single_deadlines(expression: str, due: date) -> None:
    """前 / 内 make a part a deadline at its last day; 末 / 底 are that day."""
    kind, _, last = read(expression)
    assert (kind, last) == (Kind.ONCE.value, due)


@pytest.mark.parametrize(
    ("expression", "due"),
    [
        ("初中部5月底前", date(2020, 5, 31)),
        ("中小学6月底前完成", date(2020, 6, 30)),
    ],
)
def test_words_that_look_like_parts(expression: str, due: date) -> None:
    """初中 and 中小学 are schools, not 年初 / 月中."""
    assert read(expression)[2] == due


@pytest.mark.parametrize("expression", ["周末前", "本周末前", "下周末前"])
def test_the_weekend_is_refused_with_what_to_write(expression: str) -> None:
    """周末 is Saturday or Sunday: refused, suggesting 周五前 / 周日前."""
    with pytest.raises(DeadlineError) as caught:
        parse_deadline(expression, REF)
    assert "周日前" in str(caught.value)
