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
