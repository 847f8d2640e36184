"""The ledger in and out: seed 000's task list imported from a real .xlsx, the 台账
exported and read back, and the stage report counted from the ledger and mailed by
the daemon at the period's end."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from adapters.daemon import Daemon
from adapters.sitefiles import load_org
from engine.clock import FakeClock
from engine.ports import Query
from engine.reports import parse_period
from engine.service import NewItem
from tests.conftest import Cli
from tests.orgfiles import CONFIGURED_NAME, address, configure_org
from tests.sheetdata import TASK_ROWS, hazard_list, task_list
from tests.smtpserver import Server

TZ = ZoneInfo("Asia/Shanghai")


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=TZ)


def _import(run: Cli, path: Path, *args: str, code: int = 0) -> dict:
    result = run("import", str(path), "--json", *args, code=code)
    return json.loads(result.stdout) if code == 0 else {"stderr": result.stderr}


# -- seed 000's task list -------------------------------------------------------------


def test_seed_000_task_list_becomes_eight_tasks_with_their_deadlines(run: Cli, tmp_path: Path) -> None:
    path = task_list(tmp_path / "任务清单.xlsx")
    out = _import(run, path)
    rows = out["rows"]
    assert out["summary"]["new"] == 9 and out["summary"]["changed"] == 0
    # Eight numbered tasks; task 3's two requirements are two items with their own deadlines.
    numbers = [r["key"].rsplit(":", 1)[1] for r in rows]
    assert numbers == ["1", "2", "3", "3.2", "4", "5", "6", "7", "8"]
    assert len({n.split(".")[0] for n in numbers}) == 8
    items = {i["id"]: i for i in json.loads(run("list", "--json").stdout)}
    by_key = {r["key"].rsplit(":", 1)[1]: items[r["item_id"]] for r in rows}

    assert by_key["3"]["due"] == "2020-12-31" and by_key["3.2"]["due"] == "2022-12-31"
    assert by_key["3"]["title"].endswith("（要求1）") and by_key["3.2"]["title"].endswith("（要求2）")
    assert by_key["6"]["due"] == "2020-12-31" and by_key["5"]["due"] == "2022-12-31"
    # "立整立改\n长期坚持": due at once (the campaign's reference day) and kept up afterwards.
    first = next(r for r in rows if r["key"].endswith(":1"))
    assert first["deadline"] == "立即整改，长期坚持"
    assert by_key["1"]["due"] == "2020-08-01"
    show = json.loads(run("show", str(first["item_id"]), "--json").stdout)
    assert show["deadline"] == "立整立改\n长期坚持"

    # Blank cells carried down from the merged cells above.
    two = json.loads(run("show", str(by_key["2"]["id"]), "--json").stdout)
    assert two["project"] == "学习宣传贯彻习近平总书记重要论述"
    assert two["unit"] == "综治办"  # same phrase as task 1: nobody named, the office coordinates
    five = json.loads(run("show", str(by_key["5"]["id"]), "--json").stdout)
    assert five["project"] == "重点领域安全专项治理"
    assert five["unit"] == "总务处" and five["responsible"] == "王建国"
    second = json.loads(run("show", str(by_key["3.2"]["id"]), "--json").stdout)
    assert second["unit"] == "人事处" and second["co_units"] == "保卫处、学校网络中心"
    assert second["requirement"].startswith("依托教育城域网络")


def test_phrases_naming_no_single_unit_are_read_as_the_rules_say(run: Cli, tmp_path: Path) -> None:
    rows = {r["key"].rsplit(":", 1)[1]: r for r in _import(run, task_list(tmp_path / "t.xlsx"))["rows"]}
    offices = ["总务处", "保卫处", "教务处", "学工处", "人事处", "学校网络中心", "党政办", "车管组", "基建办", "宿管办"]
    colleges = ["机电工程学院", "信息工程学院"]
    # 学校各相关处室、二级学院按职责分工负责: every office and college, the safety office leads.
    assert rows["1"]["units"] == "牵头：综治办；配合：" + "、".join(offices + colleges)
    # …、二级学院及相关协调部门: the named units lead, the colleges assist.
    assert rows["4"]["units"] == "牵头：综治办；配合：学工处、总务处、基建办、宿管办、" + "、".join(colleges)
    # 教务处、综治办及相关部门: 教务处 leads, everyone else assists.
    assert rows["6"]["unit"] == "教务处"
    assert rows["6"]["units"].startswith("牵头：教务处；配合：综治办、总务处")
    # 党政办、车管组: two named units.
    assert rows["7"]["units"] == "牵头：党政办；配合：车管组"


def test_demo_org_knows_every_unit_named_in_seed_000() -> None:
    from adapters.resources import site_file

    org = load_org(site_file("org.yaml"))
    named = ["人事处", "保卫处", "学校网络中心", "综治办", "学工处", "总务处", "基建办", "宿管办", "教务处",
             "党政办", "车管组"]
    for name in named:
        assert org.unit(name).name == name
    assert any(u.kind == "college" for u in org.units.values())  # 二级学院


def test_importing_the_same_list_again_creates_nothing_and_reports_changes(run: Cli, tmp_path: Path) -> None:
    path = task_list(tmp_path / "t.xlsx")
    first = _import(run, path)
    again = _import(run, path)
    assert again["summary"] == {"new": 0, "changed": 0, "unchanged": 9, "kept": 0}
    assert len(json.loads(run("list", "--json").stdout)) == 9
    # The office moves task 8's deadline and rewords task 5's requirement.
    rows = [list(r) for r in TASK_ROWS]
    rows[-1][6] = "2021年6月底前"
    rows[5][5] = "建立食品安全追溯体系。"
    edited = _import(run, task_list(tmp_path / "t2.xlsx", [tuple(r) for r in rows]))
    assert edited["summary"]["changed"] == 2 and edited["summary"]["new"] == 0
    changed = {r["key"].rsplit(":", 1)[1]: r for r in edited["rows"] if r["action"] == "changed"}
    assert changed["8"]["changes"]["deadline"] == ["2020年底前", "2021年6月底前"]
    assert changed["8"]["changes"]["due"] == ["2020-12-31", "2021-06-30"]
    assert set(changed["5"]["changes"]) == {"requirement"}
    task8 = next(r["item_id"] for r in first["rows"] if r["key"].endswith(":8"))
    history = json.loads(run("show", str(task8), "--json").stdout)["history"]
    assert [h["event"] for h in history] == ["report", "import"]
    assert history[-1]["actor"] == "周安宁"


def test_dry_run_lists_every_row_and_writes_nothing(run: Cli, tmp_path: Path) -> None:
    path = task_list(tmp_path / "t.xlsx")
    out = run("import", str(path), "--dry-run").stdout
    assert "预检" in out and "新增 9 项" in out
    assert out.count("新增") >= 10
    assert json.loads(run("list", "--json").stdout) == []


def test_a_task_list_as_csv_in_gb18030(run: Cli, tmp_path: Path) -> None:
    path = tmp_path / "tasks.csv"
    lines = ["序号,整治内容,责任单位,整治要求,完成时间",
             "1,校车安全监管不到位,党政办、车管组,健全校车安全管理制度,2020年底前",
             ",,,清理不达标载客汽车,2021年6月底前"]
    path.write_bytes("\r\n".join(lines).encode("gb18030"))
    out = _import(run, path)
    assert [r["deadline"] for r in out["rows"]] == ["2020-12-31", "2021-06-30"]
    assert [r["unit"] for r in out["rows"]] == ["党政办", "党政办"]


# -- the 台账 out and back in -----------------------------------------------------------


def _hazards(run: Cli, tmp_path: Path) -> dict:
    rows = [
        ["H-1", "实验楼消防通道堆放杂物", "消防", "一般", "保卫处", "实训楼一层", "2021-03-01", "3日内", "清理杂物"],
        ["H-2", "食堂燃气管道老化", "燃气", "重大隐患", "总务处、基建办", "第一食堂", date(2021, 3, 2), None, None],
        ["H-3", "危化品台账不全", "实验室及危化品", "一般", "教务处", "B201", datetime(2021, 3, 3, 10, 30),
         date(2021, 3, 31), "补齐台账"],
    ]
    return _import(run, hazard_list(tmp_path / "隐患.xlsx", rows))


def test_a_hazard_list_with_chinese_headers(run: Cli, tmp_path: Path) -> None:
    out = _hazards(run, tmp_path)
    assert out["summary"]["new"] == 3
    items = {i["title"]: i for i in json.loads(run("list", "--json").stdout)}
    gas = items["食堂燃气管道老化"]
    assert gas["level"] == "重大" and gas["workflow"] == "major_hazard" and gas["unit"] == "总务处"
    assert items["危化品台账不全"]["due"] == "2021-03-31"
    shown = json.loads(run("show", str(gas["id"]), "--json").stdout)
    assert shown["co_units"] == "基建办"
    assert shown["found_at"].startswith("2021-03-02T00:00")


def test_english_headers_are_understood(run: Cli, tmp_path: Path) -> None:
    header = ["title", "category", "level", "unit", "location", "found date", "deadline", "measures"]
    path = hazard_list(tmp_path / "h.xlsx", [["Loose railing", "建筑与施工", "general", "基建办", "Gym",
                                              "2021/3/5", "7个工作日内", "Weld it"]], header=header)
    out = _import(run, path)
    assert out["rows"][0]["unit"] == "基建办" and out["rows"][0]["deadline"] == "2021-03-16"


@pytest.mark.slow
def test_export_then_import_round_trips(run: Cli, tmp_path: Path) -> None:
    _import(run, task_list(tmp_path / "t.xlsx"))
    _hazards(run, tmp_path)
    ledger = tmp_path / "台账.xlsx"
    run("export", str(ledger), "--at", "2021-04-01")
    wb = load_workbook(ledger, read_only=True)
    assert wb.sheetnames == ["台账", "历史记录", "按单位汇总"]
    rows = list(wb["台账"].iter_rows(values_only=True))
    header, body = rows[0], rows[1:]
    assert len(body) == 12
    record = {r[header.index("标题")]: dict(zip(header, r, strict=True)) for r in body}
    fire = record["实验楼消防通道堆放杂物"]
    assert fire["状态"] == "已上报" and fire["截止日期"].date() == date(2021, 3, 4)
    assert fire["逾期天数"] == 28 and fire["当前督办"] == "约谈"  # 19 working days late by 1 April
    summary = list(wb["按单位汇总"].iter_rows(values_only=True))
    assert summary[0] == ("责任单位", "发现", "已销号", "未销号", "逾期", "整改率")
    assert summary[-1][:5] == ("合计", 12, 0, 12, 8)  # six 2020 tasks and two hazards
    history = list(wb["历史记录"].iter_rows(values_only=True))
    assert len(history) == 1 + 12 and history[1][3] == "登记"  # the event's title, not its name
    wb.close()

    again = _import(run, ledger)
    assert again["summary"] == {"new": 0, "changed": 0, "unchanged": 12, "kept": 0}
    assert any("不导入" in w for w in again["warnings"])
    assert len(json.loads(run("list", "--json").stdout)) == 12

    # An edit in the exported file comes back as exactly that change.
    wb = load_workbook(ledger)
    ws = wb["台账"]
    head = [c.value for c in ws[1]]
    for row in ws.iter_rows(min_row=2):
        if row[head.index("标题")].value == "危化品台账不全":
            row[head.index("位置")].value = "实训楼B203"
    wb.save(ledger)
    edited = _import(run, ledger)
    assert edited["summary"]["changed"] == 1
    change = next(r for r in edited["rows"] if r["action"] == "changed")
    assert change["changes"] == {"location": ["B201", "实训楼B203"]}


def test_export_as_csv_and_filters(run: Cli, tmp_path: Path) -> None:
    _hazards(run, tmp_path)
    path = tmp_path / "ledger.csv"
    run("export", str(path), "--unit", "保卫处")
    text = path.read_text(encoding="utf-8-sig").splitlines()
    assert text[0].startswith("台账编号,来源编号,事项类型,标题") and len(text) == 2
    assert (tmp_path / "ledger-历史记录.csv").exists() and (tmp_path / "ledger-按单位汇总.csv").exists()
    err = run("export", str(tmp_path / "x.pdf"), code=2).stderr
    assert ".xlsx 或 .csv" in err


# -- stage reports ---------------------------------------------------------------------


def _quarter_of_history(app) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """Hazards over 2021Q1 and after: closed inside and after the quarter, overdue, major."""
    eng = app.service
    clock: FakeClock = eng.clock

    def report(title: str, day: str, **kw: object) -> int:
        clock.set(local(day))
        values = {"category": "消防", "unit": "保卫处", "reporter": "郭晓明", **kw}
        item = eng.report(NewItem(title=title, found_at=local(day), **values))  # type: ignore[arg-type]
        return int(item.id)

    def walk(item: int, day: str, *events: tuple[str, str, dict[str, str] | None]) -> None:
        at = local(day)
        for event, actor, sets in events:
            eng.fire(item, event, actor, sets, at=at)
            at += timedelta(hours=1)

    closing = [("assign", "周安宁", {"responsible": "马建军"}), ("start", "马建军", None),
               ("submit", "马建军", {"measures": "已整改", "evidence": "照片"}), ("verify", "郭晓明", None),
               ("close", "周安宁", None)]
    a = report("灭火器过期", "2021-01-05T09:00")
    walk(a, "2021-01-06T09:00", *closing)  # closed within Q1
    b = report("消防通道堵塞", "2021-02-01T09:00", unit="宿管办")
    walk(b, "2021-04-10T09:00", *closing[:1])  # still open at the end of Q1: overdue
    c = report("疏散指示灯损坏", "2021-03-25T09:00", category="其他", unit="总务处")  # not yet due
    d = report("配电房线路老化", "2021-01-04T09:00", level="重大", category="建筑与施工", unit="基建办",
               deadline="10日内")  # major, 2.5 months overdue: under 挂牌督办
    e = report("校车座椅破损", "2021-04-02T09:00", category="校车及交通", unit="车管组")  # after the quarter
    return {"closed": a, "overdue": b, "open": c, "major": d, "later": e}


def test_stage_report_numbers_match_the_ledger(app, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from adapters import stagereport

    ids = _quarter_of_history(app)
    app.service.clock.set(local("2021-05-01T09:00"))
    report = stagereport.produce(app, parse_period("2021Q1"), app.service.clock.now())

    # Counted independently from the ledger: items found before 1 April, closed before it.
    end = local("2021-04-01T00:00")
    hazards = [i for i in app.store.query(Query(kind=["hazard"])) if i.found_at < end]
    closed = [i for i in hazards if any(e.event == "close" and e.at < end for e in app.store.history(i.id))]
    assert report.total.found == len(hazards) == 4
    assert report.total.closed == len(closed) == 1
    assert report.total.rate == pytest.approx(0.25)
    assert report.total.new == 4 and report.total.closed_in_period == 1
    assert report.total.overdue == 2
    units = dict(report.by_unit)
    assert units["保卫处"].closed == 1 and units["保卫处"].rate == 1.0
    assert units["宿管办"].overdue == 1 and "车管组" not in units
    assert dict(report.by_level)["重大"].found == 1
    assert dict(report.by_category)["其他"].found == 1
    overdue = {row.item_id: row for row in report.overdue}
    assert set(overdue) == {ids["overdue"], ids["major"]}
    assert overdue[ids["major"]].supervised and overdue[ids["major"]].escalation in ("挂牌督办", "问责")
    assert [r.item_id for r in report.supervised] == [ids["major"]]
    # The item assigned after the quarter was still 已上报 at its end.
    assert overdue[ids["overdue"]].state_title == "已上报"


@pytest.mark.slow
def test_stage_report_command_writes_workbook_email_and_chart(app, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _quarter_of_history(app)
    run = Cli(app.config.root)
    out = json.loads(run("stage-report", "--period", "2021Q1", "--out", str(tmp_path / "r"), "--json").stdout)
    assert out["total"]["found"] == 4 and out["total"]["closed"] == 1
    files = [Path(f) for f in out["files"]]
    assert all(f.exists() for f in files)
    wb = load_workbook(files[0])
    assert "按单位" in wb.sheetnames
    eml = files[1].read_bytes()
    assert b"Content-ID: <chart-rate@rectify>" in eml and b"image/png" in eml
    assert files[2].read_bytes().startswith(b"\x89PNG")
    err = run("stage-report", "--period", "2021Q5", code=2).stderr
    assert "2021Q1（季度）" in err


@pytest.fixture
def smtp_site(site: Path, serve: Callable[..., Server]) -> tuple[Path, Server]:
    server = serve()
    configure_org(site)  # the higher authority is mailed only by a configured site
    path = site / "rectify.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace('transport: "file"', 'transport: "smtp"').replace("port: 25", f"port: {server.port}"),
                    encoding="utf-8")
    return site, server


@pytest.mark.slow
def test_the_daemon_mails_each_quarters_report_once_at_its_end(smtp_site: tuple[Path, Server]) -> None:
    site, server = smtp_site
    clock = FakeClock(local("2021-03-30T09:00"))
    daemon = Daemon(site, clock)
    try:
        _quarter_of_history(daemon.app)
        received = server.handler.received

        def reports_after(when: str) -> list:
            clock.set(local(when))
            before = len(received)
            daemon.tick(clock.now())
            return [r for r in received[before:] if str(r.message["Subject"]).startswith("【阶段整治情况】")]

        # 2020Q4 (the last period ended) ended before the site's first record: no report.
        assert reports_after("2021-03-31T09:00") == []
        assert reports_after("2021-03-31T23:59") == []
        # Produced as the quarter ends, at night: it waits for office hours (08:00).
        assert reports_after("2021-04-01T00:01") == []
        assert daemon.app.outbox.status(clock.now())["held_messages"] == 3
        assert reports_after("2021-04-01T07:59") == []
        q1 = reports_after("2021-04-01T08:00")
        assert sorted(r.rcpt_tos[0] for r in q1) == [address("anquan-chu"), address("lin.zhengdao"),
                                                      address("zongzhiban")]
        message = q1[0].message
        assert str(message["Subject"]) == f"【阶段整治情况】{CONFIGURED_NAME}2021年第一季度隐患整改情况报告"
        names = [part.get_filename() for part in message.iter_attachments()]
        assert "阶段整治情况-2021Q1.xlsx" in names
        html = message.get_body(("html",)).get_content()
        assert "cid:chart-rate@rectify" in html
        text = message.get_body(("plain",)).get_content()
        assert "累计排查隐患4项" in text.replace(" ", "")
        # A second daemon (or a restart) does not send it again.
        other = Daemon(site, clock)
        try:
            clock.set(local("2021-04-01T08:05"))
            before = len(received)
            other.tick(clock.now())
            assert not [r for r in received[before:] if str(r.message["Subject"]).startswith("【阶段整治情况】")]
        finally:
            other.app.close()
    finally:
        daemon.app.close()
