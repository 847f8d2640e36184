"""Under more requests than the database pool has connections, the workbench makes the
extra ones wait their turn (in the event loop, for as long as it takes) instead of in
the pool, whose wait times out and used to answer 500 系统内部错误 under load."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, event

from adapters import database
from adapters.sitefiles import load_config, load_site_files
from adapters.sqlstore import SqlStore
from adapters.web import build
from adapters.web.app import pool_capacity
from adapters.web.login import operator_link
from adapters.wiring import App
from engine.clock import FakeClock
from engine.service import Service
from tests.conftest import START
from tests.webclient import BASE, CSRF

HELD = 0.04  # s each request holds a connection it takes
POOL_WAIT = 0.1  # s the pool lets a request wait for one


def _small_pool_app(site: Path) -> App:
    """The site on a pool of two connections that gives up after POOL_WAIT, each
    connection held HELD longer than its work takes."""
    config = load_config(site)
    engine = create_engine(config.database_url, pool_size=1, max_overflow=1, pool_timeout=POOL_WAIT,
                           connect_args={"timeout": database.BUSY_TIMEOUT_MS / 1000})
    database._sqlite_setup(engine)

    @event.listens_for(engine, "checkout")
    def _slow(*_: Any) -> None:
        time.sleep(HELD)

    clock = FakeClock(START)
    store = SqlStore(engine, clock)
    return App(config, store, Service(store, load_site_files(config, clock=clock), clock))


async def _many_at_once(app: App, n: int, asgi: Any = None) -> list[int]:
    asgi = asgi or build(app, BASE)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=asgi), base_url=BASE) as client:
        link = operator_link(app, "周安宁", app.service.clock.now(), BASE, "/")[len(BASE):]
        shown = await client.get(link)
        token = CSRF.search(shown.text)
        assert token is not None
        assert (await client.post(link, data={"csrf": token.group(1)})).status_code == 303
        answers = await asyncio.gather(*(client.get("/") for _ in range(n)))
    return [a.status_code for a in answers]


@pytest.mark.slow
def test_requests_beyond_the_pool_wait_their_turn_and_all_succeed(sqlite_site: Path) -> None:
    app = _small_pool_app(sqlite_site)
    try:
        assert pool_capacity(app.store.db) == 2  # type: ignore[attr-defined]
        # Twelve at once, each taking a connection several times and holding it HELD: the
        # last in line waits many times what the pool would wait for a connection.
        assert _statuses(app, 12) == [200] * 12
    finally:
        app.close()


def _statuses(app: App, n: int, asgi: Any = None) -> list[int]:
    return asyncio.run(_many_at_once(app, n, asgi))


def test_the_workers_are_as_many_as_the_pool_lends(sqlite_site: Path) -> None:
    engine = database.open_engine(f"sqlite:///{sqlite_site / 'rectify.db'}")
    try:
        assert pool_capacity(engine) == engine.pool.size() + engine.pool._max_overflow  # type: ignore[attr-defined]
    finally:
        engine.dispose()


def test_a_request_that_still_finds_every_connection_busy_is_told_to_retry_not_500(sqlite_site: Path) -> None:
    app = _small_pool_app(sqlite_site)
    try:
        asgi = build(app, BASE)
        asgi.state.web.threads = 12  # as many at once as there are requests: they wait in the pool
        statuses = _statuses(app, 12, asgi)
        assert 503 in statuses and 500 not in statuses
        assert set(statuses) <= {200, 503}
    finally:
        app.close()
