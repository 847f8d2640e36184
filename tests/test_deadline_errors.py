"""What cannot be read with certainty is refused, naming the part: never a guess."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from engine.deadline import parse_deadline
from engine.errors import DeadlineError

SH = ZoneInfo("Asia/Shanghai")
REF = datetime(2020, 8, 1, tzinfo=SH)


def refusal(expression: str) -> DeadlineError:
    with pytest.raises(DeadlineError) as caught:
        parse_deadline(expression, REF)
    assert caught.value.exit_code == 2
    assert caught.value.expression == expression
    return caught.value


@pytest.mark.parametrize(
    ("expression", "part"),
    [
        ("随便写写", "随便写写"),
        ("13月底前", "13月"),
        ("2月30日前", "2月30日"),
        ("2021年2月29日前", "2月29日"),
        ("4月31日前", "4月31日"),
        ("第5季度末", "第5季度末"),
        ("2020年12月31日25时前", "25时"),
    ],
)
def test_the_issue_refusals_name_their_part(expression: str, part: str) -> None:
    """The error names the part it could not read."""
    error = refusal(expression)
    assert part in error.part
    assert part in str(error)


@pytest.mark.parametrize("count", [358_681, 25_252_525, 10**12])
def test_a_count_of_working_days_past_the_last_year_is_out_of_range(count: int) -> None:
    """More working days than 2020 to 2999 have days is refused as out of range, as a
    count that ends past 2999 is."""
    assert "超出可以计算的日期范围（1900年至2999年）" in str(refusal(f"{count}个工作日内"))


def test_a_count_of_working_days_ending_past_the_last_year_is_out_of_range() -> None:
    assert "超出可以计算的日期范围" in str(refusal("300000个工作日内"))
    assert parse_deadline("1000个工作日内", REF).dues[0].year == 2024


def test_an_empty_expression() -> None:
    """An empty or blank expression is refused."""
    for blank in ("", "  ", "\n"):
        error = refusal(blank)
        assert "为空" in str(error)


@pytest.mark.parametrize(
    "expression",
    [
        "10天前",  # ten days ago (a day of the month is written 10日前)
        "年前",  # year end, or the Spring Festival?
        "2020年底前后",  # around
        "3日左右",
        "约3日内",
        "2021年起",  # a start, not a deadline
        "2021年1月1日以后",
        "3个工作日后",
        "20年底前",  # a two-digit year
        "下半年开学前",  # 开学 is the site's calendar
        "2020年底或2021年6月底前",
        "2020年底前完成，2021年6月底前验收",
        "17时前",  # which day?
        "半个工作日内",
        "0日内",
        "3至5个工作日内",
        "两会前",
        "不早于2020年底",  # a start, not a deadline
        "晚于2020年12月31日",
        "早于2020年12月31日",  # exclusive: by the 30th? refused rather than guessed
    ],
)
def test_ambiguous_or_unreadable_text(expression: str) -> None:
    """Hedges, open starts, missing parts and unknown events are errors."""
    refusal(expression)


def test_a_naive_reference_is_a_programming_error() -> None:
    """The engine only takes aware datetimes."""
    with pytest.raises(ValueError):
        parse_deadline("2020年底前", datetime(2020, 8, 1))
