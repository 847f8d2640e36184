"""What `show`, `explain`, `list`, `deadline`, `workflow show`, `status`, `summary` and the
台账's 历史记录 sheet say, as a safety-office clerk reads them on an 80-column terminal:
Chinese labels and titles, times to the minute in the site's zone, no Python or English
internals; `--json` keeps the machine format."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook
from rich.cells import cell_len

from adapters.cli import cli
from tests.conftest import Cli

FOUND = "2021-03-01T09:00"  # 一般隐患: 15个工作日内 → due 2021-03-22, overdue from 03-23 00:00
MINUTE = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d")
# What must never reach a person outside --json: Python reprs, internal names, ISO instants.
LEAKS = ("{'", "[{", "None", "True", "False", "kind", "paused", "provisional", "ongoing", "plan_note",
         "verified_at", "policy_version", "request_funds", "awaiting_funds", "priority")
ISO_INSTANT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d")


@pytest.fixture
def run80(run: Cli) -> Cli:
    """The CLI on a terminal 80 columns wide."""
    run.runner = CliRunner(env={"COLUMNS": "80"})
    return run


def _fits(text: str, width: int = 80) -> None:
    wide = [line for line in text.splitlines() if cell_len(line) > width]
    assert not wide, wide


def _report(run: Cli, *extra: str, title: str = "配电房门锁损坏", unit: str = "总务处") -> int:
    out = run("report", "--title", title, "--category", "消防", "--unit", unit, "--location", "3号配电房",
              "--reporter", "郭晓明", "--found-at", FOUND, "-q", *extra)
    return int(out.stdout)


def _assigned(run: Cli) -> int:
    i = _report(run)
    run("fire", str(i), "assign", "--actor", "王建国", "--set", "responsible=张海峰", "--note", "尽快",
        "--at", "2021-03-01T10:00")
    return i


# -- report -q -----------------------------------------------------------------------------


def test_report_quiet_prints_only_the_new_id(run: Cli) -> None:
    out = run("report", "--title", "楼梯扶手松动", "--category", "消防", "--unit", "保卫处", "-q")
    assert re.fullmatch(r"\d+\n", out.stdout)
    again = run("report", "--title", "楼梯扶手松动", "--category", "消防", "--unit", "保卫处", "--quiet")
    assert int(again.stdout) == int(out.stdout) + 1
    shown = json.loads(run("show", again.stdout.strip(), "--json").stdout)
    assert shown["title"] == "楼梯扶手松动"


def test_report_says_the_workflow_by_its_title(run: Cli) -> None:
    out = run("report", "--title", "楼梯扶手松动", "--category", "消防", "--unit", "保卫处").stdout
    assert "流程“一般隐患”" in out and "hazard" not in out


# -- show (point 6) ------------------------------------------------------------------------


def test_show_reads_as_people_read_it(run80: Cli) -> None:
    i = _assigned(run80)
    out = run80("show", str(i)).stdout
    _fits(out)
    for leak in LEAKS:
        assert leak not in out, leak
    assert not ISO_INSTANT.search(out)
    for label, value in (("状态", "已交办"), ("流程", "一般隐患"), ("类型", "隐患"), ("类别", "消防"),
                         ("责任人", "张海峰"), ("发现时间", "2021-03-01 09:00"), ("最后期限", "2021-03-22"),
                         ("逾期时间", "2021-03-23 00:00"), ("适用规则", "一般隐患")):
        assert re.search(rf"{label}\s*│\s*{re.escape(value)}", out), (label, value)
    # The plan: a short table of time, step and recipients, not a Python list.
    plan = out[out.index("今后的提醒与升级"):out.index("历史记录")]
    assert "时间" in plan and "步骤" in plan and "通知对象" in plan
    rows = [line for line in plan.splitlines() if MINUTE.search(line)]
    assert 1 <= len(rows) <= 5
    assert all(re.search(r"(提醒|通报|约谈|挂牌督办|问责)\s+\S*(王建国|李明华|张海峰)", r) for r in rows), rows
    assert f"rectify explain {i} 列出全部" in plan


def test_show_says_provisional_in_words_and_why(run: Cli) -> None:
    out = run("report", "--title", "消防通道堆放杂物", "--category", "消防", "--unit", "保卫处",
              "--found-at", "2026-12-24T09:00", "--at", "2026-12-24T09:00", "--deadline", "35个工作日内", "-q")
    shown = run("show", out.stdout.strip()).stdout
    assert "（暂定）" in shown and "暂定原因" in shown and "2027" in shown
    assert "provisional" not in shown and "True" not in shown


def test_show_formats_the_verification_time_and_leaves_false_flags_out(run: Cli) -> None:
    i = _assigned(run)
    run("fire", str(i), "start", "--actor", "张海峰", "--at", "2021-03-02T08:00")
    run("fire", str(i), "submit", "--actor", "张海峰", "--set", "measures=换锁", "--set", "evidence=照片",
        "--at", "2021-03-03T11:00")
    run("fire", str(i), "verify", "--actor", "郭晓明", "--at", "2021-03-03T15:45:30")
    out = run("show", str(i)).stdout
    assert re.search(r"验收时间\s*│\s*2021-03-03 15:45\s", out) and "15:45:30" not in out
    assert re.search(r"验收人\s*│\s*郭晓明", out) and re.search(r"整改实施人\s*│\s*张海峰", out)
    assert "paused" not in out and "False" not in out and "verified_at" not in out


# -- history (point 7) ---------------------------------------------------------------------


def test_show_history_uses_titles_and_changes_in_words(run80: Cli) -> None:
    i = _assigned(run80)
    out = run80("show", str(i)).stdout
    history = out[out.index("历史记录"):]
    assert "登记：已上报" in history and "交办：已上报 → 已交办" in history
    assert "责任人：（空）→ 张海峰" in history and "备注：尽快" in history
    assert "2021-03-01 10:00" in history and "王建国" in history
    for internal in ("report", "assign", "reported", "assigned", "{"):
        assert internal not in history, internal


def test_history_of_a_major_hazard_and_an_extension_has_titles(run: Cli) -> None:
    out = run("report", "--title", "校门口报警装置未联网", "--category", "治安防控", "--level", "重大",
              "--unit", "保卫处", "--reporter", "郭晓明", "--found-at", FOUND, "-q")
    i = out.stdout.strip()
    run("fire", i, "assign", "--actor", "周安宁", "--set", "responsible=马建军", "--at", "2021-03-01T10:00")
    run("extend", "request", i, "--actor", "马建军", "--deadline", "2021年6月20日前", "--reason", "设备需采购",
        "--at", "2021-03-02T10:00")
    run("extend", "refuse", i, "--actor", "周安宁", "--note", "先采取临时措施", "--at", "2021-03-02T11:00")
    run("fire", i, "request_funds", "--actor", "马建军", "--set", "funds=2万元", "--at", "2021-03-03T10:00")
    shown = run("show", i).stdout
    history = shown[shown.index("历史记录"):]
    for words in ("申请延期", "不批准延期", "申请整改资金：已交办 → 待资金审批", "整改资金：（空）→ 2万元"):
        assert words in history, words
    for internal in ("request_funds", "awaiting_funds", "extension_request", "extension_refuse"):
        assert internal not in shown, internal


def test_ledger_export_history_sheet_has_titles_and_changes_in_words(run: Cli, tmp_path: Path) -> None:
    i = _assigned(run)
    run("amend", str(i), "--actor", "周安宁", "--set", "location=4号配电房", "--at", "2021-03-02T09:00")
    path = tmp_path / "台账.xlsx"
    run("export", str(path))
    wb = load_workbook(path, read_only=True)
    rows = list(wb["历史记录"].iter_rows(values_only=True))
    wb.close()
    header = rows[0]
    mine = [{k: v or "" for k, v in zip(header, r, strict=True)} for r in rows[1:] if r[0] == i]
    assert [(r["事件"], r["原状态"], r["新状态"]) for r in mine] == [
        ("登记", "", "已上报"), ("交办", "已上报", "已交办"), ("修改", "已交办", "已交办")]
    assert mine[1]["变更内容"] == "责任人：（空）→ 张海峰"
    assert mine[2]["变更内容"] == "位置：3号配电房 → 4号配电房"
    created = mine[0]["变更内容"].split("\n")  # one change a line
    assert "标题：配电房门锁损坏" in created and "责任单位：总务处" in created
    assert all("{" not in r["变更内容"] and "null" not in r["变更内容"] for r in mine)


def test_csv_history_has_one_change_a_line(run: Cli, tmp_path: Path) -> None:
    i = _assigned(run)
    path = tmp_path / "ledger.csv"
    run("export", str(path))
    text = (tmp_path / "ledger-历史记录.csv").read_text(encoding="utf-8-sig")
    assert f"{i},配电房门锁损坏,2,交办,已上报,已交办,王建国" in text
    assert "责任人：（空）→ 张海峰" in text and '{"' not in text


# -- explain -------------------------------------------------------------------------------


def test_explain_speaks_chinese_and_keeps_times_whole(run80: Cli) -> None:
    i = _assigned(run80)
    out = run80("explain", str(i)).stdout
    _fits(out.split("\n", 6)[-1])  # the table; the first lines are sentences the terminal wraps
    assert f"事项 {i} 的特征：类型：隐患，类别：消防，等级：一般，责任单位：总务处" in out
    assert "条件：类型=隐患，等级=一般；具体程度 2，优先级 0" in out
    assert "最后期限 2021-03-22，2021-03-23 00:00 起逾期" in out
    assert "kind=" not in out and "priority" not in out and not ISO_INSTANT.search(out)
    times = [line for line in out.splitlines() if MINUTE.search(line) and ("提醒" in line or "升级" in line)]
    assert times and "…" not in "".join(times)
    data = json.loads(run80("explain", str(i), "--json").stdout)
    assert data["facts"]["kind"] == "hazard" and data["candidates"][0]["priority"] == 0  # the machine format


# -- deadline (point 10) -------------------------------------------------------------------


def test_deadline_in_chinese(run: Cli) -> None:
    out = run("deadline", "5个工作日内", "--ref", "2021-05-10T09:30").stdout
    assert "期限“5个工作日内”（按 2021年5月10日 09:30 起算）：一次性期限" in out
    assert "最后一天：2021年5月17日（星期一）" in out
    assert "逾期时间：2021年5月18日 00:00 起" in out
    assert "工作日：2021年5月11日至2021年5月17日，共 5 个工作日" in out
    assert "{" not in out and "dues" not in out and "暂定" not in out


def test_deadline_in_chinese_says_provisional_and_why(run: Cli) -> None:
    out = run("deadline", "5个工作日内", "--ref", "2026-12-28").stdout
    assert "最后一天：2027年1月5日（星期二）" in out
    assert re.search(r"暂定：2027年的法定节假日安排尚未公布.*calendar\.yaml", out)


def test_deadline_in_chinese_recurring_window_immediate(run: Cli) -> None:
    out = run("deadline", "每季度末", "--ref", "2021-01-01", "--count", "2").stdout
    assert "周期性期限" in out and "第1次：2021年3月31日（星期三），2021年4月1日 00:00 起逾期" in out
    assert "第2次：2021年6月30日（星期三）" in out
    out = run("deadline", "2020年9月至2020年12月", "--ref", "2020-08-01").stdout
    assert "时间段" in out and "起始：2020年9月1日（星期二）" in out and "截止：2020年12月31日（星期四）" in out
    out = run("deadline", "立整立改\n长期坚持", "--ref", "2020-08-01").stdout
    assert "立即整改" in out and "长期坚持：没有截止日期" in out


def test_deadline_json_keeps_the_machine_format(run: Cli) -> None:
    data = json.loads(run("deadline", "2020年9月至2020年12月", "--ref", "2020-08-01", "--json").stdout)
    assert list(data) == ["kind", "dues", "start", "overdue_at", "ongoing", "provisional", "warnings"]
    assert data["kind"] == "window" and data["overdue_at"] == ["2021-01-01T00:00:00+08:00"]


# -- workflow show, --help, status -----------------------------------------------------------


def test_workflow_show_is_a_table_of_states_and_events(run80: Cli) -> None:
    _fits(run80("workflow", "show", "major_hazard").stdout)
    run80.runner = CliRunner(env={"COLUMNS": "200"})  # the words unfolded
    out = run80("workflow", "show", "major_hazard").stdout
    assert out.startswith("流程“重大隐患”") and "stateDiagram" not in out
    for words in ("已上报（reported）", "起始状态", "待资金审批（awaiting_funds）", "终结",
                  "已上报 → 已交办", "必填：责任单位、", "须有防控措施和专人盯防", "综治办", "流程外修改"):
        assert words in out, words
    assert "unit_head" not in out and "safety_office" not in out


def test_top_level_help_describes_every_command(run: Cli) -> None:
    out = run("--help").stdout
    lines = {line.split()[0]: line for line in out.splitlines() if re.match(r"  [a-z]", line)}
    assert {"init", "dashboard", "summary", "list", "deadline"} <= set(cli.commands)
    for name in cli.commands:
        described = lines[name].split(None, 1)
        assert len(described) == 2 and re.match(r"[\u4e00-\u9fff]", described[1]), lines[name]
        assert "..." not in described[1], lines[name]


def test_status_shows_the_last_tick_to_the_minute(run: Cli) -> None:
    run("tick", "--at", "2021-03-01T09:30:15")
    out = run("status").stdout
    last = json.loads(run("status", "--json").stdout)["last_tick_at"]  # the wall clock's, ISO with seconds
    assert ISO_INSTANT.match(last)
    assert f"上次调度：{last[:10]} {last[11:16]}（" in out, out
    assert not ISO_INSTANT.search(out) and last[11:19] not in out


# -- list (point 11) -----------------------------------------------------------------------


def _three(run: Cli) -> tuple[int, int, int]:
    """a: 总务处, found 1 March, 已交办 (due 22 March); b: 保卫处, found 10 March, 已上报 (due
    31 March); c: 总务处, found 1 March, 整改中 (due 22 March), 楼梯 in its location."""
    a = _assigned(run)
    out = run("report", "--title", "监控探头损坏", "--category", "治安防控", "--unit", "保卫处",
              "--reporter", "郭晓明", "--found-at", "2021-03-10T09:00", "-q")
    b = int(out.stdout)
    c = _report(run, title="灭火器过期", unit="总务处")
    run("amend", str(c), "--actor", "周安宁", "--set", "location=东楼梯间", "--at", "2021-03-01T09:30")
    run("fire", str(c), "assign", "--actor", "王建国", "--set", "responsible=张海峰", "--at", "2021-03-01T10:00")
    run("fire", str(c), "start", "--actor", "张海峰", "--at", "2021-03-01T11:00")
    return a, b, c


def _ids(run: Cli, *args: str) -> list[int]:
    return [r["id"] for r in json.loads(run("list", *args, "--json").stdout)]


def test_list_state_by_the_title_list_itself_shows(run: Cli) -> None:
    a, b, c = _three(run)
    assert _ids(run, "--state", "整改中") == _ids(run, "--state", "rectifying") == [c]
    assert _ids(run, "--state", "已交办", "--state", "已上报") == [a, b]
    assert "整改中" in run("list", "--state", "整改中").stdout


def test_list_refuses_unknown_states_and_categories_naming_the_known(run: Cli) -> None:
    _three(run)
    err = run("list", "--state", "bogus", code=2).stderr
    assert "--state 的值“bogus”无效" in err and "已上报" in err and "整改中" in err and "已销号" in err
    err = run("list", "--category", "消防安全", code=2).stderr
    assert "类别“消防安全”不在规则文件的类别中" in err and "是否应为“消防”" in err
    assert "找不到单位：火星办" in run("list", "--unit", "火星办", code=1).stderr


@pytest.mark.slow
def test_list_fits_80_columns_keeping_dates_and_the_overdue_mark(run80: Cli) -> None:
    a, b, c = _three(run80)
    run80("report", "--title", "实训楼三层东侧走廊应急照明灯与疏散指示标志损坏且长期未更换", "--category", "消防",
          "--unit", "保卫处", "--found-at", "2021-03-20T09:00")
    out = run80("list", "--at", "2021-03-29").stdout
    _fits(out)
    assert out.count("2021-03-22") == 2 and out.count("（已逾期）") == 2  # a and c, each date whole
    assert "2021-03-31" in out and "09:00" not in out
    assert "实训楼三层东侧" in out and "长期未更换" in out and "…" not in out  # the long title wraps, whole
    assert "共 4 项" in out


@pytest.mark.slow
def test_list_overdue_gives_days_and_the_rung_as_the_dashboard_does(run80: Cli) -> None:
    a, b, c = _three(run80)
    rows = json.loads(run80("list", "--overdue", "--at", "2021-04-01T09:00", "--json").stdout)
    board = json.loads(run80("dashboard", "--at", "2021-04-01T09:00", "--json").stdout)["overdue"]["rows"]
    assert {(r["id"], r["days_overdue"], r["escalation"]) for r in rows} == {
        (r["id"], r["days_overdue"], r["escalation"]) for r in board}
    assert {r["id"] for r in rows} == {a, c, b}  # b: due 31 March, overdue since 1 April 00:00
    out = run80("list", "--overdue", "--at", "2021-04-01T09:00", "--sort", "逾期").stdout
    _fits(out)
    assert "督办" in out and "逾期10天" in out and "逾期1天" in out
    assert out.index("逾期10天") < out.index("逾期1天")  # longest overdue first


def test_list_due_within_working_days(run: Cli) -> None:
    a, b, c = _three(run)
    # From Tuesday 16 March, 5 working days end on 23 March: a and c (22 March), not b (31 March).
    assert _ids(run, "--due-within", "5个工作日", "--at", "2021-03-16T09:00") == [a, c]
    assert _ids(run, "--due-within", "12个工作日", "--at", "2021-03-16T09:00") == [a, b, c]
    # Once overdue an item is not "due within" (list --overdue lists it).
    assert _ids(run, "--due-within", "5个工作日", "--at", "2021-03-24T09:00") == [b]
    out = run("list", "--due-within", "5个工作日", "--at", "2021-03-16T09:00").stdout
    assert "共 2 项（3月23日前到期）" in out
    err = run("list", "--due-within", "尽快", code=2).stderr
    assert "--due-within 的值“尽快”无效" in err and "尽快内" not in err
    assert "应为一段时间或一个日期" in run("list", "--due-within", "每周", code=2).stderr


@pytest.mark.slow
def test_list_sorts_and_searches(run: Cli) -> None:
    a, b, c = _three(run)
    assert _ids(run, "--sort", "期限") == [a, c, b]
    assert _ids(run, "--sort", "due") == [a, c, b]
    assert _ids(run, "--sort", "发现") == [a, c, b]
    assert _ids(run, "--sort", "单位")[0] in (a, b, c)
    assert _ids(run, "--search", "配电") == [a]  # title and location
    assert _ids(run, "--search", "楼梯") == [c]  # location
    assert _ids(run, "--search", "探头", "--state", "已上报") == [b]
    assert "共 0 项" in run("list", "--search", "不存在的词").stdout
    assert run("list", "--sort", "颜色", code=2).exit_code == 2


# -- summary -------------------------------------------------------------------------------


def test_summary_is_one_screen_with_the_dashboards_numbers(run80: Cli) -> None:
    a, b, c = _three(run80)
    at = "2021-03-29T09:00"  # a Monday: the week runs to 4 April; b is due on 31 March
    out = run80("summary", "--at", at).stdout
    _fits(out)
    assert len(out.splitlines()) <= 24
    board = json.loads(run80("dashboard", "--at", at, "--json").stdout)
    data = json.loads(run80("summary", "--at", at, "--json").stdout)
    assert data["open"] == board["open"]["value"] == 3
    assert data["overdue"] == board["overdue"]["count"]["value"] == 2
    assert data["supervised"] == board["supervised"]["count"]["value"]
    assert data["due_this_week"]["count"] == 1 and data["due_this_week"]["rows"][0]["id"] == b
    assert [(u["title"], u["overdue"]) for u in data["overdue_by_unit"]] == [
        (r["title"], r["overdue"]["value"]) for r in board["by_unit"] if r["overdue"]["value"]]
    assert data["rate"]["found"] == board["current"]["total"]["found"]["value"] == 3
    assert "整治概况（全校）：截至2021年3月29日 09:00" in out
    assert "在办隐患 3 项：逾期 2 项，挂牌督办 0 项，本周到期 1 项" in out
    assert "总务处 2 项" in out and f"事项 {b} 监控探头损坏｜保卫处｜3月31日到期" in out
    assert "整改率：至今累计发现 3 项，已整改 0 项，整改率 0.0%" in out


def test_summary_for_a_person_counts_their_units(run: Cli) -> None:
    _three(run)
    data = json.loads(run("summary", "--as", "赵卫东", "--at", "2021-03-29T09:00", "--json").stdout)
    assert data["person"] == "赵卫东" and data["open"] == 1 and data["overdue"] == 0
    assert "赵卫东可查看的范围" in run("summary", "--as", "赵卫东").stdout


def test_simulate_lists_times_to_the_minute(run80: Cli) -> None:
    _assigned(run80)
    out = run80("simulate", "--from", "2021-03-01", "--to", "2021-03-27").stdout
    _fits(out)
    assert MINUTE.search(out) and not ISO_INSTANT.search(out) and "+08:00" not in out
