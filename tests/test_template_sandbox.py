"""Site templates are edited by a clerk: they render in Jinja2's sandbox, so a template
cannot run commands, read Python internals, change the data it is shown or build a
value big enough to stall the daemon. `rectify check` names the refused file; the
daemon keeps running and falls back to the shipped template where it always did."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from adapters.daemon import Daemon
from engine.clock import FakeClock
from engine.service import NewItem
from tests.conftest import Cli

START = datetime(2021, 3, 1, 1, 0, tzinfo=UTC)


def _payload(marker: Path) -> str:
    """The classic escape from an unsandboxed Jinja2: through a global's __init__ to os."""
    return "{{ cycler.__init__.__globals__.os.popen('touch " + str(marker) + "').read() }}"


def _assert_clean(result, marker: Path) -> None:  # type: ignore[no-untyped-def]
    output = result.stdout + result.stderr
    assert "Traceback" not in output
    assert not marker.exists(), "the template ran a command"


def test_check_refuses_a_site_template_that_would_run_a_command(sqlite_site: Path, tmp_path: Path) -> None:
    """`rectify check` renders every template with sample data: a subject that reaches
    os.popen through cycler.__init__.__globals__ is refused, with its file and line, and
    the command never runs."""
    marker = tmp_path / "pwned"
    template = sqlite_site / "templates" / "digest.subject.j2"
    template.write_text("【督办】" + _payload(marker) + "\n", encoding="utf-8")
    result = Cli(sqlite_site)("check", code=1)
    _assert_clean(result, marker)
    assert f"{template}:1: 模板被拒绝：不允许访问“__init__”" in result.stderr
    assert "站点文件未通过校验" in result.stderr


@pytest.mark.parametrize(("body", "says"), [
    ("{{ ''.__class__.__mro__[1].__subclasses__() }}", "不允许访问“__class__”"),
    ("{% set seen = [] %}{{ seen.append(notices[0]) }}", "不允许访问“append”"),
    ("{{ 9 ** 100000000 }}", "乘方"),
    ("{{ 'x' * 1000000000 }}", "重复后的文字或列表超过"),
    ("{% for i in range(1000000000) %}{% endfor %}", "range() 最多"),
    ("{{ lipsum(n=1000000) }}", "未定义的变量"),
])
def test_check_refuses_what_the_sandbox_does_not_allow(sqlite_site: Path, body: str, says: str) -> None:
    """Python internals, changing the data a template is given, and values or loops big
    enough to take the daemon's memory or time are refused with a Chinese message that
    names the file and line; nothing is rendered."""
    template = sqlite_site / "templates" / "digest.txt.j2"
    template.write_text("各位老师：\n" + body + "\n", encoding="utf-8")
    result = Cli(sqlite_site)("check", code=1)
    assert "Traceback" not in result.stdout + result.stderr
    line = next(x for x in result.stderr.splitlines() if x.startswith(f"{template}:2: "))
    assert says in line


def test_the_daemon_does_not_run_a_site_template_and_alerts_with_the_shipped_one(
        sqlite_site: Path, tmp_path: Path) -> None:
    """An edited site template that would run a command: the daemon's reload refuses it
    and keeps going, its alert to the administrator falls back to the shipped template,
    a tick that needs the refused template fails (logged) without the daemon stopping,
    and the command runs at no point."""
    marker = tmp_path / "pwned"
    clock = FakeClock(START)
    daemon = Daemon(sqlite_site, clock)
    try:
        daemon.app.service.report(NewItem(title="消防通道堆放杂物", category="消防", unit="保卫处",
                                        reporter="郭晓明", deadline="3日内"))
        for name in ("digest.subject.j2", "admin_alert.subject.j2", "admin_alert.txt.j2"):
            (sqlite_site / "templates" / name).write_text("【督办】" + _payload(marker) + "\n", encoding="utf-8")
        assert daemon.reload("test") is False
        alerts = [email.message_from_bytes(p.read_bytes(), policy=email.policy.default) for p in (sqlite_site / "mail").glob("*.eml")]
        assert [str(m["To"]) for m in alerts] == ["系统管理员 <admin@example.org>"]
        assert "站点文件修改未生效" in str(alerts[0]["Subject"])
        with capture_logs() as logs:
            # Overdue (Friday and Monday, 09:00: office hours): the digest to the
            # responsible people cannot be rendered.
            for day in (5, 8):
                clock.set(datetime(2021, 3, day, 1, 0, tzinfo=UTC))
                assert daemon.tick() is None  # the tick failed, logged; the daemon goes on
        failed = [e for e in logs if e["event"] == "tick_failed"]
        assert len(failed) == 2 and "模板被拒绝" in failed[0]["error"]
    finally:
        daemon.app.close()
    assert not marker.exists(), "a template ran a command"
