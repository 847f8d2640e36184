"""The `store` and `outbox` fixtures: every contract test runs on the in-memory store, on
SQLite and on PostgreSQL (those variants carry the `postgres` marker; their databases are
copies of tests/conftest.py's migrated `pg_template`)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters import database
from adapters.evidence.stores import DatabaseEvidence, DirectoryEvidence
from adapters.memory import MemoryOutbox, MemoryStore
from adapters.outbox import SqlOutbox
from adapters.sqlstore import SqlStore
from engine.ports import EvidenceStore, ItemStore, SiteOutbox
from tests.conftest import _fresh_pg_database
from tests.pgserver import PgServer


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file, copied for every test (migrating each time is slow)."""
    path = tmp_path_factory.mktemp("contract") / "template.db"
    engine = database.open_engine(f"sqlite:///{path}", must_exist=False)
    database.upgrade(engine)
    engine.dispose()
    return path


def _sql(request: pytest.FixtureRequest, tmp_path: Path, backend: str) -> SqlStore:
    if backend == "sqlite":
        path = tmp_path / "rectify.db"
        shutil.copyfile(request.getfixturevalue("migrated_sqlite"), path)
        return SqlStore(database.open_engine(f"sqlite:///{path}"))
    template = request.getfixturevalue("pg_template")
    server: PgServer = request.getfixturevalue("pg_server")
    return SqlStore(database.open_engine(_fresh_pg_database(server, template)))


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ItemStore]:
    """An empty item store on each backend."""
    found: ItemStore = MemoryStore() if request.param == "memory" else _sql(request, tmp_path, request.param)
    yield found
    found.close()


@pytest.fixture
def outbox(store: ItemStore) -> SiteOutbox:
    """Every outbox port over the store, on its backend."""
    if isinstance(store, MemoryStore):
        return MemoryOutbox(store)
    assert isinstance(store, SqlStore)
    return SqlOutbox(store)


@pytest.fixture(params=["directory", "sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def evidence(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[EvidenceStore]:
    """An empty evidence store: a directory, a SQLite database, a PostgreSQL database."""
    if request.param == "directory":
        yield DirectoryEvidence(tmp_path / "evidence")
        return
    sql = _sql(request, tmp_path, request.param)
    yield DatabaseEvidence(sql)
    sql.close()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_evidence(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[DatabaseEvidence]:
    """An empty evidence store in a database whose items can name its files."""
    sql = _sql(request, tmp_path, request.param)
    yield DatabaseEvidence(sql)
    sql.close()
