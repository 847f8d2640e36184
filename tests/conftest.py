"""Shared fixtures: sites on SQLite and PostgreSQL, a fake clock, a CLI runner."""

from __future__ import annotations

import json
import os
import pickle
import shutil
import sys
import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager, nullcontext
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from unittest.mock import patch

import pytest
import structlog.testing
from click.testing import CliRunner
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from adapters import database, wiring
from adapters.cli.base import cli
from adapters.logs import configure
from adapters.sitesetup import create_site
from adapters.wiring import App, open_app
from engine import validate, yamlfile
from engine.audit import audit_store
from engine.clock import FakeClock
from engine.ports import Clock, ItemStore
from tests import examples  # noqa: F401  (loads the quick Hypothesis profile under make test-quick)
from tests.browser import chromium, live_server, mark_browser_tests, phone, screenshot  # noqa: F401  (fixtures)
from tests.pgserver import PgServer
from tests.smtpserver import serve  # noqa: F401  (a fixture: real SMTP servers on loopback)
from tests.webclient import close_browsers

configure(level="WARNING")

# The suite logs at WARNING, which filters INFO events before any processor sees them; a
# test capturing logs must see every event whatever ran before it in its process (a CLI
# command reconfigures logging at INFO). Test modules import capture_logs after this file.
_capture_logs = structlog.testing.capture_logs


@contextmanager
def _capture_every_level(*args: Any, **kwargs: Any) -> Iterator[list[Any]]:
    configure(level="INFO")
    try:
        with _capture_logs(*args, **kwargs) as logs:
            yield logs
    finally:
        configure(level="WARNING")


structlog.testing.capture_logs = _capture_every_level

START = datetime(2021, 3, 1, 1, 0, tzinfo=UTC)  # 09:00 in Asia/Shanghai, a Monday


# Site files parsed once per text. Every command a test runs through the CLI, and every
# App it opens, reads the same shipped site files again; parsing them was over a third
# of the suite's time. engine.yamlfile.loads is a pure function of (text, file name), so
# each distinct text is parsed once per test process (really: its errors and limits are
# never cached, a failing text fails every time) and every caller gets its own copy.
# The key is the text alone: a parse that succeeds does not depend on the file's name
# (only error messages name it), and every test's copy of a site has a path of its own.
# The copy is a pickle round trip (a third of deepcopy's time for these trees).
# Schema checks are remembered the same way: engine.validate.check is a pure function of
# (data, schema), and a check that finds nothing finds nothing again for equal data under
# an equal schema, so only an empty answer is remembered (a failing check, whose messages
# name lines, runs every time).
# tests/test_parse_once.py proves the copies are what a fresh parse gives.
# RECTIFY_TEST_PARSE_EVERY_TIME=1 turns both off.
PARSE_ONCE_MAX_CHARS = 64 * 1024  # the shipped files are a few KB; large test texts are parsed each time
_PARSED: dict[str, bytes] = {}
_parse = yamlfile.loads
_check = validate.check
_VALID: set[tuple[str, str]] = set()


def parse_once(text: str, filename: str) -> Any:
    """yamlfile.loads, remembered per text for small texts, as a copy of the caller's own."""
    if len(text) > PARSE_ONCE_MAX_CHARS:
        return _parse(text, filename)
    if text not in _PARSED:
        _PARSED[text] = pickle.dumps(_parse(text, filename), pickle.HIGHEST_PROTOCOL)
    parsed = pickle.loads(_PARSED[text])
    if isinstance(parsed, yamlfile.LineDict):
        parsed.parsed_from = text  # what check_once keys on: the engine checks a parse as it came
    return parsed


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=repr)


_SCHEMA_KEYS: dict[int, tuple[dict[str, Any], str]] = {}


def _schema_key(schema: dict[str, Any]) -> str:
    """The schema's canonical text, remembered per schema object (kept alive beside it, so
    that its id is not reused); schemas are module constants, built once."""
    hit = _SCHEMA_KEYS.get(id(schema))
    if hit is None or hit[0] is not schema:
        hit = _SCHEMA_KEYS[id(schema)] = (schema, _canonical(schema))
    return hit[1]


def check_once(data: Any, schema: dict[str, Any], filename: str) -> list[Any]:
    """validate.check, with an empty answer remembered per (data, schema)."""
    source = getattr(data, "parsed_from", None)
    key = (source if source is not None else _canonical(data), _schema_key(schema))
    if key in _VALID:
        return []
    problems = _check(data, schema, filename)
    if not problems:
        _VALID.add(key)
    return problems


def _callers_of_check() -> list[Any]:
    """Every loaded module that imported validate.check by name."""
    return [m for name, m in list(sys.modules.items())
            if name.split(".")[0] in ("engine", "adapters") and getattr(m, "check", None) is _check]


@pytest.fixture(autouse=True, scope="session")
def site_files_parsed_once() -> Iterator[None]:
    if os.environ.get("RECTIFY_TEST_PARSE_EVERY_TIME"):
        yield
        return
    with ExitStack() as stack:
        stack.enter_context(patch.object(yamlfile, "loads", parse_once))
        for module in [validate, *_callers_of_check()]:
            stack.enter_context(patch.object(module, "check", check_once))
        yield


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test that runs on the PostgreSQL variant of a fixture carries the `postgres`
    marker, and every test in a real browser `browser` and `slow`, so `make test-quick`
    can leave them out (`make test` runs them all)."""
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        if params.get("db_url") == "postgresql":
            item.add_marker(pytest.mark.postgres)
    mark_browser_tests(items)


@pytest.fixture(autouse=True)
def _close_browsers() -> Iterator[None]:
    """The test clients (tests/webclient.py) a test opened are closed when it ends."""
    yield
    close_browsers()


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


def _running_pg(server: PgServer) -> str:
    """The test server's URL; the test fails (RECTIFY_REQUIRE_PG) or is skipped without one."""
    if not server.url:
        if os.environ.get("RECTIFY_REQUIRE_PG"):
            pytest.fail(f"PostgreSQL 测试必须运行：{server.reason}")
        pytest.skip(server.reason)
    return server.url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty (unmigrated) database, on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'rectify.db'}"
    server: PgServer = request.getfixturevalue("pg_server")
    _running_pg(server)
    return _fresh_pg_database(server)


@pytest.fixture(scope="session")
def site_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One site as `rectify init` makes it (files and a migrated SQLite database), copied
    for every test that needs a site: creating and migrating each time is slow."""
    directory = tmp_path_factory.mktemp("template") / "site"
    create_site(directory)
    return directory


@pytest.fixture(scope="session")
def pg_template(pg_server: PgServer) -> str:
    """The name of a migrated PostgreSQL database that tests' databases are created from."""
    _running_pg(pg_server)
    url = _fresh_pg_database(pg_server)
    engine = database.open_engine(url, must_exist=False)
    database.upgrade(engine)
    engine.dispose()
    return url.rsplit("/", 1)[1]


def copy_site(template: Path, directory: Path, database_url: str | None = None) -> Path:
    """A copy of the template site in `directory`; on `database_url` (already migrated)
    instead of its own SQLite file when given."""
    shutil.copytree(template, directory)
    if database_url is not None:
        (directory / "rectify.db").unlink()
        config = directory / "rectify.yaml"
        text = config.read_text(encoding="utf-8")
        assert 'url: "sqlite:///rectify.db"' in text
        config.write_text(text.replace('url: "sqlite:///rectify.db"', f'url: "{database_url}"'), encoding="utf-8")
    return directory


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def site(request: pytest.FixtureRequest, tmp_path: Path, site_template: Path) -> Path:
    """A fresh site; each store test runs on SQLite and on PostgreSQL. Every test on the
    PostgreSQL variant carries the `postgres` marker, so `make test-quick` can leave them
    out (`make test` runs them all)."""
    if request.param == "sqlite":
        return copy_site(site_template, tmp_path / "site")
    server: PgServer = request.getfixturevalue("pg_server")
    url = _fresh_pg_database(server, request.getfixturevalue("pg_template"))
    return copy_site(site_template, tmp_path / "site", url)


@pytest.fixture
def sqlite_site(tmp_path: Path, site_template: Path) -> Path:
    return copy_site(site_template, tmp_path / "site")


@pytest.fixture
def memory_site(tmp_path: Path, site_template: Path) -> Path:
    """A fresh site's files, for tests whose items live in a MemoryStore."""
    return copy_site(site_template, tmp_path / "site")


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
    """Runs `rectify --site SITE ...` in-process and keeps stdout and stderr apart; on
    `store` (a MemoryStore a test's daemon works on too) instead of the site's database."""

    def __init__(self, site: Path, store: ItemStore | None = None) -> None:
        self.site = site
        self.store = store
        self.runner = CliRunner()
        self._engines: dict[str, Any] = {}

    def _one_engine(self) -> AbstractContextManager[object]:
        """The commands of one Cli share an Engine per existing SQLite database, as
        `rectify web` and the daemon do for all their requests: SQLAlchemy's compiled
        statements live on the Engine, and compiling them again for every command was a
        fifth of the suite's time. Each command still disposes of the pool when it ends
        (no connection outlives a command) and finds a missing database file missing."""
        opened = database.open_engine
        engines = self._engines

        def one(url: str, *, must_exist: bool = True) -> Any:
            parsed = make_url(url)
            path = parsed.database if parsed.get_backend_name() == "sqlite" else None
            if not must_exist or not path or path == ":memory:" or not Path(path).exists():
                return opened(url, must_exist=must_exist)
            if url not in engines:
                engines[url] = opened(url)
            return engines[url]

        return patch.object(database, "open_engine", one)

    def _on_store(self) -> AbstractContextManager[object]:
        if self.store is None:
            return nullcontext()
        store = self.store

        def opened(site_dir: Path, clock: Clock | None = None, _: ItemStore | None = None) -> App:
            return open_app(site_dir, clock, store)

        return patch.object(wiring, "open_app", opened)

    def __call__(self, *args: str, code: int | None = 0):  # type: ignore[no-untyped-def]
        with self._on_store(), self._one_engine():
            result = self.runner.invoke(cli, ["--site", str(self.site), *args], catch_exceptions=False)
        if code is not None:
            assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
        return result


@pytest.fixture
def run(sqlite_site: Path) -> Cli:
    return Cli(sqlite_site)
