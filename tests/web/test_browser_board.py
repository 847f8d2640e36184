"""The 综合看板 in a real browser: the safety office opens it on a phone (390 × 844, 3×,
touch) and on a desktop screen, against real uvicorn. On each: the page fits the width
(tables scroll inside their cards), a number followed leads to the list of exactly that
many items and on to an item's page, a bar of the chart leads to its items, and on the
phone the 台账 download arrives as the workbook `rectify export` writes, one row per item.

Screenshots (综合看板 on the phone, 综合看板-电脑 on the desktop) go to
$RECTIFY_SCREENSHOTS when set: `RECTIFY_SCREENSHOTS=docs/screenshots` makes those in the
README."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from adapters.web import build
from adapters.web.login import operator_link
from adapters.wiring import App, open_app
from engine import dashboard
from engine.clock import FakeClock
from engine.ports import Query
from engine.service import NewItem
from tests.browser import PHONE, horizontal_overflow
from tests.conftest import START, audit_findings
from tests.webclient import advance, hazard

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.filterwarnings("ignore::DeprecationWarning")]

DESKTOP: dict[str, Any] = {"viewport": {"width": 1280, "height": 900}, "device_scale_factor": 1,
                           "locale": "zh-CN", "timezone_id": "Asia/Shanghai"}


@pytest.fixture
def app(sqlite_site: Path) -> Iterator[App]:
    """保卫处 hazards in every state, 总务处 and 教务处 ones, a 重大 one; 40 days on most
    are overdue and some under 挂牌督办; then a fresh report."""
    application = open_app(sqlite_site, FakeClock(START))
    for state in ("reported", "assigned", "rectifying", "submitted", "verified", "closed"):
        hazard(application, f"保卫处隐患（{state}）", state=state)
    hazard(application, "总务处燃气隐患", unit="总务处", state="rectifying", category="燃气")
    hazard(application, "总务处已销号隐患", unit="总务处", state="closed")
    for n in range(5):
        hazard(application, f"实验室隐患{n}", unit="教务处", category="实验室及危化品")
    application.service.report(NewItem(title="配电房重大隐患", category="消防", level="重大", unit="总务处",
                                       reporter="郭晓明"))
    advance(application, days=40)
    hazard(application, "新上报隐患")
    yield application
    try:
        assert audit_findings(application) == []
    finally:
        application.close()


def logged_in(chromium: Any, app: App, url: str, person: str, device: dict[str, Any]) -> Any:
    context = chromium.new_context(**device, accept_downloads=True)
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto(operator_link(app, person, app.service.clock.now(), url))
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(url + "/")
    return page


def fits(page: Any) -> None:
    """No horizontal scrolling at the page's width (phone or desktop)."""
    width = int(page.evaluate("window.innerWidth"))
    assert int(page.evaluate("document.documentElement.scrollWidth")) <= width, page.url
    if width == PHONE["viewport"]["width"]:
        assert horizontal_overflow(page) <= 0


def follow(page: Any, locator: Any, expected: int, tap: bool) -> list[str]:
    """Follow a number (or a bar) to its list: exactly `expected` items, each opening its
    page. The titles listed."""
    locator.tap() if tap else locator.click()
    page.wait_for_url("**/board/items?**")
    fits(page)
    assert f"共 {expected} 项" in page.inner_text("main")
    titles = [t.strip() for t in page.locator("main a.item-row .title").all_inner_texts()]
    assert len(titles) == min(expected, 20)
    return titles


def open_first(page: Any, titles: list[str], tap: bool) -> None:
    first = page.locator("main a.item-row").first
    first.tap() if tap else first.click()
    page.wait_for_url("**/items/*")
    fits(page)
    assert titles[0] in page.inner_text("main h1, main")


@pytest.fixture
def site_url(live_server: Callable[[Any], str], app: App) -> str:
    return live_server(build(app, "http://127.0.0.1"))


def test_the_board_on_a_phone_numbers_lead_to_their_items_and_the_ledger_downloads(
        chromium: Any, app: App, site_url: str, screenshot: Callable[..., Path], tmp_path: Path) -> None:
    d = dashboard.build(app.service, app.service.clock.now(), None)
    assert d.overdue.figure.value > 0 and d.supervised.figure.value > 0
    page = logged_in(chromium, app, site_url, "周安宁", PHONE)
    page.get_by_role("link", name="综合看板").tap()
    page.wait_for_url(site_url + "/board")
    fits(page)
    main = page.inner_text("main")
    assert "全校" in main and "按责任单位" in main and "挂牌督办" in main and "各单位整改率与逾期率" in main
    screenshot(page, "综合看板", full_page=False)

    titles = follow(page, page.locator("#summary .tile.late a.figure"), d.overdue.figure.value, tap=True)
    assert "新上报隐患" not in titles and "保卫处隐患（closed）" not in titles
    open_first(page, titles, tap=True)

    page.goto(site_url + "/board")
    row = next(r for r in d.by_unit if r.title == "教务处")
    cell = page.locator("tr", has_text="教务处").first.locator("a.figure").first
    titles = follow(page, cell, row.open.value, tap=True)
    assert sorted(titles) == [f"实验室隐患{n}" for n in range(5)]

    page.goto(site_url + "/board")
    bar = page.locator("#charts svg a").first
    bar.scroll_into_view_if_needed()
    bar.tap()
    page.wait_for_url("**/board/items?**")
    assert "共 " in page.inner_text("main")
    fits(page)

    page.goto(site_url + "/board")
    with page.expect_download() as info:
        page.get_by_role("link", name="台账（Excel）").tap()
    download = info.value
    assert download.suggested_filename.startswith("台账-") and download.suggested_filename.endswith(".xlsx")
    saved = tmp_path / "台账.xlsx"
    download.save_as(str(saved))
    book = load_workbook(saved, read_only=True)
    cells = {str(c) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True) for c in row if c}
    every = app.store.query(Query())
    assert all(item.title in cells for item in every), sorted(i.title for i in every if i.title not in cells)
    page.context.close()


def test_the_board_on_a_desktop_screen(chromium: Any, app: App, site_url: str,
                                       screenshot: Callable[..., Path]) -> None:
    d = dashboard.build(app.service, app.service.clock.now(), None)
    page = logged_in(chromium, app, site_url, "周安宁", DESKTOP)
    page.goto(site_url + "/board")
    fits(page)
    # On a desktop the tables have room: none scrolls sideways inside its card.
    assert page.evaluate("[...document.querySelectorAll('.table-wrap')].every(e => e.scrollWidth <= e.clientWidth)")
    screenshot(page, "综合看板-电脑", full_page=False)
    titles = follow(page, page.locator("#summary .tile.rung a.figure"), d.supervised.figure.value, tap=False)
    assert set(titles) <= {r.title for r in d.supervised.rows} | {i.title for i in app.store.query(Query())}
    open_first(page, titles, tap=False)
    page.goto(site_url + "/board?kind=task")
    fits(page)
    assert "整治任务" in page.inner_text("main")
    page.context.close()
