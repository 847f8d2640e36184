"""What `rectify check` says about a broken site file: Chinese, the fix, and the line of
the offending value (issue 19 point 8)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import Cli


def _break(path: Path, old: str, new: str) -> int:
    """Replace the first `old` in the file; the line (1-based) where it was."""
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return text[: text.index(old)].count("\n") + 1


def _problems(run: Cli) -> str:
    result = run("check", code=1)
    assert "Traceback" not in result.stderr and "Error" not in result.stderr
    return result.stderr


RULES = "rules/policy.yaml"
# (what to replace in rules/policy.yaml, with what, the lines below the first replaced
# line where the problem is, what the message says)
BROKEN = [
    pytest.param('    remind: ["50%", "3个工作日前"]\n', '    remind：["50%", "3个工作日前"]\n', 0,
                 "用了全角冒号“：”，请改为半角“:”", id="full-width-colon"),
    pytest.param('    remind: ["50%", "3个工作日前"]\n', '    remind ["50%", "3个工作日前"]\n', 0,
                 "YAML 格式错误：缺少冒号“:”", id="missing-colon"),
    pytest.param('    remind: ["50%", "3个工作日前"]\n', '    remind: ["50%", "3个工作日前"\n', 0,
                 "YAML 格式错误：方括号列表 [...] 没有闭合", id="open-bracket"),
    pytest.param('    escalate: "一般隐患督办"\n', '    escalate: "一般隐患督办"\n    description: "提醒：期限过半，通报"\n', 0,
                 None, id="full-width-punctuation-inside-a-value-is-text"),
    pytest.param('    remind: ["50%", "3个工作日前"]\n', '    remind: [50%， 3个工作日前]\n', 0,
                 "列表用了全角逗号“，”", id="full-width-comma"),
    pytest.param('    remind: ["50%", "3个工作日前"]\n', '    remind: ["50%", "3个工作日前]\n', 0,
                 "YAML 格式错误：", id="open-quote"),
    pytest.param('    remind: ["50%", "3个工作日前"]\n', '    remnd: ["50%", "3个工作日前"]\n', 0,
                 "remnd：未知的键，是否指 remind？", id="unknown-key"),
    pytest.param('    remind: ["50%", "3个工作日前"]\n', '     remind: ["50%", "3个工作日前"]\n', 0,
                 "YAML 格式错误：缩进不对", id="indented-too-far"),
    pytest.param('deadline: {expr: "15个工作日内", from: "found"}', 'deadline: {expr: "15个工做日内", from: "found"}', 0,
                 "规则“一般隐患”的期限“15个工做日内”无法识别", id="deadline-inside-a-rule"),
    pytest.param('    remind: ["50%", "3个工作日前"]\n', '    remind: ["50%",\n             "3个公作日前"]\n', 1,
                 "remind“3个公作日前”无法识别", id="second-remind-on-its-own-line"),
    pytest.param('    pause_in: ["awaiting_funds", "submitted"]\n',
                 '    pause_in:\n      - "awaiting_funds"\n      - "waiting"\n', 2,
                 "pause_in 状态“waiting”在流程中不存在", id="pause-in-state"),
    pytest.param('match: {kind: "task"}', 'match: {kind: "task",\n             unit: "保位处"}', 1,
                 "匹配的单位“保位处”不在 org.yaml 中（是否指：保卫处", id="unit-in-match"),
    pytest.param('notify: ["responsible", "unit_head"]}', 'notify: ["responsible", "校zhang"]}', 0,
                 "的值“校zhang”不在允许范围内", id="unknown-recipient"),
    pytest.param('    escalate: "一般隐患督办"\n', '    escalate: 3\n', 0,
                 "“rules/0/escalate”应为文字或列表，实际是3", id="wrong-type"),
]


@pytest.mark.parametrize(("old", "new", "below", "message"), BROKEN)
def test_a_broken_rule_file_is_named_at_the_offending_line_in_chinese(
        run: Cli, old: str, new: str, below: int, message: str | None) -> None:
    path = run.site / RULES
    line = _break(path, old, new) + below
    if message is None:
        assert "站点文件校验通过" in run("check").stdout
        return
    said = _problems(run)
    assert f"{path}:{line}: " in said and message in said, said
    found = re.search(rf"{re.escape(str(path))}:{line}: (.*)", said)
    assert found and message in found.group(1), said
    for english in ("could not", "expected", "was unexpected", "is not", "Failed", "{'", "None"):
        assert english not in said, said


def test_roles_and_recipients_are_accepted_by_their_chinese_names(run: Cli) -> None:
    """org.yaml `roles: ["检查人员"]` and a rule's `notify: ["校长"]`, as the shipped comments
    name them, mean inspector and principal."""
    _break(run.site / "org.yaml", 'roles: ["inspector"]}', 'roles: ["检查人员"]}')
    _break(run.site / RULES, 'notify: ["responsible", "unit_head"]}', 'notify: ["责任人", "校长", "综治办"]}')
    assert "站点文件校验通过" in run("check").stdout
    result = run("simulate", "--help")
    assert result.exit_code == 0
    from adapters.wiring import open_app

    app = open_app(run.site)
    try:
        assert "inspector" in app.site.org.roles_of("郭晓明")
        ladder = app.site.rules.rule_named("一般隐患").escalate
        assert ladder[0].notify == ("responsible", "principal", "safety_office")
    finally:
        app.close()


def test_a_misspelt_chinese_role_is_refused_with_the_closest_words(run: Cli) -> None:
    line = _break(run.site / "org.yaml", 'roles: ["inspector"]}', 'roles: ["检察人员"]}')
    said = _problems(run)
    assert f"org.yaml:{line}: " in said and "“检察人员”不在允许范围内（是否指：检查人员" in said
