"""Evidence (佐证): files attached to an item or to one of its events, as data.

A file is known by the SHA-256 of its bytes (the evidence store keeps them under that
name, engine.ports.EvidenceStore). What the engine records of it is an Attachment: the
hash, the name it was uploaded under, its media type as read from its bytes, its size,
and the facts read from an image (size in pixels, EXIF time and position) — the
adapters (adapters/evidence) check the bytes and build these; the engine only carries
them. An event that carries evidence records each file in its ledger row, under the
key ATTACHMENTS of the row's changes (hashed with the rest of the row), and the store
writes the same records to its attachments table in the same transaction.

The bytes reach the evidence store only once the event was decided allowed (Keeper):
a refused event keeps no file, and a write that fails after its files were kept takes
back those it stored new that no attachment names.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

import structlog

from engine.errors import RectifyError
from engine.text import refuse

if TYPE_CHECKING:
    from engine.ports import EvidenceStore

log = structlog.get_logger("rectify.engine")
T = TypeVar("T")

# The key of a ledger row's changes that lists the files the event carried:
# {"attachments": [None, [record, ...]]} (old value None: files are only ever added).
ATTACHMENTS = "attachments"

# The media types accepted as evidence, with how people call them.
MEDIA_TYPES = {
    "image/jpeg": "JPEG 图片",
    "image/png": "PNG 图片",
    "image/webp": "WebP 图片",
    "image/heic": "HEIC 图片",
    "application/pdf": "PDF 文件",
}
IMAGE_TYPES = frozenset(t for t in MEDIA_TYPES if t.startswith("image/"))
# What a file's name ends with when it is stored or downloaded, by media type.
EXTENSIONS = {"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp", "image/heic": ".heic",
              "application/pdf": ".pdf"}

NAME_CHARS = 200
_SHA256 = re.compile("[0-9a-f]{64}")


class EvidenceRefused(RectifyError):
    """A file that cannot be taken as evidence; says which file and why, in Chinese."""

    exit_code = 2

    def __init__(self, name: str, reason: str) -> None:
        self.name, self.reason = name, reason
        super().__init__(f"文件“{name}”不能作为佐证：{reason}")


def valid_sha256(text: str) -> bool:
    return bool(_SHA256.fullmatch(text))


def clean_name(raw: str) -> str:
    """The name a file was uploaded under, as kept: the last part of any path a browser
    or a shell gave (C:\\fakepath\\a.jpg, ../a.jpg), control characters refused, at most
    NAME_CHARS characters (the end, with its extension, kept)."""
    name = raw.replace("\\", "/").rsplit("/", 1)[-1].strip()
    name = refuse("文件名", name).replace("\n", " ")
    if name in ("", ".", ".."):
        name = "未命名文件"
    if len(name) > NAME_CHARS:
        name = "…" + name[-(NAME_CHARS - 1):]
    return name


@dataclass(frozen=True)
class Attachment:
    """One file as evidence: what its bytes are, and what an image says of itself."""

    sha256: str
    name: str
    media_type: str
    size: int
    width: int | None = None
    height: int | None = None
    taken_at: str | None = None  # EXIF DateTimeOriginal as the camera wrote it (ISO text, its offset if given)
    latitude: float | None = None
    longitude: float | None = None
    thumbnail: str | None = None  # SHA-256 of the thumbnail (a JPEG) in the evidence store

    def __post_init__(self) -> None:
        if not valid_sha256(self.sha256) or (self.thumbnail is not None and not valid_sha256(self.thumbnail)):
            raise ValueError("an attachment is named by a lower-case hex SHA-256")
        if self.media_type not in MEDIA_TYPES:
            raise ValueError(f"unsupported media type {self.media_type}")

    @property
    def is_image(self) -> bool:
        return self.media_type in IMAGE_TYPES

    @property
    def type_title(self) -> str:
        return MEDIA_TYPES[self.media_type]

    def record(self) -> dict[str, Any]:
        """What the ledger row keeps of the file: hash, name, type and size always, the
        image's facts when there are any."""
        data: dict[str, Any] = {"sha256": self.sha256, "name": self.name, "type": self.media_type,
                                "size": self.size}
        for key, value in (("width", self.width), ("height", self.height), ("taken_at", self.taken_at),
                           ("latitude", self.latitude), ("longitude", self.longitude),
                           ("thumbnail", self.thumbnail)):
            if value is not None:
                data[key] = value
        return data

    @classmethod
    def from_record(cls, data: Mapping[str, Any]) -> Attachment:
        return cls(sha256=data["sha256"], name=data["name"], media_type=data["type"], size=int(data["size"]),
                   width=data.get("width"), height=data.get("height"), taken_at=data.get("taken_at"),
                   latitude=data.get("latitude"), longitude=data.get("longitude"),
                   thumbnail=data.get("thumbnail"))


@dataclass(frozen=True)
class Accepted:
    """A file checked and read as evidence (adapters/evidence/accept.py), not kept yet:
    its record, its bytes and its thumbnail's (a JPEG), for the service to keep once
    the event that carries it is decided allowed."""

    attachment: Attachment
    data: bytes
    thumbnail: bytes | None = None

    def blobs(self) -> dict[str, bytes]:
        """What the evidence store is to keep: the bytes by their SHA-256."""
        found = {self.attachment.sha256: self.data}
        if self.thumbnail is not None and self.attachment.thumbnail is not None:
            found[self.attachment.thumbnail] = self.thumbnail
        return found


@dataclass(frozen=True)
class StoredAttachment:
    """An attachment as the store lists it: which item, which ledger row (None when it
    was attached outside an event), who uploaded it and when."""

    id: int
    item_id: int
    seq: int | None
    attachment: Attachment
    uploaded_by: str
    uploaded_at: datetime


def ledger_change(evidence: Sequence[Attachment]) -> dict[str, list[Any]]:
    """The part of a ledger row's changes that records the files: {} for none."""
    if not evidence:
        return {}
    seen: set[str] = set()
    records = []
    for a in evidence:
        if a.sha256 not in seen:  # the same file twice in one event is one file
            seen.add(a.sha256)
            records.append(a.record())
    return {ATTACHMENTS: [None, records]}


def records(uploads: Sequence[Accepted]) -> dict[str, list[Any]]:
    """ledger_change of the files checked for an event."""
    return ledger_change([u.attachment for u in uploads])


def carried(changes: Mapping[str, Any]) -> list[Attachment]:
    """The files a ledger row's changes record (none for most rows)."""
    change = changes.get(ATTACHMENTS)
    if not isinstance(change, list | tuple) or len(change) != 2 or not isinstance(change[1], list):
        return []
    return [Attachment.from_record(r) for r in change[1]]


def count_after(existing: int, new: Iterable[Attachment], limit: int) -> int:
    """How many files the item would hold; EvidenceRefused (naming the first file over)
    when that is more than `limit`."""
    total = existing
    for a in new:
        total += 1
        if total > limit:
            raise EvidenceRefused(a.name, f"每个事项最多 {limit} 个佐证文件，本事项已有 {existing} 个")
    return total


def position_text(latitude: float | None, longitude: float | None) -> str | None:
    """"北纬 31.2304°，东经 121.4737°" for a position, or None."""
    if latitude is None or longitude is None:
        return None
    ns = "北纬" if latitude >= 0 else "南纬"
    ew = "东经" if longitude >= 0 else "西经"
    return f"{ns} {abs(latitude):.5f}°，{ew} {abs(longitude):.5f}°"


def size_text(size: int) -> str:
    """"2.4 MB", "830 KB", "512 字节"."""
    if size >= 1024 * 1024:
        return f"{size / 1024 / 1024:.1f} MB"
    if size >= 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size} 字节"


@dataclass(frozen=True)
class EvidenceGroup:
    """The files one ledger row brought (or, with seq None, those attached to the item
    outside any event): what the item page shows together, e.g. the start photos beside
    the after photos on the verify form."""

    seq: int | None
    event: str | None
    actor: str | None
    at: datetime | None
    files: tuple[StoredAttachment, ...]


def grouped(stored: Sequence[StoredAttachment], entries: Sequence[Any]) -> list[EvidenceGroup]:
    """The item's attachments by the ledger row they came with, in the order of the rows,
    the item's own files last. `entries`: the item's ledger rows (LedgerEntry)."""
    rows = {e.seq: e for e in entries}
    by_seq: dict[int | None, list[StoredAttachment]] = {}
    for a in stored:
        by_seq.setdefault(a.seq, []).append(a)
    groups = []
    for seq in sorted(s for s in by_seq if s is not None):
        entry = rows.get(seq)
        groups.append(EvidenceGroup(seq, entry.event if entry else None, entry.actor if entry else None,
                                    entry.at if entry else None, tuple(by_seq[seq])))
    if None in by_seq:
        groups.append(EvidenceGroup(None, None, None, None, tuple(by_seq[None])))
    return groups


class Keeper:
    """Keeps the files of one write (an event, a report) in the evidence store around it.

    The caller has decided the write allowed without writing anything, so a refusal
    keeps nothing. Then the bytes are put and the write made. When the write fails
    all the same (the item changed meanwhile, the transaction failed, the per-item
    limit counted again in it), the files this write stored new — not there before it —
    that no attachment names (`referenced`: which of these hashes an attachment names,
    as its file or its thumbnail) are removed again: the store holds what it held.

    Content addressing makes two writes carrying the same bytes share one file, so a
    removal and another write that records the same file may cross: the removal asks
    again afterwards and puts back a file recorded meanwhile, and a write that succeeds
    puts back any of its files a removal took meanwhile. Whichever comes last, a file
    an attachment names stays."""

    def __init__(self, files: EvidenceStore, referenced: Callable[[Collection[str]], set[str]]) -> None:
        self.files, self.referenced = files, referenced

    def around(self, uploads: Sequence[Accepted], write: Callable[[], T]) -> T:
        """`write()` with the files of `uploads` kept first; none left behind if it fails."""
        blobs: dict[str, bytes] = {}
        for upload in uploads:
            blobs.update(upload.blobs())
        new: dict[str, bytes] = {}
        try:
            new = {sha256: blobs[sha256] for sha256 in self.files.missing(list(blobs))}
            for data in blobs.values():
                self.files.put(data)
            result = write()
        except BaseException:
            self.discard(new)
            raise
        self.restore(blobs)
        return result

    def discard(self, new: Mapping[str, bytes]) -> list[str]:
        """Remove the files of a failed write that it stored new and no attachment names;
        put back any that another write recorded meanwhile. A store that cannot be
        reached now keeps them (logged with their hashes): the write's own error is
        what the caller hears. Returns the hashes removed (and not put back)."""
        if not new:
            return []
        try:
            named = self.referenced(list(new))
            removed = [sha256 for sha256 in new if sha256 not in named and self._remove(sha256)]
            recorded = self.referenced(removed) if removed else set()
            if recorded:
                self.restore({sha256: new[sha256] for sha256 in recorded})
        except RectifyError as exc:
            log.warning("evidence_left_unattached", files=sorted(new), error=str(exc))
            return []
        return [sha256 for sha256 in removed if sha256 not in recorded]

    def unattached(self, before: datetime) -> list[str]:
        """The files kept before `before` that no attachment names, in hash order:
        what writes that died between keeping their files and committing left behind.
        A write keeps its files just before writing, so a `before` an hour or more ago
        leaves every write still running out."""
        stored = self.files.stored_before(before)
        named = self.referenced(stored) if stored else set()
        return sorted(set(stored) - named)

    def sweep(self, before: datetime, batch: int = 50) -> list[str]:
        """Remove the unattached files kept before `before`; returns those removed. As
        when a failed write's files are taken back, the removal asks again afterwards
        and puts back a file another write recorded meanwhile, and a write that counted
        on one being there puts it back once it has written (`around`)."""
        removed: list[str] = []
        candidates = self.unattached(before)
        for start in range(0, len(candidates), batch):
            blobs = {sha256: data for sha256 in candidates[start : start + batch]
                     if (data := self._bytes_of(sha256)) is not None}
            removed += self.discard(blobs)
        return removed

    def _bytes_of(self, sha256: str) -> bytes | None:
        """A file's bytes, or None when it is gone meanwhile or cannot be read back (a
        damaged copy stays for the audit to report; logged)."""
        try:
            return self.files.get(sha256)
        except RectifyError as exc:
            log.warning("evidence_sweep_skipped", file=sha256, error=str(exc))
            return None

    def _remove(self, sha256: str) -> bool:
        try:
            self.files.remove(sha256)
        except RectifyError as exc:
            log.warning("evidence_left_unattached", files=[sha256], error=str(exc))
            return False
        return True

    def restore(self, blobs: Mapping[str, bytes]) -> None:
        """Put back any of these files the store no longer holds (logged when it cannot)."""
        try:
            for sha256 in self.files.missing(list(blobs)):
                self.files.put(blobs[sha256])
        except RectifyError as exc:
            log.error("evidence_restore_failed", files=sorted(blobs), error=str(exc))
