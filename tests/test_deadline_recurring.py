"""Recurring deadlines: successive due days after the reference, and after any instant."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from engine.deadline import Kind, parse_deadline
from engine.errors import DeadlineError

SH = ZoneInfo("Asia/Shanghai")
REF = datetime(2021, 1, 1, tzinfo=SH)  # a Friday


def dues(expression: str, ref: datetime = REF, count: int = 4) -> list[str]:
    deadline = parse_deadline(expression, ref, count=count)
    assert deadline.kind is Kind.RECURRING, deadline
    return [d.isoformat() for d in deadline.dues]


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("每季度末", ["2021-03-31", "2021-06-30", "2021-09-30", "2021-12-31"]),
        ("每月1日前", ["2021-01-01", "2021-02-01", "2021-03-01", "2021-04-01"]),
        ("每周五前", ["2021-01-01", "2021-01-08", "2021-01-15", "2021-01-22"]),
        ("每周", ["2021-01-03", "2021-01-10", "2021-01-17", "2021-01-24"]),
        ("每月", ["2021-01-31", "2021-02-28", "2021-03-31", "2021-04-30"]),
        ("每半年", ["2021-06-30", "2021-12-31", "2022-06-30", "2022-12-31"]),
        ("每年2次", ["2021-06-30", "2021-12-31", "2022-06-30", "2022-12-31"]),
        ("每季度", ["2021-03-31", "2021-06-30", "2021-09-30", "2021-12-31"]),
    ],
)
def test_forms_listed_in_the_issue(expression: str, expected: list[str]) -> None:
    """The next four dues, the reference day included while it is still open."""
    assert dues(expression) == expected


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("每年", ["2021-12-31", "2022-12-31"]),
        ("每年12月25日前", ["2021-12-25", "2022-12-25"]),
        ("每年3月底前", ["2021-03-31", "2022-03-31"]),
        ("每月15号", ["2021-01-15", "2021-02-15"]),
        ("每月底前", ["2021-01-31", "2021-02-28"]),
        ("每月上旬", ["2021-01-10", "2021-02-10"]),
        ("每个月", ["2021-01-31", "2021-02-28"]),
        ("每两个月", ["2021-02-28", "2021-04-30"]),
        ("每季度检查1次", ["2021-03-31", "2021-06-30"]),
        ("每半年检查1次", ["2021-06-30", "2021-12-31"]),
        ("每月检查1次", ["2021-01-31", "2021-02-28"]),
        ("每年3次", ["2021-04-30", "2021-08-31"]),
        ("每星期一", ["2021-01-04", "2021-01-11"]),
        ("每周日前", ["2021-01-03", "2021-01-10"]),
        ("每周一次", ["2021-01-03", "2021-01-10"]),
        ("每天", ["2021-01-01", "2021-01-02"]),
        ("每个工作日", ["2021-01-04", "2021-01-05"]),
        ("每7天", ["2021-01-08", "2021-01-15"]),
        ("每两周", ["2021-01-15", "2021-01-29"]),
        ("每3个工作日", ["2021-01-06", "2021-01-11"]),
        ("于每月1日前上传", ["2021-01-01", "2021-02-01"]),
        ("每季度末将阶段整治情况报综治办", ["2021-03-31", "2021-06-30"]),
    ],
)
def test_variants(expression: str, expected: list[str]) -> None:
    """Anchors, counts, 次 per period, intervals from the reference, surrounding words."""
    assert dues(expression, count=2) == expected


def test_a_day_the_month_lacks_falls_on_its_last_day() -> None:
    """ "每月31日前" in February is due on 28 February."""
    assert dues("每月31日前", count=3) == ["2021-01-31", "2021-02-28", "2021-03-31"]


def test_count_sets_how_many_dues() -> None:
    """--count 2 gives two dues and two overdue instants."""
    deadline = parse_deadline("每季度末", REF, count=2)
    assert [d.isoformat() for d in deadline.dues] == ["2021-03-31", "2021-06-30"]
    assert [t.isoformat() for t in deadline.overdue_at] == [
        "2021-04-01T00:00:00+08:00",
        "2021-07-01T00:00:00+08:00",
    ]


def test_next_dues_after_any_instant() -> None:
    """The scheduler asks what is still open at an instant: a due day stays open all day."""
    deadline = parse_deadline("每季度末", REF)
    assert deadline.next_dues(datetime(2021, 3, 31, 23, 59, tzinfo=SH), 2) == (
        date(2021, 3, 31),
        date(2021, 6, 30),
    )
    assert deadline.next_dues(datetime(2021, 4, 1, tzinfo=SH), 1) == (date(2021, 6, 30),)
    assert deadline.next_overdue(datetime(2030, 1, 1, tzinfo=SH), 1)[0].isoformat() == (
        "2030-04-01T00:00:00+08:00"
    )


def test_next_dues_of_an_interval_keep_their_origin() -> None:
    """ "每7天" counts from the reference day whenever it is asked."""
    deadline = parse_deadline("每7天", REF)
    assert deadline.next_dues(datetime(2021, 1, 9, tzinfo=SH), 2) == (
        date(2021, 1, 15),
        date(2021, 1, 22),
    )


def test_next_dues_of_a_once_deadline() -> None:
    """A once deadline lists those of its dues still open."""
    deadline = parse_deadline("2020年9月底、12月底前", datetime(2020, 8, 1, tzinfo=SH))
    assert deadline.next_dues(datetime(2020, 10, 1, tzinfo=SH), 5) == (date(2020, 12, 31),)


def test_working_day_recurrence_into_an_unpublished_year_is_provisional() -> None:
    """ "每个工作日" across New Year 2027 warns that 2027 is not published."""
    deadline = parse_deadline("每个工作日", datetime(2026, 12, 30, tzinfo=SH))
    assert deadline.dues[:3] == (date(2026, 12, 30), date(2026, 12, 31), date(2027, 1, 4))
    assert deadline.provisional and deadline.warnings


@pytest.mark.parametrize(
    ("expression", "reason"),
    [
        ("每学期", "学期"),
        ("每月2次", "具体日期"),
        ("每季度10日前", "哪个月"),
        ("每年5次", "具体日期"),
        ("每周3日", "星期"),
        ("每年2月30日前", "没有30日"),
        ("每月1日前，2020年底前", "其他时间"),
        ("每周末", "周六还是周日"),
    ],
)
def test_recurrences_a_person_would_have_to_guess(expression: str, reason: str) -> None:
    """Ambiguous or unsupported recurrences are refused with a reason."""
    with pytest.raises(DeadlineError, match=reason):
        parse_deadline(expression, REF)


def test_a_clamped_month_day_is_warned_about() -> None:
    """ "每月31日前" warns that short months fall on their last day."""
    deadline = parse_deadline("每月31日前", REF)
    assert any("31日" in w for w in deadline.warnings)
