"""Recurring obligations create one report task per unit per period, and never twice."""

from __future__ import annotations

import json

from tests.conftest import Cli


def test_quarterly_reports_one_task_per_unit_once(run: Cli) -> None:
    """In 集中攻坚 (2021) every unit but the safety office owes a quarter-end report."""
    out = json.loads(run("obligations", "--at", "2021-02-10T09:00", "--json").stdout)
    quarterly = [r for r in out if r["origin"].startswith("obligation:阶段整治情况报送:2021-03-31:")]
    monthly = [r for r in out if r["origin"].startswith("obligation:隐患清单上传:2021-03-01:")]
    units = {r["unit"] for r in quarterly}
    assert len(quarterly) == len(units) == 12 and "综治办" not in units and "总务处" in units
    assert len(monthly) == 12
    again = json.loads(run("obligations", "--at", "2021-02-20T09:00", "--json").stdout)
    assert again == []  # same periods: nothing new
    task = json.loads(run("show", str(quarterly[0]["id"]), "--json").stdout)
    assert task["kind"] == "task" and task["due"] == "2021-03-31" and task["state"] == "open"
    assert task["responsible"]  # the unit head


def test_the_next_period_brings_new_tasks(run: Cli) -> None:
    run("obligations", "--at", "2021-02-10T09:00")
    out = json.loads(run("obligations", "--at", "2021-04-02T09:00", "--json").stdout)
    assert {r["origin"].split(":")[2] for r in out} == {"2021-06-30", "2021-05-01"}


def test_phase_limits_the_obligation(run: Cli) -> None:
    """Quarterly reports start with 集中攻坚 (2021); in 排查整治 (autumn 2020) only monthly lists."""
    out = json.loads(run("obligations", "--at", "2020-10-10T09:00", "--dry-run", "--json").stdout)
    assert {r["origin"].split(":")[1] for r in out} == {"隐患清单上传"}
    assert all(not r["exists"] for r in out)
    assert json.loads(run("list", "--json").stdout) == []  # dry run wrote nothing
    assert json.loads(run("obligations", "--at", "2023-02-01T09:00", "--json").stdout) == []


# A term-based obligation (fails past the last term in calendar.yaml) and a monthly one.
OWN_OBLIGATIONS = (
    'obligations:\n'
    '  - name: "学期安全总结"\n'
    '    every: "每学期"\n'
    '    units: ["保卫处"]\n'
    '  - name: "月度自查"\n'
    '    every: "每月1日前"\n'
    '    units: ["总务处"]\n'
)


def test_an_obligation_that_cannot_be_worked_out_does_not_hold_up_the_others(run: Cli) -> None:
    """After the last term calendar.yaml lists, 每学期 has no period: that obligation is
    named with its file and line, and the monthly one is still created."""
    (run.site / "rules" / "own.yaml").write_text(OWN_OBLIGATIONS, encoding="utf-8")
    out = run("obligations", "--at", "2027-08-10T09:00", "--json", code=1)
    assert [(r["unit"], r["origin"]) for r in json.loads(out.stdout)] == [
        ("总务处", "obligation:月度自查:2027-09-01:总务处")]
    assert "own.yaml:2: 报送义务“学期安全总结”本期无法生成" in out.stderr
    assert "2027年8月10日以后的学期" in out.stderr
    # Within the terms both are created; the next run finds them and adds nothing.
    out = run("obligations", "--at", "2027-03-10T09:00", "--json")
    assert sorted(r["origin"] for r in json.loads(out.stdout)) == [
        "obligation:学期安全总结:2027-07-09:保卫处", "obligation:月度自查:2027-04-01:总务处"]
    assert json.loads(run("obligations", "--at", "2027-03-11T09:00", "--json").stdout) == []
