"""calendar.yaml's `events:`: the events deadlines are set around ("两会前", "中考结束前"),
checked with file and line, read by `rectify deadline`, rule files, item deadlines and
imports alike, shown by `rectify calendar show`, and counted again when their dates change.

The event dates are invented for the tests."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from adapters.resources import site_file
from engine.policy import policy_from_sources
from tests.conftest import Cli
from tests.sheetdata import hazard_list
from tests.smtpserver import Server
from tests.test_provisional import MA, Harness, running
from tests.test_site_calendar import _line_of, _loads, _problems

TZ = ZoneInfo("Asia/Shanghai")
EVENTS = """\
events:
  两会: {start: "2027-03-05", end: "2027-03-11"}
  中考: "2027-06-20至2027-06-22"
  开学典礼: 2027-02-22
  期末考试:
    - "2027-01-18至2027-01-20"
    - {start: "2027-07-05", end: "2027-07-07"}
"""
LIANGHUI = '两会: {start: "2027-03-05", end: "2027-03-11"}'
LIANGHUI_EARLIER = '两会: {start: "2027-03-03", end: "2027-03-09"}'




def _with_events(site: Path, events: str = EVENTS) -> None:
    """The shipped calendar.yaml (terms of 2026-2027) with `events` filled in."""
    path = site / "calendar.yaml"
    text = path.read_text(encoding="utf-8")
    assert "\nevents:\n" in text
    path.write_text(text.replace("\nevents:\n", "\n" + events, 1), encoding="utf-8")


def _deadline(run: Cli, expression: str, ref: str = "2027-01-04", code: int = 0) -> dict:
    out = run("deadline", expression, "--ref", ref, "--json", code=code)
    return json.loads(out.stdout) if code == 0 else {"stderr": out.stderr}


# -- calendar.yaml ----------------------------------------------------------------------


def test_each_way_of_writing_an_event_loads() -> None:
    """A day, "start至end", {start, end} and a list of them, each with its line."""
    cal = _loads(EVENTS)
    found = [(e.name, e.start.isoformat(), e.end.isoformat(), e.line) for e in cal.events]
    assert found == [
        ("两会", "2027-03-05", "2027-03-11", 2),
        ("中考", "2027-06-20", "2027-06-22", 3),
        ("开学典礼", "2027-02-22", "2027-02-22", 4),
        ("期末考试", "2027-01-18", "2027-01-20", 6),
        ("期末考试", "2027-07-05", "2027-07-07", 7),
    ]
    assert [(e.name, e.start) for e in cal.workcal.events][:2] == [("期末考试", date(2027, 1, 18)),
                                                                  ("开学典礼", date(2027, 2, 22))]
    assert _loads("events:\n").events == ()


@pytest.mark.parametrize(("text", "fragment", "words"), [
    (EVENTS + "  春节: 2027-02-06\n", "春节:", ["事件名称“春节”", "内置用语“春节”", "换一个名称"]),
    (EVENTS + "  开学: 2027-02-22\n", "开学: 2027", ["内置用语“开学”"]),
    (EVENTS + "  学期: 2027-02-22\n", "学期: 2027", ["学期结束前"]),
    (EVENTS + "  当天: 2027-02-22\n", "当天:", ["当天"]),
    (EVENTS.replace('end: "2027-03-11"', 'end: "2027-03-01"'), "两会:", ["结束日期 2027-03-01 早于开始日期 2027-03-05"]),
    (EVENTS.replace("2027-06-20至", "2027-06-31至"), "中考:", ["2027-06-31", "不存在"]),
    (EVENTS.replace("开学典礼: 2027-02-22", "开学典礼: 2027/02/22"), "开学典礼:", ["YYYY-MM-DD"]),
    (EVENTS.replace('"2027-06-20至2027-06-22"', '"2027-06-20至2028-06-22"'), "中考:", ["超过一年"]),
    (EVENTS.replace('{start: "2027-07-05", end: "2027-07-07"}', '"2027-01-20"'), '- "2027-01-20"',
     ["期末考试", "与第6行", "重叠"]),
    (EVENTS + "  两 会: 2028-03-05\n", "两 会:", ["重复", "第2行", "写成列表"]),
    (EVENTS + "  Ｇ20峰会: 2027-09-04\n  G20峰会: 2028-09-04\n", "  G20峰会:", ["重复", "Ｇ20峰会"]),
    (EVENTS + '  "（）": 2027-09-04\n', "（）", ["事件名称不能为空"]),
    (EVENTS + '  高考: {start: "2027-06-07", stop: "2027-06-08"}\n', "高考:", ["stop", "未知的键"]),
    (EVENTS + "  高考: [1]\n", "高考:", ["应为文字或键值表"]),
])
def test_bad_events_are_refused_with_their_line(text: str, fragment: str, words: list[str]) -> None:
    """Each mistake names the line it is on and says what is wrong, in Chinese."""
    problems = _problems(text)
    line = _line_of(text, fragment)
    assert any(p_line == line and all(w in message for w in words) for p_line, message in problems), problems


def test_the_shipped_events_example_loads_once_uncommented() -> None:
    text = site_file("calendar.yaml").read_text(encoding="utf-8")
    assert "\nevents:\n" in text
    uncommented = re.sub(r"(?m)^#(  +(?:两会|中考|期末考试):)", r"\1", text)
    assert {e.name for e in _loads(uncommented).events} == {"两会", "中考", "期末考试"}


def test_check_accepts_events_and_reports_a_bad_one_with_file_and_line(run: Cli) -> None:
    _with_events(run.site)
    assert "站点文件校验通过" in run("check").stdout
    _with_events(run.site, "events:\n  国庆: 2027-10-01\n")
    out = run("check", code=1).stderr
    assert re.search(r"calendar\.yaml:\d+: 事件名称“国庆”与期限中的内置用语“国庆”冲突", out), out


# -- reading deadlines against them ------------------------------------------------------


def test_rectify_deadline_reads_the_sites_events(run: Cli) -> None:
    _with_events(run.site)
    assert _deadline(run, "两会前")["dues"] == ["2027-03-04"]
    assert _deadline(run, "两会结束前")["overdue_at"] == ["2027-03-12T00:00:00+08:00"]
    window = _deadline(run, "两会期间")
    assert (window["kind"], window["start"], window["dues"]) == ("window", "2027-03-05", ["2027-03-11"])
    assert _deadline(run, "期末考试前", ref="2027-02-01")["dues"] == ["2027-07-04"]
    text = run("deadline", "中考结束后3个工作日内", "--ref", "2027-01-04").stdout
    assert "一次性期限" in text and "2027年6月25日" in text


def test_an_event_the_site_lacks_is_refused_naming_where_to_add_it(run: Cli) -> None:
    _with_events(run.site)
    refused = _deadline(run, "上级检查验收前", code=2)["stderr"]
    assert "站点日历中没有“上级检查验收”的日期" in refused
    assert "calendar.yaml 的 events 中写入其日期" in refused and "已有的事件：期末考试" in refused


def test_show_lists_the_events(run: Cli) -> None:
    _with_events(run.site)
    out = run("calendar", "show", "2027", "--month", "3").stdout
    assert "事件（calendar.yaml 的 events" in out and "两会：2027-03-05 至 2027-03-11" in out
    assert "中考：" not in out  # June's, not March's
    data = json.loads(run("calendar", "show", "2027", "--json").stdout)
    assert [e["name"] for e in data["events"]] == ["期末考试", "开学典礼", "两会", "中考", "期末考试"]
    assert data["events"][2]["source"].endswith("calendar.yaml:" + str(_line_of(
        (run.site / "calendar.yaml").read_text(encoding="utf-8"), "两会:")))


def _report(run: Cli, *extra: str) -> dict:
    out = run("report", "--title", "消防通道堵塞", "--category", "消防", "--unit", "保卫处",
              "--reporter", "郭晓明", "--found-at", "2027-01-04T09:00", "--at", "2027-01-04T09:00", "--json", *extra)
    return json.loads(run("show", str(json.loads(out.stdout)["id"]), "--json").stdout)


def test_an_items_own_deadline_and_a_rules_read_the_events(run: Cli) -> None:
    _with_events(run.site)
    assert _report(run, "--deadline", "两会前")["due"] == "2027-03-04"
    policy = run.site / "rules" / "policy.yaml"
    text = policy.read_text(encoding="utf-8")
    rule = 'deadline: {expr: "15个工作日内", from: "found"}'
    assert rule in text
    policy.write_text(text.replace(rule, 'deadline: {expr: "两会结束前", from: "found"}'), encoding="utf-8")
    assert "站点文件校验通过" in run("check").stdout
    bound = _report(run)
    assert bound["due"] == "2027-03-11" and bound["overdue_at"] == "2027-03-12T00:00:00+08:00"


def test_a_rule_naming_an_event_the_calendar_lacks_is_refused_at_its_line(run: Cli) -> None:
    policy = run.site / "rules" / "policy.yaml"
    text = policy.read_text(encoding="utf-8")
    rule = 'deadline: {expr: "15个工作日内", from: "found"}'
    policy.write_text(text.replace(rule, 'deadline: {expr: "两会结束前", from: "found"}'), encoding="utf-8")
    out = run("check", code=1).stderr
    line = _line_of(policy.read_text(encoding="utf-8"), "两会结束前")
    assert f"policy.yaml:{line}:" in out and "calendar.yaml 的 events" in out


def test_a_campaign_phase_gives_its_dates_not_an_event(run: Cli) -> None:
    """A phase is fixed when the rules load; an event's dates may change."""
    _with_events(run.site)
    campaign = run.site / "rules" / "campaign.yaml"
    text = campaign.read_text(encoding="utf-8")
    assert 'window: "2022年"' in text
    campaign.write_text(text.replace('window: "2022年"', 'window: "两会期间"'), encoding="utf-8")
    out = run("check", code=1).stderr
    assert "阶段时间“两会期间”无法识别" in out and "不能按日历中的事件计算" in out


def test_stored_rules_naming_an_event_rebuild_without_the_calendar(tmp_path: Path) -> None:
    """Older policy versions are rebuilt from their texts without a calendar: an event is
    taken as written, as a term word is (it was checked when the version was loaded)."""
    text = ('rules:\n  - name: "x"\n    match: {kind: "task"}\n    deadline: {expr: "两会结束前"}\n')
    policy = policy_from_sources(tmp_path, {"x.yaml": text}, datetime(2027, 1, 4, tzinfo=TZ))
    assert policy.rule_named("x") is not None


def test_an_imported_rows_deadline_reads_the_events(run: Cli, tmp_path: Path) -> None:
    _with_events(run.site)
    path = hazard_list(tmp_path / "隐患.xlsx", [
        ["H-1", "楼道应急灯损坏", "消防", "一般", "保卫处", "实训楼一层", "2026-11-02", "两会前", "更换"],
        ["H-2", "配电室门锁损坏", "消防", "一般", "保卫处", "配电室", "2026-11-02", "高考前", "更换"],
    ])
    refused = run("import", str(path), "--json", code=2)
    assert "高考" in refused.stderr and "calendar.yaml 的 events" in refused.stderr
    path = hazard_list(tmp_path / "隐患2.xlsx", [
        ["H-1", "楼道应急灯损坏", "消防", "一般", "保卫处", "实训楼一层", "2026-11-02", "两会前", "更换"],
    ])
    out = json.loads(run("import", str(path), "--json").stdout)
    assert out["rows"][0]["deadline"] == "2027-03-04"


# -- when the dates change ---------------------------------------------------------------


@pytest.fixture
def harness(memory_site: Path, serve: Callable[..., Server]) -> Iterator[Harness]:
    """test_provisional's daemon (on a MemoryStore) on a site whose calendar names events."""
    with running(memory_site, serve(), _with_events, _lab_rule) as h:
        yield h


def _lab_rule(site: Path) -> None:
    (site / "rules" / "lab.yaml").write_text(
        'rules:\n  - name: "实验室隐患两会结束前整改"\n    match: {kind: "hazard", category: "实验室及危化品"}\n'
        '    priority: 10\n    deadline: {expr: "两会结束前"}\n', encoding="utf-8")


def test_moved_event_dates_move_the_deadlines_read_against_them(harness: Harness) -> None:
    """Items whose own deadline or whose rule's names the event are counted again on the
    reload: a ledger row saying the events changed, one email each; others are left alone."""
    h = harness
    own, by_rule, other = h.own_rule_and_other("两会前")
    assert [h.app.store.get(i).due.isoformat() for i in (own, by_rule)] == ["2027-03-04", "2027-03-11"]
    other_history = len(h.app.store.history(other))

    path = h.site / "calendar.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace(LIANGHUI, LIANGHUI_EARLIER), encoding="utf-8")
    assert h.daemon.reload("test")
    assert [h.app.store.get(i).due.isoformat() for i in (own, by_rule)] == ["2027-03-02", "2027-03-09"]
    row = h.show(own)["history"][-1]
    assert row["event"] == "calendar_update" and row["actor"] == "系统"
    assert row["note"] == ("事件日期已更新（calendar.yaml 的 events），期限按新的日期重新计算，"
                           "最后期限由2027年3月4日改为2027年3月2日")
    assert h.show(by_rule)["history"][-1]["note"].startswith("事件日期已更新")
    assert len(h.app.store.history(other)) == other_history
    notices = [to for to, subject, _ in h.mail() if "期限调整" in subject]
    assert notices == [MA, MA]

    # The same events again: nothing to change, nobody told again.
    received = len(h.mail())
    assert h.daemon.reload("again")
    report = h.daemon.recount_at_start()
    assert report is not None and report.moved == 0 and report.terms_unchanged == 2
    assert len(h.mail()) == received
