"""Shared fixtures: sites on SQLite and PostgreSQL, a fake clock, a CLI runner."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, text

from adapters.cli.base import cli
from adapters.logs import configure
from adapters.sitesetup import create_site
from adapters.wiring import App, open_app
from engine.audit import audit_store
from engine.clock import FakeClock
from tests.browser import chromium, live_server, mark_browser_tests, phone, screenshot  # noqa: F401  (fixtures)
from tests.pgserver import PgServer
from tests.smtpserver import serve  # noqa: F401  (a fixture: real SMTP servers on loopback)

configure(level="WARNING")

START = datetime(2021, 3, 1, 1, 0, tzinfo=UTC)  # 09:00 in Asia/Shanghai, a Monday


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test that runs on the PostgreSQL variant of a fixture carries the `postgres`
    marker, and every test in a real browser `browser` and `slow`, so `make test-quick`
    can leave them out (`make test` runs them all)."""
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        if params.get("db_url") == "postgresql":
            item.add_marker(pytest.mark.postgres)
    mark_browser_tests(items)


@pytest.fixture
def info_logging() -> Iterator[None]:
    """INFO events logged during the test (the suite logs at WARNING), e.g. for capture_logs."""
    configure(level="INFO")
    yield
    configure(level="WARNING")


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    server = PgServer()
    yield server
    server.stop()


def _fresh_pg_database(server: PgServer, template: str | None = None) -> str:
    """A new database on the test server (empty, or a copy of `template`), so tests never
    see each other's rows."""
    assert server.url
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")))
    admin.dispose()
    return server.url.rsplit("/", 1)[0] + "/" + name


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each store test runs on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'rectify.db'}"
    server: PgServer = request.getfixturevalue("pg_server")
    if not server.url:
        if os.environ.get("RECTIFY_REQUIRE_PG"):
            pytest.fail(f"PostgreSQL 测试必须运行：{server.reason}")
        pytest.skip(server.reason)
    return _fresh_pg_database(server)


@pytest.fixture
def site(tmp_path: Path, db_url: str) -> Path:
    directory = tmp_path / "site"
    create_site(directory, db_url)
    return directory


@pytest.fixture
def sqlite_site(tmp_path: Path) -> Path:
    directory = tmp_path / "site"
    create_site(directory)
    return directory


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


def audit_findings(application: App) -> list[str]:
    """What `rectify audit` would report on the application's database."""
    return [str(f) for f in audit_store(application.store).findings]


@pytest.fixture
def app(request: pytest.FixtureRequest, site: Path, clock: FakeClock) -> Iterator[App]:
    """The application on a fresh site. Whatever a test did through the engine, the
    ledger must still audit clean afterwards: no false tamper alarm from any path."""
    application = open_app(site, clock)
    yield application
    try:
        if "tampers" not in request.keywords:
            assert audit_findings(application) == []
    finally:
        application.close()


class Cli:
    """Runs `rectify --site SITE ...` in-process and keeps stdout and stderr apart."""

    def __init__(self, site: Path) -> None:
        self.site = site
        self.runner = CliRunner()

    def __call__(self, *args: str, code: int | None = 0):  # type: ignore[no-untyped-def]
        result = self.runner.invoke(cli, ["--site", str(self.site), *args], catch_exceptions=False)
        if code is not None:
            assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
        return result


@pytest.fixture
def run(sqlite_site: Path) -> Cli:
    return Cli(sqlite_site)
