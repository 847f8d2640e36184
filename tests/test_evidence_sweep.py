"""Files left unattached by a write that died between keeping them and committing are
swept: `rectify evidence sweep` (engine.evidence.Keeper.sweep) removes the files kept
before a cut-off that no attachment names, and nothing else."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

from adapters.evidence.stores import DirectoryEvidence
from adapters.memory import MemoryStore
from engine.evidence import Keeper
from tests import evidencefiles as files
from tests.conftest import Cli

LONG_AGO = datetime(2020, 1, 1, tzinfo=UTC)  # before any test clock's cut-off


def _age(store: DirectoryEvidence, sha256: str, when: datetime = LONG_AGO) -> None:
    os.utime(store.path(sha256), (when.timestamp(), when.timestamp()))


def test_the_sweep_removes_old_unattached_files_only(run: Cli, tmp_path: Path) -> None:
    photo = tmp_path / "整改前.jpg"
    photo.write_bytes(files.jpeg())
    run("report", "--title", "配电房门锁损坏", "--category", "消防", "--unit", "总务处",
        "--reporter", "郭晓明", "--photo", str(photo))
    attached = json.loads(run("show", "1", "--json").stdout)["attachments"][0]["sha256"]
    kept = DirectoryEvidence(run.site / "evidence")
    left, fresh = kept.put(b"left by a write that died"), kept.put(b"kept by a write still running")
    _age(kept, attached)
    _age(kept, left)
    # A process killed while writing a file leaves its temporary beside the files.
    stale, writing = kept.path(left).parent / ".upload-stale", kept.path(left).parent / ".upload-writing"
    stale.write_bytes(b"half a photo")
    writing.write_bytes(b"a photo being written")
    os.utime(stale, (LONG_AGO.timestamp(), LONG_AGO.timestamp()))

    listed = run("evidence", "sweep", "--dry-run").stdout
    assert left in listed and attached not in listed and fresh not in listed
    assert "共 1 个，另有写入中断留下的临时文件 1 个；未删除" in listed
    assert kept.exists(left) and stale.exists()

    swept = run("evidence", "sweep").stdout
    assert swept.splitlines()[0] == left
    assert "没有事项引用的佐证文件 1 个，另删除写入中断留下的临时文件 1 个" in swept
    assert not kept.exists(left) and kept.exists(attached) and kept.exists(fresh)
    assert not stale.exists() and writing.exists()
    assert "全部完好" in run("audit").stdout
    assert "共 0 个" in run("evidence", "sweep", "--dry-run").stdout


def test_a_file_recorded_while_the_sweep_removes_it_is_put_back(tmp_path: Path) -> None:
    kept = DirectoryEvidence(tmp_path / "evidence")
    sha256 = kept.put(b"re-used by a write meanwhile")
    _age(kept, sha256)
    answers = iter([set(), set(), {sha256}])  # unattached, then named once removed

    def referenced(_: object) -> set[str]:
        return next(answers)

    assert Keeper(kept, referenced).sweep(datetime.now(UTC)) == []
    assert kept.get(sha256) == b"re-used by a write meanwhile"


def test_the_sweep_reads_what_it_removes_in_batches_and_skips_a_damaged_file(tmp_path: Path) -> None:
    kept = DirectoryEvidence(tmp_path / "evidence")
    shas = [kept.put(f"left {n}".encode()) for n in range(7)]
    for sha256 in shas:
        _age(kept, sha256)
    damaged = shas[3]
    kept.path(damaged).write_bytes(b"changed on disk")
    _age(kept, damaged)
    removed = Keeper(kept, MemoryStore().referenced).sweep(datetime.now(UTC) - timedelta(hours=1), batch=2)
    assert sorted(removed) == sorted(set(shas) - {damaged})
    assert kept.path(damaged).exists()  # left for the audit to report, not silently dropped
