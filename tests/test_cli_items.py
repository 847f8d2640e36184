"""The `rectify` CLI as an operator types it: JSON shapes, exit codes, refusals in Chinese."""

from __future__ import annotations

import json

from tests.conftest import Cli


def _report(run: Cli, *extra: str) -> int:
    out = run("report", "--title", "配电房门锁损坏", "--category", "消防", "--level", "一般",
              "--unit", "总务处", "--location", "3号配电房", "--reporter", "郭晓明", "--json", *extra)
    data = json.loads(out.stdout)
    assert data["state"] == "reported"
    return int(data["id"])


def test_report_then_fire_then_show_json(run: Cli) -> None:
    """show --json has the fields and a history with event, from, to, actor, at."""
    i = _report(run, "--found-at", "2021-03-01T09:00")
    run("fire", str(i), "assign", "--actor", "王建国", "--set", "responsible=张海峰", "--note", "尽快")
    data = json.loads(run("show", str(i), "--json").stdout)
    assert data["id"] == i and data["state"] == "assigned" and data["unit"] == "总务处"
    assert data["responsible"] == "张海峰" and data["found_at"] == "2021-03-01T09:00:00+08:00"
    assert [(h["event"], h["from"], h["to"], h["actor"]) for h in data["history"]] == [
        ("report", None, "reported", "郭晓明"), ("assign", "reported", "assigned", "王建国")]
    assert data["history"][1]["note"] == "尽快" and data["history"][1]["at"]
    assert data["history"][1]["changes"] == {"responsible": [None, "张海峰"]}


def test_fire_at_records_the_given_time(run: Cli) -> None:
    i = _report(run)
    run("fire", str(i), "assign", "--actor", "王建国", "--set", "responsible=张海峰",
        "--at", "2021-03-02T10:15:00+08:00")
    history = json.loads(run("show", str(i), "--json").stdout)["history"]
    assert history[-1]["at"] == "2021-03-02T10:15:00+08:00"


def test_list_filters_and_json_has_no_history(run: Cli) -> None:
    a, b = _report(run), _report(run)
    run("report", "--title", "实验室通风不良", "--category", "实验室及危化品", "--unit", "教务处")
    run("fire", str(a), "assign", "--actor", "王建国", "--set", "responsible=张海峰")
    rows = json.loads(run("list", "--state", "reported", "--unit", "后勤处", "--json").stdout)
    assert [r["id"] for r in rows] == [b]  # 后勤处 is an alias of 总务处
    rows = json.loads(run("list", "--category", "实验室及危化品", "--json").stdout)
    assert len(rows) == 1 and "history" not in rows[0]
    assert "共 3 项" in run("list").stdout


def test_event_not_allowed_exits_1_and_lists_allowed_events(run: Cli) -> None:
    i = _report(run)
    out = run("fire", str(i), "close", "--actor", "周安宁", code=1)
    assert "不能执行“close”" in out.stderr and "assign（交办）" in out.stderr
    assert json.loads(run("show", str(i), "--json").stdout)["state"] == "reported"


def test_missing_required_field_is_named(run: Cli) -> None:
    i = _report(run)
    out = run("fire", str(i), "assign", "--actor", "王建国", code=1)
    assert "缺少必填字段：responsible（责任人）" in out.stderr


def test_self_verification_is_refused_with_the_reason(run: Cli) -> None:
    i = _report(run)
    run("fire", str(i), "assign", "--actor", "周安宁", "--set", "responsible=王建国")
    run("fire", str(i), "start", "--actor", "张海峰")
    run("fire", str(i), "submit", "--actor", "张海峰", "--set", "measures=换锁", "--set", "evidence=照片")
    out = run("fire", str(i), "verify", "--actor", "王建国", code=1)
    assert "不能是整改责任人本人" in out.stderr
    history = json.loads(run("show", str(i), "--json").stdout)["history"]
    assert len(history) == 4  # nothing written by the refused verify


def test_unknown_item_event_unit_person(run: Cli) -> None:
    i = _report(run)
    assert "找不到事项：999" in run("show", "999", code=1).stderr
    assert "没有这个事件" in run("fire", str(i), "explode", "--actor", "王建国", code=1).stderr
    assert "找不到人员：无名氏" in run("fire", str(i), "assign", "--actor", "无名氏", code=1).stderr
    out = run("report", "--title", "x", "--unit", "火星办", code=1)
    assert "找不到单位：火星办" in out.stderr and "总务处" in out.stderr
    out = run("fire", str(i), "assign", "--actor", "王建国", "--set", "responsible=查无此人", code=1)
    assert "找不到人员：查无此人" in out.stderr


def test_malformed_set_and_forbidden_fields_are_usage_errors(run: Cli) -> None:
    i = _report(run)
    assert "字段=值" in run("fire", str(i), "assign", "--actor", "王建国", "--set", "oops", code=2).stderr
    out = run("fire", str(i), "assign", "--actor", "王建国", "--set", "state=closed", code=2)
    assert "只能通过流程事件改变" in out.stderr
    out = run("fire", str(i), "assign", "--actor", "王建国", "--set", "colour=red", code=2)
    assert "未知字段" in out.stderr
    assert "无法识别" in run("fire", str(i), "assign", "--actor", "王建国", "--at", "昨天", code=2).stderr


def test_workflow_show_prints_mermaid_when_asked(run: Cli) -> None:
    out = run("workflow", "show", "hazard", "--mermaid").stdout
    assert out.startswith("stateDiagram-v2")
    assert "verified --> rectifying: reject" in out and "reported --> verified: fix_on_spot" in out
    assert "找不到流程" in run("workflow", "show", "nope", code=1).stderr


def test_org_json_lists_units_and_people(run: Cli) -> None:
    data = json.loads(run("org", "--json").stdout)
    units = {u["name"] for u in data["units"]}
    assert {"总务处", "保卫处", "教务处", "学工处", "综治办"} <= units
    assert all(u["head"] and u["email"].endswith("@example.org") for u in data["units"])
    people = {p["name"]: p for p in data["people"]}
    assert people["张海峰"]["unit"] == "总务处" and "safety_office" in people["周安宁"]["roles"]


def test_check_passes_on_a_fresh_site(run: Cli) -> None:
    assert "校验通过" in run("check").stdout


def test_audit_finds_the_ledger_intact(run: Cli) -> None:
    i = _report(run)
    run("fire", str(i), "assign", "--actor", "王建国", "--set", "responsible=张海峰")
    assert "全部完好" in run("audit").stdout


def test_a_title_with_brackets_and_colons_prints_as_typed(run: Cli) -> None:
    """Rich would read "[/x]" as a closing tag (and crash) and ":fire:" as an emoji."""
    title = "[/x] 配电箱[bold]未上锁 :fire:"
    out = run("report", "--title", title, "--category", "消防", "--unit", "总务处", "--json")
    item_id = json.loads(out.stdout)["id"]
    for command in (("list",), ("show", str(item_id))):
        printed = run(*command).stdout
        assert "[/x]" in printed and ":fire:" in printed and "[bold]" in printed, command
