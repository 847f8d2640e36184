"""What a clerk can type that once ended in a traceback, a raw database error or a late
failure: each is refused with its own Chinese message and exit code 1 or 2, shows no
traceback and no SQL, and writes nothing.

Every name and place below is invented; units and people are those of the demo org.yaml.
"""

from __future__ import annotations

import json
import os
import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError, StatementError
from structlog.testing import capture_logs

from adapters import database
from adapters.schema import metadata
from adapters.sitefiles import load_config
from engine.errors import OutOfRange
from tests.conftest import Cli
from tests.sheetdata import hazard_list
from tests.test_import_errors import good_row

SQL = ("SELECT", "INSERT", "UPDATE", "DELETE", "[SQL:", "[parameters:")
RANGE = "超出可以计算的日期范围（1900年至2999年）"


def rows(site: Path) -> dict[str, int]:
    """How many rows each table of the site's database holds."""
    config = load_config(site)
    engine = database.open_engine(config.database_url)
    try:
        with engine.connect() as conn:
            return {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
                    for t in metadata.sorted_tables}
    finally:
        engine.dispose()


def refused(cli: Cli, *args: str, code: int) -> str:
    """Runs the command, expects `code`, a Chinese message on stderr, no traceback, no
    SQL, and no row written anywhere in the database; returns stderr."""
    before = rows(cli.site)
    result = cli(*args, code=code)
    output = result.stdout + result.stderr
    assert "Traceback" not in output
    for word in SQL:
        assert word not in output, word
    assert "错误：" in result.stderr, result.stderr
    assert rows(cli.site) == before
    return result.stderr


def report(cli: Cli, *args: str) -> int:
    data = json.loads(cli("report", "--title", "消防通道堆放杂物", "--category", "消防", "--unit", "保卫处",
                          "--reporter", "郭晓明", "--json", *args).stdout)
    return int(data["id"])


# -- instants and periods beyond the years rectify computes in ------------------------


@pytest.mark.parametrize("args", [
    ("report", "--title", "消防通道堆放杂物", "--found-at", "9999-12-31T23:59-05:00"),
    ("report", "--title", "消防通道堆放杂物", "--found-at", "2999-12-31T23:59-05:00"),  # 3000 in UTC
    ("report", "--title", "消防通道堆放杂物", "--found-at", "1900-01-01T00:00+14:00"),  # 1899 in UTC
    ("explain", "{id}", "--at", "9999-12-31"),
    ("tick", "--at", "9999-12-31"),
    ("fire", "{id}", "assign", "--actor", "赵卫东", "--set", "responsible=马建军", "--at", "9999-12-31T23:59-05:00"),
    ("fire", "{id}", "assign", "--actor", "赵卫东", "--set", "responsible=马建军", "--at", "9999-12-31"),
    ("simulate", "--from", "2021-03-01", "--to", "9999-12-31"),
    ("list", "--at", "9999-12-31"),
    ("obligations", "--at", "9999-12-31"),
    ("calendar", "check", "--at", "9999-12-31"),
    ("deadline", "3日内", "--ref", "9999-12-31T23:59-05:00"),
])
def test_an_instant_beyond_the_supported_years_is_refused_before_anything_runs(
        run: Cli, args: tuple[str, ...]) -> None:
    """A year-9999 instant (or one that is outside 1900-2999 only in UTC) used to end in
    an OverflowError traceback, and `fire` printed the UPDATE with its parameters: now
    the option is refused as the deadline grammar refuses such years, exit code 2,
    before the database is touched."""
    item = report(run)
    typed = [a.replace("{id}", str(item)) for a in args]
    message = refused(run, *typed, code=2)
    option, value = typed[-2:]  # the instant is the last option of each command above
    assert f"错误：{option} 的时间“{value}”{RANGE}" in message


def test_the_last_years_inside_the_range_still_work(run: Cli) -> None:
    """The range is the deadline grammar's, 1900 to 2999: an instant in 2999 is planned
    and explained (a year of steps ahead reaches 3000 and is still computed)."""
    item = report(run, "--found-at", "2999-06-30T09:00", "--at", "2999-06-30T09:00", "--deadline", "3日内")
    data = json.loads(run("explain", str(item), "--at", "2999-12-31T23:00", "--json").stdout)
    assert data["due"] == "2999-07-03"


def test_a_stage_report_period_beyond_the_supported_years_is_refused(run: Cli, tmp_path: Path) -> None:
    """`stage-report --period 9999Q4` failed with "year 10000 is out of range" after the
    report had been counted; now the period is refused as typed, and no file is written."""
    out = tmp_path / "报告"
    message = refused(run, "stage-report", "--period", "9999Q4", "--out", str(out), code=2)
    assert f"错误：报告期“9999Q4”{RANGE}" in message
    assert not out.exists()


# -- numbers and names the database cannot hold ---------------------------------------


@pytest.mark.parametrize("args", [
    ("show", "99999999999999999999"),
    ("explain", "99999999999999999999"),
    ("fire", "99999999999999999999", "start", "--actor", "马建军"),
])
def test_an_item_number_beyond_the_database_integers_is_not_found(site: Path, args: tuple[str, ...]) -> None:
    """`show 99999999999999999999` failed in the driver ("Python int too large to convert
    to SQLite INTEGER"); a number no row can have is simply not found, on SQLite and on
    PostgreSQL."""
    message = refused(Cli(site), *args, code=1)
    assert message == "错误：找不到事项：99999999999999999999\n"


def test_a_dead_letter_number_beyond_the_database_integers_matches_none(run: Cli) -> None:
    """`outbox retry` with such a number retries nothing instead of failing in the driver."""
    result = run("outbox", "retry", "99999999999999999999")
    assert result.stdout == "没有可重试的死信\n"


@pytest.mark.parametrize("category", ["消访", "防" * 70], ids=["near-miss", "70-characters"])
def test_report_refuses_a_hazard_category_the_rules_do_not_list_as_import_does(
        site: Path, tmp_path: Path, category: str) -> None:
    """A category outside the rules' `categories` was stored on SQLite and failed on
    PostgreSQL with a raw "value too long" for a 70-character one; `report` now refuses
    it with import's very words (closest categories included; a category longer than
    any may be is refused for its length first, by both), and stores nothing."""
    cli = Cli(site)
    message = refused(cli, "report", "--title", "消防通道堆放杂物", "--category", category, code=2)
    reason = message.removeprefix("错误：").strip()
    if category == "消访":
        assert reason.startswith(f"类别“{category}") and "不在规则文件的类别中（消防、食品安全、" in reason
        assert reason.endswith("；是否应为“消防”？")
    else:
        assert reason == "“类别”（category）过长：共 70 个字符，最多 64 个字符"
    sheet = hazard_list(tmp_path / "隐患.xlsx", [good_row("H1", 类别=category)])
    imported = cli("import", str(sheet), code=2).stderr
    if category == "消访":
        assert f"“类别”列：{reason}\n" in imported
    else:
        assert "“类别”列：内容过长：共 70 个字符，这一列最多 64 个字符\n" in imported


def test_a_task_keeps_a_category_of_its_own(run: Cli) -> None:
    """Only hazards are held to the rules' categories, as in import: a task names its own."""
    data = json.loads(run("report", "--title", "月度安全检查", "--kind", "task", "--category", "安全检查",
                          "--json").stdout)
    assert data["category"] == "安全检查"


def test_a_database_error_never_shows_its_statement_or_parameters() -> None:
    """What the driver says reaches the user; the statement and its parameters (titles,
    names) go to the log only, for a value the driver could not convert as for a
    server's error quoting the statement."""
    unconvertible = StatementError("(builtins.OverflowError) date value out of range",
                                   "UPDATE items SET found_at=? WHERE items.id = ?",
                                   {"found_at": datetime(9999, 12, 31), "b_id": 3}, OverflowError("date value out of range"))
    server = OperationalError("SELECT * FROM items WHERE title = ?", ("某某宿舍",),
                              sqlite3.OperationalError('syntax error\nLINE 1: SELECT * FROM items\n        ^'))
    with capture_logs() as logs:
        messages = [str(database.translate(e, "sqlite:////srv/rectify.db")) for e in (unconvertible, server)]
    assert messages == ["数据库 sqlite:////srv/rectify.db 无法保存或读取一个值：OverflowError: date value out of range",
                        "数据库 sqlite:////srv/rectify.db 出错：syntax error"]
    assert [e["statement"] for e in logs] == [unconvertible.statement, server.statement]
    assert "某某宿舍" in logs[1]["parameters"]


def test_the_engine_refuses_a_year_beyond_9999_in_utc(app: Any) -> None:
    """Below the CLI, an instant that is past year 9999 in UTC is refused by the engine
    (it stores and hashes UTC) in Chinese, before the database sees it."""
    item = app.service.report(_report()).id
    when = datetime(9999, 12, 31, 23, 59, tzinfo=timezone(timedelta(hours=-5)))
    with pytest.raises(OutOfRange, match="超出可以计算的日期范围") as refused:
        app.service.fire(item, "assign", "赵卫东", {"responsible": "马建军"}, at=when)
    assert not any(word in str(refused.value) for word in SQL)
    assert app.store.get(item).state == "reported"


def _report() -> Any:
    from engine.service import NewItem

    return NewItem(title="消防通道堆放杂物", category="消防", unit="保卫处", reporter="郭晓明")


# -- files and directories ------------------------------------------------------------


def test_export_into_a_missing_directory_names_it(run: Cli, tmp_path: Path) -> None:
    """`export` into a directory that does not exist ended in a FileNotFoundError
    traceback about a ".part" file; now it names the missing directory, before any work."""
    missing = tmp_path / "没有的目录"
    message = refused(run, "export", str(missing / "台账.xlsx"), code=1)
    assert message == f"错误：无法导出到 {missing / '台账.xlsx'}：目录 {missing} 不存在，请先创建它或换一个目录\n"
    assert not missing.exists()


def test_export_under_a_file_says_it_is_not_a_directory(run: Cli, tmp_path: Path) -> None:
    blocker = tmp_path / "台账"
    blocker.write_text("", encoding="utf-8")
    message = refused(run, "export", str(blocker / "台账.csv"), code=1)
    assert f"{blocker} 不是目录" in message


def test_a_stage_report_into_an_unwritable_directory_says_so(run: Cli, tmp_path: Path) -> None:
    blocker = tmp_path / "报告"
    blocker.write_text("", encoding="utf-8")
    message = refused(run, "stage-report", "--period", "2021Q1", "--out", str(blocker / "一季度"), code=1)
    assert f"错误：无法把阶段报告写入 {blocker / '一季度'}：路径中有一段不是目录" in message


def _unwritable(tmp_path: Path) -> Path:
    """A directory this process may not create: under a read-only directory when not
    root; /sys (which even root may not write) otherwise."""
    if os.geteuid() != 0:
        locked = tmp_path / "只读"
        locked.mkdir(mode=0o555)
        return locked / "站点"
    if not Path("/sys/kernel").is_dir():
        pytest.skip("no /sys to stand for an unwritable place")
    return Path("/sys/rectify-site")


def test_init_into_an_unwritable_place_says_so(run: Cli, tmp_path: Path) -> None:
    """`rectify init` where nothing may be created: a Chinese sentence naming the place,
    exit code 1, and nothing left behind."""
    place = _unwritable(tmp_path)
    result = run("init", str(place), code=1)
    assert "Traceback" not in result.stdout + result.stderr
    assert result.stderr.startswith(f"错误：无法创建站点目录 {place}：")
    assert "没有权限" in result.stderr or "只读" in result.stderr
    assert not place.exists()


def test_init_whose_database_cannot_be_written_leaves_no_half_site(run: Cli, tmp_path: Path) -> None:
    """The site directory is writable but the SQLite file's is not: refused, naming the
    database's directory, and the directory it had begun is removed (so a second `init`
    does not find "这里已经是一个站点")."""
    place, blocker = tmp_path / "新站点", tmp_path / "数据库"
    blocker.write_text("", encoding="utf-8")
    result = run("init", str(place), "--database-url", f"sqlite:///{blocker}/db/rectify.db", code=1)
    assert "Traceback" not in result.stdout + result.stderr
    assert result.stderr.startswith(f"错误：无法为站点写入 {blocker / 'db'}：路径中有一段不是目录")
    assert not place.exists()


def test_templates_copy_does_not_write_through_a_symlink_out_of_the_site(run: Cli, tmp_path: Path) -> None:
    """A site template that is a (dangling) symlink to a file outside the site: `templates
    copy` would have created that file; it refuses the name and writes nothing there."""
    outside = tmp_path / "站点以外"
    outside.mkdir()
    (run.site / "templates" / "digest.txt.j2").symlink_to(outside / "digest.txt.j2")
    result = run("templates", "copy", "digest.txt.j2", "digest.subject.j2", code=1)
    assert "Traceback" not in result.stdout + result.stderr
    assert "错误：站点 templates/ 中的这些文件是符号链接，未写入：digest.txt.j2" in result.stderr
    assert list(outside.iterdir()) == []
    assert (run.site / "templates" / "digest.subject.j2").is_file()  # the others are copied


def test_templates_copy_refuses_a_templates_directory_linked_out_of_the_site(run: Cli, tmp_path: Path) -> None:
    """templates/ itself a symlink to a directory outside the site: nothing is copied."""
    outside = tmp_path / "别处"
    outside.mkdir()
    templates = run.site / "templates"
    for f in templates.iterdir():
        f.unlink()
    templates.rmdir()
    templates.symlink_to(outside, target_is_directory=True)
    result = run("templates", "copy", "--all", code=1)
    assert "Traceback" not in result.stdout + result.stderr
    assert result.stderr == (f"错误：无法复制模板到 {templates}：它是指向站点目录以外（{outside}）的符号链接，"
                             "未复制任何模板\n")
    assert list(outside.iterdir()) == []


def test_templates_copy_follows_a_link_that_stays_inside_the_site(run: Cli) -> None:
    """A templates/ linked to another directory of the site is written as before."""
    templates, shared = run.site / "templates", run.site / "共用模板"
    templates.rename(shared)
    templates.symlink_to(shared, target_is_directory=True)
    run("templates", "copy", "digest.txt.j2")
    assert (shared / "digest.txt.j2").is_file()


# -- the site's addresses, checked when it loads -------------------------------------


def test_a_bad_admin_email_is_refused_when_the_site_loads(run: Cli) -> None:
    """admin_email was first used when an alert was sent; now `rectify check` and the
    daemon's start refuse it with file and line."""
    config = run.site / "rectify.yaml"
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace('admin_email: "admin@example.org"',
                                   'admin_email: "admin@example.org, boss@example.net"'), encoding="utf-8")
    line = next(i for i, x in enumerate(config.read_text(encoding="utf-8").splitlines(), 1) if "admin_email:" in x)
    expected = f"{config}:{line}: 管理员邮箱 admin_email“admin@example.org, boss@example.net”格式不正确"
    assert expected in run("check", code=1).stderr
    assert run("daemon", code=1).stderr.startswith(f"错误：{expected}")


def test_a_bad_admin_email_from_the_environment_is_refused(run: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECTIFY_ADMIN_EMAIL", "admin@example.org\r\nBcc: x@example.net")
    stderr = run("check", code=1).stderr
    assert "RECTIFY_ADMIN_EMAIL: 管理员邮箱 admin_email“admin@example.org\\r\\nBcc: x@example.net”格式不正确" in stderr


def test_a_bad_higher_authority_email_is_refused_when_the_site_loads(run: Cli) -> None:
    """higher_authority.email was first checked when a stage report was sent to it."""
    org = run.site / "org.yaml"
    org.write_text(org.read_text(encoding="utf-8").replace('email: "anquan-chu@example.org"',
                                                           'email: "省教育厅 <anquan-chu@example.org>"'),
                   encoding="utf-8")
    line = next(i for i, x in enumerate(org.read_text(encoding="utf-8").splitlines(), 1) if "anquan-chu" in x)
    stderr = run("check", code=1).stderr
    assert f"{org}:{line}: 上级主管部门 higher_authority 的邮箱“省教育厅 <anquan-chu@example.org>”格式不正确" in stderr
    assert run("daemon", code=1).stderr.startswith(f"错误：{org}:{line}: 上级主管部门")


# -- the last resort -----------------------------------------------------------------


def test_an_unexpected_failure_is_one_chinese_line_and_a_logged_traceback(
        run: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    """A bug no message was written for: one short Chinese line, exit code 1, and the
    traceback in the log (a JSON line here, where stderr is not a terminal)."""
    item = report(run)

    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr("adapters.cli.items.item_json", broken)
    result = run("show", str(item), code=1)
    assert result.stdout == ""
    *logged, said = result.stderr.strip().splitlines()
    assert said == "错误：内部错误：命令未能完成（ZeroDivisionError），详情已写入日志；请把日志交给系统管理员"
    entry = json.loads(next(x for x in logged if '"internal_error"' in x))
    assert entry["level"] == "error" and entry["command"].endswith("show")
    assert "Traceback (most recent call last)" in entry["exception"] and "ZeroDivisionError" in entry["exception"]

