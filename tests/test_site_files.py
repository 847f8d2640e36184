"""Bad site files and databases: a clear message with file and line, nothing loaded."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from adapters.sitefiles import load_config, load_workflow
from engine import site as site_mod
from engine import workflow
from engine.errors import ConfigError
from tests.conftest import Cli

GOOD = Path(__file__).resolve().parents[1] / "workflows" / "hazard.yaml"


def _load(tmp_path: Path, text: str) -> workflow.Workflow:
    path = tmp_path / "hazard.yaml"
    path.write_text(text, encoding="utf-8")
    return load_workflow(path)


def test_a_transition_to_an_undefined_state_is_named_with_its_line(tmp_path: Path) -> None:
    text = GOOD.read_text(encoding="utf-8").replace('dest: "closed"', 'dest: "archived"')
    with pytest.raises(ConfigError) as err:
        _load(tmp_path, text)
    (problem,) = err.value.problems
    assert "未定义的状态“archived”" in problem.message
    assert text.splitlines()[problem.line - 1].strip().startswith("- event: \"close\"")


def test_an_unknown_guard_is_refused_and_no_code_is_imported(tmp_path: Path) -> None:
    text = GOOD.read_text(encoding="utf-8").replace(
        '["not_responsible", "not_rectifier", "not_submitter"]', '["os.system"]')
    with pytest.raises(ConfigError, match="条件“os.system”不存在"):
        _load(tmp_path, text)


def test_yaml_traps_and_syntax_errors_have_lines(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"hazard.yaml:3: .*Tab"):
        _load(tmp_path, 'name: "hazard"\ntitle: "x"\n\tkind: "hazard"\n')
    with pytest.raises(ConfigError) as err:
        _load(tmp_path, 'name: "hazard"\ntitle: [unclosed\n')
    assert err.value.problems[0].line is not None
    with pytest.raises(ConfigError, match="final.*应为true/false"):
        _load(tmp_path, GOOD.read_text(encoding="utf-8").replace("final: true", "final: NO"))


def test_check_lists_every_problem_as_file_line_message(run: Cli) -> None:
    wf = run.site / "workflows" / "task.yaml"
    wf.write_text(wf.read_text(encoding="utf-8").replace('dest: "done"', 'dest: "finished"'), encoding="utf-8")
    org = run.site / "org.yaml"
    org.write_text(org.read_text(encoding="utf-8").replace('head: "王建国"', 'head: "王二小"'), encoding="utf-8")
    out = run("check", code=1)
    assert "task.yaml:" in out.stderr and "未定义的状态“finished”" in out.stderr
    assert "org.yaml:" in out.stderr and "王二小" in out.stderr
    assert "发现 2 个问题" in out.stderr
    # Commands refuse to run on a broken site rather than half-load it.
    assert "task.yaml" in run("list", code=1).stderr


def test_not_a_site_says_how_to_make_one(tmp_path: Path) -> None:
    out = Cli(tmp_path)("list", code=1)
    assert "rectify init" in out.stderr


def test_a_missing_database_is_reported_not_created(run: Cli) -> None:
    (run.site / "rectify.db").unlink()
    out = run("list", code=1)
    assert "数据库不存在" in out.stderr and "rectify db upgrade" in out.stderr
    assert not (run.site / "rectify.db").exists()
    run("db", "upgrade")
    assert "共 0 项" in run("list").stdout


def test_a_locked_database_gives_a_clear_message(run: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    from adapters import database

    monkeypatch.setattr(database, "BUSY_TIMEOUT_MS", 200)
    holder = sqlite3.connect(run.site / "rectify.db", isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        out = run("report", "--title", "测试", "--unit", "总务处", code=1)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert "被其他进程锁定" in out.stderr
    assert "共 0 项" in run("list").stdout


def test_database_url_from_the_environment_wins(run: Cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    monkeypatch.setenv("RECTIFY_DATABASE_URL", f"sqlite:///{other}")
    assert "数据库不存在" in run("list", code=1).stderr
    run("db", "upgrade")
    assert other.exists()


def test_site_comes_from_rectify_site_env(run: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from adapters.cli.base import cli

    monkeypatch.setenv("RECTIFY_SITE", str(run.site))
    result = CliRunner().invoke(cli, ["list"])
    assert result.exit_code == 0 and "共 0 项" in result.stdout


def test_init_refuses_an_existing_site(run: Cli) -> None:
    out = Cli(run.site)("init", str(run.site), code=1)
    assert "已经是一个站点" in out.stderr


def test_every_mail_and_scheduler_setting_can_come_from_the_environment(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from adapters.sitesetup import create_site

    create_site(tmp_path / "s")
    for name, value in {"RECTIFY_SMTP_SECURITY": "starttls", "RECTIFY_SMTP_USERNAME": "anquan",
                        "RECTIFY_SMTP_PASSWORD_ENV": "MY_PASS", "RECTIFY_MAIL_FROM": "noreply@example.org",
                        "RECTIFY_ADMIN_EMAIL": "ops@example.org", "RECTIFY_TICK_SECONDS": "15",
                        "RECTIFY_MAIL_OUTBOX_DIR": "out"}.items():
        monkeypatch.setenv(name, value)
    config = load_config(tmp_path / "s")
    assert (config.mail.security, config.mail.username, config.mail.password_env, config.mail.sender) == (
        "starttls", "anquan", "MY_PASS", "noreply@example.org")
    assert config.admin_email == "ops@example.org" and config.scheduler.tick_seconds == 15
    assert config.mail.outbox_dir == tmp_path / "s" / "out"
    monkeypatch.setenv("RECTIFY_TICK_SECONDS", "soon")
    with pytest.raises(ConfigError, match="RECTIFY_TICK_SECONDS"):
        load_config(tmp_path / "s")


def test_the_engine_builds_the_config_from_text_and_the_overrides_it_is_given(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """engine.site reads no environment: the overrides are a mapping the adapter passes."""
    monkeypatch.setenv("RECTIFY_SMTP_HOST", "from-the-environment")
    text = 'site_name: "测试学校"\nmail:\n  host: "smtp.example.org"\n'
    root = Path("/srv/site")
    assert site_mod.parse(root, text, "rectify.yaml").mail.host == "smtp.example.org"
    given = site_mod.parse(root, text, "rectify.yaml", {"RECTIFY_SMTP_HOST": "relay", "RECTIFY_SMTP_PORT": ""})
    assert (given.mail.host, given.mail.port) == ("relay", 25)
    with pytest.raises(ConfigError, match="RECTIFY_ADMIN_EMAIL"):
        site_mod.parse(root, text, "rectify.yaml", {"RECTIFY_ADMIN_EMAIL": "not an address"})
