"""Chinese titles and labels wherever a name is typed (issue 19 point 9): events by their
titles, fields by their labels, states in filters; only fields a person may set listed."""

from __future__ import annotations

import json

from openpyxl import load_workbook

from tests.conftest import Cli


def _report(run: Cli) -> int:
    out = run("report", "--title", "实训楼消防通道堵塞", "--category", "消防", "--unit", "保卫处",
              "--reporter", "郭晓明", "--set", "位置=实训楼一层", "--json").stdout
    return int(json.loads(out)["id"])


def test_a_hazard_lives_its_life_in_chinese_words(run: Cli) -> None:
    item = _report(run)
    run("fire", str(item), "交办", "--actor", "赵卫东", "--set", "责任人=马建军")
    run("fire", str(item), "开始整改", "--actor", "马建军")
    run("fire", str(item), "整改完成，申请验收", "--actor", "马建军", "--set", "整改措施=清理通道",
        "--set", "整改佐证=整改照片")
    run("fire", str(item), "验收", "--actor", "郭晓明")
    run("fire", str(item), "销号", "--actor", "周安宁")
    shown = json.loads(run("show", str(item), "--json").stdout)
    assert shown["state"] == "closed" and shown["responsible"] == "马建军" and shown["location"] == "实训楼一层"
    events = [h["event"] for h in shown["history"]]
    assert events == ["report", "assign", "start", "submit", "verify", "close"]  # the ledger keeps the names


def test_a_misspelt_event_or_field_gets_the_closest_by_title(run: Cli) -> None:
    item = _report(run)
    said = run("fire", str(item), "交半", "--actor", "赵卫东", code=1).stderr
    assert "是否指：assign（交办）？" in said and "可用事件：assign（交办）、start（开始整改）" in said
    said = run("fire", str(item), "交办", "--actor", "赵卫东", "--set", "责任=马建军", code=2).stderr
    assert "是否指：" in said and "responsible（责任人）" in said


def test_only_fields_a_person_may_set_are_listed_and_import_fields_are_refused(run: Cli) -> None:
    item = _report(run)
    said = run("fire", str(item), "交办", "--actor", "赵卫东", "--set", "bogus=1", code=2).stderr
    listed = said.split("可设置的字段：")[1]
    assert "responsible（责任人）" in listed and "deadline（整改时限）" in listed
    for internal in ("project", "co_units", "unit_text", "list_no", "rectifier", "verifier", "closed_at"):
        assert internal not in listed, internal
    said = run("fire", str(item), "交办", "--actor", "赵卫东", "--set", "清单序号=3", code=2).stderr
    assert "“清单序号”取自导入的清单，不能手工设置" in said
    said = run("report", "--title", "x", "--unit", "保卫处", "--set", "list_no=3", code=2).stderr
    assert "取自导入的清单" in said


def test_states_are_filtered_by_their_titles(run: Cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    first, second = _report(run), _report(run)
    run("fire", str(first), "交办", "--actor", "赵卫东", "--set", "责任人=马建军")
    out = tmp_path / "台账.xlsx"
    run("export", str(out), "--state", "已交办")
    rows = list(load_workbook(out)["台账"].iter_rows(min_row=2, values_only=True))
    assert [r[0] for r in rows] == [first] and second != first
    said = run("export", str(out), "--state", "整改", code=1).stderr
    assert "找不到状态：整改（是否指：rectifying（整改中）？" in said


def test_workflow_roles_are_read_in_chinese_as_the_roles_say_them(run: Cli) -> None:
    """A workflow's `roles:` take what people call the roles (综治办, 单位负责人, 本事项责任人),
    as org.yaml's and the rules' do; a word that names no role is refused at its line."""
    path = run.site / "workflows" / "hazard.yaml"
    text = path.read_text(encoding="utf-8")
    chinese = text.replace('roles: ["safety_office", "unit_head", "leader", "principal"]',
                           'roles: ["综治办", "单位负责人", "分管校领导", "校长"]', 1).replace(
        'roles: ["item_responsible", "item_unit", "unit_head", "safety_office"]',
        'roles: ["本事项责任人", "责任单位人员", "单位负责人", "综治办"]', 1)
    assert chinese != text
    path.write_text(chinese, encoding="utf-8")
    assert run("check").stdout.startswith("站点文件校验通过")
    item = _report(run)
    refused = run("fire", str(item), "交办", "--actor", "马建军", "--set", "责任人=马建军", code=1).stderr
    assert "马建军" in refused and "综治办" in refused
    run("fire", str(item), "交办", "--actor", "赵卫东", "--set", "责任人=马建军")
    run("fire", str(item), "开始整改", "--actor", "马建军")
    line = next(n for n, t in enumerate(chinese.splitlines(), 1) if "本事项责任人" in t)
    path.write_text(chinese.replace('"本事项责任人", ', '"本项责任人", ', 1), encoding="utf-8")
    said = run("check", code=1).stderr
    assert f"hazard.yaml:{line}:" in said and "“本项责任人”不存在" in said
