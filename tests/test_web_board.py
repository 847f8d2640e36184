"""The 综合看板 through the ASGI client: its numbers are engine.dashboard.build's, every
number links to a list of exactly that many items (paged, each opening its item page),
who may see it (and how far), the downloads are the CLI's workbooks, the dead letters,
and the page's markup for phones."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from html import escape, unescape
from pathlib import Path

import pytest
from openpyxl import load_workbook

from adapters.web.board import link
from adapters.wiring import App, open_app
from engine import dashboard
from engine.access import scope_of
from engine.clock import FakeClock
from engine.dashboard import Dashboard, Figure
from engine.ports import Query
from engine.reports import parse_period
from engine.scheduler import Composed
from engine.service import NewItem
from tests.conftest import START, audit_findings
from tests.webclient import Browser, advance, hazard, text_of

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

FIGURE = re.compile(r'<a class="figure" href="([^"]*)">(\d+)</a>')
ITEM_LINK = re.compile(r'href="/items/(\d+)"')


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    """A small school: 保卫处 hazards in every state, a 总务处 one, 22 教务处 ones (more
    than a page), a task; 60 days on, so most are overdue."""
    from adapters.sitesetup import create_site

    site = tmp_path_factory.mktemp("board") / "site"
    create_site(site)
    application = open_app(Path(site), FakeClock(START))
    for state in ("reported", "assigned", "rectifying", "verified", "closed"):
        hazard(application, f"保卫处隐患{state}", state=state)
    hazard(application, "总务处燃气隐患", unit="总务处", state="rectifying", category="燃气")
    for n in range(22):
        application.service.report(NewItem(title=f"实验室隐患{n}", category="实验室及危化品", level="一般",
                                           unit="教务处", reporter="郭晓明"))
    advance(application, days=60)
    application.service.report(NewItem(title="新上报隐患", category="消防", level="一般", unit="保卫处",
                                       reporter="郭晓明"))
    yield application
    try:
        assert audit_findings(application) == []
    finally:
        application.close()


@pytest.fixture(scope="module")
def browsers(app: App) -> dict[str, Browser]:
    return {p: Browser(app).login(p) for p in ("周安宁", "林正道", "罗静", "陈立德", "赵卫东", "王建国", "马建军",
                                               "张海峰")}


def figures(d: Dashboard) -> list[Figure]:
    """Every number of the dashboard."""
    found = [d.open, d.overdue.figure, d.supervised.figure]
    if d.kind == "hazard":
        found += [d.tasks_open, d.tasks_overdue]
    found += [r.open for r in d.by_state]
    for row in (*d.by_unit, *d.by_category):
        found += [row.open, row.overdue, row.supervised]
    for view in (d.current, d.previous):
        for u in [*view.units, *([view.total] if view.total else [])]:
            found += [u.found, u.closed, u.new, u.closed_in_period]
            found += [f for f in (u.open, u.overdue) if f is not None]
    return found


def shown(page: str) -> list[tuple[str, int]]:
    return [(unescape(href), int(value)) for href, value in FIGURE.findall(page)]


@pytest.mark.parametrize("kind", ["hazard", "task"])
def test_the_numbers_are_the_dashboards(app: App, browsers: dict[str, Browser], kind: str) -> None:
    page = browsers["周安宁"].get(f"/board?kind={kind}" if kind == "task" else "/board")
    assert page.status_code == 200
    d = dashboard.build(app.service, app.service.clock.now(), None, kind=kind)
    assert set(shown(page.text)) == {(link(f.selection), f.value) for f in figures(d)}
    text = text_of(page.text)
    assert "全校" in text and d.current.label in text and "本期尚未结束" in text
    assert "（截至4月30日）" in d.current.label and d.previous.label == "2021年第一季度"
    for row in d.overdue.rows:
        assert f'href="/items/{row.item_id}"' in page.text


@pytest.mark.slow
def test_every_number_lists_that_many_items(app: App, browsers: dict[str, Browser]) -> None:
    office = browsers["周安宁"]
    seen: dict[str, int] = {}
    for kind in ("hazard", "task"):
        seen.update(shown(office.get(f"/board?kind={kind}").text))
    assert len(seen) > 30 and any(v > 20 for v in seen.values())
    for href, value in seen.items():
        ids: list[int] = []
        path: str | None = href
        while path:
            answer = office.get(path)
            assert answer.status_code == 200, (href, text_of(answer.text))
            assert f"共 {value} 项" in text_of(answer.text), href
            ids += [int(i) for i in ITEM_LINK.findall(answer.text)]
            following = re.search(r'href="([^"]*)">下一页<', answer.text)
            path = unescape(following.group(1)) if following else None
        assert len(ids) == len(set(ids)) == value, href
    some = next(h for h, v in seen.items() if v > 20)
    second = office.get(some + "&page=2")
    assert "第 2/2 页" in text_of(second.text)
    for item_id in ITEM_LINK.findall(second.text):
        assert office.get(f"/items/{item_id}").status_code == 200


def test_a_list_is_titled_in_chinese_and_bad_selections_are_refused(app: App, browsers: dict[str, Browser]) -> None:
    office = browsers["周安宁"]
    page = office.get("/board/items?kind=hazard&status=open&unit=保卫处&overdue=1&order=overdue")
    assert page.status_code == 200 and "在办、保卫处、逾期的隐患" in text_of(page.text)
    closed = text_of(office.get("/board/items?kind=hazard&status=closed").text)
    assert "已办结的隐患" in closed and "保卫处隐患closed" in closed and "已办结" in closed
    assert "今天到期" not in closed and "逾期" not in closed.split("返回综合看板", 1)[1]
    for query in ("status=nope", "colour=red", "overdue=yes", "found_from=2021-13-01"):
        answer = office.get(f"/board/items?{query}")
        assert answer.status_code == 400 and "筛选条件" in text_of(answer.text), query
        assert "Traceback" not in answer.text
    assert office.get("/board/items?kind=hazard&page=abc").status_code == 200
    assert office.get("/board?kind=nope").status_code == 400


@pytest.mark.parametrize("person", ["周安宁", "林正道", "罗静"])
def test_the_office_principal_and_admin_see_all_and_download(app: App, browsers: dict[str, Browser],
                                                             person: str) -> None:
    browser = browsers[person]
    page = browser.get("/board")
    assert page.status_code == 200 and 'href="/board"' in page.text
    assert "/board/ledger.xlsx" in page.text and "发送失败的邮件" in text_of(page.text)
    assert browser.get("/board/ledger.xlsx").status_code == 200


def test_a_leader_sees_their_units_only(app: App, browsers: dict[str, Browser]) -> None:
    leader = browsers["陈立德"]
    page = leader.get("/board")
    assert page.status_code == 200 and "陈立德分管的单位（" in text_of(page.text)
    scope = scope_of(app.service.org, "陈立德")
    d = dashboard.build(app.service, app.service.clock.now(), scope)
    assert set(shown(page.text)) == {(link(f.selection), f.value) for f in figures(d)}
    assert "总务处" not in text_of(page.text) and "教务处" not in text_of(page.text)
    assert "/board/ledger.xlsx" not in page.text and "发送失败的邮件" not in text_of(page.text)
    outside = leader.get("/board/items?kind=hazard&status=open&unit=总务处")
    assert "共 0 项" in text_of(outside.text) and "总务处燃气隐患" not in outside.text
    for path in ("/board/ledger.xlsx", "/board/stage-report.xlsx"):
        answer = leader.get(path)
        assert answer.status_code == 403 and "仅供综治办、校长和系统管理员" in text_of(answer.text)


@pytest.mark.parametrize(("head", "unit", "others"), [("赵卫东", "保卫处", ("总务处", "教务处")),
                                                      ("王建国", "总务处", ("保卫处", "教务处"))])
def test_a_unit_head_sees_the_units_they_head_only(app: App, browsers: dict[str, Browser], head: str, unit: str,
                                                   others: tuple[str, ...]) -> None:
    """A unit head's board: the numbers of their unit, each a link to exactly its items;
    nothing of another unit, whatever the link asks for; no school-wide downloads."""
    browser = browsers[head]
    assert 'href="/board"' in browser.get("/").text
    page = browser.get("/board")
    assert page.status_code == 200 and f"{head}负责的单位（{unit}）" in text_of(page.text)
    scope = scope_of(app.service.org, head)
    assert scope.units == frozenset({unit})
    d = dashboard.build(app.service, app.service.clock.now(), scope)
    assert d.open.value > 0 and set(shown(page.text)) == {(link(f.selection), f.value) for f in figures(d)}
    assert all(other not in text_of(page.text) for other in others)
    assert "/board/ledger.xlsx" not in page.text and "发送失败的邮件" not in text_of(page.text)
    for other in others:  # a hand-made link to another unit's items lists none of them
        outside = browser.get(f"/board/items?kind=hazard&status=open&unit={other}")
        assert outside.status_code == 200 and "共 0 项" in text_of(outside.text)
    listed = browser.get(link(d.open.selection))
    ids = {int(i) for i in ITEM_LINK.findall(listed.text)}
    assert f"共 {d.open.value} 项" in text_of(listed.text) and ids
    assert {app.store.get(i).unit for i in ids} == {unit}
    assert all(browser.get(f"/items/{i}").status_code == 200 for i in ids)
    for path in ("/board/ledger.xlsx", "/board/stage-report.xlsx", "/board/stage-report.xlsx?period=2021Q1"):
        answer = browser.get(path)
        assert answer.status_code == 403 and "仅供综治办、校长和系统管理员" in text_of(answer.text)
    assert browser.post("/board/dead-letters/retry", {"message": "1"}).status_code == 403


@pytest.mark.parametrize("person", ["马建军", "张海峰"])
def test_others_are_refused_in_chinese(app: App, browsers: dict[str, Browser], person: str) -> None:
    browser = browsers[person]
    assert 'href="/board"' not in browser.get("/").text
    for path in ("/board", "/board?kind=task", "/board/items?kind=hazard&status=open", "/board/ledger.xlsx",
                 "/board/stage-report.xlsx?period=2021Q1"):
        answer = browser.get(path)
        assert answer.status_code == 403, path
        assert "综合看板仅供综治办、校长、系统管理员、分管校领导和单位负责人查看" in text_of(answer.text)
        assert "保卫处隐患" not in answer.text


def test_the_board_needs_a_login(app: App) -> None:
    anonymous = Browser(app)
    for path in ("/board", "/board/items", "/board/ledger.xlsx"):
        answer = anonymous.get(path)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/login?next=")


def _cells(content: bytes) -> dict[str, list[tuple[object, ...]]]:
    book = load_workbook(io.BytesIO(content))
    return {ws.title: [tuple(r) for r in ws.iter_rows(values_only=True)] for ws in book.worksheets}


def test_the_ledger_download_is_rectify_exports_file(app: App, browsers: dict[str, Browser],
                                                     tmp_path: Path) -> None:
    from adapters.export import ledger_export, write

    answer = browsers["周安宁"].get("/board/ledger.xlsx")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    assert "attachment;" in answer.headers["content-disposition"]
    assert "filename*=UTF-8''%E5%8F%B0%E8%B4%A6-20210430.xlsx" in answer.headers["content-disposition"]
    got = _cells(answer.content)
    path = tmp_path / "台账.xlsx"
    write(path, ledger_export(app, app.store.query(Query()), app.service.clock.now()))
    assert got == _cells(path.read_bytes())
    assert list(got) == ["台账", "历史记录", "按单位汇总"] and len(got["台账"]) == 1 + 29


@pytest.mark.parametrize("period", ["2021Q1", "2021Q2", ""])
def test_the_stage_report_download_is_the_cli_workbook(app: App, browsers: dict[str, Browser], period: str) -> None:
    from adapters import stagereport
    from adapters.stagebook import workbook_bytes

    answer = browsers["林正道"].get("/board/stage-report.xlsx" + (f"?period={period}" if period else ""))
    assert answer.status_code == 200
    key = period or "2021Q2"
    assert f"%E9%98%B6%E6%AE%B5%E6%95%B4%E6%B2%BB%E6%83%85%E5%86%B5-{key}.xlsx" in answer.headers["content-disposition"]
    report = stagereport.produce(app, parse_period(key), app.service.clock.now())
    assert _cells(answer.content) == _cells(workbook_bytes(report, app.config.timezone))
    assert "汇总" in _cells(answer.content)


def test_a_bad_period_is_refused(app: App, browsers: dict[str, Browser]) -> None:
    answer = browsers["周安宁"].get("/board/stage-report.xlsx?period=2021Q9")
    assert 400 <= answer.status_code < 500 and "Traceback" not in answer.text
    assert "报告期" in text_of(answer.text) or "无效" in text_of(answer.text)


def test_dead_letters_are_listed_for_the_office(app: App, browsers: dict[str, Browser]) -> None:
    outbox = app.outbox
    at = app.service.clock.now()
    message = outbox.add_message(Composed("赵卫东", "zhao.weidong@example.org", "【逾期督办】<b>保卫处</b>", "正文",
                                          None, ()), at)
    outbox.mark_dead(message, 8, "550 邮箱不存在")
    page = browsers["周安宁"].get("/board")
    text = text_of(page.text)
    assert "zhao.weidong@example.org" in text and "550 邮箱不存在" in text and "【逾期督办】<b>保卫处</b>" in text
    assert escape("<b>保卫处</b>") in page.text  # escaped, never markup
    assert "550 邮箱不存在" not in browsers["陈立德"].get("/board").text
    # Sent again from the page: back in the queue, and gone from the list.
    leader = browsers["陈立德"].post("/board/dead-letters/retry", {"message": str(message)})
    assert leader.status_code == 403
    office = browsers["周安宁"]
    assert office.post("/board/dead-letters/retry", {"message": str(message)}, csrf="").status_code == 403
    assert office.post("/board/dead-letters/retry", {}).status_code == 400
    assert [r.status for r in outbox.list_messages(("dead",))] == ["dead"]
    answer = office.post("/board/dead-letters/retry", {"message": str(message)})
    assert answer.status_code == 303 and outbox.list_messages(("dead",)) == []
    page = office.get(answer.headers["location"])
    assert "已放回待发队列 1 封" in text_of(page.text) and "550 邮箱不存在" not in page.text


def test_the_page_is_made_for_phones(app: App, browsers: dict[str, Browser]) -> None:
    for path in ("/board", "/board?kind=task", "/board/items?kind=hazard&status=open&overdue=1&order=overdue"):
        text = text_of(browsers["周安宁"].get(path).text)
        assert not re.search(r"[a-z]+_[a-z]+|Selection\(|None|True|False", text), path  # no internal names
    page = browsers["周安宁"].get("/board").text
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page
    tables = page.count("<table")
    assert tables >= 5 and page.count('<div class="table-wrap"><table') == tables
    svgs = re.findall(r"<svg [^>]*>", page)
    assert svgs and all('viewBox="0 0 390 ' in s and 'width="100%"' in s for s in svgs)
    assert "<script" not in page.split("</head>", 1)[1]  # no charting script: the chart is the SVG
    css = browsers["周安宁"].get("/static/app.css").text
    assert ".table-wrap { width: 100%; overflow-x: auto;" in css and ".chart svg { display: block; max-width: 100%;" in css
    assert "a.figure { display: inline-flex; align-items: center; min-width: 44px; min-height: 44px;" in css
