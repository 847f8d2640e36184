"""The site calendar (calendar.yaml): next year's arrangement, local days, terms, and what
`rectify calendar show|check`, `rectify deadline --site` and the daemon do with it.

The 2027 arrangement below is invented for the tests (plausible, not the published one).
"""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from email import message_from_bytes
from email.policy import default
from pathlib import Path

import pytest
from click.testing import CliRunner

from adapters.cli.base import cli
from adapters.daemon import Daemon
from adapters.resources import site_file
from adapters.sitefiles import load_calendar, load_config, load_site_files
from adapters.wiring import open_app
from engine import sitecalendar
from engine.clock import FakeClock
from engine.errors import ConfigError
from engine.sitecalendar import Arrangement, DayKind, SiteCalendar
from tests.conftest import Cli

INVENTED_2027 = """\
years:
  2027:
    notice: "测试用虚构安排"
    holidays:
      "2027-01-01至2027-01-03": "元旦"
      "2027-02-06至2027-02-13": "春节"
      "2027-04-03至2027-04-05": "清明节"
      "2027-05-01至2027-05-05": "劳动节"
      "2027-06-09至2027-06-11": "端午节"
      "2027-09-15至2027-09-17": "中秋节"
      "2027-10-01至2027-10-07": "国庆节"
    workdays:
      "2027-02-14": "春节"
      "2027-02-20": "春节"
      "2027-04-25": "劳动节"
      "2027-09-26": "国庆节"
      "2027-10-09": "国庆节"
"""

TERMS = """\
campuses: ["本部", "东校区"]
terms:
  - {name: "2026-2027学年第一学期", start: "2026-09-01", end: "2027-01-22"}
  - {name: "2026-2027学年第二学期", start: "2027-02-22", end: "2027-07-09"}
  - {name: "2026-2027学年第一学期", campus: "东校区", start: "2026-08-31", end: "2027-01-15"}
"""


def _loads(text: str) -> SiteCalendar:
    return sitecalendar.loads(text, "calendar.yaml")


def _problems(text: str) -> list[tuple[int | None, str]]:
    with pytest.raises(ConfigError) as err:
        _loads(text)
    assert all(p.file == "calendar.yaml" for p in err.value.problems)
    return [(p.line, p.message) for p in err.value.problems]


def _line_of(text: str, fragment: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if fragment in line)


# -- loading ----------------------------------------------------------------------------


def test_a_declared_year_makes_its_counts_exact() -> None:
    """Declaring 2027 as the notice gives it: 2027 is known, 春节 is off, 14 Feb is worked."""
    cal = _loads(INVENTED_2027)
    assert cal.arrangement(2027) is Arrangement.DECLARED
    assert cal.arrangement(2026) is Arrangement.PUBLISHED
    assert cal.arrangement(2028) is Arrangement.PROVISIONAL
    work = cal.workcal
    assert work.knows(2027)
    assert not work.is_workday(date(2027, 2, 8))
    assert work.is_workday(date(2027, 2, 14))
    assert cal.day(date(2027, 2, 14)).kind is DayKind.MAKEUP
    assert cal.day(date(2027, 2, 8)).name == "春节"
    assert cal.missing_festivals(2027) == []


def test_the_shipped_calendar_loads_with_its_demo_terms() -> None:
    """What `rectify init` writes loads as is: two campuses, the demo school's terms."""
    cal = load_calendar(site_file("calendar.yaml"))
    assert cal.campuses == ("本部", "东校区")
    assert [t.name for t in cal.terms_for()] == ["2026-2027学年第一学期", "2026-2027学年第二学期"]
    assert cal.years == {}


def test_an_empty_or_missing_file_is_the_package_calendar(tmp_path: Path) -> None:
    """A site without calendar.yaml keeps working on the package's arrangements alone."""
    missing = load_calendar(tmp_path / "calendar.yaml")
    assert missing.source is None and missing.terms == () and not missing.workcal.knows(2027)
    (tmp_path / "calendar.yaml").write_text("# 只有注释\n", encoding="utf-8")
    assert load_calendar(tmp_path / "calendar.yaml").terms == ()
    assert _loads("years:\nlocal:\nterms:\ncampuses:\n").terms == ()


def test_terms_vacations_and_campuses() -> None:
    """Vacations are the gaps between terms; a campus's own term replaces the site-wide one."""
    cal = _loads(TERMS)
    assert cal.term_at(date(2026, 12, 1)).name == "2026-2027学年第一学期"
    assert cal.term_at(date(2027, 2, 1)) is None
    winter = cal.vacation_at(date(2027, 2, 1))
    assert (winter.name, winter.start, winter.end) == ("寒假", date(2027, 1, 23), date(2027, 2, 21))
    summer = cal.next_vacation(date(2027, 3, 1))
    assert (summer.name, summer.start, summer.end) == ("暑假", date(2027, 7, 10), None)
    assert cal.next_vacation(date(2026, 9, 10), name="暑假") == summer
    assert cal.previous_vacation(date(2027, 3, 1)) == winter
    assert cal.next_term(date(2026, 12, 1)).start == date(2027, 2, 22)
    east = cal.vacation_at(date(2027, 1, 18), "东校区")
    assert east is not None and east.start == date(2027, 1, 16)
    assert cal.term_at(date(2026, 8, 31), "东校区") is not None
    assert cal.term_at(date(2026, 8, 31)) is None
    assert cal.term_at(date(2027, 3, 1), "东校区").name == "2026-2027学年第二学期"  # the site's


def test_local_days_win_and_campus_days_stay_on_their_campus() -> None:
    """A city's day off is off everywhere; a campus's Saturday of classes only there."""
    cal = _loads(TERMS + """\
local:
  - {days: "2026-12-18", off: "全市中小学停课一天"}
  - {days: "2027-03-13", work: "运动会调课", campus: "东校区"}
""")
    assert not cal.workcal.is_workday(date(2026, 12, 18))
    assert cal.day(date(2026, 12, 18)).kind is DayKind.LOCAL_OFF
    assert not cal.workcal.is_workday(date(2027, 3, 13))
    assert cal.calendar_for("东校区").is_workday(date(2027, 3, 13))
    assert cal.day(date(2027, 3, 13), "东校区").kind is DayKind.LOCAL_WORK
    assert cal.workcal.add_workdays(date(2026, 12, 17), 1).day == date(2026, 12, 21)


def test_a_year_the_package_knows_may_be_declared_only_as_it_is() -> None:
    """Written before the package was upgraded, 2026 as published still loads; a wrong day does not."""
    text = """\
years:
  2026:
    holidays:
      "2026-01-01至2026-01-03": "元旦"
      "2026-02-15至2026-02-23": "春节"
      "2026-04-04至2026-04-06": "清明节"
      "2026-05-01至2026-05-05": "劳动节"
      "2026-06-19至2026-06-21": "端午节"
      "2026-09-25至2026-09-27": "中秋节"
      "2026-10-01至2026-10-07": "国庆节"
    workdays:
      "2026-01-04": "元旦"
      "2026-02-14": "春节"
      "2026-02-28": "春节"
      "2026-05-09": "劳动节"
      "2026-09-20": "国庆节"
      "2026-10-10": "国庆节"
"""
    assert _loads(text).arrangement(2026) is Arrangement.PUBLISHED
    ((line, message),) = _problems(text.replace('"2026-10-10": "国庆节"', '"2026-10-11": "国庆节"'))
    assert line == 2 and "2026-10-10 内置为工作日" in message and "local" in message


# -- bad input --------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "fragment", "words"), [
    (INVENTED_2027.replace('"2027-04-03至2027-04-05": "清明节"',
                           '"2027-04-03至2027-04-05": "清明节"\n      "2027-04-05": "清明"'),
     '"2027-04-05": "清明"', ["2027-04-05", "清明节", "只能有一个名称"]),
    (INVENTED_2027.replace('"2027-02-20": "春节"', '"2027-02-19": "春节"'),
     '"2027-02-19"', ["调休上班日", "星期五", "星期六或星期日"]),
    (INVENTED_2027.replace('"2027-04-25": "劳动节"', '"2027-05-01": "劳动节"'),
     '"2027-05-01": "劳动节"', ["既放假又上班"]),
    (TERMS.replace('end: "2027-07-09"', 'end: "2027-02-01"'), 'end: "2027-02-01"', ["早于开始日期"]),
    (TERMS.replace('start: "2027-02-22"', 'start: "2027-01-20"'), 'start: "2027-01-20"', ["时间重叠", "第3行"]),
    (TERMS.replace('campus: "东校区"', 'campus: "西校区"'), "西校区", ["未知的校区“西校区”", "本部、东校区"]),
    (TERMS + 'local:\n  - {days: "2026-12-18", off: "停电", campus: "南校区"}\n', "南校区", ["未知的校区"]),
    (INVENTED_2027.replace('"2027-02-14"', '"2027-02-30"'), '"2027-02-30"', ["不存在"]),
    (INVENTED_2027.replace('"2027-02-14"', '"2027/02/14"'), '"2027/02/14"', ["YYYY-MM-DD"]),
    (INVENTED_2027.replace('"2027-02-06至2027-02-13"', '"2027-02-13至2027-02-06"'), "2027-02-13至", ["结束早于开始"]),
    (INVENTED_2027.replace('"2027-06-09至2027-06-11"', '"2028-06-09至2028-06-11"'), "2028-06-09", ["不属于2027年"]),
    (INVENTED_2027.replace("  2027:", "  27:"), "  27:", ["四位数字"]),
    ('local:\n  - {days: "2026-12-19", off: "周六"}\n', "2026-12-19", ["本来就是休息日", "星期六"]),
    ('local:\n  - {days: "2026-12-18", off: "停课", work: "补课"}\n', "2026-12-18", ["off", "work"]),
    ('local:\n  - {days: "2026-12-18", off: "停课"}\n  - {days: "2026-12-17至2026-12-18", work: "补课"}\n',
     "2026-12-17", ["已在第2行列为放假"]),
    ("years:\n  2027:\n    workdays: {}\n", "2027:", ["缺少必填项“holidays”"]),
    ("term:\n  - {name: x}\n", "term:", ["未知的键"]),
    ('terms:\n  - {name: "x", start: 2026-09-01, end: [1]}\n', "name", ["应为文字"]),
])
def test_bad_input_is_refused_with_its_line(text: str, fragment: str, words: list[str]) -> None:
    """Every kind of mistake names the line it is on and says what is wrong."""
    problems = _problems(text)
    line = _line_of(text, fragment)
    assert any(p_line == line and all(w in message for w in words) for p_line, message in problems), problems


def test_a_campus_term_may_replace_a_site_wide_one_but_not_overlap_its_own() -> None:
    """Overlap is checked within one scope: the site's terms, or one campus's."""
    assert _loads(TERMS).terms  # 东校区's first term overlaps the site's: allowed
    text = TERMS + '  - {name: "短学期", campus: "东校区", start: "2027-01-10", end: "2027-01-20"}\n'
    ((line, message),) = _problems(text)
    assert line == 6 and "与第5行" in message


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    """Several mistakes in calendar.yaml and one in org.yaml come out together; nothing loads."""
    text = INVENTED_2027.replace('"2027-02-20"', '"2027-02-19"') + TERMS.replace(
        'end: "2027-07-09"', 'end: "2027-02-01"').replace('campus: "东校区"', 'campus: "西校区"')
    problems = _problems(text)
    assert len(problems) == 3
    assert [line for line, _ in problems] == sorted(line for line, _ in problems)


def test_a_broken_calendar_stops_the_site_with_file_and_line(run: Cli) -> None:
    """`rectify check` lists calendar.yaml:line with the other files' problems; commands refuse."""
    (run.site / "calendar.yaml").write_text(INVENTED_2027.replace('"2027-02-20"', '"2027-02-19"'), encoding="utf-8")
    org = run.site / "org.yaml"
    org.write_text(org.read_text(encoding="utf-8").replace('head: "王建国"', 'head: "王二小"'), encoding="utf-8")
    out = run("check", code=1)
    line = _line_of(INVENTED_2027, '"2027-02-20"')
    assert f"calendar.yaml:{line}: 调休上班日 2027-02-19" in out.stderr
    assert "org.yaml:" in out.stderr and "发现 2 个问题" in out.stderr
    assert "calendar.yaml" in run("list", code=1).stderr
    with pytest.raises(ConfigError):
        load_site_files(load_config(run.site))


def test_a_site_without_calendar_yaml_keeps_working(run: Cli) -> None:
    """Older sites have no calendar.yaml: everything works and `check` suggests adding one."""
    (run.site / "calendar.yaml").unlink()
    out = run("check")
    assert "站点文件校验通过" in out.stdout and "rectify calendar init" in out.stderr
    run("report", "--title", "灭火器过期", "--category", "消防", "--unit", "保卫处", "--reporter", "郭晓明")
    assert "calendar.yaml" in run("calendar", "check", "--at", "2026-06-01", code=1).stderr
    run("calendar", "init")
    assert (run.site / "calendar.yaml").exists() and (run.site / "calendar.schema.json").exists()
    assert "已有" in run("calendar", "init", code=1).stderr


def test_init_writes_the_calendar_and_its_schema(run: Cli) -> None:
    """`rectify init` writes calendar.yaml and the schema it references."""
    text = (run.site / "calendar.yaml").read_text(encoding="utf-8")
    assert text.startswith("# yaml-language-server: $schema=calendar.schema.json")
    shipped = json.loads((run.site / "calendar.schema.json").read_text(encoding="utf-8"))
    assert shipped == json.loads(json.dumps(sitecalendar.schema_document()))


def test_the_commented_2027_template_loads_once_uncommented() -> None:
    """Uncommenting the template in the shipped file gives a loadable (invented) 2027."""
    text = site_file("calendar.yaml").read_text(encoding="utf-8")
    uncommented = re.sub(r'(?m)^#(  +(?:"|\d|- \{|notice|holidays|workdays))', r"\1", text)
    cal = _loads(uncommented)
    assert cal.arrangement(2027) is Arrangement.DECLARED and cal.local


# -- deadlines --------------------------------------------------------------------------


def _deadline(site: Path | None, *args: str) -> dict:
    prefix = ["--site", str(site)] if site else []
    result = CliRunner().invoke(cli, [*prefix, "deadline", *args, "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_a_count_into_2027_is_provisional_until_the_site_declares_2027(run: Cli) -> None:
    """10 working days from 24 Dec 2026: provisional on the package, exact once 2027 is
    declared (the same day here); 35 working days cross 春节 and land later once it is known."""
    before = _deadline(run.site, "10个工作日内", "--ref", "2026-12-24")
    assert before["provisional"] is True and before["dues"] == ["2027-01-08"]
    assert "2027" in before["warnings"][0] and "calendar.yaml" in before["warnings"][0]
    assert _deadline(run.site, "35个工作日内", "--ref", "2026-12-24")["dues"] == ["2027-02-12"]
    (run.site / "calendar.yaml").write_text(INVENTED_2027, encoding="utf-8")
    after = _deadline(run.site, "10个工作日内", "--ref", "2026-12-24")
    assert after["provisional"] is False and after["dues"] == ["2027-01-08"] and after["warnings"] == []
    crossing = _deadline(run.site, "35个工作日内", "--at", "2026-12-24")
    assert crossing["provisional"] is False and crossing["dues"] == ["2027-02-18"]


def test_deadline_works_without_a_site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Outside any site the package's calendar is used; a named non-site is an error."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("RECTIFY_SITE", raising=False)
    assert _deadline(None, "10个工作日内", "--ref", "2026-12-24")["provisional"] is True
    result = CliRunner().invoke(cli, ["--site", str(tmp_path), "deadline", "3日内"])
    assert result.exit_code == 1 and "rectify init" in result.stderr


def test_items_use_the_site_calendar(run: Cli) -> None:
    """An item found on 24 Dec 2026 with 35个工作日内 is provisional; after 2027 is declared a
    new one is exact, and `show --json` says so."""
    def report(title: str) -> dict:
        out = run("report", "--title", title, "--category", "消防", "--unit", "保卫处", "--reporter", "郭晓明",
                  "--found-at", "2026-12-24T09:00", "--at", "2026-12-24T09:00", "--deadline", "35个工作日内", "--json")
        return json.loads(run("show", str(json.loads(out.stdout)["id"]), "--json").stdout)

    first = report("楼道应急灯损坏")
    assert first["provisional"] is True and first["due"] == "2027-02-12"
    (run.site / "calendar.yaml").write_text(INVENTED_2027, encoding="utf-8")
    second = report("配电室门锁损坏")
    assert second["provisional"] is False and second["due"] == "2027-02-18"


# -- calendar show / check --------------------------------------------------------------


def test_show_a_declared_year_as_the_notice_reads(run: Cli) -> None:
    """Festival by festival with make-up days, then a month grid with marks."""
    (run.site / "calendar.yaml").write_text(INVENTED_2027 + TERMS, encoding="utf-8")
    out = run("calendar", "show", "2027", "--month", "2").stdout
    assert "按站点日历" in out and "calendar.yaml:2" in out
    assert "春节：2月6日（星期六）至2月13日（星期六）放假，共8天；2月14日（星期日）、2月20日（星期六）上班" in out
    assert " 8休  9休 10休 11休 12休 13休 14班" in out
    assert "寒假 2月1日—2月21日；2026-2027学年第二学期 2月22日—2月28日" in out
    data = json.loads(run("calendar", "show", "2027", "--json").stdout)
    assert data["arrangement"] == "declared"
    assert {"name": "春节", "start": "2027-02-06", "end": "2027-02-13", "days": 8} in data["holidays"]
    assert [d["date"] for d in data["makeup_workdays"]] == [
        "2027-02-14", "2027-02-20", "2027-04-25", "2027-09-26", "2027-10-09"]
    february = data["months"][1]
    assert (february["workdays"], february["days_off"]) == (17, 11)
    assert data["workdays"] + data["days_off"] == 365


def test_show_says_when_a_year_is_published_or_unknown(run: Cli) -> None:
    """2026 is the package's; 2027 undeclared is provisional, with only the fixed holidays."""
    out = run("calendar", "show", "2026", "--month", "10").stdout
    assert "已内置" in out and "国庆节：10月1日（星期四）至10月7日（星期三）放假，共7天；10月10日（星期六）上班" in out
    unknown = run("calendar", "show", "2027").stdout
    assert "尚未公布" in unknown and "暂定" in unknown and "春节" not in unknown
    data = json.loads(run("calendar", "show", "2027", "--json").stdout)
    assert data["arrangement"] == "provisional"
    assert [h["name"] for h in data["holidays"]] == ["元旦", "劳动节", "国庆节"]


def test_show_per_campus(run: Cli) -> None:
    """--campus shows that campus's terms and local days; an unknown campus is a usage error."""
    (run.site / "calendar.yaml").write_text(
        TERMS + 'local:\n  - {days: "2027-01-11", off: "东校区停电检修", campus: "东校区"}\n', encoding="utf-8")
    east = json.loads(run("calendar", "show", "2027", "--month", "1", "--campus", "东校区", "--json").stdout)
    assert east["vacations"][0]["start"] == "2027-01-16"
    assert east["local"] == [{"date": "2027-01-11", "weekday": 1, "working": False, "kind": "local_off",
                              "name": "东校区停电检修", "off": True}]
    site_wide = json.loads(run("calendar", "show", "2027", "--month", "1", "--json").stdout)
    assert site_wide["local"] == [] and site_wide["vacations"][0]["start"] == "2027-01-23"
    assert "未知的校区" in run("calendar", "show", "2027", "--campus", "西校区", code=2).stderr


def test_check_warns_from_1_november_when_next_year_is_missing(run: Cli) -> None:
    """On 31 October nothing to say; from 1 November the missing 2027 is named with what to do."""
    (run.site / "calendar.yaml").write_text(TERMS, encoding="utf-8")
    assert "站点日历检查通过" in run("calendar", "check", "--at", "2026-10-31").stdout
    out = run("calendar", "check", "--at", "2026-11-01", code=1)
    assert "2027年（下一年）的法定节假日安排尚未写入" in out.stderr and "years: 2027" in out.stderr
    data = json.loads(run("calendar", "check", "--at", "2026-11-01", "--json", code=1).stdout)
    assert data["years"] == {"2026": "published", "2027": "provisional"} and len(data["warnings"]) == 1
    (run.site / "calendar.yaml").write_text(INVENTED_2027 + TERMS, encoding="utf-8")
    assert "2027年法定节假日安排：已写入" in run("calendar", "check", "--at", "2026-11-01").stdout


def test_check_warns_about_missing_terms_and_festivals(run: Cli) -> None:
    """No term now or soon, the next term not written near the end of this one, a festival
    left out of a declared year: each is a warning."""
    (run.site / "calendar.yaml").write_text(TERMS, encoding="utf-8")
    assert "下一学期尚未写入" in run("calendar", "check", "--at", "2027-06-01", code=1).stderr
    assert "没有学期包含今天" in run("calendar", "check", "--at", "2027-07-20", code=1).stderr
    (run.site / "calendar.yaml").write_text(
        INVENTED_2027.replace('      "2027-06-09至2027-06-11": "端午节"\n', "") + TERMS, encoding="utf-8")
    out = run("calendar", "check", "--at", "2026-12-01", code=1)
    assert "端午节（2027-06-09" in out.stderr


# -- the daemon -------------------------------------------------------------------------


def test_the_daemon_reloads_calendar_yaml_and_refuses_a_broken_edit(sqlite_site: Path) -> None:
    """Declaring 2027 swaps the engine's calendar on reload; a broken edit keeps the last good
    one, with calendar.yaml:line in the refusal."""
    daemon = Daemon(sqlite_site, FakeClock(datetime(2026, 12, 1, 1, 0, tzinfo=UTC)))
    try:
        engine = daemon.app.service
        old = engine.calendar
        assert not old.knows(2027)
        path = sqlite_site / "calendar.yaml"
        assert daemon._is_watched(None, str(path))
        path.write_text(INVENTED_2027 + TERMS, encoding="utf-8")
        assert daemon.reload("test") is True
        assert engine.calendar is not old and engine.calendar.knows(2027)
        assert engine.calendar is daemon.app.site.calendar.workcal
        good = engine.calendar
        path.write_text(INVENTED_2027.replace('"2027-02-20"', '"2027-02-19"') + TERMS, encoding="utf-8")
        assert daemon.reload("test") is False
        assert engine.calendar is good
        (alert,) = [message_from_bytes(p.read_bytes(), policy=default) for p in (sqlite_site / "mail").glob("*.eml")]
        assert "admin@example.org" in alert["To"]
        assert "calendar.yaml:" in alert.get_body(("plain",)).get_content()
    finally:
        daemon.close()


def test_open_app_gives_the_engine_the_site_calendar(sqlite_site: Path) -> None:
    """Commands plan with the site's calendar, not the package's default."""
    (sqlite_site / "calendar.yaml").write_text(INVENTED_2027, encoding="utf-8")
    app = open_app(sqlite_site)
    try:
        assert app.service.calendar is app.site.calendar.workcal and app.service.calendar.knows(2027)
    finally:
        app.close()
