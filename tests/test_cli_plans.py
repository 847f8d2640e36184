"""Plans as the operator sees them: show, explain, simulate and list --overdue."""

from __future__ import annotations

import json
import shutil

import pytest

from tests.conftest import Cli


def _hazard(run: Cli, *extra: str) -> int:
    out = run("report", "--title", "消防通道堵塞", "--category", "消防", "--unit", "保卫处",
              "--reporter", "郭晓明", "--found-at", "2021-03-01T09:00", "--json", *extra)
    return int(json.loads(out.stdout)["id"])


def test_show_json_has_due_rule_version_and_plan(run: Cli) -> None:
    i = _hazard(run)
    data = json.loads(run("show", str(i), "--json").stdout)
    assert data["due"] == "2021-03-22" and data["overdue_at"] == "2021-03-23T00:00:00+08:00"
    assert data["rule"] == "一般隐患" and len(data["policy_version"]) == 12
    assert isinstance(data["plan"], list)  # the demo clock is real time: 2021's steps are past


def test_report_with_its_own_deadline(run: Cli) -> None:
    i = _hazard(run, "--deadline", "7个工作日内")
    out = run("explain", str(i), "--at", "2021-03-01T10:00", "--json")
    data = json.loads(out.stdout)
    assert data["due"] == "2021-03-10" and data["deadline_source"] == "事项自带"
    kinds = [(s["kind"], s["step"]) for s in data["plan"]]
    assert ("escalate", "提醒") in kinds and ("remind", "提醒") in kinds
    first_escalation = next(s for s in data["plan"] if s["kind"] == "escalate")
    assert first_escalation["at"] == "2021-03-11T00:00:00+08:00"
    assert first_escalation["recipients"] == ["赵卫东"]  # no responsible yet: the unit head
    assert [c["rule"] for c in data["candidates"] if c["matches"]] == ["一般隐患"]


def test_fire_set_deadline_replaces_the_rule_deadline(run: Cli) -> None:
    i = _hazard(run)
    run("fire", str(i), "assign", "--actor", "赵卫东", "--set", "responsible=马建军", "--set", "deadline=3日内")
    data = json.loads(run("show", str(i), "--json").stdout)
    assert data["due"] == "2021-03-04"


def test_simulate_lists_steps_in_the_window_without_changing_anything(run: Cli) -> None:
    i = _hazard(run)
    run("fire", str(i), "assign", "--actor", "赵卫东", "--set", "responsible=马建军")
    before = run("show", str(i), "--json").stdout
    rows = json.loads(run("simulate", "--from", "2021-03-01", "--to", "2021-03-27", "--json").stdout)
    assert [(r["at"][:10], r["kind"], r["step"]) for r in rows] == [
        ("2021-03-12", "remind", "提醒"), ("2021-03-18", "remind", "提醒"),
        ("2021-03-23", "escalate", "提醒"), ("2021-03-26", "escalate", "通报")]
    assert rows[2]["recipients"] == ["马建军", "赵卫东"] and rows[3]["recipients"] == ["赵卫东", "陈立德"]
    assert all(r["item"] == i for r in rows)
    assert run("show", str(i), "--json").stdout == before


def test_simulate_with_a_draft_rules_directory(run: Cli) -> None:
    _hazard(run)
    draft = run.site / "draft"
    shutil.copytree(run.site / "rules", draft)
    policy = draft / "policy.yaml"
    policy.write_text(policy.read_text(encoding="utf-8").replace('"15个工作日内"', '"5个工作日内"'), encoding="utf-8")
    rows = json.loads(run("simulate", "--from", "2021-03-01", "--to", "2021-03-10", "--rules", str(draft),
                          "--json").stdout)
    assert ("2021-03-09", "escalate") in [(r["at"][:10], r["kind"]) for r in rows]
    current = json.loads(run("simulate", "--from", "2021-03-01", "--to", "2021-03-10", "--json").stdout)
    assert all(r["kind"] == "remind" for r in current)


def test_list_overdue_at_an_instant(run: Cli) -> None:
    late = _hazard(run)
    _hazard(run, "--deadline", "2021年12月底前")
    rows = json.loads(run("list", "--overdue", "--at", "2021-03-23T00:00", "--json").stdout)
    assert [r["id"] for r in rows] == [late]
    assert json.loads(run("list", "--overdue", "--at", "2021-03-22T23:59", "--json").stdout) == []


def test_check_reports_a_broken_rule_file_with_its_line(run: Cli) -> None:
    policy = run.site / "rules" / "policy.yaml"
    policy.write_text(policy.read_text(encoding="utf-8").replace('"逾期10个工作日"', '"逾期1个工作日"'),
                      encoding="utf-8")
    out = run("check", code=1)
    assert "policy.yaml:" in out.stderr and "早于上一步" in out.stderr


def _edit_rules(run: Cli, old: str, new: str) -> None:
    path = run.site / "rules" / "policy.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.mark.slow
def test_items_keep_their_plan_until_the_policy_is_applied(run: Cli) -> None:
    """A rule edit changes nothing for items in flight until `policy apply`, which the ledger records."""
    i = _hazard(run)
    before = json.loads(run("show", str(i), "--json").stdout)
    old_version = before["policy_version"]
    _edit_rules(run, 'expr: "15个工作日内"', 'expr: "10个工作日内"')
    kept = json.loads(run("show", str(i), "--json").stdout)
    assert kept["due"] == before["due"] == "2021-03-22" and kept["policy_version"] == old_version
    # A new item is bound to the edited policy at once.
    j = _hazard(run)
    fresh = json.loads(run("show", str(j), "--json").stdout)
    assert fresh["due"] == "2021-03-15" and fresh["policy_version"] != old_version

    diff = json.loads(run("policy", "diff", "--json").stdout)
    assert [r["item"] for r in diff["items"]] == [i]
    assert diff["items"][0]["changes"]["due"] == {"old": "2021-03-22", "new": "2021-03-15"}
    dry = json.loads(run("policy", "apply", "--actor", "周安宁", "--dry-run", "--json").stdout)
    assert dry["dry_run"] and [r["item"] for r in dry["items"]] == [i]
    assert json.loads(run("show", str(i), "--json").stdout)["due"] == "2021-03-22"  # dry run wrote nothing

    out = run("policy", "apply", "--actor", "周安宁", "--note", "按新规则执行")
    assert "已迁移 1 项" in out.stdout
    moved = json.loads(run("show", str(i), "--json").stdout)
    assert moved["due"] == "2021-03-15" and moved["policy_version"] == fresh["policy_version"]
    entry = moved["history"][-1]
    assert entry["event"] == "policy_apply" and entry["actor"] == "周安宁"
    assert entry["changes"]["policy_version"] == [old_version, fresh["policy_version"]]
    assert entry["changes"]["due"] == ["2021-03-22", "2021-03-15"]
    assert json.loads(run("policy", "diff", "--json").stdout)["items"] == []
    versions = json.loads(run("policy", "versions", "--json").stdout)
    assert {v["version"]: v["items"] for v in versions["versions"]} == {
        old_version: 0, fresh["policy_version"]: 2}
    run("audit")


def test_policy_apply_needs_a_known_actor(run: Cli) -> None:
    out = run("policy", "apply", "--actor", "路人甲", code=1)
    assert "路人甲" in out.stderr


def test_check_names_rule_and_obligation_units_org_yaml_does_not_know(run: Cli) -> None:
    """A unit typed wrong in a rule would silently match nothing; an alias too, since items
    carry the unit's own name. Both are refused with file, the line of the value and the unit meant."""
    (run.site / "rules" / "units.yaml").write_text(
        'rules:\n'
        '  - name: "总务处隐患"\n'
        '    match: {kind: "hazard", unit: "总物处"}\n'
        '    priority: 5\n'
        '  - name: "后勤隐患"\n'
        '    match: {kind: "hazard", level: "重大", unit: "后勤处"}\n'
        '    priority: 5\n'
        'obligations:\n'
        '  - name: "月报"\n'
        '    every: "每月1日前"\n'
        '    units: ["保卫处", "门卫室"]\n', encoding="utf-8")
    err = run("check", code=1).stderr
    assert "units.yaml:3: 规则“总务处隐患”匹配的单位“总物处”不在 org.yaml 中（是否指：总务处" in err
    assert "units.yaml:6: 规则“后勤隐患”匹配的单位“后勤处”是“总务处”的别名" in err and "请写“总务处”" in err
    assert "units.yaml:11: 报送义务“月报”的单位“门卫室”不在 org.yaml 中" in err
    assert "保卫处" not in err
    assert "发现 3 个问题" in err


def test_an_obligation_may_name_a_unit_by_its_alias(run: Cli) -> None:
    (run.site / "rules" / "units.yaml").write_text(
        'rules:\n'
        '  - name: "总务处隐患"\n'
        '    match: {kind: "hazard", unit: "总务处"}\n'
        '    priority: 5\n'
        'obligations:\n'
        '  - name: "月报"\n'
        '    every: "每月1日前"\n'
        '    units: ["后勤处", "信息中心"]\n', encoding="utf-8")
    run("check")
