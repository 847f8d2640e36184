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
