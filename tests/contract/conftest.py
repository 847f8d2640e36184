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


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ItemStore]:
    """An empty item store on each backend."""
    found: ItemStore
    if request.param == "memory":
        found = MemoryStore()
    elif request.param == "sqlite":
        path = tmp_path / "rectify.db"
        shutil.copyfile(request.getfixturevalue("migrated_sqlite"), path)
        found = SqlStore(database.open_engine(f"sqlite:///{path}"))
    else:
        template = request.getfixturevalue("pg_template")
        server: PgServer = request.getfixturevalue("pg_server")
        found = SqlStore(database.open_engine(_fresh_pg_database(server, template)))
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
    if request.param == "sqlite":
        path = tmp_path / "rectify.db"
        shutil.copyfile(request.getfixturevalue("migrated_sqlite"), path)
        sql = SqlStore(database.open_engine(f"sqlite:///{path}"))
    else:
        template = request.getfixturevalue("pg_template")
        server: PgServer = request.getfixturevalue("pg_server")
        sql = SqlStore(database.open_engine(_fresh_pg_database(server, template)))
    yield DatabaseEvidence(sql)
    sql.close()
