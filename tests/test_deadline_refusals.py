"""Immediacy in other words, 当天 / 当日, and what must be refused with its reason and a
suggestion in Chinese (尽快, 近期, 适时, 另行通知, 待定, 按期, 限时 without a time, an event
the site's calendar does not know)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from engine.deadline import Kind, parse_deadline
from engine.errors import DeadlineError

SH = ZoneInfo("Asia/Shanghai")
REF = datetime(2020, 5, 6, 9, 30, tzinfo=SH)


@pytest.mark.parametrize(
    "expression",
    [
        "即刻", "即刻整改", "马上", "马上整改到位", "立马整改", "第一时间", "第一时间整改",
        "发现后第一时间上报", "立行立改", "即知即改", "即查即改", "立即", "立刻停用", "迅即处置",
        "当即整改", "当场整改", "现场整改", "立查立改", "边查边改", "随查随改", "立知立改",
        "发现问题立即整改",
        "随时发现随时整改",
        "即时整改",
    ],
)
def test_immediacy_in_other_words(expression: str) -> None:
    """Each says "at once": immediate, with no due day."""
    deadline = parse_deadline(expression, REF)
    assert deadline.kind is Kind.IMMEDIATE and deadline.dues == ()


@pytest.mark.parametrize(
    ("expression", "overdue"),
    [
        ("当天", "2020-05-07T00:00:00+08:00"),
        ("当日", "2020-05-07T00:00:00+08:00"),
        ("当天内", "2020-05-07T00:00:00+08:00"),
        ("当日完成", "2020-05-07T00:00:00+08:00"),
        ("当天整改完毕", "2020-05-07T00:00:00+08:00"),
        ("当日17时前", "2020-05-06T17:00:00+08:00"),
        ("当天下午5点前", "2020-05-06T17:00:00+08:00"),
        ("今天下班前", "2020-05-06T17:30:00+08:00"),
    ],
)
def test_the_same_day_is_a_deadline_not_immediately(expression: str, overdue: str) -> None:
    """当天 / 当日 is the reference day: due that day, overdue at its end (or its time)."""
    deadline = parse_deadline(expression, REF)
    assert deadline.kind is Kind.ONCE
    assert deadline.dues == (date(2020, 5, 6),)
    assert deadline.overdue_at[0].isoformat() == overdue


@pytest.mark.parametrize(
    ("expression", "word"),
    [
        ("尽快", "尽快"),
        ("尽快整改", "尽快"),
        ("请尽快完成整改", "尽快"),
        ("尽早消除隐患", "尽早"),
        ("近期", "近期"),
        ("近期组织整改", "近期"),
        ("近日上报", "近日"),
        ("适时", "适时"),
        ("适时开展复查", "适时"),
        ("及时整改", "及时"),
        ("按期", "按期"),
        ("按期完成整改", "按期"),
        ("按时上报", "按时"),
        ("限时", "限时"),
        ("限时整改", "限时"),
        ("限期整改", "限期"),
        ("在规定时间内完成", "规定时间"),
    ],
)
def test_vague_words_are_refused_with_what_to_write(expression: str, word: str) -> None:
    """A vague word is named, with why it is no deadline and what to write instead."""
    with pytest.raises(DeadlineError) as caught:
        parse_deadline(expression, REF)
    message = str(caught.value)
    assert f"“{word}”" in message
    assert "请写" in message
    assert "日前" in message or "日内" in message


@pytest.mark.parametrize(
    ("expression", "word"),
    [
        ("另行通知", "另行通知"),
        ("完成时间另行通知", "另行通知"),
        ("待定", "待定"),
        ("时间待定", "待定"),
        ("另行安排", "另行安排"),
        ("具体时间视情况而定", "视情况"),
    ],
)
def test_dates_to_come_are_refused(expression: str, word: str) -> None:
    """另行通知 / 待定: the date is not known yet, and the message says so."""
    with pytest.raises(DeadlineError) as caught:
        parse_deadline(expression, REF)
    assert f"“{word}”" in str(caught.value) and "尚未确定" in str(caught.value)


@pytest.mark.parametrize(
    ("expression", "event"),
    [
        ("两会结束前", "两会"),
        ("两会召开前", "两会"),
        ("中考前", "中考"),
        ("上级检查验收前", "上级检查验收"),
        ("运动会开始之前", "运动会"),
    ],
)
def test_an_event_the_site_does_not_know(expression: str, event: str) -> None:
    """An event with no date in the site's calendar is named, with a suggestion."""
    with pytest.raises(DeadlineError) as caught:
        parse_deadline(expression, REF)
    message = str(caught.value)
    assert f"“{event}”" in message and "站点日历" in message and "请写明具体日期" in message


@pytest.mark.parametrize(
    ("expression", "due"),
    [
        ("尽快，最迟5月31日前", date(2020, 5, 31)),
        ("限时3日内", date(2020, 5, 9)),
        ("限期7个工作日内整改", date(2020, 5, 14)),
        ("及时整改，6月底前完成", date(2020, 6, 30)),
        ("近期组织排查，5月20日前上报", date(2020, 5, 20)),
    ],
)
def test_a_vague_word_beside_a_date_is_filler(expression: str, due: date) -> None:
    """With a date or a count beside it, the vague word adds nothing."""
    assert parse_deadline(expression, REF).dues == (due,)


def test_nothing_readable_suggests_forms() -> None:
    """Text with no time at all says what forms are read."""
    with pytest.raises(DeadlineError) as caught:
        parse_deadline("随便写写", REF)
    assert "没有可识别的期限" in str(caught.value) and "7个工作日内" in str(caught.value)
