"""Email texts rendered from the shipped templates and from site overrides."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from adapters.templates import Rendered, Templates
from engine.errors import ConfigError
from engine.notices import AdminAlert, Digest, Notice, duty, role_title
from tests.conftest import Cli

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2021, 3, 8, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai


def notice(**changes: Any) -> Notice:
    base = Notice(
        item_id=12,
        title="教学楼三楼灭火器过期",
        kind="hazard",
        category="消防安全",
        level="一般",
        unit="总务处",
        location="教学楼三楼东侧走廊",
        state_title="整改中",
        due=date(2021, 3, 10),
        overdue_at=datetime(2021, 3, 10, 16, 0, tzinfo=UTC),  # midnight 11 March, Shanghai
        step_kind="remind",
        action="提醒",
        step_label="3日前",
        at=datetime(2021, 3, 7, 16, 0, tzinfo=UTC),
        days_overdue=0,
        late=False,
        role="responsible",
        others=(),
    )
    return dataclasses.replace(base, **changes)


def escalation(**changes: Any) -> Notice:
    fields: dict[str, Any] = dict(
        step_kind="escalate",
        action="通报",
        step_label="逾期3个工作日",
        at=datetime(2021, 3, 15, 16, 0, tzinfo=UTC),
        days_overdue=5,
        role="unit_head",
        others=("王主任", "安全办"),
    )
    return notice(**(fields | changes))


def digest(*notices: Notice) -> Digest:
    return Digest("示例中学", "张老师", "zhang@example.org", notices, NOW, TZ)


@pytest.fixture
def templates() -> Templates:
    return Templates(None)


def test_single_reminder_subject(templates: Templates) -> None:
    out = templates.digest(digest(notice()))
    assert isinstance(out, Rendered)
    assert out.subject == "【整改提醒】教学楼三楼灭火器过期（总务处，2021年3月10日前完成）"
    assert out.text.startswith("张老师：")
    assert "整改期限：2021年3月10日" in out.text
    assert "逾期天数" not in out.text
    assert "本邮件由 rectify 自动发送，请勿直接回复" in out.text
    assert "示例中学" in out.text
    assert out.html is not None and "2021年3月10日" in out.html


def test_single_escalation_subject_names_action_and_days(templates: Templates) -> None:
    out = templates.digest(digest(escalation()))
    assert out.subject == "【逾期督办·通报】教学楼三楼灭火器过期（总务处，逾期5天）"
    assert "逾期天数：5天" in out.text
    assert "督办措施：通报（逾期3个工作日）" in out.text


def test_escalation_without_unit_or_named_action(templates: Templates) -> None:
    out = templates.digest(digest(escalation(unit=None, action="提醒", days_overdue=0)))
    assert out.subject == "【逾期督办】教学楼三楼灭火器过期（今日逾期）"
    assert "责任单位：未指定" in out.text


def test_digest_of_three_notices(templates: Templates) -> None:
    d = digest(
        notice(item_id=1, title="实验室危化品台账缺失"),
        escalation(item_id=2, title="操场围栏松动"),
        escalation(item_id=3, title="食堂燃气报警器失效", action="挂牌督办", role="safety_office"),
    )
    out = templates.digest(d)
    assert out.subject == "【安全隐患督办】您有3项事项需要处理（其中2项逾期）"
    assert out.html is not None
    for title in ("实验室危化品台账缺失", "操场围栏松动", "食堂燃气报警器失效"):
        assert title in out.text
        assert title in out.html
    assert out.text.index("实验室危化品台账缺失") < out.text.index("食堂燃气报警器失效")
    assert "请对该隐患挂牌督办，跟踪整改直至销号" in out.text
    assert "事项编号：#3" in out.text


def test_injected_title_stays_one_line_and_is_escaped(templates: Templates) -> None:
    evil = "灭火器<script>alert(1)</script>\r\nBcc: evil@example.org"
    out = templates.digest(digest(notice(title=evil)))
    assert "\r" not in out.subject and "\n" not in out.subject
    assert "Bcc: evil@example.org" in out.subject  # harmless text inside the one line
    assert out.html is not None
    assert "<script>" not in out.html
    assert "&lt;script&gt;" in out.html
    # In the text body the title cannot start a line of its own either.
    assert not any(line.startswith("Bcc:") for line in out.text.splitlines())


def test_late_notice_says_resent(templates: Templates) -> None:
    out = templates.digest(digest(escalation(late=True)))
    assert out.subject.startswith("【补发】【逾期督办·通报】")
    assert "【补发】本通知原定于 2021年3月16日 00:00 发出" in out.text
    assert out.html is not None and "【补发】" in out.html
    several = templates.digest(digest(notice(), escalation(item_id=13, late=True)))
    assert several.subject.startswith("【补发】【安全隐患督办】")


def test_dates_shown_in_the_digest_timezone(templates: Templates) -> None:
    d = dataclasses.replace(digest(notice()), timezone=ZoneInfo("Europe/Berlin"))
    assert "生成时间：2021年3月8日 02:00" in templates.digest(d).text


def test_others_listed(templates: Templates) -> None:
    out = templates.digest(digest(escalation(others=("王主任", "李校长", "安全办"))))
    assert "同时告知：王主任、李校长、安全办" in out.text
    assert out.html is not None and "王主任、李校长、安全办" in out.html
    assert "同时告知" not in templates.digest(digest(notice())).text


def test_duty_differs_by_role() -> None:
    texts = {role: duty(escalation(role=role, action="约谈"))
             for role in ("responsible", "unit_head", "leader", "watcher")}
    assert len(set(texts.values())) == 4
    assert texts["leader"] == "请约谈责任单位负责人，督促限期整改"
    assert duty(notice()) == "请在期限前完成整改，并在系统中提交整改佐证"
    assert duty(escalation()) == "请督促责任人立即整改，并于1个工作日内说明逾期原因"
    assert duty(escalation(role="safety_office", action="挂牌督办")) == (
        "请对该隐患挂牌督办，跟踪整改直至销号"
    )
    assert duty(escalation(role="principal", action="问责")) == "请按规定启动问责程序"
    assert role_title("leader") == "分管校领导"
    assert role_title("watcher") == "专人盯防"


def test_duty_and_role_shown_in_the_mail(templates: Templates) -> None:
    out = templates.digest(digest(escalation(role="leader", action="约谈")))
    assert "您的身份：分管校领导" in out.text
    assert "您需要做的：请约谈责任单位负责人，督促限期整改" in out.text


def test_site_override_wins(tmp_path: Path) -> None:
    (tmp_path / "digest.subject.j2").write_text(
        "【{{ site_name }}】{{ notices[0].title }}\n", encoding="utf-8"
    )
    out = Templates(tmp_path).digest(digest(notice()))
    assert out.subject == "【示例中学】教学楼三楼灭火器过期"
    assert "整改期限：2021年3月10日" in out.text  # the body is still the shipped one


def test_missing_site_dir_is_fine(tmp_path: Path) -> None:
    out = Templates(tmp_path / "templates").digest(digest(notice()))
    assert out.subject.startswith("【整改提醒】")


def test_broken_override_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "digest.txt.j2"
    path.write_text("{{ recipient_name }}：\n\n{{ unclosed\n", encoding="utf-8")
    templates = Templates(tmp_path)
    with pytest.raises(ConfigError) as caught:
        templates.digest(digest(notice()))
    [problem] = caught.value.problems
    assert problem.file == str(path)
    assert problem.line == 3
    assert "模板语法错误" in problem.message
    with pytest.raises(ConfigError) as checked:
        templates.check()
    assert any(p.file == str(path) and p.line == 3 for p in checked.value.problems)


def test_undefined_variable_in_override_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "digest.subject.j2"
    path.write_text("{{ site_name }}\n{{ no_such_thing }}\n", encoding="utf-8")
    templates = Templates(tmp_path)
    with pytest.raises(ConfigError) as caught:
        templates.digest(digest(notice()))
    [problem] = caught.value.problems
    assert (problem.file, problem.line) == (str(path), 2)
    assert "未定义" in problem.message and "no_such_thing" in problem.message
    with pytest.raises(ConfigError) as checked:
        templates.check()
    assert str(checked.value).startswith(f"{path}:2: ")


def test_shipped_templates_pass_check(templates: Templates) -> None:
    templates.check()


def test_admin_alert(templates: Templates) -> None:
    alert = AdminAlert(
        site_name="示例中学",
        recipient_email="admin@example.org",
        title="规则修改未生效，继续按版本 3f2a9c1b7d04 运行",
        problems=("rules/消防.yaml:7: 提醒“120%”应为 1% 到 99% 之间的百分比",),
        at=NOW,
        timezone=TZ,
    )
    out = templates.admin_alert(alert)
    assert out.subject == "【系统告警】示例中学：规则修改未生效，继续按版本 3f2a9c1b7d04 运行"
    assert "rules/消防.yaml:7: 提醒“120%”应为 1% 到 99% 之间的百分比" in out.text
    assert "2021年3月8日 09:00" in out.text
    assert out.html is None


def test_digest_needs_a_notice() -> None:
    with pytest.raises(ValueError):
        digest()


def test_a_new_site_uses_the_shipped_templates_and_copies_one_to_override(run: Cli) -> None:
    """`rectify init` copies no template (a site then follows upgrades of the shipped
    texts); `rectify templates copy` puts one in the site for editing, never over the
    site's own file, and `list` says where each one loads from."""
    site_templates = run.site / "templates"
    assert [p.name for p in site_templates.iterdir()] == ["README.md"]
    rows = json.loads(run("templates", "list", "--json").stdout)
    assert {r["source"] for r in rows} == {"shipped"} and "digest.txt.j2" in {r["name"] for r in rows}
    assert "已复制 digest.subject.j2" in run("templates", "copy", "digest.subject.j2").stdout
    (site_templates / "digest.subject.j2").write_text("【本校督办】{{ notices[0].title }}\n", encoding="utf-8")
    rows = {r["name"]: r for r in json.loads(run("templates", "list", "--json").stdout)}
    assert rows["digest.subject.j2"]["source"] == "site" and rows["digest.txt.j2"]["source"] == "shipped"
    out = run("templates", "copy", "digest.subject.j2", "digest.txt.j2", code=1)
    assert "未覆盖：digest.subject.j2" in out.stderr and "已复制 digest.txt.j2" in out.stdout
    assert (site_templates / "digest.subject.j2").read_text(encoding="utf-8").startswith("【本校督办】")
    assert "没有这些随程序提供的模板：digest.txt" in run("templates", "copy", "digest.txt", code=2).stderr
    run("check")


def test_copy_all_and_list_names_a_site_file_the_program_does_not_use(run: Cli) -> None:
    run("templates", "copy", "--all")
    (run.site / "templates" / "notes.j2").write_text("草稿\n", encoding="utf-8")
    rows = {r["name"]: r["source"] for r in json.loads(run("templates", "list", "--json").stdout)}
    assert rows.pop("notes.j2") == "site-only" and set(rows.values()) == {"site"}
    assert "站点自有（程序不使用）" in run("templates", "list").stdout
