"""Times of day: 上午/下午/晚上 N 点 (Chinese or Arabic numerals), N时, N:MM, 中午, 上午,
24时 and 下班前 (the site's end of the working day, default 17:30) set the overdue instant
on their day."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from adapters.cli.base import cli
from adapters.daemon import Daemon
from adapters.sitefiles import load_config, load_site_files
from adapters.sitesetup import create_site
from engine.clock import FakeClock
from engine.deadline import parse_deadline
from engine.errors import DeadlineError
from tests.conftest import Cli
from tests.sheetdata import hazard_list

SH = ZoneInfo("Asia/Shanghai")
REF = datetime(2020, 5, 6, 9, 0, tzinfo=SH)


def overdue(expression: str, **kwargs: object) -> str:
    deadline = parse_deadline(expression, REF, **kwargs)  # type: ignore[arg-type]
    return deadline.overdue_at[0].isoformat()


@pytest.mark.parametrize(
    ("expression", "instant"),
    [
        ("5月8日上午10点前", "2020-05-08T10:00:00+08:00"),
        ("5月8日上午十点前", "2020-05-08T10:00:00+08:00"),
        ("5月8日下午3点前", "2020-05-08T15:00:00+08:00"),
        ("5月8日下午三点前", "2020-05-08T15:00:00+08:00"),
        ("5月8日下午五点半前", "2020-05-08T17:30:00+08:00"),
        ("5月8日下午5点30分前", "2020-05-08T17:30:00+08:00"),
        ("5月8日晚上8点前", "2020-05-08T20:00:00+08:00"),
        ("5月8日晚8时前", "2020-05-08T20:00:00+08:00"),
        ("5月8日17时前", "2020-05-08T17:00:00+08:00"),
        ("5月8日十七时前", "2020-05-08T17:00:00+08:00"),
        ("5月8日17:30前", "2020-05-08T17:30:00+08:00"),
        ("5月8日17：30前", "2020-05-08T17:30:00+08:00"),
        ("5月8日下午5:00前", "2020-05-08T17:00:00+08:00"),
        ("5月8日12时前", "2020-05-08T12:00:00+08:00"),
        ("5月8日中午12点前", "2020-05-08T12:00:00+08:00"),
        ("5月8日中午前", "2020-05-08T12:00:00+08:00"),
        ("5月8日上午", "2020-05-08T12:00:00+08:00"),
        ("5月8日上午前报送", "2020-05-08T12:00:00+08:00"),
        ("5月8日24时前", "2020-05-09T00:00:00+08:00"),
        ("5月8日二十四时前", "2020-05-09T00:00:00+08:00"),
        ("5月8日下班前", "2020-05-08T17:30:00+08:00"),
        ("于5月8日下班前报送", "2020-05-08T17:30:00+08:00"),
        ("5月8日(星期五)下班前", "2020-05-08T17:30:00+08:00"),
        ("今天下班前", "2020-05-06T17:30:00+08:00"),
        ("当天下班之前", "2020-05-06T17:30:00+08:00"),
        ("明天上午9点前", "2020-05-07T09:00:00+08:00"),
        ("明日中午前", "2020-05-07T12:00:00+08:00"),
        ("次日下班前", "2020-05-07T17:30:00+08:00"),
        ("下周一上午10时前", "2020-05-11T10:00:00+08:00"),
        ("周五下班前", "2020-05-08T17:30:00+08:00"),
        ("2020-05-08 17:00前", "2020-05-08T17:00:00+08:00"),
        ("2020年5月8日下午4时", "2020-05-08T16:00:00+08:00"),
        ("25日下班前", "2020-05-25T17:30:00+08:00"),
        ("于6月5日（星期五）下午下班前", "2020-06-05T17:30:00+08:00"),
        ("5月8日晚9点前", "2020-05-08T21:00:00+08:00"),
        ("5月8日早上8点前", "2020-05-08T08:00:00+08:00"),
        ("5月8日下午17:00前", "2020-05-08T17:00:00+08:00"),
        ("5月8日下午两点前", "2020-05-08T14:00:00+08:00"),
    ],
)
def test_each_time_of_day_sets_the_instant(expression: str, instant: str) -> None:
    """The overdue instant is that time on that day."""
    assert overdue(expression) == instant


def test_the_due_day_is_the_day_of_the_time() -> None:
    """A time of day keeps the due on its day."""
    assert parse_deadline("5月8日下班前", REF).dues == (date(2020, 5, 8),)


def test_the_end_of_the_working_day_is_the_sites() -> None:
    """下班前 follows workday_end; the default is 17:30."""
    assert overdue("5月8日下班前", workday_end=time(17, 0)) == "2020-05-08T17:00:00+08:00"
    assert overdue("今天下班前", workday_end=time(18, 30)) == "2020-05-06T18:30:00+08:00"


def test_the_cli_reads_the_end_of_the_working_day_from_the_site(tmp_path: Path) -> None:
    """rectify.yaml deadlines.workday_end sets 下班前 for `rectify deadline`."""
    (tmp_path / "rectify.yaml").write_text('deadlines:\n  workday_end: "17:00"\n', encoding="utf-8")
    result = CliRunner().invoke(
        cli, ["--site", str(tmp_path), "deadline", "5月8日下班前", "--ref", "2020-05-06", "--json"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["overdue_at"] == ["2020-05-08T17:00:00+08:00"]


@pytest.mark.parametrize(
    ("expression", "part"),
    [
        ("下班前", "下班前"),
        ("17时前", "17时前"),
        ("5月8日下午前", "下午"),
        ("5月8日晚上前", "晚上"),
        ("5月8日25时前", "25时"),
        ("5月8日上午15点前", "上午15点"),
        ("5月8日17:75前", "17:75"),
    ],
)
def test_times_that_cannot_be_read(expression: str, part: str) -> None:
    """A time with no day, a part of the day with no hour, or an hour that does not exist."""
    with pytest.raises(DeadlineError) as caught:
        parse_deadline(expression, REF)
    assert part in str(caught.value)


# -- 下班前 everywhere the site reads a deadline -----------------------------------------

SITE_END = 'deadlines:\n  workday_end: "16:30"\n'


def _with_workday_end(run: Cli) -> None:
    """The site's rectify.yaml sets 下班 at 16:30."""
    config = run.site / "rectify.yaml"
    config.write_text(config.read_text(encoding="utf-8") + SITE_END, encoding="utf-8")


def _report(run: Cli, *extra: str) -> int:
    out = run("report", "--title", "消防通道堵塞", "--category", "消防", "--unit", "保卫处",
              "--reporter", "郭晓明", "--found-at", "2021-03-01T09:00", "--at", "2021-03-01T09:00", "--json", *extra)
    return int(json.loads(out.stdout)["id"])


def _overdue_at(run: Cli, item: int) -> tuple[str, str]:
    data = json.loads(run("show", str(item), "--json").stdout)
    return data["due"], data["overdue_at"]


def test_an_items_own_deadline_reads_the_sites_end_of_the_working_day(run: Cli) -> None:
    """`report --deadline` and `fire --set deadline=…` read 下班前 as rectify.yaml sets it."""
    _with_workday_end(run)
    reported = _report(run, "--deadline", "今天下班前")
    assert _overdue_at(run, reported) == ("2021-03-01", "2021-03-01T16:30:00+08:00")
    assigned = _report(run)
    run("fire", str(assigned), "assign", "--actor", "赵卫东", "--at", "2021-03-01T10:00",
        "--set", "responsible=马建军", "--set", "deadline=5月8日下班前")
    assert _overdue_at(run, assigned) == ("2021-05-08", "2021-05-08T16:30:00+08:00")


def test_a_rule_files_deadline_reads_the_sites_end_of_the_working_day(run: Cli) -> None:
    """A rule's "次日下班前" binds items to 16:30 the day after they are found."""
    _with_workday_end(run)
    policy = run.site / "rules" / "policy.yaml"
    text = policy.read_text(encoding="utf-8")
    assert 'deadline: {expr: "15个工作日内", from: "found"}' in text
    policy.write_text(text.replace('deadline: {expr: "15个工作日内", from: "found"}',
                                   'deadline: {expr: "次日下班前", from: "found"}'), encoding="utf-8")
    run("check")
    assert _overdue_at(run, _report(run)) == ("2021-03-02", "2021-03-02T16:30:00+08:00")


def test_an_imported_rows_deadline_reads_the_sites_end_of_the_working_day(run: Cli, tmp_path: Path) -> None:
    _with_workday_end(run)
    path = hazard_list(tmp_path / "隐患.xlsx", [
        ["H-1", "楼道应急灯损坏", "消防", "一般", "保卫处", "实训楼一层", "2021-03-02", "5月8日下班前", "更换"],
    ])
    out = json.loads(run("import", str(path), "--json").stdout)
    assert out["summary"]["new"] == 1
    [item] = json.loads(run("list", "--json").stdout)
    assert _overdue_at(run, int(item["id"])) == ("2021-05-08", "2021-05-08T16:30:00+08:00")


def test_without_the_setting_it_is_half_past_five(run: Cli) -> None:
    assert _overdue_at(run, _report(run, "--deadline", "今天下班前"))[1] == "2021-03-01T17:30:00+08:00"


def test_the_site_calendar_carries_the_setting(tmp_path: Path) -> None:
    """The one setting reaches every deadline through the site's calendar (rectify.yaml is
    read at start, so it is the calendar each snapshot is built with)."""
    site = tmp_path / "s"
    create_site(site)
    config = site / "rectify.yaml"
    config.write_text(config.read_text(encoding="utf-8") + SITE_END, encoding="utf-8")
    snapshot = load_site_files(load_config(site))
    assert snapshot.workcal.workday_end == time(16, 30)
    assert snapshot.calendar.calendar_for("东校区").workday_end == time(16, 30)
    assert parse_deadline("5月8日下班前", REF, calendar=snapshot.workcal).overdue_at[0].isoformat() == (
        "2020-05-08T16:30:00+08:00")
    # An explicit workday_end still wins (the argument, for callers without a site).
    assert parse_deadline("5月8日下班前", REF, calendar=snapshot.workcal,
                          workday_end=time(18, 0)).overdue_at[0].hour == 18


def test_a_calendar_reload_keeps_the_sites_end_of_the_working_day(sqlite_site: Path) -> None:
    """The daemon reloads calendar.yaml, not rectify.yaml (read once at start): the calendar
    a reload swaps in still carries the setting it started with."""
    config = sqlite_site / "rectify.yaml"
    config.write_text(config.read_text(encoding="utf-8") + SITE_END, encoding="utf-8")
    daemon = Daemon(sqlite_site, FakeClock(datetime(2026, 12, 1, 1, 0, tzinfo=UTC)))
    try:
        assert daemon.app.service.calendar.workday_end == time(16, 30)
        assert not daemon._is_watched(None, str(config))
        calendar = sqlite_site / "calendar.yaml"
        calendar.write_text(calendar.read_text(encoding="utf-8").replace(
            "\nevents:\n", '\nevents:\n  两会: {start: "2027-03-05", end: "2027-03-11"}\n'), encoding="utf-8")
        old = daemon.app.service.calendar
        assert daemon.reload("test")
        assert daemon.app.service.calendar is not old and daemon.app.service.calendar.events
        assert daemon.app.service.calendar.workday_end == time(16, 30)
    finally:
        daemon.close()
