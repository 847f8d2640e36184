"""What `rectify audit` checks: each item's ledger against itself and against the item.

The ledger is a hash chain per item. On its own a chain proves only that its rows fit
together; the checks here also tie it to the item row (the row records where its chain
ends), replay it (the item's state and recorded fields must be what its rows say), and
count the items (ids are handed out without gaps, so a missing number is a deleted
item). Someone who can write the database can still rewrite an item together with a
fresh chain: only heads kept elsewhere (`Anchor`) prove that nothing before them changed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from engine.evidence import ATTACHMENTS, StoredAttachment, carried
from engine.model import Item, LedgerEntry, verify_chain

# The plan basis the ledger records beside the fields: who set which deadline.
BASIS = ("policy_version", "rule", "due", "overdue_at")
# Recorded in some rows beside the basis, checked with neither the fields nor the basis
# (the files an event carried are facts of that row, not of the item).
_NOT_FIELDS = frozenset({*BASIS, "provisional", ATTACHMENTS})


@dataclass(frozen=True)
class Finding:
    """One thing the audit found wrong, in Chinese, with the item and ledger row."""

    item_id: int | None
    seq: int | None
    message: str

    def __str__(self) -> str:
        where = f"事项 {self.item_id}" if self.item_id is not None else "台账"
        if self.seq is not None:
            where += f" 第{self.seq}条记录"
        return f"{where}：{self.message}"


def check_item(item: Item, entries: Sequence[LedgerEntry], *, basis: bool = True) -> list[Finding]:
    """Everything wrong with one item and its ledger; [] when it is intact. `basis`: the
    ledger records every change of the plan basis (rows written since that was so)."""
    if not entries:
        return [Finding(item.id, None, "没有任何历史记录（台账记录被删除，或事项未经 rectify 写入）")]
    broken = verify_chain(list(entries))
    if broken is not None:
        return [Finding(item.id, broken, "与哈希链不符：该条或其前后的记录被改动、删除或插入")]
    last = entries[-1]
    found = []
    if (item.ledger_seq, item.ledger_head) != (last.seq, last.hash):
        if item.ledger_seq > last.seq:
            message = f"事项记录的链尾为第{item.ledger_seq}条，台账只有{last.seq}条：其后的记录被删除"
        else:
            message = f"事项记录的链尾（第{item.ledger_seq}条）与台账最后一条（第{last.seq}条）不符"
        found.append(Finding(item.id, last.seq, message))
    found += _replay(item, entries, basis)
    return found


def check_attachments(item_id: int | None, entries: Sequence[LedgerEntry],
                      stored: Sequence[StoredAttachment]) -> list[Finding]:
    """The files the ledger rows record against the item's attachments table: each
    recorded file attached with its row, as recorded (name, type, size, image facts, by
    the row's actor at its time), and no file attached to a row that does not record it.
    (Files attached to the item itself, outside any row, are not in the ledger.)"""
    recorded = {(e.seq, a.sha256): (e, a) for e in entries for a in carried(e.changes)}
    listed = {(s.seq, s.attachment.sha256): s for s in stored if s.seq is not None}
    found = []
    for (seq, _), (entry, file) in sorted(recorded.items()):
        row = listed.get((seq, file.sha256))
        if row is None:
            found.append(Finding(item_id, seq, f"记录的佐证文件“{file.name}”不在附件表中：附件记录被删除"))
        elif (row.attachment, row.uploaded_by, row.uploaded_at) != (file, entry.actor, entry.at):
            found.append(Finding(item_id, seq, f"附件“{row.attachment.name}”与台账记录不符：附件信息被改动"))
    for (seq, _), row in sorted(listed.items(), key=lambda pair: (pair[0][0] or 0, pair[0][1])):
        if (seq, row.attachment.sha256) not in recorded:
            found.append(Finding(item_id, seq, f"附件“{row.attachment.name}”不在该条台账记录中：附件是后来加上的"))
    return found


def _replay(item: Item, entries: Sequence[LedgerEntry], basis: bool) -> list[Finding]:
    """The item's state and fields must be what its ledger rows, applied in order, give."""
    found = []
    state: str | None = None
    values: dict[str, Any] = {}
    for entry in entries:
        if entry.from_state != state:
            found.append(Finding(item.id, entry.seq, f"记录的原状态“{entry.from_state}”与上一条记录的新状态“{state}”不符"))
        state = entry.to_state
        for name, change in entry.changes.items():
            values[name] = change[1] if isinstance(change, list | tuple) and len(change) == 2 else change
    if item.state != state:
        found.append(Finding(item.id, None, f"状态为“{item.state}”，而台账记录的状态为“{state}”：状态未经流程被改动"))
    recorded = item.snapshot()
    for name in sorted(set(recorded) | (values.keys() - _NOT_FIELDS)):
        if not _same(recorded.get(name), values.get(name)):
            found.append(Finding(item.id, None, _differs(name, recorded.get(name), values.get(name))))
    if basis:
        for name in BASIS:
            if name in values or getattr(item, name) is not None:
                if not _same(getattr(item, name), values.get(name)):
                    found.append(Finding(item.id, None, _differs(name, getattr(item, name), values.get(name))))
    return found


def _same(stored: Any, replayed: Any) -> bool:
    if stored in (None, "") and replayed in (None, ""):
        return True
    if isinstance(stored, datetime):
        return isinstance(replayed, str) and _instant(replayed) == stored
    if isinstance(stored, date):
        return replayed == stored.isoformat()
    return bool(stored == replayed)


def _instant(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def _differs(name: str, stored: Any, replayed: Any) -> str:
    from engine.model import FIELDS

    title = FIELDS[name].title if name in FIELDS else {"policy_version": "规则版本", "rule": "适用规则",
                                                        "due": "整改期限", "overdue_at": "逾期时刻"}.get(name, name)
    return f"“{title}”为“{_shown(stored)}”，而台账记录的是“{_shown(replayed)}”：未经 rectify 被改动"


def _shown(value: Any) -> str:
    if value in (None, ""):
        return "（空）"
    text = value.isoformat() if isinstance(value, date | datetime) else str(value)
    return text if len(text) <= 40 else text[:40] + "…"


# --- anchors: heads kept outside the database -------------------------------------------

ANCHOR_HEADER = "# rectify 台账链尾"


@dataclass(frozen=True)
class Anchor:
    """Each item's chain end at one moment, and one digest over all of them: the digest
    is short enough to send to a higher authority, the heads prove everything before."""

    taken_at: str
    heads: Mapping[int, tuple[int, str]]  # item id -> (seq, hash)

    @property
    def digest(self) -> str:
        body = "".join(f"{i} {seq} {h}\n" for i, (seq, h) in sorted(self.heads.items()))
        return hashlib.sha256(f"{self.taken_at}\n{body}".encode()).hexdigest()

    def text(self, site: str) -> str:
        lines = [ANCHOR_HEADER, f"# 站点：{site}", f"# 时间：{self.taken_at}",
                 f"# 事项数：{len(self.heads)}", f"# 校验码：{self.digest}"]
        lines += [f"{i} {seq} {h}" for i, (seq, h) in sorted(self.heads.items())]
        return "\n".join(lines) + "\n"


class AnchorError(ValueError):
    """A heads file that is not one `rectify audit --export-head` wrote, or was changed."""


def parse_anchor(text: str) -> Anchor:
    taken_at, digest, heads = None, None, {}
    for number, line in enumerate(text.splitlines(), start=1):
        if line.startswith("# 时间："):
            taken_at = line.removeprefix("# 时间：").strip()
        elif line.startswith("# 校验码："):
            digest = line.removeprefix("# 校验码：").strip()
        elif line.startswith("#") or not line.strip():
            continue
        else:
            parts = line.split()
            if len(parts) != 3 or not parts[0].isdigit() or not parts[1].isdigit() or len(parts[2]) != 64:
                raise AnchorError(f"第{number}行格式不正确：应为“事项编号 条数 哈希”")
            heads[int(parts[0])] = (int(parts[1]), parts[2])
    if taken_at is None or digest is None:
        raise AnchorError("缺少“# 时间：”或“# 校验码：”行，不是 rectify audit --export-head 写出的文件")
    anchor = Anchor(taken_at, heads)
    if anchor.digest != digest:
        raise AnchorError(f"文件内容与其校验码不符（文件中为 {digest[:16]}…，按内容算得 {anchor.digest[:16]}…）：文件被改动过")
    return anchor


def against_anchor(anchor: Anchor, items: Mapping[int, Item],
                   histories: Mapping[int, Sequence[LedgerEntry]]) -> list[Finding]:
    """Whether every chain still holds, at the same place, the row the anchor recorded:
    then nothing at or before it changed (the chain from there back is verified)."""
    found = []
    for item_id, (seq, head) in sorted(anchor.heads.items()):
        if item_id not in items:
            found.append(Finding(item_id, None, f"记录链尾时（{anchor.taken_at}）存在，现在已不存在：事项被删除"))
            continue
        entries = histories.get(item_id, [])
        at = next((e for e in entries if e.seq == seq), None)
        if at is None:
            found.append(Finding(item_id, seq, f"记录链尾时有第{seq}条记录，现在台账只有{len(entries)}条：记录被删除"))
        elif at.hash != head:
            found.append(Finding(item_id, seq, f"与{anchor.taken_at}记录的链尾不符：此前的记录被改写"))
    newest = max(anchor.heads, default=0)
    for item_id in sorted(items):
        if item_id <= newest and item_id not in anchor.heads:
            found.append(Finding(item_id, None, "编号早于记录链尾时的事项，却不在当时的记录中：事项是后来插入的"))
    return found


@dataclass
class Audit:
    """What one audit found, how many items it checked, and (when asked) their heads."""

    findings: list[Finding]
    checked: int
    heads: dict[int, tuple[int, str]]


def audit_store(store: Any, item_id: int | None = None, anchor: Anchor | None = None,
                keep_heads: bool = False) -> Audit:
    """Every item of an item store (or one) checked as `check_item` does, plus ids missing
    below the highest (ids have no gaps), ledger rows without an item and, with an
    anchor, everything the anchor recorded. Reads the store a batch at a time."""
    basis_from = int(store.meta("ledger_basis_from") or 1)
    result = Audit([], 0, {})
    found = result.findings
    expected = 1
    seen: set[int] = set()
    batches = [[(store.get(item_id), store.history(item_id))]] if item_id else store.chains()
    for batch in batches:
        files = store.attachments_of([int(i.id) for i, _ in batch])
        for item, entries in batch:
            number = int(item.id)
            if item_id is None:
                found += [Finding(missing, None, "编号缺失：该事项连同其台账记录被删除")
                          for missing in range(expected, number)]
                expected = number + 1
            found += check_item(item, entries, basis=number >= basis_from)
            found += check_attachments(number, entries, files.get(number, []))
            result.checked += 1
            if keep_heads:
                result.heads[number] = (item.ledger_seq, item.ledger_head)
        if anchor is not None:
            items = {int(i.id): i for i, _ in batch}
            seen.update(items)
            part = Anchor(anchor.taken_at, {k: v for k, v in anchor.heads.items() if k in items})
            found += against_anchor(part, items, {int(i.id): e for i, e in batch})
    if item_id is None:
        found += [Finding(i, None, "台账中有该事项的记录，事项本身却已不存在：事项被删除")
                  for i in store.ledger_orphans()]
        if anchor is not None:
            gone = {k: v for k, v in anchor.heads.items() if k not in seen}
            found += against_anchor(Anchor(anchor.taken_at, gone), {}, {})
    return result
