"""Rule files: matching and precedence, pauses, offsets, ladders, and every bad input with file:line."""

from __future__ import annotations

import shutil
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from adapters.sitefiles import load_rules
from engine.errors import ConfigError
from engine.model import Item
from engine.plan import bind, paused_spell, plan_item

SHIPPED = Path(__file__).resolve().parents[1] / "rules"
TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2021, 3, 1, 9, 0, tzinfo=TZ)  # a Monday
FINAL = frozenset({"closed", "done"})


def _rules(tmp_path: Path, text: str, name: str = "extra.yaml") -> Path:
    directory = tmp_path / "rules"
    shutil.copytree(SHIPPED, directory, dirs_exist_ok=True)
    (directory / name).write_text(text, encoding="utf-8")
    return directory


def _policy(directory: Path = SHIPPED):  # type: ignore[no-untyped-def]
    return load_rules(directory, NOW, ["reported", "assigned", "awaiting_funds", "rectifying", "submitted", "closed"])


def _item(**kw: object) -> Item:
    values: dict = {"id": 1, "kind": "hazard", "workflow": "hazard", "state": "reported", "title": "t",
                    "found_at": NOW, "category": "消防", "level": "一般", "unit": "总务处"}
    values.update(kw)
    return Item(**values)


def test_the_most_specific_rule_wins() -> None:
    """燃气 general hazards get the stricter 3-day rule, other general hazards 15 working days."""
    policy = _policy()
    gas = plan_item(_item(category="燃气"), policy, final_states=FINAL, tz=TZ)
    fire = plan_item(_item(), policy, final_states=FINAL, tz=TZ)
    assert gas.rule and gas.rule.name == "燃气与食品安全一般隐患" and gas.due == date(2021, 3, 4)
    assert fire.rule and fire.rule.name == "一般隐患"
    assert fire.due == date(2021, 3, 22)  # 15 working days from Monday 1 March 2021


def test_priority_breaks_a_tie_and_an_unbroken_tie_is_an_error(tmp_path: Path) -> None:
    text = ('rules:\n  - name: "保卫处隐患"\n    match: {kind: "hazard", unit: "保卫处"}\n'
            '    deadline: {expr: "5日内"}\n')
    with pytest.raises(ConfigError) as err:
        _policy(_rules(tmp_path, text))
    assert "可能匹配同一事项" in str(err.value) and "extra.yaml:2" in str(err.value)
    policy = _policy(_rules(tmp_path, text.replace('    deadline', '    priority: 5\n    deadline')))
    plan = plan_item(_item(unit="保卫处"), policy, final_states=FINAL, tz=TZ)
    assert plan.rule and plan.rule.name == "保卫处隐患" and plan.due == date(2021, 3, 6)


def test_the_items_own_deadline_wins_over_the_rule() -> None:
    plan = plan_item(_item(deadline="2021年4月底前"), _policy(), final_states=FINAL, tz=TZ)
    assert plan.due == date(2021, 4, 30)
    assert plan.overdue_at == datetime(2021, 5, 1, tzinfo=TZ)


def test_paused_time_does_not_count_and_a_paused_item_is_never_overdue() -> None:
    """A major hazard that waited 10 days for funds gets its deadline 10 days later."""
    policy = _policy()
    item = _item(level="重大", workflow="major_hazard", state="assigned")
    plain = plan_item(item, policy, final_states=FINAL, tz=TZ)
    waiting = _item(level="重大", workflow="major_hazard", state="awaiting_funds",
                    entered_at=NOW + timedelta(days=5))
    rule = policy.rule_named(plain.rule.name if plain.rule else None)
    assert rule is not None and "awaiting_funds" in rule.pause_in
    # Leaving the pausing state 10 days later adds 10 days of stopped clock to the item...
    bind(waiting, policy, tz=TZ).apply(waiting)
    assert paused_spell(waiting, policy, NOW + timedelta(days=15)) == 10 * 86400
    resumed = _item(level="重大", workflow="major_hazard", state="assigned", paused_seconds=10 * 86400)
    paused_then = plan_item(resumed, policy, final_states=FINAL, tz=TZ)
    assert plain.overdue_at and paused_then.overdue_at == plain.overdue_at + timedelta(days=10)
    # ...and while it waits it is never overdue and nothing is sent.
    still = plan_item(waiting, policy, final_states=FINAL, tz=TZ)
    assert still.paused and still.overdue_at is None
    assert list(still.steps(NOW, NOW + timedelta(days=3000))) == []


def test_a_pause_begun_after_the_item_fell_overdue_does_not_stop_the_clock() -> None:
    policy = _policy()
    plain = plan_item(_item(level="重大", workflow="major_hazard", state="assigned"), policy,
                      final_states=FINAL, tz=TZ)
    assert plain.overdue_at is not None
    late = _item(level="重大", workflow="major_hazard", state="awaiting_funds",
                 entered_at=plain.overdue_at + timedelta(days=1))
    plan = plan_item(late, policy, final_states=FINAL, tz=TZ)
    assert not plan.paused and plan.overdue_at == plain.overdue_at
    bind(late, policy, tz=TZ).apply(late)
    assert paused_spell(late, policy, plain.overdue_at + timedelta(days=9)) == 0


def test_the_ladder_follows_working_days_and_repeats() -> None:
    plan = plan_item(_item(), _policy(), final_states=FINAL, tz=TZ)
    steps = list(plan.steps(NOW, datetime(2021, 4, 30, tzinfo=TZ)))
    escalations = [(s.at.date(), s.action, s.occurrence) for s in steps if s.kind == "escalate"]
    assert escalations[:3] == [(date(2021, 3, 23), "提醒", 0), (date(2021, 3, 26), "通报", 0),
                               (date(2021, 3, 31), "通报", 1)]
    # An offset of N working days ends when N whole working days have passed: 31 March,
    # 1 and 2 April end at midnight on 3 April; 清明 (3-5 April) is off, so the next
    # three working days are 6, 7 and 8 April.
    assert (date(2021, 4, 3), "通报", 2) in escalations
    assert (date(2021, 4, 9), "通报", 3) in escalations
    assert (date(2021, 4, 7), "约谈", 0) in escalations
    reminders = [s for s in steps if s.kind == "remind"]
    assert [r.label for r in reminders] == ["50%", "3个工作日前"]
    assert all(a.at <= b.at for a, b in zip(steps, steps[1:], strict=False))


def test_a_closed_item_has_no_plan() -> None:
    plan = plan_item(_item(state="closed"), _policy(), final_states=FINAL, tz=TZ)
    assert plan.overdue_at is None and list(plan.steps(NOW, NOW + timedelta(days=400))) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('rules:\n  - name: "x"\n    match: {category: "核安全"}\n', "extra.yaml:3: 规则“x”匹配的类别“核安全”不在 categories 中"),
        ('rules:\n  - name: "x"\n    match: {kind: "task", unit: "a"}\n    deadline: {expr: "随便写写"}\n', "extra.yaml:4: 规则“x”的期限“随便写写”无法识别"),
        ('ladders:\n  back:\n    - {after: "逾期5日", action: "通报", notify: ["leader"]}\n'
         '    - {after: "逾期3日", action: "约谈", notify: ["leader"]}\n', "extra.yaml:4: 升级步骤“约谈”的时间“逾期3日”早于上一步"),
        ('ladders:\n  x:\n    - {after: "逾期即", action: "训斥", notify: ["leader"]}\n', "extra.yaml:3:"),
        ('ladders:\n  x:\n    - {after: "逾期即", action: "通报", notify: ["校董"]}\n', "extra.yaml:3:"),
        ('rules:\n  - name: "x"\n    match: {kind: "task", unit: "a"}\n    priority: 1:30\n', "应为整数"),
        ('rules:\n  - name: NO\n    match: {kind: "task", unit: "b"}\n    pause_in: ["waiting"]\n', "pause_in 状态“waiting”"),
        ("rules:\n\t- name: x\n", "extra.yaml:2: 文件中含有制表符"),
        ("这不是 YAML: [\n", "extra.yaml:1: YAML 格式错误：文件到此结束，但括号或引号没有闭合"),
    ],
)
def test_bad_rule_files_are_reported_with_file_and_line(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as err:
        _policy(_rules(tmp_path, text))
    assert expected in str(err.value)


def test_an_empty_rules_directory_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "rules").mkdir()
    with pytest.raises(ConfigError, match="没有规则文件"):
        _policy(tmp_path / "rules")


def test_the_version_changes_with_the_content(tmp_path: Path) -> None:
    before = _policy(_rules(tmp_path, "# 空文件\n")).version
    (tmp_path / "rules" / "extra.yaml").write_text("# 改了注释\n", encoding="utf-8")
    assert _policy(tmp_path / "rules").version != before
    assert len(before) == 12 and _policy(SHIPPED).loaded_at == NOW


def test_shipped_campaign_phases_follow_the_plan() -> None:
    policy = _policy()
    assert policy.phase_at(date(2020, 8, 15)) == "动员部署"
    assert policy.phase_at(date(2020, 10, 1)) == "排查整治"
    assert policy.phase_at(date(2021, 6, 1)) == "集中攻坚"
    assert policy.phase_at(date(2022, 12, 31)) == "巩固提升"
    assert {o.every for o in policy.obligations} == {"每季度末", "每月1日前"}


def test_schema_file_matches_the_code() -> None:
    """rules/rule.schema.json is what `python -m engine.policy` prints today."""
    import json

    from engine.policy import schema_document

    shipped = json.loads((SHIPPED / "rule.schema.json").read_text(encoding="utf-8"))
    assert shipped == json.loads(json.dumps(schema_document()))
