"""The `store` fixture: every contract test runs on the in-memory store, on SQLite and
on PostgreSQL (those variants carry the `postgres` marker, see tests/conftest.py)."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from adapters import database
from adapters.evidence.stores import DatabaseEvidence, DirectoryEvidence
from adapters.memory import MemoryStore
from adapters.sqlstore import SqlStore
from engine.ports import EvidenceStore, ItemStore
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


@pytest.fixture(scope="session")
def pg_template(pg_server: PgServer) -> str:
    """The name of a migrated PostgreSQL database that tests' databases are created from."""
    if not pg_server.url:
        if os.environ.get("RECTIFY_REQUIRE_PG"):
            pytest.fail(f"PostgreSQL 测试必须运行：{pg_server.reason}")
        pytest.skip(pg_server.reason)
    name = f"contract_{uuid.uuid4().hex[:8]}"
    admin = create_engine(pg_server.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    engine = database.open_engine(pg_server.url.rsplit("/", 1)[0] + "/" + name, must_exist=False)
    database.upgrade(engine)
    engine.dispose()
    return name


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
