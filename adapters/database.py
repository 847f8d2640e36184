"""Opening the database: SQLite (WAL, BEGIN IMMEDIATE for writes) or PostgreSQL, and migrations.

SQLite's driver default lost updates with two writer processes and deferred BEGIN
gave "database is locked" despite a busy timeout; BEGIN IMMEDIATE on write
transactions serialises writers cleanly (see docs/design.md).
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Any

import structlog
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, StatementError

from engine.errors import StoreError, Unreachable

log = structlog.get_logger("rectify.database")

MIGRATIONS = Path(__file__).parent / "migrations"
WRITE = "rectify_write"
BUSY_TIMEOUT_MS = 30_000


def describe(url: str) -> str:
    """The URL without its password, for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "（无法解析的数据库地址）"


def _short(params: Any, limit: int = 2000) -> str:
    text = repr(params)
    return text if len(text) <= limit else text[:limit] + f"…（共 {len(text)} 个字符）"


def _sqlite_setup(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_conn.cursor()
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(WRITE) else "BEGIN")


def open_engine(url: str, *, must_exist: bool = True) -> Engine:
    """An Engine for `url`; a missing SQLite file is an error unless we are creating it."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise StoreError(f"数据库地址无法解析：{url!r}") from exc
    if parsed.get_backend_name() == "sqlite":
        path = parsed.database
        if must_exist and path and path != ":memory:" and not Path(path).exists():
            raise StoreError(f"数据库不存在：{path}；请先运行 rectify db upgrade（或 rectify init 创建站点）")
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})
        _sqlite_setup(engine)
        return engine
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    try:
        return create_engine(parsed, pool_pre_ping=True, pool_size=5, max_overflow=5)
    except (NoSuchModuleError, ImportError) as exc:
        raise StoreError(f"不支持的数据库：{describe(url)}（支持 sqlite 和 postgresql+psycopg）") from exc


def _alembic_config(connection: Any) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    try:
        with engine.execution_options(**{WRITE: True}).begin() as conn:
            command.upgrade(_alembic_config(conn), revision)
    except DBAPIError as exc:
        raise translate(exc, engine.url) from exc


def current_revision(engine: Engine) -> str | None:
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    except DBAPIError as exc:
        raise translate(exc, engine.url) from exc


@functools.cache
def head_revision() -> str | None:
    """The newest migration this program ships (read once per process: the migration
    scripts are part of the installed program, not of the site)."""
    return ScriptDirectory.from_config(_alembic_config(None)).get_current_head()


def require_current(engine: Engine) -> None:
    current, head = current_revision(engine), head_revision()
    if current != head:
        shown = current or "空数据库"
        raise StoreError(
            f"数据库结构版本为 {shown}，程序需要 {head}；请运行 rectify db upgrade"
        )


# What drivers say when the server is down, refusing, restarting or gone mid-session.
_UNREACHABLE = ("connect", "connection", "starting up", "shutting down", "terminating", "server closed",
                "no route to host", "timeout expired", "could not translate host")


# Lines of a driver's message that quote the statement (PostgreSQL's "LINE 1: SELECT …"
# and its caret) or SQLAlchemy's additions ("[SQL: …]", "[parameters: …]", a link).
_QUOTING = re.compile(r"\s*(?:LINE \d+:|\^|\[SQL:|\[parameters:|\(Background on this error)")


def driver_text(exc: StatementError) -> str:
    """What the driver said, without the statement or its parameters."""
    orig = exc.orig
    if orig is None:
        return type(exc).__name__
    lines = [line for line in str(orig).splitlines() if line.strip() and not _QUOTING.match(line)]
    text = " ".join(line.strip() for line in lines) or type(orig).__name__
    # A driver error's text is the server's message; a value that failed to bind says its kind.
    return text if isinstance(exc, DBAPIError) else f"{type(orig).__name__}: {text}"


def translate(exc: StatementError, url: Any) -> StoreError:
    """A driver error as a StoreError that names the database and says what to do. The
    statement and its parameters go to the log (for whoever maintains the site), never
    into the message a person reads."""
    text = driver_text(exc)
    if exc.statement is not None:  # a connection that failed has none; its callers log it
        log.warning("database_error", error=text, statement=exc.statement, parameters=_short(exc.params),
                    driver=type(exc.orig).__name__ if exc.orig is not None else None)
    where = describe(str(url)) if not hasattr(url, "render_as_string") else url.render_as_string(hide_password=True)
    if not isinstance(exc, DBAPIError):  # a value the driver could not convert (a year beyond 9999)
        return StoreError(f"数据库 {where} 无法保存或读取一个值：{text}")
    if "locked" in text or "busy" in text:
        return StoreError(f"数据库 {where} 被其他进程锁定，{BUSY_TIMEOUT_MS // 1000} 秒后仍未释放：{text}")
    if "unable to open" in text:
        return StoreError(f"无法打开数据库 {where}：{text}")
    lowered = text.lower()
    if exc.connection_invalidated or any(word in lowered for word in _UNREACHABLE):
        return Unreachable(f"无法连接数据库 {where}：{text.strip()}")
    return StoreError(f"数据库 {where} 出错：{text.strip()}")
