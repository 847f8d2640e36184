"""Immediate (立整立改) and ongoing (长期坚持) deadlines, alone, together and with dates."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from engine.deadline import Kind, parse_deadline

SH = ZoneInfo("Asia/Shanghai")
REF = datetime(2020, 8, 1, tzinfo=SH)


@pytest.mark.parametrize(
    "expression",
    [
        "立整立改",
        "立即整改",
        "立行立改",
        "立查立改",
        "即查即改",
        "边查边改",
        "立知立改",
        "发现后立即整改",
    ],
)
def test_immediate_has_no_due_day(expression: str) -> None:
    """Immediate rectification is its own kind, with no dues and no overdue instants."""
    deadline = parse_deadline(expression, REF)
    assert deadline.kind is Kind.IMMEDIATE
    assert deadline.dues == () and deadline.overdue_at == ()
    assert not deadline.ongoing and deadline.immediate


@pytest.mark.parametrize("expression", ["长期坚持", "长期", "持续推进", "常态化开展"])
def test_ongoing_has_no_end(expression: str) -> None:
    """长期坚持 is ongoing: no end date."""
    deadline = parse_deadline(expression, REF)
    assert deadline.kind is Kind.ONGOING and deadline.ongoing and deadline.dues == ()


@pytest.mark.parametrize(
    "expression", ["立整立改\n长期坚持", "立整立改 长期坚持", "立整立改，长期坚持"]
)
def test_a_cell_with_both(expression: str) -> None:
    """ "立整立改\\n长期坚持" (a cell of the seed's task list) is immediate and ongoing."""
    deadline = parse_deadline(expression, REF)
    assert deadline.kind is Kind.IMMEDIATE and deadline.ongoing
    assert deadline.to_json() == {
        "kind": "immediate",
        "dues": [],
        "overdue_at": [],
        "ongoing": True,
        "provisional": False,
        "warnings": [],
    }


def test_a_date_with_ongoing_follow_up() -> None:
    """ "2020年底前完成，长期坚持": due at year end, then kept up."""
    deadline = parse_deadline("2020年底前完成，长期坚持", REF)
    assert deadline.kind is Kind.ONCE and deadline.ongoing
    assert deadline.dues == (date(2020, 12, 31),)


def test_immediate_start_with_a_date_to_finish() -> None:
    """ "立行立改，12月底前全部整改到位": the date is the deadline."""
    deadline = parse_deadline("立行立改，12月底前全部整改到位", REF)
    assert deadline.kind is Kind.ONCE and deadline.dues == (date(2020, 12, 31),)
