"""Every path through the shipped workflows, on the in-memory store (the SQL stores keep
the same promises: tests/contract/)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from adapters.memory import MemoryStore
from adapters.sitesetup import create_site
from adapters.wiring import App, open_app
from engine.clock import FakeClock
from engine.errors import Refused
from engine.service import NewItem
from tests.conftest import audit_findings


@pytest.fixture(scope="module")
def memory_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A site's files, read only: the items live in memory."""
    directory = tmp_path_factory.mktemp("paths") / "site"
    create_site(directory)
    return directory


@pytest.fixture
def app(memory_site: Path, clock: FakeClock) -> Iterator[App]:
    """The application over a fresh MemoryStore; its ledgers must audit clean afterwards."""
    application = open_app(memory_site, clock, store=MemoryStore())
    yield application
    try:
        assert audit_findings(application) == []
    finally:
        application.close()

VERIFY = {"measures": "更换灭火器", "evidence": "更换后照片"}


def _hazard(app: App, level: str = "一般", **kw: object) -> int:
    return app.service.report(NewItem(title="灭火器过期", category="消防", level=level, unit="保卫处",
                                    reporter="郭晓明", **kw)).id


def _states(app: App, item_id: int) -> list[str]:
    return [e.to_state for e in app.store.history(item_id)]


def test_general_hazard_runs_from_report_to_closure(app: App) -> None:
    """reported → assigned → rectifying → submitted (待验收) → verified → closed, one ledger
    row per step."""
    i = _hazard(app)
    app.service.fire(i, "assign", "赵卫东", {"responsible": "马建军"})
    app.service.fire(i, "start", "马建军")
    item = app.service.fire(i, "submit", "马建军", VERIFY)
    assert item.state == "submitted" and item.fields["submitter"] == "马建军"
    app.service.fire(i, "verify", "郭晓明")
    item = app.service.fire(i, "close", "周安宁")
    assert item.state == "closed"
    assert item.fields["verifier"] == "郭晓明" and item.fields["approver"] == "周安宁"
    assert _states(app, i) == ["reported", "assigned", "rectifying", "submitted", "verified", "closed"]


def test_a_hazard_is_verified_only_once_reported_done(app: App) -> None:
    """整改中 is not yet 待验收: verify waits for submit."""
    i = _hazard(app)
    app.service.fire(i, "assign", "赵卫东", {"responsible": "马建军"})
    app.service.fire(i, "start", "马建军")
    with pytest.raises(Refused, match="整改中"):
        app.service.fire(i, "verify", "郭晓明", VERIFY)
    assert app.store.get(i).state == "rectifying"


def test_reporting_done_needs_measures_and_something_to_show(app: App) -> None:
    """submit needs the measures, and after-photos (files of the event) or the 整改佐证."""
    i = _hazard(app)
    app.service.fire(i, "assign", "赵卫东", {"responsible": "马建军"})
    app.service.fire(i, "start", "马建军")
    with pytest.raises(Refused, match="整改措施"):
        app.service.fire(i, "submit", "马建军", {"evidence": "照片"})
    with pytest.raises(Refused, match="须附整改后照片（或 PDF 文件），或填写“整改佐证”"):
        app.service.fire(i, "submit", "马建军", {"measures": "更换灭火器"})
    assert len(app.store.history(i)) == 3 and app.store.get(i).state == "rectifying"


def test_reject_sends_a_submitted_or_verified_hazard_back_and_it_can_loop(app: App) -> None:
    """退回: the verifier finds it unfixed (待验收 → 整改中), or a closure review does (已验收 →
    整改中); the unit reports it done again and it is verified again later."""
    i = _hazard(app)
    app.service.fire(i, "assign", "赵卫东", {"responsible": "马建军"})
    app.service.fire(i, "start", "马建军")
    app.service.fire(i, "submit", "马建军", VERIFY)
    item = app.service.fire(i, "reject", "郭晓明", note="仍有两具未更换")
    assert item.state == "rectifying" and item.fields["rejections"] == 1
    for _ in range(2):
        app.service.fire(i, "submit", "马建军", VERIFY)
        app.service.fire(i, "verify", "郭晓明")
        item = app.service.fire(i, "reject", "周安宁", note="仍有两具未更换")
        assert item.state == "rectifying" and "verifier" not in item.fields
    app.service.fire(i, "submit", "马建军", VERIFY)
    app.service.fire(i, "verify", "罗静")
    item = app.service.fire(i, "close", "周安宁")
    assert item.state == "closed" and item.fields["rejections"] == 3
    assert [e.event for e in app.store.history(i)][-4:] == ["reject", "submit", "verify", "close"]


def test_fix_on_spot_goes_straight_to_verified(app: App) -> None:
    """立查立改: the reporter fixes it on the spot; someone else closes it."""
    i = _hazard(app)
    item = app.service.fire(i, "fix_on_spot", "郭晓明", {"measures": "当场清理"})
    assert item.state == "verified"
    with pytest.raises(Refused, match="实施整改的人"):
        app.service.fire(i, "close", "郭晓明")
    assert app.service.fire(i, "close", "周安宁").state == "closed"


def test_fix_on_spot_needs_measures(app: App) -> None:
    i = _hazard(app)
    with pytest.raises(Refused, match="measures"):
        app.service.fire(i, "fix_on_spot", "郭晓明")
    assert app.store.get(i).state == "reported"


def test_the_responsible_person_cannot_verify_their_own_work(app: App) -> None:
    """Separation of duties: the responsible person may not verify."""
    i = _hazard(app)
    app.service.fire(i, "assign", "周安宁", {"responsible": "赵卫东"})
    app.service.fire(i, "start", "马建军")
    app.service.fire(i, "submit", "马建军", VERIFY)
    with pytest.raises(Refused, match="责任人本人"):
        app.service.fire(i, "verify", "赵卫东")
    assert app.store.get(i).state == "submitted"


def test_whoever_started_the_rectification_cannot_verify_it(app: App) -> None:
    i = _hazard(app)
    app.service.fire(i, "assign", "周安宁", {"responsible": "马建军"})
    app.service.fire(i, "start", "赵卫东")  # the unit head started it himself
    app.service.fire(i, "submit", "马建军", VERIFY)
    with pytest.raises(Refused, match="实施整改的人"):
        app.service.fire(i, "verify", "赵卫东")


def test_whoever_reported_it_done_cannot_verify_it(app: App) -> None:
    i = _hazard(app)
    app.service.fire(i, "assign", "周安宁", {"responsible": "马建军"})
    app.service.fire(i, "start", "马建军")
    app.service.fire(i, "submit", "赵卫东", VERIFY)  # the unit head reported it done himself
    with pytest.raises(Refused, match="验收人不能是申请验收（报告整改完成）的人（赵卫东）"):
        app.service.fire(i, "verify", "赵卫东")
    assert app.service.fire(i, "verify", "陈立德").fields["verifier"] == "陈立德"


def test_major_hazard_is_chosen_by_level_unless_the_caller_says_otherwise(app: App) -> None:
    assert app.store.get(_hazard(app, level="重大")).workflow == "major_hazard"
    assert app.store.get(_hazard(app, level="重大", workflow="hazard")).workflow == "hazard"


def test_major_hazard_needs_the_five_in_place_before_planning(app: App) -> None:
    """五落实: responsible, measures, funds, deadline and contingency plan."""
    i = _hazard(app, level="重大")
    app.service.fire(i, "assign", "陈立德", {"responsible": "马建军", "deadline": "2021年6月底前"})
    with pytest.raises(Refused) as refused:
        app.service.fire(i, "plan", "马建军", {"measures": "加装报警联网模块"})
    assert "资金落实" in refused.value.reason and "预案落实" in refused.value.reason
    assert "责任落实" not in refused.value.reason and "时限落实" not in refused.value.reason
    item = app.service.fire(i, "plan", "马建军", {
        "measures": "加装报警联网模块", "funds": "3.5万元", "contingency_plan": "保安24小时值守"})
    assert item.state == "planned"


def test_the_plan_cannot_move_the_deadline_it_is_given(app: App) -> None:
    """时限落实 is the deadline set at assignment (or the rule's): the unit's plan may not
    push it back; the refusal names the field and points to `amend`."""
    i = _hazard(app, level="重大")
    app.service.fire(i, "assign", "陈立德", {"responsible": "马建军", "deadline": "2021年6月底前"})
    with pytest.raises(Refused, match="整改时限") as refused:
        app.service.fire(i, "plan", "马建军", {"measures": "加装模块", "funds": "3万元",
                                             "contingency_plan": "值守", "deadline": "2099年底前"})
    assert "amend" in refused.value.reason
    assert app.store.get(i).deadline == "2021年6月底前" and app.store.get(i).state == "assigned"


def test_major_hazard_full_path_with_funds_watcher_and_safety_office_closure(app: App) -> None:
    i = _hazard(app, level="重大")
    e = app.service
    e.fire(i, "assign", "陈立德", {"responsible": "马建军", "deadline": "2021年6月底前"})
    e.fire(i, "request_funds", "马建军")
    e.fire(i, "approve_funds", "周安宁", {"funds": "3.5万元"})
    e.fire(i, "plan", "马建军", {"measures": "加装模块", "contingency_plan": "值守"})
    with pytest.raises(Refused, match="interim_controls"):
        e.fire(i, "start", "马建军")
    e.fire(i, "start", "马建军", {"interim_controls": "临时值守", "watcher": "赵卫东"})
    with pytest.raises(Refused, match="整改中"):
        e.fire(i, "verify", "陈立德")
    e.fire(i, "submit", "马建军", {"evidence": "联网测试记录"})
    e.fire(i, "verify", "陈立德")
    with pytest.raises(Refused, match="无权"):
        e.fire(i, "close", "陈立德")  # 销号 is the safety office's
    assert e.fire(i, "close", "周安宁").state == "closed"
    assert _states(app, i) == ["reported", "assigned", "awaiting_funds", "assigned", "planned",
                               "rectifying", "submitted", "verified", "closed"]


def test_task_workflow_submit_return_accept(app: App) -> None:
    t = app.service.report(NewItem(title="每季度末报送阶段整治情况", kind="task", unit="总务处",
                                 responsible="张海峰")).id
    e = app.service
    e.fire(t, "submit", "张海峰", {"progress": "已完成第一季度排查"})
    e.fire(t, "return", "周安宁", note="请补充照片")
    e.fire(t, "submit", "张海峰", {"progress": "已补充"})
    with pytest.raises(Refused, match="无权"):
        e.fire(t, "accept", "张海峰")
    assert e.fire(t, "accept", "周安宁").state == "done"


def test_a_safety_officer_cannot_accept_their_own_report(app: App) -> None:
    t = app.service.report(NewItem(title="每月1日前上传隐患清单", kind="task", unit="综治办")).id
    app.service.fire(t, "submit", "郭晓明", {"progress": "已上传"})
    with pytest.raises(Refused, match="报送人本人"):
        app.service.fire(t, "accept", "郭晓明")
    assert app.service.fire(t, "accept", "罗静").state == "done"


def test_an_event_not_allowed_names_the_allowed_ones(app: App) -> None:
    i = _hazard(app)
    with pytest.raises(Refused) as refused:
        app.service.fire(i, "close", "周安宁")
    assert "已上报" in refused.value.reason and "assign" in refused.value.reason
    assert "fix_on_spot" in refused.value.reason


def test_roles_decide_who_may_fire(app: App) -> None:
    i = _hazard(app)
    with pytest.raises(Refused, match="无权"):
        app.service.fire(i, "assign", "杨晨", {"responsible": "马建军"})


def test_the_clock_stops_while_a_hazard_waits_for_verification(app: App, clock: FakeClock) -> None:
    """Reported done in time, a hazard is not overdue while it waits for its verifier (the
    rules' pause_in: submitted); sent back, it has the days that were left, the wait not
    counted. Reported done late, it stays overdue: it was fixed late."""
    i = _hazard(app)
    app.service.fire(i, "assign", "赵卫东", {"responsible": "马建军"})
    app.service.fire(i, "start", "马建军")
    due = app.service.plan(app.store.get(i)).due
    app.service.fire(i, "submit", "马建军", VERIFY)
    plan = app.service.plan(app.store.get(i))
    assert plan.paused and plan.overdue_at is None and app.store.get(i).next_action_at is None
    clock.advance(timedelta(days=40))  # the verifier took long: past the deadline
    item = app.service.fire(i, "reject", "郭晓明", note="仍未更换")
    plan = app.service.plan(item)
    assert not plan.paused and item.paused_seconds == 40 * 86400
    assert due is not None and plan.due is not None and plan.due > due and plan.overdue_at is not None
    assert plan.overdue_at > clock.now() and item.next_action_at is not None

    late = _hazard(app)
    app.service.fire(late, "assign", "赵卫东", {"responsible": "马建军"})
    app.service.fire(late, "start", "马建军")
    clock.advance(timedelta(days=40))
    item = app.service.fire(late, "submit", "马建军", VERIFY)
    plan = app.service.plan(item)
    assert not plan.paused and plan.overdue_at is not None and plan.overdue_at < clock.now()
