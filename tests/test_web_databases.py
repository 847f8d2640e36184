"""The workbench's own rows (login links, sessions, the login page's counts) on SQLite
and on PostgreSQL: two workbench processes over one database share them."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.web import build
from adapters.wiring import open_app
from engine.clock import FakeClock
from tests.conftest import audit_findings
from tests.webclient import BASE, Browser, hazard, text_of

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.mark.slow
def test_login_act_and_logout_across_two_processes(site: Path, clock: FakeClock) -> None:
    first_app, second_app = open_app(site, clock), open_app(site, clock)  # two processes' apps
    try:
        item = hazard(first_app)
        office = Browser(first_app).login("周安宁")
        elsewhere = Browser(second_app, build(second_app, BASE))
        elsewhere.client.cookies = office.client.cookies
        elsewhere.csrf = office.csrf
        answer = elsewhere.post(f"/items/{item.id}/events/assign", {"responsible": "马建军"})
        assert answer.status_code == 303
        assert first_app.store.history(item.id or 0)[-1].actor == "周安宁"
        asker = Browser(first_app)
        token = Browser.token(asker.get("/login").text)
        for app in (first_app, second_app):  # the count per person is the database's
            other = Browser(app)
            other.client.cookies = asker.client.cookies
            for _ in range(2):
                assert other.client.post("/login", data={"csrf": token, "who": "赵卫东"}).status_code == 200
        with first_app.store.read() as conn:  # type: ignore[attr-defined]
            from sqlalchemy import func, select

            from adapters.schema import messages
            assert conn.execute(select(func.count()).select_from(messages)).scalar_one() == 3
        assert office.post("/logout").status_code == 303
        assert elsewhere.get("/").status_code == 303
        assert "已交办" in text_of(Browser(second_app).login("赵卫东").get(f"/items/{item.id}").text)
        assert audit_findings(first_app) == []
    finally:
        first_app.close()
        second_app.close()


@pytest.mark.slow
def test_extension_and_board_on_each_database(site: Path, clock: FakeClock) -> None:
    """An extension asked for in one process and approved in another, and the 综合看板's
    numbers and their lists, on SQLite and on PostgreSQL."""
    import re
    from datetime import timedelta
    from html import unescape

    from engine import dashboard

    first_app, second_app = open_app(site, clock), open_app(site, clock)
    try:
        item = hazard(first_app, state="rectifying")
        hazard(first_app, "总务处隐患", unit="总务处", state="assigned")
        answer = Browser(first_app).login("马建军").post(f"/items/{item.id}/extension/request",
                                                       {"deadline": "2021年4月2日前", "reason": "等待配件"})
        assert answer.status_code == 303, text_of(answer.text)
        office = Browser(second_app, build(second_app, BASE)).login("周安宁")
        assert "待审批的延期申请（1 项）" in text_of(office.get("/").text)
        assert office.post(f"/items/{item.id}/extension/approve", {}).status_code == 303
        assert str(first_app.service.plan(first_app.store.get(item.id or 0)).due) == "2021-04-02"
        clock.advance(timedelta(days=40))
        office = Browser(second_app, build(second_app, BASE)).login("周安宁")  # a new day, a new login
        page = office.get("/board")
        d = dashboard.build(second_app.service, clock.now())
        assert f">{d.open.value}</a>" in page.text and d.open.value == 2 and d.overdue.figure.value == 2
        for href, value in re.findall(r'<a class="figure" href="([^"]*)">(\d+)</a>', page.text):
            listed = office.get(unescape(href))
            assert f"共 {value} 项" in text_of(listed.text)
            assert len(re.findall(r'href="/items/\d+"', listed.text)) == int(value)
        assert audit_findings(first_app) == []
    finally:
        first_app.close()
        second_app.close()
