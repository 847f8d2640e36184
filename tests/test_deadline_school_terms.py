"""Deadline words from the school calendar: 开学前, 开学后两周内, 放假前, 寒假前, 暑假前,
学期末, 每学期, 每学期开学前, read against the site's calendar.yaml terms.

The terms below are invented for the tests:
    2026-2027学年第一学期  2026-09-01 至 2027-01-22   (寒假 2027-01-23 至 2027-02-21)
    2026-2027学年第二学期  2027-02-22 至 2027-07-09   (暑假 from 2027-07-10, open)
"""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from adapters.cli.base import cli
from adapters.sitefiles import load_config, load_site_files
from engine import sitecalendar
from engine.deadline import Kind, parse_deadline
from engine.errors import ConfigError, DeadlineError
from engine.plan import read_deadline
from engine.policy import validate_expression
from tests.conftest import Cli

SH = ZoneInfo("Asia/Shanghai")

TERMS = """\
terms:
  - {name: "2026-2027学年第一学期", start: "2026-09-01", end: "2027-01-22"}
  - {name: "2026-2027学年第二学期", start: "2027-02-22", end: "2027-07-09"}
"""

CAL = sitecalendar.loads(TERMS, "calendar.yaml").workcal

IN_VACATION_BEFORE = date(2026, 8, 10)  # 暑假 before the first term
IN_FIRST_TERM = date(2026, 10, 12)
IN_WINTER = date(2027, 2, 1)
IN_SECOND_TERM = date(2027, 3, 15)
BEYOND = date(2027, 8, 1)  # in the open 暑假 after the last term


def at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 9, 0, tzinfo=SH)


def dues(expression: str, day: date, count: int = 4) -> list[str]:
    return [d.isoformat() for d in parse_deadline(expression, at(day), calendar=CAL, count=count).dues]


def refused(expression: str, day: date) -> str:
    with pytest.raises(DeadlineError) as err:
        parse_deadline(expression, at(day), calendar=CAL)
    return err.value.reason


@pytest.mark.parametrize(
    ("expression", "day", "due"),
    [
        # 开学前: the day before the next term starts
        ("开学前", IN_VACATION_BEFORE, "2026-08-31"),
        ("开学前", IN_FIRST_TERM, "2027-02-21"),
        ("开学前", IN_WINTER, "2027-02-21"),
        # 开学后两周内: 14 days from the first day of the current term while its first
        # fortnight runs, otherwise of the next term
        ("开学后两周内", IN_VACATION_BEFORE, "2026-09-15"),
        ("开学后两周内", date(2026, 9, 10), "2026-09-15"),
        ("开学后两周内", IN_FIRST_TERM, "2027-03-08"),
        ("开学后两周内", IN_WINTER, "2027-03-08"),
        ("开学后10个工作日内", IN_VACATION_BEFORE, "2026-09-15"),
        # 放假前: the current term's last day (in a vacation: the next term's)
        ("放假前", IN_VACATION_BEFORE, "2027-01-22"),
        ("放假前", IN_FIRST_TERM, "2027-01-22"),
        ("放假前", IN_WINTER, "2027-07-09"),
        ("放假前", IN_SECOND_TERM, "2027-07-09"),
        # 寒假前 / 暑假前: the last day before that vacation
        ("寒假前", IN_FIRST_TERM, "2027-01-22"),
        ("暑假前", IN_FIRST_TERM, "2027-07-09"),
        ("暑假前", IN_WINTER, "2027-07-09"),
        ("暑假前", IN_SECOND_TERM, "2027-07-09"),
        # 学期末: the current term's last day (in a vacation: the next term's)
        ("学期末", IN_FIRST_TERM, "2027-01-22"),
        ("本学期末", IN_FIRST_TERM, "2027-01-22"),
        ("学期结束前", IN_SECOND_TERM, "2027-07-09"),
        ("学期末", IN_WINTER, "2027-07-09"),
        ("学期末", date(2027, 1, 22), "2027-01-22"),  # its last day is still in it
        ("整改工作请于学期末前完成", IN_FIRST_TERM, "2027-01-22"),
    ],
)
def test_term_words(expression: str, day: date, due: str) -> None:
    deadline = parse_deadline(expression, at(day), calendar=CAL)
    assert deadline.kind is Kind.ONCE
    assert [d.isoformat() for d in deadline.dues] == [due]
    next_day = date.fromisoformat(due) + timedelta(days=1)
    assert deadline.overdue_at == (datetime.combine(next_day, time(), SH),)


@pytest.mark.parametrize(
    ("expression", "day", "missing"),
    [
        ("开学前", IN_SECOND_TERM, "2027年3月15日以后开始的学期"),
        ("开学前", BEYOND, "2027年8月1日以后开始的学期"),
        ("开学后两周内", IN_SECOND_TERM, "2027年3月15日以后开始的学期"),
        ("放假前", BEYOND, "2027年8月1日以后的学期"),
        ("寒假前", IN_SECOND_TERM, "2027年7月9日以后的学期"),
        ("寒假前", BEYOND, "2027年8月1日以后的学期"),
        ("暑假前", BEYOND, "2027年8月1日以后的学期"),
        ("学期末", BEYOND, "2027年8月1日以后的学期"),
        ("每学期", BEYOND, "2027年8月1日以后的学期"),
        ("每学期开学前", IN_SECOND_TERM, "2027年7月9日以后的学期"),
    ],
)
def test_a_term_the_calendar_lacks_is_named(expression: str, day: date, missing: str) -> None:
    reason = refused(expression, day)
    assert f"日历中没有{missing}" in reason and "calendar.yaml 的 terms" in reason


def test_every_term_is_due_at_each_term_end() -> None:
    """每学期 (= 每学期末): one due per term at its last day, as many as the calendar lists."""
    assert dues("每学期", IN_VACATION_BEFORE) == ["2027-01-22", "2027-07-09"]
    assert dues("每学期末", IN_VACATION_BEFORE, count=1) == ["2027-01-22"]
    assert dues("每学期", IN_WINTER) == ["2027-07-09"]
    deadline = parse_deadline("每学期", at(IN_VACATION_BEFORE), calendar=CAL)
    assert deadline.kind is Kind.RECURRING
    assert any("2027-07-09" in w for w in deadline.warnings)  # later terms not yet written
    assert deadline.next_dues(at(date(2027, 1, 23)), 3) == (date(2027, 7, 9),)
    assert dues("每学期", IN_FIRST_TERM, count=1) == ["2027-01-22"]  # no warning with enough terms
    assert parse_deadline("每学期", at(IN_FIRST_TERM), calendar=CAL, count=1).warnings == ()


def test_every_term_before_it_opens() -> None:
    assert dues("每学期开学前", IN_VACATION_BEFORE) == ["2026-08-31", "2027-02-21"]
    assert dues("每学期开学前", IN_FIRST_TERM) == ["2027-02-21"]


@pytest.mark.parametrize(
    "expression",
    ["开学", "开学后两周前", "放假后3日内", "学期结束", "下半年开学前", "开学前、2026年底前", "每学期开学",
     "每学期10日前", "每2学期", "开学前17时"],
)
def test_what_a_person_would_have_to_ask(expression: str) -> None:
    with pytest.raises(DeadlineError):
        parse_deadline(expression, at(IN_FIRST_TERM), calendar=CAL)


@pytest.mark.parametrize("expression", ["开学前", "学期末", "每学期", "寒假前"])
def test_without_a_site_calendar_term_words_are_refused(expression: str) -> None:
    with pytest.raises(DeadlineError, match="calendar.yaml 的 terms"):
        parse_deadline(expression, at(IN_FIRST_TERM))


def test_a_calendar_file_without_terms_names_the_missing_term() -> None:
    empty = sitecalendar.loads("campuses: []\n", "calendar.yaml").workcal
    with pytest.raises(DeadlineError, match="日历中没有2026年10月12日以后开始的学期"):
        parse_deadline("开学前", at(IN_FIRST_TERM), calendar=empty)


def test_memoised_deadlines_follow_the_calendar_object() -> None:
    """read_deadline is keyed by the calendar: a reloaded calendar with other terms is read afresh."""
    later = sitecalendar.loads(TERMS.replace("2027-01-22", "2027-01-29"), "calendar.yaml").workcal
    assert read_deadline("学期末", at(IN_FIRST_TERM), SH, CAL).dues == (date(2027, 1, 22),)
    assert read_deadline("学期末", at(IN_FIRST_TERM), SH, later).dues == (date(2027, 1, 29),)


def test_rule_files_are_checked_against_the_site_terms() -> None:
    assert validate_expression("学期末", None, calendar=CAL).dues
    assert validate_expression("每学期", None, recurring=True, calendar=CAL).kind is Kind.RECURRING
    no_terms = sitecalendar.loads("campuses: []\n", "calendar.yaml").workcal
    with pytest.raises(DeadlineError, match="学期"):
        validate_expression("学期末", None, calendar=no_terms)
    assert validate_expression("学期末", None) is None  # stored versions: taken as written
    with pytest.raises(DeadlineError):
        validate_expression("开学前", None, window=True)


# -- the site ---------------------------------------------------------------------------


def _site_rules(site: Path, expr: str) -> None:
    path = load_config(site).rules_dir / "policy.yaml"
    text = path.read_text(encoding="utf-8")
    assert 'expr: "3个月内"' in text
    path.write_text(text.replace('expr: "3个月内"', f'expr: "{expr}"'), encoding="utf-8")


def test_deadline_command_reads_term_words_with_the_site_terms(run: Cli) -> None:
    (run.site / "calendar.yaml").write_text(TERMS, encoding="utf-8")
    out = run("deadline", "开学前", "--ref", "2026-10-12", "--json")
    data = json.loads(out.stdout)
    assert data["dues"] == ["2027-02-21"] and data["overdue_at"] == ["2027-02-22T00:00:00+08:00"]
    assert json.loads(run("deadline", "每学期", "--ref", "2026-08-10", "--json").stdout)["dues"] == [
        "2027-01-22", "2027-07-09"]
    missing = run("deadline", "开学前", "--ref", "2027-08-01", code=2)
    assert "日历中没有2027年8月1日以后开始的学期" in missing.stderr


def test_deadline_command_outside_a_site_refuses_term_words(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("RECTIFY_SITE", raising=False)
    result = CliRunner().invoke(cli, ["deadline", "开学前", "--ref", "2026-10-12"])
    assert result.exit_code == 2 and "calendar.yaml 的 terms" in result.stderr


def test_an_item_reported_with_term_end(run: Cli) -> None:
    (run.site / "calendar.yaml").write_text(TERMS, encoding="utf-8")
    out = run("report", "--title", "教学楼消防通道堆放杂物", "--category", "消防", "--unit", "保卫处",
              "--reporter", "郭晓明", "--found-at", "2026-10-12T09:00", "--deadline", "学期末", "--json")
    item = json.loads(run("show", str(json.loads(out.stdout)["id"]), "--json").stdout)
    assert item["due"] == "2027-01-22"


def test_rules_with_term_words_load_only_with_terms(run: Cli) -> None:
    """A rule file using 学期末 loads against calendar.yaml's terms and is refused, with the
    rule named, when the site's calendar lists none."""
    _site_rules(run.site, "学期末")
    (run.site / "calendar.yaml").write_text(TERMS, encoding="utf-8")
    config = load_config(run.site)
    assert load_site_files(config).rules.rule_named("重大隐患") is not None
    (run.site / "calendar.yaml").write_text("campuses: []\n", encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_site_files(config)
    assert any("学期末" in str(p) and "学期" in p.message for p in err.value.problems)
