"""Times of day: 上午/下午/晚上 N 点 (Chinese or Arabic numerals), N时, N:MM, 中午, 上午,
24时 and 下班前 (the site's end of the working day, default 17:30) set the overdue instant
on their day."""

from __future__ import annotations

import json
from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from adapters.cli.base import cli
from engine.deadline import parse_deadline
from engine.errors import DeadlineError

SH = ZoneInfo("Asia/Shanghai")
REF = datetime(2020, 5, 6, 9, 0, tzinfo=SH)


def overdue(expression: str, **kwargs: object) -> str:
    deadline = parse_deadline(expression, REF, **kwargs)  # type: ignore[arg-type]
    return deadline.overdue_at[0].isoformat()


@pytest.mark.parametrize(
    ("expression", "instant"),
    [
        ("5月8日上午10点前", "2020-05-08T10:00:00+08:00"),
        ("5月8日上午十点前", "2020-05-08T10:00:00+08:00"),
        ("5月8日下午3点前", "2020-05-08T15:00:00+08:00"),
        ("5月8日下午三点前", "2020-05-08T15:00:00+08:00"),
        ("5月8日下午五点半前", "2020-05-08T17:30:00+08:00"),
        ("5月8日下午5点30分前", "2020-05-08T17:30:00+08:00"),
        ("5月8日晚上8点前", "2020-05-08T20:00:00+08:00"),
        ("5月8日晚8时前", "2020-05-08T20:00:00+08:00"),
        ("5月8日17时前", "2020-05-08T17:00:00+08:00"),
        ("5月8日十七时前", "2020-05-08T17:00:00+08:00"),
        ("5月8日17:30前", "2020-05-08T17:30:00+08:00"),
        ("5月8日17：30前", "2020-05-08T17:30:00+08:00"),
        ("5月8日下午5:00前", "2020-05-08T17:00:00+08:00"),
        ("5月8日12时前", "2020-05-08T12:00:00+08:00"),
        ("5月8日中午12点前", "2020-05-08T12:00:00+08:00"),
        ("5月8日中午前", "2020-05-08T12:00:00+08:00"),
        ("5月8日上午", "2020-05-08T12:00:00+08:00"),
        ("5月8日上午前报送", "2020-05-08T12:00:00+08:00"),
        ("5月8日24时前", "2020-05-09T00:00:00+08:00"),
        ("5月8日二十四时前", "2020-05-09T00:00:00+08:00"),
        ("5月8日下班前", "2020-05-08T17:30:00+08:00"),
        ("于5月8日下班前报送", "2020-05-08T17:30:00+08:00"),
        ("5月8日(星期五)下班前", "2020-05-08T17:30:00+08:00"),
        ("今天下班前", "2020-05-06T17:30:00+08:00"),
        ("当天下班之前", "2020-05-06T17:30:00+08:00"),
        ("明天上午9点前", "2020-05-07T09:00:00+08:00"),
        ("明日中午前", "2020-05-07T12:00:00+08:00"),
        ("次日下班前", "2020-05-07T17:30:00+08:00"),
        ("下周一上午10时前", "2020-05-11T10:00:00+08:00"),
        ("周五下班前", "2020-05-08T17:30:00+08:00"),
        ("2020-05-08 17:00前", "2020-05-08T17:00:00+08:00"),
        ("2020年5月8日下午4时", "2020-05-08T16:00:00+08:00"),
        ("25日下班前", "2020-05-25T17:30:00+08:00"),
        ("于6月5日（星期五）下午下班前", "2020-06-05T17:30:00+08:00"),
        ("5月8日晚9点前", "2020-05-08T21:00:00+08:00"),
        ("5月8日早上8点前", "2020-05-08T08:00:00+08:00"),
        ("5月8日下午17:00前", "2020-05-08T17:00:00+08:00"),
        ("5月8日下午两点前", "2020-05-08T14:00:00+08:00"),
    ],
)
def test_each_time_of_day_sets_the_instant(expression: str, instant: str) -> None:
    """The overdue instant is that time on that day."""
    assert overdue(expression) == instant


def test_the_due_day_is_the_day_of_the_time() -> None:
    """A time of day keeps the due on its day."""
    assert parse_deadline("5月8日下班前", REF).dues == (date(2020, 5, 8),)


def test_the_end_of_the_working_day_is_the_sites() -> None:
    """下班前 follows workday_end; the default is 17:30."""
    assert overdue("5月8日下班前", workday_end=time(17, 0)) == "2020-05-08T17:00:00+08:00"
    assert overdue("今天下班前", workday_end=time(18, 30)) == "2020-05-06T18:30:00+08:00"


def test_the_cli_reads_the_end_of_the_working_day_from_the_site(tmp_path: Path) -> None:
    """rectify.yaml deadlines.workday_end sets 下班前 for `rectify deadline`."""
    (tmp_path / "rectify.yaml").write_text('deadlines:\n  workday_end: "17:00"\n', encoding="utf-8")
    result = CliRunner().invoke(
        cli, ["--site", str(tmp_path), "deadline", "5月8日下班前", "--ref", "2020-05-06", "--json"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["overdue_at"] == ["2020-05-08T17:00:00+08:00"]


@pytest.mark.parametrize(
    ("expression", "part"),
    [
        ("下班前", "下班前"),
        ("17时前", "17时前"),
        ("5月8日下午前", "下午"),
        ("5月8日晚上前", "晚上"),
        ("5月8日25时前", "25时"),
        ("5月8日上午15点前", "上午15点"),
        ("5月8日17:75前", "17:75"),
    ],
)
def test_times_that_cannot_be_read(expression: str, part: str) -> None:
    """A time with no day, a part of the day with no hour, or an hour that does not exist."""
    with pytest.raises(DeadlineError) as caught:
        parse_deadline(expression, REF)
    assert part in str(caught.value)
