"""Evidence through the engine: the ledger row of the event records each file, the
attachments land with it in one transaction, `rectify audit` still verifies; the CLI's
--photo and `show`."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path

import pytest
from sqlalchemy import text

from adapters.evidence.accept import check
from adapters.evidence.stores import DatabaseEvidence, DirectoryEvidence
from adapters.sqlstore import SqlStore
from adapters.wiring import App
from engine import site as site_mod
from engine.audit import audit_store
from engine.errors import Refused, StoreError
from engine.evidence import ATTACHMENTS, Accepted, Attachment
from engine.model import verify_chain
from engine.service import NewItem
from tests import evidencefiles as files
from tests.conftest import Cli, audit_findings

VERIFY = {"measures": "清理通道", "evidence": "整改后照片"}


def _photos(app: App, *named: tuple[str, bytes]) -> list[Accepted]:
    """Files checked as the CLI and the web check them: the service keeps them."""
    return check(app.config.evidence, list(named))


def _records(app: App, *named: tuple[str, bytes]) -> list[Attachment]:
    """What an attachment records of files (for add_attachments, which keeps no bytes)."""
    return [a.attachment for a in _photos(app, *named)]


def test_report_and_submit_record_their_files_in_the_ledger_and_the_attachments(app: App) -> None:
    before = _photos(app, ("整改前.jpg", files.jpeg()))
    item = app.service.report(NewItem(title="实训楼消防通道堵塞", category="消防", unit="保卫处",
                                      reporter="郭晓明", evidence=before))
    i = int(item.id or 0)
    app.service.fire(i, "assign", "赵卫东", {"responsible": "马建军"})
    app.service.fire(i, "start", "马建军")
    after = _photos(app, ("整改后.jpg", files.jpeg(color="#27ae60")), ("验收单.pdf", files.pdf()))
    # 整改完成 with its after-photos: they are what the 整改佐证 is, no text needed.
    app.service.fire(i, "submit", "马建军", {"measures": VERIFY["measures"]}, evidence=after)
    app.service.fire(i, "verify", "郭晓明")
    history = app.store.history(i)
    assert verify_chain(history) is None
    assert history[0].changes[ATTACHMENTS] == [None, [before[0].attachment.record()]]
    recorded = history[3].changes[ATTACHMENTS][1]
    assert [(r["name"], r["type"], r["size"], r["sha256"]) for r in recorded] == [
        ("整改后.jpg", "image/jpeg", len(files.jpeg(color="#27ae60")),
         hashlib.sha256(files.jpeg(color="#27ae60")).hexdigest()),
        ("验收单.pdf", "application/pdf", len(files.pdf()), hashlib.sha256(files.pdf()).hexdigest())]
    assert recorded[0]["taken_at"] == "2021-02-28T10:15:00+08:00"
    listed = app.store.attachments(i)
    assert [(a.seq, a.attachment.name, a.uploaded_by) for a in listed] == [
        (1, "整改前.jpg", "郭晓明"), (4, "整改后.jpg", "马建军"), (4, "验收单.pdf", "马建军")]
    assert all(app.evidence.get(a.attachment.sha256) for a in listed)
    # (the fixture audits the site afterwards: the rows carrying files verify)


def test_a_refused_event_records_and_attaches_nothing(app: App) -> None:
    i = int(app.service.report(NewItem(title="灭火器过期", category="消防", unit="保卫处", reporter="郭晓明")).id or 0)
    photo = _photos(app, ("照片.jpg", files.jpeg()))
    with pytest.raises(Refused):
        app.service.fire(i, "close", "周安宁", evidence=photo)
    assert len(app.store.history(i)) == 1 and app.store.attachments(i) == []


def test_changing_a_recorded_file_breaks_the_chain(app: App) -> None:
    photo = _photos(app, ("整改前.jpg", files.jpeg()))
    i = int(app.service.report(NewItem(title="灭火器过期", category="消防", unit="保卫处", reporter="郭晓明",
                                       evidence=photo)).id or 0)
    [entry] = app.store.history(i)
    record = dict(entry.changes[ATTACHMENTS][1][0], sha256=hashlib.sha256(b"another photo").hexdigest())
    forged = dataclasses.replace(entry, changes={**entry.changes, ATTACHMENTS: [None, [record]]})
    assert verify_chain([entry]) is None and verify_chain([forged]) == 1


def test_evidence_settings_and_where_files_go(tmp_path: Path) -> None:
    sqlite = site_mod.parse(tmp_path, "site_name: x\n", "rectify.yaml")
    assert (sqlite.evidence.store, sqlite.evidence.directory) == ("directory", tmp_path / "evidence")
    assert (sqlite.evidence.max_mb, sqlite.evidence.max_files, sqlite.evidence.max_bytes) == (20, 30, 20 * 1024 * 1024)
    pg = site_mod.parse(tmp_path, 'database: {url: "postgresql+psycopg://r@127.0.0.1/r"}\n', "rectify.yaml")
    assert pg.evidence.store == "database"
    given = site_mod.parse(tmp_path, "evidence: {store: database, max_mb: 5, max_files: 3, directory: files}\n",
                           "rectify.yaml")
    assert (given.evidence.store, given.evidence.max_mb, given.evidence.max_files) == ("database", 5, 3)
    with pytest.raises(Exception, match="max_mb"):
        site_mod.parse(tmp_path, "evidence: {max_mb: 0}\n", "rectify.yaml")


def test_the_app_keeps_files_where_the_site_says(app: App) -> None:
    store = app.evidence
    if isinstance(app.store, SqlStore) and app.store.db.dialect.name == "postgresql":
        assert isinstance(store, DatabaseEvidence)
    else:
        assert isinstance(store, DirectoryEvidence) and store.root == app.config.root / "evidence"


# -- the CLI ------------------------------------------------------------------------


def _write(directory: Path, name: str, data: bytes) -> str:
    path = directory / name
    path.write_bytes(data)
    return str(path)


def test_cli_report_and_fire_with_photos_then_show(run: Cli, tmp_path: Path) -> None:
    before = _write(tmp_path, "整改前.jpg", files.jpeg())
    out = run("report", "--title", "配电房门锁损坏", "--category", "消防", "--unit", "总务处",
              "--reporter", "郭晓明", "--photo", before)
    assert "附佐证文件 1 个" in out.stdout
    out = run("fire", "1", "assign", "--actor", "王建国", "--set", "responsible=张海峰",
              "--photo", _write(tmp_path, "现场.png", files.png()), "--photo", _write(tmp_path, "方案.pdf", files.pdf()))
    assert "附佐证文件 2 个" in out.stdout
    shown = run("show", "1").stdout
    for label in ("佐证文件", "文件名", "拍摄时间：", "拍摄位置：", "整改前.jpg", "类型：JPEG 图片", "PNG 图片",
                 "PDF 文件", "尺寸：1200×900", "拍摄时间：2021-02-28 10:15", "北纬 31.23040°，东经 121.47370°",
                 "所属：历史记录第1条", "所属：历史记录第2条", "上传：王建国"):
        assert label in shown, label
    data = json.loads(run("show", "1", "--json").stdout)
    assert [(a["name"], a["seq"], a["uploaded_by"]) for a in data["attachments"]] == [
        ("整改前.jpg", 1, "郭晓明"), ("现场.png", 2, "王建国"), ("方案.pdf", 2, "王建国")]
    assert data["history"][1]["changes"][ATTACHMENTS][1][1]["name"] == "方案.pdf"
    assert "全部完好" in run("audit").stdout
    sha = data["attachments"][0]["sha256"]
    assert (run.site / "evidence" / sha[:2] / sha[2:]).read_bytes() == files.jpeg()


def test_cli_refuses_a_renamed_program_and_writes_nothing(run: Cli, tmp_path: Path) -> None:
    run("report", "--title", "配电房门锁损坏", "--category", "消防", "--unit", "总务处", "--reporter", "郭晓明")
    out = run("fire", "1", "assign", "--actor", "王建国", "--set", "responsible=张海峰",
              "--photo", _write(tmp_path, "好.jpg", files.jpeg()),
              "--photo", _write(tmp_path, "整改照片.jpg", files.EXE), code=2)
    assert "文件“整改照片.jpg”不能作为佐证：文件内容是 Windows 可执行程序" in out.stderr
    assert "Traceback" not in out.stderr and "Error" not in out.stderr
    data = json.loads(run("show", "1", "--json").stdout)
    assert data["state"] == "reported" and data["attachments"] == [] and len(data["history"]) == 1
    assert not (run.site / "evidence").exists()


def test_cli_missing_photo_and_unknown_item_are_told_in_chinese(run: Cli, tmp_path: Path) -> None:
    out = run("report", "--title", "门锁损坏", "--category", "消防", "--photo", str(tmp_path / "没有.jpg"), code=1)
    assert "无法读取佐证文件" in out.stderr and "文件或目录不存在" in out.stderr
    out = run("fire", "9", "assign", "--actor", "王建国", "--photo", _write(tmp_path, "a.jpg", files.jpeg()), code=1)
    assert "找不到事项：9" in out.stderr
    out = run("report", "--title", "门锁损坏", "--category", "消防", "--photo", str(tmp_path), code=1)
    assert "这是一个目录" in out.stderr


# -- the database keeps what was attached; audit ties the attachments to the ledger ------


def _reported_with_photo(app: App) -> int:
    photo = _photos(app, ("整改前.jpg", files.jpeg()))
    return int(app.service.report(NewItem(title="灭火器过期", category="消防", unit="保卫处",
                                          reporter="郭晓明", evidence=photo)).id or 0)


@pytest.mark.parametrize("statement", ["UPDATE attachments SET name = 'x.jpg'", "DELETE FROM attachments",
                                       "DELETE FROM evidence_blobs", "UPDATE evidence_blobs SET size = 1"])
def test_attachments_and_stored_files_are_append_only(app: App, statement: str) -> None:
    _reported_with_photo(app)
    if not isinstance(app.evidence, DatabaseEvidence):  # the photo in the database's store too
        DatabaseEvidence(app.store).put(files.jpeg())  # type: ignore[arg-type]
    assert isinstance(app.store, SqlStore)
    with pytest.raises(StoreError, match="append-only"), app.store.write() as conn:
        conn.execute(text(statement))


def _tamper(app: App, *statements: str) -> None:
    """Rows changed behind rectify's back, the append-only triggers dropped first."""
    assert isinstance(app.store, SqlStore)
    with app.store.db.begin() as conn:
        if app.store.db.dialect.name == "sqlite":
            for name in ("attachments_no_update", "attachments_no_delete"):
                conn.execute(text(f"DROP TRIGGER IF EXISTS {name}"))
        else:
            conn.execute(text("DROP TRIGGER IF EXISTS attachments_no_change ON attachments"))
        for statement in statements:
            conn.execute(text(statement))


@pytest.mark.tampers
@pytest.mark.parametrize(("attack", "expected"), [
    ("DELETE FROM attachments", "记录的佐证文件“整改前.jpg”不在附件表中：附件记录被删除"),
    ("UPDATE attachments SET size = 1", "附件“整改前.jpg”与台账记录不符：附件信息被改动"),
    ("UPDATE attachments SET latitude = 39.9", "附件“整改前.jpg”与台账记录不符"),
    ("UPDATE attachments SET uploaded_by = '周安宁'", "附件“整改前.jpg”与台账记录不符"),
    ("INSERT INTO attachments (item_id, seq, sha256, name, media_type, size, uploaded_by, uploaded_at) "
     "SELECT item_id, seq, '" + "a" * 64 + "', '伪造.jpg', media_type, size, uploaded_by, uploaded_at FROM attachments",
     "附件“伪造.jpg”不在该条台账记录中：附件是后来加上的"),
])
def test_audit_notices_attachments_changed_behind_the_ledgers_back(app: App, attack: str, expected: str) -> None:
    i = _reported_with_photo(app)
    assert audit_findings(app) == []
    _tamper(app, attack)
    assert any(expected in finding for finding in audit_findings(app)), audit_findings(app)
    assert [str(f) for f in audit_store(app.store, i).findings] == audit_findings(app)


def test_audit_on_memory_ties_attachments_to_the_ledger(tmp_path: Path) -> None:
    from adapters.memory import MemoryStore
    from adapters.sitesetup import create_site
    from adapters.wiring import open_app

    create_site(tmp_path / "site")
    app = open_app(tmp_path / "site", store=MemoryStore())
    i = _reported_with_photo(app)
    assert audit_findings(app) == []
    app.store.add_attachments(i, None, _records(app, ("补充.png", files.png())), "郭晓明", app.service.clock.now())
    assert audit_findings(app) == []  # attached to the item itself: not in any ledger row
    app.store.add_attachments(i, 1, _records(app, ("后加.png", files.png(20, 20))), "郭晓明", app.service.clock.now())
    assert audit_findings(app) == ["事项 1 第1条记录：附件“后加.png”不在该条台账记录中：附件是后来加上的"]


def test_files_grouped_by_the_event_that_brought_them(app: App) -> None:
    from engine.evidence import grouped

    i = _reported_with_photo(app)
    app.service.fire(i, "assign", "赵卫东", {"responsible": "马建军"})
    app.service.fire(i, "start", "马建军", evidence=_photos(app, ("整改中.png", files.png())))
    app.store.add_attachments(i, None, _records(app, ("方案.pdf", files.pdf())), "马建军", app.service.clock.now())
    groups = grouped(app.store.attachments(i), app.store.history(i))
    assert [(g.seq, g.event, g.actor, [f.attachment.name for f in g.files]) for g in groups] == [
        (1, "report", "郭晓明", ["整改前.jpg"]), (3, "start", "马建军", ["整改中.png"]), (None, None, None, ["方案.pdf"])]


def test_migration_0008_adds_the_evidence_tables_to_a_database_in_use(db_url: str) -> None:
    """A database one revision back, holding an item, is upgraded: its items can then
    carry files and the database keeps them."""
    from datetime import UTC, datetime

    from sqlalchemy import inspect

    from adapters import database
    from tests.oldrows import insert_item

    engine = database.open_engine(db_url, must_exist=False)
    try:
        database.upgrade(engine, "0007")
        assert "attachments" not in inspect(engine).get_table_names()
        insert_item(engine)  # as the code of that revision stored it
        database.upgrade(engine)
        store = SqlStore(engine)
        assert database.current_revision(engine) == database.head_revision()
        assert {"attachments", "evidence_blobs"} <= set(inspect(engine).get_table_names())
        sha = DatabaseEvidence(store).put(files.png())
        file = Attachment(sha, "现场.png", "image/png", len(files.png()))
        [row] = store.add_attachments(1, None, [file], "郭晓明", datetime(2021, 3, 1, tzinfo=UTC))
        assert row.attachment == file and DatabaseEvidence(store).get(sha) == files.png()
    finally:
        engine.dispose()


def test_migration_0013_lets_a_file_nothing_names_go_and_keeps_every_named_one(db_url: str) -> None:
    """A database one revision back keeps every stored file, named or not; upgraded, a
    file no attachment names may be removed, one named (as a file or as a thumbnail)
    still may not; downgraded, no file may be removed again."""
    from datetime import UTC, datetime

    from alembic import command

    from adapters import database
    from engine.evidence import Attachment
    from tests.oldrows import insert_item

    engine = database.open_engine(db_url, must_exist=False)
    try:
        database.upgrade(engine, "0012")
        insert_item(engine)
        store = SqlStore(engine)
        blobs = DatabaseEvidence(store)
        photo, thumb, loose = (blobs.put(data) for data in (files.jpeg(), files.png(), files.pdf()))
        store.add_attachments(1, None, [Attachment(photo, "现场.jpg", "image/jpeg", len(files.jpeg()), thumbnail=thumb)],
                              "郭晓明", datetime(2021, 3, 1, tzinfo=UTC))

        def delete(sha: str) -> None:
            with store.write() as conn:
                conn.execute(text("DELETE FROM evidence_blobs WHERE sha256 = :s"), {"s": sha})

        for sha in (photo, thumb, loose):
            with pytest.raises(StoreError, match="append-only"):
                delete(sha)
        database.upgrade(engine)
        for sha in (photo, thumb):
            with pytest.raises(StoreError, match="append-only"):
                delete(sha)
        delete(loose)
        assert blobs.missing([photo, thumb, loose]) == {loose}
        with engine.execution_options(**{database.WRITE: True}).begin() as conn:
            command.downgrade(database._alembic_config(conn), "0012")
        assert database.current_revision(engine) == "0012"
        loose = blobs.put(files.pdf())
        with pytest.raises(StoreError, match="append-only"):
            delete(loose)
    finally:
        engine.dispose()
