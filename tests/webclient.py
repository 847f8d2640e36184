"""A web workbench for tests: a site with hazards in every state, and a browser-like
client (Starlette's TestClient) that logs in as a person through a real login link."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from adapters.web import build
from adapters.web.login import operator_link
from adapters.wiring import App, open_app
from engine.clock import FakeClock
from engine.model import Item
from engine.service import NewItem

BASE = "http://rectify.test"
CSRF = re.compile(r'name="csrf" value="([^"]*)"')


def text_of(html: str) -> str:
    """The page as a person reads it: tags removed, entities decoded, spaces collapsed."""
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html))).strip()


# Clients a test opened, closed when it ends (close_browsers in tests/conftest.py). An
# open TestClient keeps one event loop thread for all its requests; one not opened
# starts a thread per request.
OPEN_CLIENTS: list[TestClient] = []


def close_browsers() -> None:
    while OPEN_CLIENTS:
        OPEN_CLIENTS.pop().__exit__(None, None, None)


class Browser:
    """One person's browser: cookies kept between requests, forms posted with their token."""

    def __init__(self, app: App, asgi: Any = None) -> None:
        self.app = app
        self.asgi = asgi or build(app, BASE)
        self.client = TestClient(self.asgi, base_url=BASE, follow_redirects=False).__enter__()
        OPEN_CLIENTS.append(self.client)
        self.csrf = ""

    def login(self, person: str, next_path: str = "/") -> Browser:
        url = operator_link(self.app, person, self.app.service.clock.now(), BASE, next_path)
        path = url[len(BASE):]
        page = self.client.get(path)
        assert page.status_code == 200, page.text
        answer = self.client.post(path, data={"csrf": self.token(page.text)})
        assert answer.status_code == 303, text_of(answer.text)
        self.csrf = self.token(self.client.get("/").text)
        return self

    @staticmethod
    def token(html: str) -> str:
        found = CSRF.search(html)
        assert found, "page without a CSRF token"
        return found.group(1)

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.client.get(path, **kwargs)

    def post(self, path: str, data: dict[str, str] | None = None, csrf: str | None = None, **kwargs: Any) -> Any:
        form = {"csrf": self.csrf if csrf is None else csrf, **(data or {})}
        if csrf == "":
            form.pop("csrf")
        return self.client.post(path, data=form, **kwargs)


def hazard(app: App, title: str = "实训楼消防通道堵塞", unit: str = "保卫处", state: str = "reported",
           category: str = "消防", level: str = "一般") -> Item:
    """A hazard of `unit`, reported by 郭晓明 and moved to `state` by the people whose
    job that is (responsible person 马建军 for 保卫处, 张海峰 for 总务处)."""
    svc = app.service
    responsible = {"保卫处": "马建军", "总务处": "张海峰", "教务处": "黄丽萍"}[unit]
    item = svc.report(NewItem(title=title, category=category, level=level, unit=unit, reporter="郭晓明",
                              location="实训楼二楼"))
    steps = [("assign", "周安宁", {"responsible": responsible}), ("start", responsible, {}),
             ("submit", responsible, {"measures": "清理通道", "evidence": "整改照片"}), ("verify", "郭晓明", {}),
             ("close", "周安宁", {})]
    order = ["reported", "assigned", "rectifying", "submitted", "verified", "closed"]
    for event, actor, sets in steps[:order.index(state)]:
        item = svc.fire(item.id or 0, event, actor, sets)
    return item


def advance(app: App, **delta: float) -> None:
    app.service.clock.advance(timedelta(**delta))  # type: ignore[attr-defined]


def enable_web(site: Path, base_url: str = BASE, **extra: Any) -> None:
    """Give a site's rectify.yaml a `web:` section (its public address and settings)."""
    lines = [f'web:\n  base_url: "{base_url}"'] + [f"  {k}: {v}" for k, v in extra.items()]
    with (site / "rectify.yaml").open("a", encoding="utf-8") as out:
        out.write("\n" + "\n".join(lines) + "\n")


@pytest.fixture(name="app")
def web_app(sqlite_site: Path) -> Iterator[App]:
    """The site's App on a fake clock at START (the web tests' `app`), audited when done."""
    from tests.conftest import START, audit_findings

    application = open_app(sqlite_site, FakeClock(START))
    yield application
    try:
        assert audit_findings(application) == []
    finally:
        application.close()


def as_(app: App, person: str) -> Browser:
    return Browser(app).login(person)
