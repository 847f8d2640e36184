"""The evidence stores (engine.ports.EvidenceStore): files by the SHA-256 of their bytes.

DirectoryEvidence keeps them in a directory of the site (`evidence/ab/cdef…`), each
written to a temporary file beside its place, flushed to disk and renamed into place, so
a crash never leaves half a file under a hash. DatabaseEvidence keeps them in the
`evidence_blobs` table, which every machine serving a PostgreSQL site shares. Both check
a file's bytes against its name when reading it back. Either removes a file only when
the service takes back what a failed write kept, or sweeps what a write that died left
(engine.evidence.Keeper); the database never lets a file go that an attachment names.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Collection
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import delete, insert, or_, select
from sqlalchemy import exists as any_row
from sqlalchemy.exc import IntegrityError

from adapters.clock import SystemClock
from adapters.schema import attachments, evidence_blobs
from adapters.sqlstore import SqlStore
from engine.errors import FileAccess, NotFound, StoreError
from engine.evidence import valid_sha256
from engine.ports import Clock, EvidenceStore
from engine.site import EvidenceConfig


def _known(sha256: str) -> str:
    """The hash as a name: anything else (a path, upper case, a short prefix) names no file."""
    if not valid_sha256(sha256):
        raise NotFound("佐证文件", sha256)
    return sha256


def _checked(sha256: str, data: bytes, where: str) -> bytes:
    if hashlib.sha256(data).hexdigest() != sha256:
        raise StoreError(f"{where}中的佐证文件 {sha256[:12]}… 内容与其哈希不符：文件已损坏或被改动")
    return data


class DirectoryEvidence:
    """Files under `root`/ab/cdef… (the first two hex digits name a subdirectory)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256[2:]

    def put(self, data: bytes) -> str:
        sha256 = hashlib.sha256(data).hexdigest()
        target = self.path(sha256)
        if self._intact(target, sha256):
            return sha256
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            self._write(target, data)
        except OSError as exc:
            raise FileAccess.from_os_error(exc, self.root, "保存佐证文件到") from exc
        return sha256

    @staticmethod
    def _intact(target: Path, sha256: str) -> bool:
        """The file is there and holds the bytes of its name (a damaged copy is replaced)."""
        try:
            return hashlib.sha256(target.read_bytes()).hexdigest() == sha256
        except OSError:
            return False

    @staticmethod
    def _write(target: Path, data: bytes) -> None:
        fd, temp = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(temp, target)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
        directory = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(directory)  # the rename itself survives a crash
        finally:
            os.close(directory)

    def get(self, sha256: str) -> bytes:
        path = self.path(_known(sha256))
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise NotFound("佐证文件", sha256) from None
        except OSError as exc:
            raise FileAccess.from_os_error(exc, path, "读取佐证文件") from exc
        return _checked(sha256, data, f"目录 {self.root} ")

    def exists(self, sha256: str) -> bool:
        return valid_sha256(sha256) and self.path(sha256).is_file()

    def missing(self, sha256s: Collection[str]) -> set[str]:
        return {sha256 for sha256 in sha256s if not self.exists(sha256)}

    def stored_before(self, instant: datetime) -> list[str]:
        names = (path.parent.name + path.name for path in self._older(instant))
        return [name for name in names if valid_sha256(name)]

    def temporaries_before(self, instant: datetime) -> list[Path]:
        """The temporary files (`.upload-…`) of writes that died mid-way, last changed
        before `instant` (a write still running changes its own as it goes)."""
        return [path for path in self._older(instant) if path.name.startswith(".upload-")]

    def remove_temporary(self, path: Path) -> None:
        try:
            path.unlink(missing_ok=True)
        except OSError as exc:
            raise FileAccess.from_os_error(exc, path, "删除临时文件") from exc

    def _older(self, instant: datetime) -> list[Path]:
        """Every file in the store's subdirectories last changed before `instant`."""
        cutoff = instant.timestamp()
        found: list[Path] = []
        try:
            for directory in sorted(self.root.iterdir()) if self.root.is_dir() else ():
                if len(directory.name) == 2 and directory.is_dir():
                    found += [path for path in sorted(directory.iterdir())
                              if path.is_file() and path.stat().st_mtime < cutoff]
        except OSError as exc:
            raise FileAccess.from_os_error(exc, self.root, "列出佐证文件") from exc
        return found

    def remove(self, sha256: str) -> None:
        if not valid_sha256(sha256):
            return
        path = self.path(sha256)
        try:
            path.unlink(missing_ok=True)
        except OSError as exc:
            raise FileAccess.from_os_error(exc, path, "删除佐证文件") from exc


class DatabaseEvidence:
    """Files in the evidence_blobs table of the site's database."""

    def __init__(self, store: SqlStore, clock: Clock | None = None) -> None:
        self.store = store
        self.clock = clock or SystemClock()

    def put(self, data: bytes) -> str:
        sha256 = hashlib.sha256(data).hexdigest()
        if self.exists(sha256):
            return sha256
        try:
            with self.store.write() as conn:
                conn.execute(insert(evidence_blobs), {"sha256": sha256, "size": len(data), "data": data,
                                                      "stored_at": self.clock.now().astimezone(UTC)})
        except StoreError as exc:
            # Another machine stored the same bytes meanwhile: they are kept, as asked.
            if not (isinstance(exc.__cause__, IntegrityError) and self.exists(sha256)):
                raise
        return sha256

    def get(self, sha256: str) -> bytes:
        stmt = select(evidence_blobs.c.data).where(evidence_blobs.c.sha256 == _known(sha256))
        with self.store.read() as conn:
            data = conn.execute(stmt).scalar()
        if data is None:
            raise NotFound("佐证文件", sha256)
        return _checked(sha256, bytes(data), "数据库")

    def exists(self, sha256: str) -> bool:
        if not valid_sha256(sha256):
            return False
        stmt = select(evidence_blobs.c.sha256).where(evidence_blobs.c.sha256 == sha256)
        with self.store.read() as conn:
            return conn.execute(stmt).first() is not None

    def missing(self, sha256s: Collection[str]) -> set[str]:
        wanted = {sha256 for sha256 in sha256s if valid_sha256(sha256)}
        held: set[str] = set()
        if wanted:
            stmt = select(evidence_blobs.c.sha256).where(evidence_blobs.c.sha256.in_(sorted(wanted)))
            with self.store.read() as conn:
                held = {r[0] for r in conn.execute(stmt)}
        return set(sha256s) - held

    def stored_before(self, instant: datetime) -> list[str]:
        stmt = select(evidence_blobs.c.sha256).where(evidence_blobs.c.stored_at < instant).order_by(
            evidence_blobs.c.sha256)
        with self.store.read() as conn:
            return [r[0] for r in conn.execute(stmt)]

    def remove(self, sha256: str) -> None:
        """Delete the row unless an attachment names the file (migration 0013's trigger
        refuses that delete too)."""
        if not valid_sha256(sha256):
            return
        named = select(attachments.c.id).where(or_(attachments.c.sha256 == sha256, attachments.c.thumbnail == sha256))
        with self.store.write() as conn:
            conn.execute(delete(evidence_blobs).where(evidence_blobs.c.sha256 == sha256, ~any_row(named)))


def evidence_store(config: EvidenceConfig, store: object, clock: Clock | None = None) -> EvidenceStore:
    """The site's evidence store as rectify.yaml's `evidence` section says."""
    if config.store == "database":
        if not isinstance(store, SqlStore):
            raise StoreError("evidence.store 为 database 时需要 SQL 数据库")
        return DatabaseEvidence(store, clock)
    return DirectoryEvidence(config.directory)
