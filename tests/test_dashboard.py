"""The dashboard's numbers on a small site built through the service, against counts
worked out by hand; every number's selection lists exactly the items it counts; the
stage report counts the same quarter the same way; the 挂牌督办 cutoff agrees with the
plan."""

from __future__ import annotations

import random
from dataclasses import fields
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from adapters.wiring import App
from engine import dashboard
from engine.access import scope_of
from engine.clock import FakeClock
from engine.dashboard import Figure, Selection
from engine.plan import _offset, reached_by
from engine.reports import compile_report, parse_period, supervising_rung
from engine.service import NewItem

SH = ZoneInfo("Asia/Shanghai")
FOUND = datetime(2021, 3, 1, 9, 0, tzinfo=SH)  # a Monday
AT = datetime(2021, 5, 10, 10, 0, tzinfo=SH)  # in 2021Q2


def _report(app: App, clock: FakeClock, at: datetime, title: str, unit: str, **values: Any) -> int:
    clock.set(at)
    item = app.service.report(NewItem(title=title, unit=unit, found_at=at, reporter="郭晓明", **values))
    assert item.id is not None
    return item.id


def _fire(app: App, clock: FakeClock, item_id: int, at: datetime, event: str, actor: str, **sets: str) -> None:
    clock.set(at)
    app.service.fire(item_id, event, actor, sets or None, at=at)


def _close(app: App, clock: FakeClock, item_id: int, at: datetime, head: str, responsible: str) -> None:
    _fire(app, clock, item_id, at - timedelta(hours=4), "assign", head, responsible=responsible)
    _fire(app, clock, item_id, at - timedelta(hours=3), "start", responsible)
    _fire(app, clock, item_id, at - timedelta(hours=2), "submit", responsible, measures="已整改", evidence="照片")
    _fire(app, clock, item_id, at - timedelta(hours=1), "verify", "郭晓明")
    _fire(app, clock, item_id, at, "close", "周安宁")


@pytest.fixture
def small(app: App, clock: FakeClock) -> dict[str, int]:
    """Six hazards and a task (README of this test module: the hand counts below).

    A 消防 保卫处 reported; due 3-22 (15 working days), overdue from 3-23, 挂牌督办 from 4-21.
    B 消防 总务处 rectifying; the same deadline.
    C 食品安全 保卫处 closed 3-03 (3日内): 2 working days from found to closed.
    D 消防 总务处 found 4-06, assigned; due 4-26 (4-25 a make-up working day), overdue, not yet 挂牌督办.
    E 消防 重大 保卫处 reported; due in June.
    F 消防 教务处 closed 4-08: 27 working days (清明 4-03..05 off).
    T a task of 保卫处 due 4-30, open.
    """
    ids = {
        "A": _report(app, clock, FOUND, "消防通道堵塞", "保卫处", category="消防"),
        "B": _report(app, clock, FOUND, "灭火器过期", "总务处", category="消防"),
        "C": _report(app, clock, FOUND, "食堂留样缺失", "保卫处", category="食品安全"),
        "E": _report(app, clock, FOUND, "配电房线路老化", "保卫处", category="消防", level="重大"),
        "F": _report(app, clock, FOUND, "实验楼安全出口指示灯不亮", "教务处", category="消防"),
    }
    _fire(app, clock, ids["B"], FOUND + timedelta(hours=2), "assign", "王建国", responsible="张海峰")
    _fire(app, clock, ids["B"], FOUND + timedelta(hours=3), "start", "张海峰")
    _close(app, clock, ids["C"], datetime(2021, 3, 3, 16, 0, tzinfo=SH), "赵卫东", "马建军")
    ids["D"] = _report(app, clock, datetime(2021, 4, 6, 9, 0, tzinfo=SH), "宿舍楼消防栓水压不足", "总务处",
                       category="消防")
    _fire(app, clock, ids["D"], datetime(2021, 4, 6, 10, 0, tzinfo=SH), "assign", "王建国", responsible="张海峰")
    _close(app, clock, ids["F"], datetime(2021, 4, 8, 16, 0, tzinfo=SH), "孙文博", "黄丽萍")
    ids["T"] = _report(app, clock, FOUND, "消防专项排查", "保卫处", kind="task", deadline="2021-04-30",
                       responsible="赵卫东")
    clock.set(AT)
    return ids


def _figures(value: Any) -> list[Figure]:
    """Every Figure inside the dashboard."""
    if isinstance(value, Figure):
        return [value]
    if isinstance(value, list | tuple):
        return [f for v in value for f in _figures(v)]
    if hasattr(value, "__dataclass_fields__"):
        return [f for field in fields(value) for f in _figures(getattr(value, field.name))]
    return []


def test_open_items_by_state_unit_and_category(app: App, small: dict[str, int]) -> None:
    d = dashboard.build(app.service, AT)
    assert d.open.value == 4
    states = {(r.workflow, r.state): r.open.value for r in d.by_state}
    assert states[("hazard", "reported")] == 1
    assert states[("hazard", "assigned")] == 1
    assert states[("hazard", "rectifying")] == 1
    assert states[("major_hazard", "reported")] == 1
    assert states[("task", "open")] == 1
    assert sum(states.values()) == 5
    titles = {r.state: r.title for r in d.by_state if r.workflow == "hazard"}
    assert titles["reported"] == "已上报"
    units = {r.name: (r.open.value, r.overdue.value, r.supervised.value) for r in d.by_unit}
    assert units == {"保卫处": (2, 1, 1), "总务处": (2, 2, 1)}
    assert [r.name for r in d.by_unit] == ["总务处", "保卫处"]  # as in org.yaml
    categories = {r.name: (r.open.value, r.overdue.value, r.supervised.value) for r in d.by_category}
    assert categories == {"消防": (4, 3, 2)}
    assert (d.tasks_open.value, d.tasks_overdue.value) == (1, 1)


def test_overdue_ranked_and_supervised(app: App, small: dict[str, int]) -> None:
    d = dashboard.build(app.service, AT)
    assert d.overdue.figure.value == 3
    assert [r.item_id for r in d.overdue.rows] == [small["A"], small["B"], small["D"]]
    assert [r.days_overdue for r in d.overdue.rows] == [49, 49, 14]
    assert [r.due for r in d.overdue.rows] == [date(2021, 3, 22), date(2021, 3, 22), date(2021, 4, 26)]
    assert [r.escalation for r in d.overdue.rows] == ["挂牌督办", "挂牌督办", "通报"]
    assert d.supervised.figure.value == 2
    assert [r.item_id for r in d.supervised.rows] == [small["A"], small["B"]]
    # The day before A reached 挂牌督办 (20 working days from 3-23: end of 4-20)
    before = dashboard.build(app.service, datetime(2021, 4, 20, 23, 59, tzinfo=SH))
    assert before.supervised.figure.value == 0
    after = dashboard.build(app.service, datetime(2021, 4, 21, 0, 0, tzinfo=SH))
    assert after.supervised.figure.value == 2


def test_a_major_hazard_ranks_first(app: App, small: dict[str, int], clock: FakeClock) -> None:
    late = datetime(2021, 6, 15, 10, 0, tzinfo=SH)
    clock.set(late)
    d = dashboard.build(app.service, late)
    assert d.overdue.rows[0].item_id == small["E"]
    assert d.overdue.rows[0].level == "重大"


def test_periods_this_quarter_against_the_last(app: App, small: dict[str, int]) -> None:
    d = dashboard.build(app.service, AT)
    assert d.current.label == "2021年第二季度（截至5月10日）"
    assert not d.current.ended and d.current.counted
    assert d.previous.label == "2021年第一季度" and d.previous.ended
    q1 = {u.name: u for u in d.previous.units}
    assert (q1["保卫处"].count.found, q1["保卫处"].count.closed) == (3, 1)
    assert q1["保卫处"].rate == pytest.approx(1 / 3)
    assert q1["保卫处"].mean_days_to_close == 2
    assert q1["教务处"].count.closed == 0 and q1["教务处"].mean_days_to_close is None
    assert q1["保卫处"].overdue is None  # overdue ratios are the instant's, in the current quarter
    assert d.previous.total is not None
    assert (d.previous.total.count.found, d.previous.total.count.closed, d.previous.total.count.new) == (5, 1, 5)
    q2 = {u.name: u for u in d.current.units}
    assert (q2["教务处"].count.closed_in_period, q2["教务处"].rate, q2["教务处"].mean_days_to_close) == (1, 1.0, 27)
    assert (q2["总务处"].count.found, q2["总务处"].count.new, q2["总务处"].overdue_ratio) == (2, 1, 1.0)
    assert q2["保卫处"].overdue_ratio == 0.5
    total = d.current.total
    assert total is not None
    assert (total.count.found, total.count.closed, total.count.new, total.count.closed_in_period) == (6, 2, 1, 1)
    assert total.overdue_ratio == 0.75
    assert total.mean_days_to_close == 27


def test_no_numbers_before_the_first_item(app: App, small: dict[str, int]) -> None:
    first = datetime(2021, 3, 1, 12, 0, tzinfo=SH)
    d = dashboard.build(app.service, first)
    assert d.previous.label == "2020年第四季度"
    assert not d.previous.counted and d.previous.units == [] and d.previous.total is None
    assert d.current.label == "2021年第一季度（截至3月1日）"
    assert d.current.counted


@pytest.mark.slow
def test_every_number_lists_its_items(app: App, small: dict[str, int]) -> None:
    for at in (AT, datetime(2021, 4, 1, 0, 0, tzinfo=SH), datetime(2021, 6, 15, tzinfo=SH)):
        d = dashboard.build(app.service, at)
        figures = _figures(d)
        assert len(figures) > 40
        for figure in figures:
            total, listed = dashboard.items(app.service, figure.selection, at)
            assert total == figure.value == len(listed), figure
            again = Selection.from_params(figure.selection.to_params())
            assert again == figure.selection


def test_stage_report_counts_the_same_quarter(app: App, small: dict[str, int]) -> None:
    d = dashboard.build(app.service, AT)
    report = compile_report(app.service, parse_period("2021Q1"), organisation="学校", unit_order=[],
                            produced_at=AT)
    stage = {name: count for name, count in report.by_unit}
    for unit in d.previous.units:
        s = stage[unit.name]
        assert (unit.count.found, unit.count.closed, unit.count.new, unit.count.closed_in_period) == (
            s.found, s.closed, s.new, s.closed_in_period)


@pytest.mark.slow
def test_scope_restricts_to_the_units_a_person_sees(app: App, small: dict[str, int]) -> None:
    head = scope_of(app.service.org, "王建国")  # head of 总务处
    d = dashboard.build(app.service, AT, head)
    assert d.person == "王建国"
    assert [r.name for r in d.by_unit] == ["总务处"]
    assert d.open.value == 2 and d.supervised.figure.value == 1
    assert {u.name for u in d.previous.units} == {"总务处"}
    for figure in _figures(d):
        total, listed = dashboard.items(app.service, figure.selection, AT, head)
        assert total == figure.value
        assert all(i.unit == "总务处" for i in listed)
    office = dashboard.build(app.service, AT, scope_of(app.service.org, "周安宁"))
    assert office.open.value == 4


def test_paused_major_hazard_is_not_overdue(app: App, clock: FakeClock) -> None:
    item = _report(app, clock, FOUND, "教学楼外墙脱落", "总务处", category="建筑与施工", level="重大")
    _fire(app, clock, item, FOUND + timedelta(hours=1), "assign", "周安宁", responsible="张海峰")
    _fire(app, clock, item, FOUND + timedelta(days=2), "request_funds", "张海峰")
    late = datetime(2021, 12, 1, tzinfo=SH)
    d = dashboard.build(app.service, late)
    assert d.open.value == 1 and d.overdue.figure.value == 0
    assert app.service.plan(app.store.get(item)).paused
    # Funds approved on 2021-07-01 after 120 days paused: due moves on by those days.
    _fire(app, clock, item, datetime(2021, 7, 1, 9, 0, tzinfo=SH), "approve_funds", "周安宁", funds="5万元")
    plan = app.service.plan(app.store.get(item))
    assert plan.overdue_at is not None and plan.due is not None
    assert dashboard.build(app.service, plan.overdue_at - timedelta(microseconds=1)).overdue.figure.value == 0
    d = dashboard.build(app.service, plan.overdue_at)
    assert d.overdue.figure.value == 1 and d.overdue.rows[0].due == plan.due


def test_bad_selection_params_are_refused_in_chinese() -> None:
    with pytest.raises(dashboard.BadSelection, match="未知的筛选条件"):
        Selection.from_params({"colour": "red"})
    with pytest.raises(dashboard.BadSelection, match="YYYY-MM-DD"):
        Selection.from_params({"found_from": "2021-13-01"})
    with pytest.raises(dashboard.BadSelection, match="0 或 1"):
        Selection.from_params({"overdue": "yes"})


def test_supervision_cutoff_agrees_with_the_plan(app: App) -> None:
    """An item that fell overdue at or before reached_by's instant has reached the rung by
    `at` (Plan.reached), one that fell overdue later has not: random instants, each rule."""
    policy = app.service.policies.current
    calendar = app.service.calendar
    rng = random.Random(17)
    for rule in policy.rules:
        rung = supervising_rung(rule)
        if rung is None:
            continue
        for _ in range(40):
            at = datetime(2021, 1, 1, tzinfo=UTC) + timedelta(minutes=rng.randrange(0, 60 * 24 * 700))
            cut = reached_by(rule, rung, at, calendar, SH)
            for overdue, expected in ((cut, True), (cut + timedelta(microseconds=1), False)):
                first = rule.escalate[rung].after
                lands = _offset(first).apply(overdue, calendar, SH)
                assert (lands <= at) is expected, (rule.name, at, overdue, lands)
