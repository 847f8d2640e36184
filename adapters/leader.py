"""Who may run a site's once-per-site work, and how many daemons a database may have.

Most of a tick splits across daemons by itself: items and notifications are claimed
with SKIP LOCKED inside the transaction that handles them, and messages are leased
for `claim_seconds`, so work a daemon dies holding comes back to the others. What must
happen once per site (report tasks of recurring obligations, stage reports) is done
only by the daemon that holds the site's lock:

- PostgreSQL: a session advisory lock, held on a connection of its own. A pooled
  connection would keep the lock after close() and hand it to whatever borrows it
  next; the dedicated connection is checked at every tick and, if the server
  restarted or the connection died, opened again and the lock taken again (by
  whichever daemon gets there first).
- SQLite: one daemon per database, enforced by an exclusive lock on a file next to the
  database (released by the kernel when the process dies, however it dies). A second
  daemon refuses to start, naming the first. Commands (`rectify tick`, imports) do not
  take it: SQLite's BEGIN IMMEDIATE serialises their writes with the daemon's.

Both kinds of site-wide work are idempotent by unique keys as well, so a lock briefly
held twice (a server restart while a tick runs) can cost work but never a duplicate.
"""

from __future__ import annotations

import fcntl
import os
import socket
from pathlib import Path
from typing import IO, Any

import structlog
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from adapters.clock import SystemClock
from engine.errors import AlreadyRunning
from engine.ports import Clock

log = structlog.get_logger("rectify.leader")

# The advisory lock's key: any bigint fixed for the application (one database, one site).
SITE_LOCK_KEY = 0x7265637469667931  # "rectify1"


class Leadership:
    """Always the leader: SQLite (one daemon per database) and tests."""

    def held(self) -> bool:
        return True

    def close(self) -> None:
        return None


class AdvisoryLeadership(Leadership):
    """PostgreSQL: the site lock as a session advisory lock on a dedicated connection."""

    def __init__(self, engine: Engine, name: str) -> None:
        self._engine = create_engine(engine.url, poolclass=NullPool)
        self._conn: Connection | None = None
        self._holding = False
        self.name = name

    def held(self) -> bool:
        """True when this process holds the lock now: kept if the connection is alive,
        else (re)taken if nobody else has it. Never raises: no lock means no site work."""
        try:
            if self._conn is None:
                self._conn = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
                self._holding = False
            if self._holding:
                self._conn.execute(text("SELECT 1"))
                return True
            self._holding = bool(self._conn.execute(text("SELECT pg_try_advisory_lock(:k)"),
                                                    {"k": SITE_LOCK_KEY}).scalar())
            if self._holding:
                log.info("site_lock_taken", daemon=self.name)
            return self._holding
        except DBAPIError as exc:
            if self._holding:
                log.warning("site_lock_lost", daemon=self.name, error=str(exc.orig or exc).strip())
            self._drop()
            return False

    def _drop(self) -> None:
        conn, self._conn, self._holding = self._conn, None, False
        if conn is not None:
            try:
                conn.invalidate()
                conn.close()
            except Exception:  # noqa: BLE001 - the connection is gone either way
                pass

    def close(self) -> None:
        self._drop()  # closing the session releases the lock
        self._engine.dispose()


class SqliteDaemonLock:
    """The one-daemon-per-SQLite-database rule: an exclusive flock on `<db>.daemon.lock`."""

    def __init__(self, database: Path, clock: Clock | None = None) -> None:
        self.path = database.with_name(database.name + ".daemon.lock")
        self._clock = clock or SystemClock()
        self._file: IO[str] | None = None

    def acquire(self) -> None:
        """Take the lock or raise AlreadyRunning naming the daemon that holds it."""
        handle = self.path.open("a+", encoding="utf-8")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "未知进程"
            handle.close()
            raise AlreadyRunning(
                f"已有守护进程在使用这个 SQLite 数据库（{holder}）；SQLite 站点同时只能运行一个守护进程。"
                f"如需多个守护进程分担工作，请改用 PostgreSQL（见 README“在 PostgreSQL 上运行”）。"
                f"锁文件：{self.path}") from None
        handle.seek(0)
        handle.truncate()
        started = self._clock.now().astimezone().isoformat(timespec="seconds")
        handle.write(f"{socket.gethostname()} 进程 {os.getpid()}，{started} 启动\n")
        handle.flush()
        self._file = handle

    def release(self) -> None:
        if self._file is not None:
            self._file.close()  # closing the descriptor releases the flock
            self._file = None


def sqlite_path(engine: Engine) -> Path | None:
    """The database file of a SQLite engine (None for PostgreSQL or in-memory)."""
    url: Any = engine.url
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database).resolve()


def leadership_for(engine: Engine, name: str) -> Leadership:
    if engine.dialect.name == "postgresql":
        return AdvisoryLeadership(engine, name)
    return Leadership()
