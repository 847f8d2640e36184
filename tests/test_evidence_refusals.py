"""No file left behind: an event or a report refused with files (a guard, a role, a
stale form, a bad value, the item's file limit) keeps none of them, through the web and
the CLI; a write that fails after its files were kept takes back the ones it stored new
and no attachment names; a file another write shares stays. On a site keeping its files
in a directory, one keeping them in its database (SQLite), and on PostgreSQL (the
database's store, its default there)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from adapters.evidence.accept import check
from adapters.evidence.stores import DatabaseEvidence, DirectoryEvidence
from adapters.schema import evidence_blobs
from adapters.sqlstore import SqlStore
from adapters.wiring import App, open_app
from engine.clock import FakeClock
from engine.errors import ConcurrentUpdate, StoreError
from engine.evidence import Accepted, EvidenceRefused, Keeper
from engine.model import Item
from engine.ports import Query
from engine.service import NewItem
from engine.site import EvidenceConfig
from tests import evidencefiles as files
from tests.conftest import START, Cli, _fresh_pg_database, audit_findings, copy_site
from tests.webclient import Browser, text_of

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

MAX_FILES = 3
BEFORE = ("整改前.jpg", files.jpeg())  # the report's photo: every refused upload carries it again
NEW = ("现场.png", files.png())  # and a file the store does not hold yet


@pytest.fixture(params=["directory", "database", pytest.param("postgresql", marks=pytest.mark.postgres)])
def site(request: pytest.FixtureRequest, tmp_path: Path, site_template: Path) -> Path:
    """A site whose items hold at most MAX_FILES files, kept in its directory, in its
    SQLite database, or in its PostgreSQL database."""
    if request.param == "postgresql":
        url = _fresh_pg_database(request.getfixturevalue("pg_server"), request.getfixturevalue("pg_template"))
        directory = copy_site(site_template, tmp_path / "site", url)
    else:
        directory = copy_site(site_template, tmp_path / "site")
    config = directory / "rectify.yaml"
    text = config.read_text(encoding="utf-8").replace("  max_files: 30 ", f"  max_files: {MAX_FILES} ")
    if request.param == "database":
        text = text.replace('  # store: "directory"', '  store: "database"')
    config.write_text(text, encoding="utf-8")
    return directory


@pytest.fixture
def app(site: Path) -> Iterator[App]:
    application = open_app(site, FakeClock(START))
    kind = DatabaseEvidence if application.config.evidence.store == "database" else DirectoryEvidence
    assert isinstance(application.evidence, kind) and application.config.evidence.max_files == MAX_FILES
    yield application
    try:
        assert audit_findings(application) == []
    finally:
        application.close()


def held(app: App) -> set[str]:
    """The hashes the site's evidence store holds (any stray file in a directory too)."""
    evidence = app.evidence
    if isinstance(evidence, DatabaseEvidence):
        assert isinstance(app.store, SqlStore)
        with app.store.read() as conn:
            return {r[0] for r in conn.execute(select(evidence_blobs.c.sha256))}
    assert isinstance(evidence, DirectoryEvidence)
    root = evidence.root
    return {p.parent.name + p.name for p in root.rglob("*") if p.is_file()} if root.exists() else set()


def taken(app: App, *named: tuple[str, bytes]) -> list[Accepted]:
    return check(app.config.evidence, list(named))


def hashes(uploads: list[Accepted]) -> set[str]:
    return {sha256 for u in uploads for sha256 in u.blobs()}


STEPS = [("assign", "周安宁", {"responsible": "马建军"}), ("start", "赵卫东", {}),
         ("submit", "马建军", {"measures": "清理通道", "evidence": "整改照片"}), ("verify", "周安宁", {})]
ORDER = ["reported", "assigned", "rectifying", "submitted", "verified"]


def reported(app: App, state: str = "reported") -> Item:
    """A 保卫处 hazard reported with a photo and moved to `state`: 马建军 is responsible,
    the unit head 赵卫东 started the rectification (so he may not close it)."""
    svc = app.service
    item = svc.report(NewItem(title="实训楼消防通道堵塞", category="消防", unit="保卫处", reporter="郭晓明",
                              evidence=taken(app, BEFORE)))
    for event, actor, sets in STEPS[:ORDER.index(state)]:
        item = svc.fire(item.id or 0, event, actor, sets)
    return item


def snapshot(app: App, item_id: int | None = None) -> tuple[Any, ...]:
    """What a refusal must leave as it was: the stored files, the items, the item's rows and files."""
    rows = app.store.history(item_id) if item_id else []
    attached = app.store.attachments(item_id) if item_id else []
    return held(app), len(app.store.query(Query())), [r.hash for r in rows], [a.id for a in attached]


# -- the web ----------------------------------------------------------------------------


def post(browser: Browser, path: str, data: dict[str, str], uploads: list[tuple[str, bytes]]) -> Any:
    return browser.client.post(path, data={"csrf": browser.csrf, **data},
                               files=[("photos", (name, body, "application/octet-stream")) for name, body in uploads])


# (what is refused, the item's state, who, the event, the form, the files, the status, what the page says)
WEB_REFUSALS = [
    ("a role that may not", "reported", "马建军", "assign", {"responsible": "马建军"}, [BEFORE, NEW], 403, "不能"),
    ("a guard", "verified", "赵卫东", "close", {}, [BEFORE, NEW], 403, "不能"),
    ("a field the event requires", "rectifying", "马建军", "submit", {}, [BEFORE, NEW], 403, "整改措施"),
    ("a bad field value", "reported", "周安宁", "assign", {"responsible": "查无此人"}, [BEFORE, NEW], 400, "查无此人"),
    ("the item's file limit", "rectifying", "马建军", "submit", {"measures": "清理通道"},
     [BEFORE, NEW, ("平面图.pdf", files.pdf())], 415, f"每个事项最多 {MAX_FILES} 个佐证文件，本事项已有 1 个"),
]


@pytest.mark.parametrize(("what", "state", "person", "event", "form", "uploads", "status", "said"), WEB_REFUSALS,
                         ids=[r[0] for r in WEB_REFUSALS])
def test_an_event_refused_on_the_web_keeps_none_of_its_files(
        app: App, what: str, state: str, person: str, event: str, form: dict[str, str],
        uploads: list[tuple[str, bytes]], status: int, said: str) -> None:
    item = reported(app, state)
    before = snapshot(app, item.id)
    answer = post(Browser(app).login(person), f"/items/{item.id}/events/{event}",
                  {**form, "version": str(item.version)}, uploads)
    shown = text_of(answer.text)
    assert answer.status_code == status, shown
    assert said in shown and "Traceback" not in answer.text
    assert snapshot(app, item.id) == before
    assert app.store.get(item.id or 0).state == state


def test_a_stale_form_with_files_keeps_none_of_them(app: App) -> None:
    item = reported(app, "rectifying")
    app.service.add_note(item.id or 0, "周安宁", "请尽快整改")  # someone wrote after the form was opened
    before = snapshot(app, item.id)
    answer = post(Browser(app).login("马建军"), f"/items/{item.id}/events/submit",
                  {"measures": "清理通道", "version": str(item.version)}, [BEFORE, NEW])
    assert answer.status_code == 409 and "已被其他人修改" in text_of(answer.text)
    assert snapshot(app, item.id) == before


@pytest.mark.parametrize(("field", "value", "said"), [("unit", "不存在的单位", "不存在的单位"), ("level", "特大", "一般")])
def test_a_report_refused_on_the_web_keeps_none_of_its_files(app: App, field: str, value: str, said: str) -> None:
    reported(app)
    before = snapshot(app)
    form = {"title": "配电房门锁损坏", "category": "消防", "level": "一般", "unit": "保卫处", "location": "",
            "description": "", field: value}
    answer = post(Browser(app).login("郭晓明"), "/report", form, [BEFORE, NEW])
    assert answer.status_code == 400 and said in text_of(answer.text)
    assert snapshot(app) == before


def test_an_event_accepted_on_the_web_keeps_its_files(app: App) -> None:
    """The other side of the refusals: the same form, allowed, keeps both files."""
    item = reported(app, "rectifying")
    before = held(app)
    answer = post(Browser(app).login("马建军"), f"/items/{item.id}/events/submit",
                  {"measures": "清理通道", "version": str(item.version)}, [BEFORE, NEW])
    assert answer.status_code == 303, text_of(answer.text)
    assert held(app) == before | hashes(taken(app, NEW))
    assert [a.attachment.name for a in app.store.attachments(item.id or 0)] == ["整改前.jpg", "整改前.jpg", "现场.png"]


# -- the CLI ----------------------------------------------------------------------------


def _photo_args(tmp_path: Path, *named: tuple[str, bytes]) -> list[str]:
    args = []
    for name, data in named:
        path = tmp_path / name
        path.write_bytes(data)
        args += ["--photo", str(path)]
    return args


def _set_up(site: Path, state: str) -> tuple[int, tuple[Any, ...]]:
    application = open_app(site)
    try:
        item = reported(application, state)
        return int(item.id or 0), snapshot(application, item.id)
    finally:
        application.close()


def _after(site: Path, item_id: int | None) -> tuple[Any, ...]:
    application = open_app(site)
    try:
        return snapshot(application, item_id)
    finally:
        application.close()


CLI_REFUSALS = [
    ("a role that may not", "reported", ["assign", "--actor", "马建军", "--set", "responsible=马建军"], [BEFORE, NEW],
     "不能"),
    ("a guard", "verified", ["close", "--actor", "赵卫东"], [BEFORE, NEW], "不能"),
    ("a field the event requires", "rectifying", ["submit", "--actor", "马建军"], [BEFORE, NEW], "整改措施"),
    ("a bad field value", "reported", ["assign", "--actor", "周安宁", "--set", "responsible=查无此人"], [BEFORE, NEW],
     "查无此人"),
    ("the item's file limit", "rectifying", ["submit", "--actor", "马建军", "--set", "measures=清理通道"],
     [BEFORE, NEW, ("平面图.pdf", files.pdf())], f"每个事项最多 {MAX_FILES} 个佐证文件，本事项已有 1 个"),
]


@pytest.mark.parametrize(("what", "state", "args", "uploads", "said"), CLI_REFUSALS, ids=[r[0] for r in CLI_REFUSALS])
def test_an_event_refused_on_the_command_line_keeps_none_of_its_files(
        site: Path, tmp_path: Path, what: str, state: str, args: list[str], uploads: list[tuple[str, bytes]],
        said: str) -> None:
    item_id, before = _set_up(site, state)
    event, *rest = args
    out = Cli(site)("fire", str(item_id), event, *rest, *_photo_args(tmp_path, *uploads), code=None)
    assert out.exit_code != 0 and said in out.stderr and "Traceback" not in out.stderr
    assert _after(site, item_id) == before


def test_a_report_refused_on_the_command_line_keeps_none_of_its_files(site: Path, tmp_path: Path) -> None:
    _set_up(site, "reported")
    before = _after(site, None)
    out = Cli(site)("report", "--title", "配电房门锁损坏", "--category", "消防", "--unit", "不存在的单位",
                    "--reporter", "郭晓明", *_photo_args(tmp_path, BEFORE, NEW), code=None)
    assert out.exit_code != 0 and "不存在的单位" in out.stderr
    assert _after(site, None) == before
    out = Cli(site)("report", "--title", "配电房门锁损坏", "--category", "消防", "--unit", "保卫处",
                    "--reporter", "郭晓明", *_photo_args(tmp_path, BEFORE, NEW, ("平面图.pdf", files.pdf()),
                                                          ("局部.png", files.png(50, 50))), code=2)
    assert f"每个事项最多 {MAX_FILES} 个佐证文件，本事项已有 0 个" in out.stderr
    assert _after(site, None) == before


# -- a write that fails after its files were kept ------------------------------------------


def test_a_fire_whose_write_fails_takes_back_the_files_it_stored_new(app: App, monkeypatch: pytest.MonkeyPatch) -> None:
    item = reported(app, "rectifying")
    before = snapshot(app, item.id)
    uploads = taken(app, BEFORE, NEW)
    seen: list[bool] = []

    def failing(*args: Any, **kwargs: Any) -> Any:
        seen.append(hashes(uploads) <= held(app))  # kept by now, just before the write
        raise StoreError("数据库 测试 暂时无法访问：连接中断")

    monkeypatch.setattr(app.store, "transition", failing)
    with pytest.raises(StoreError, match="连接中断"):
        app.service.fire(item.id or 0, "submit", "马建军", {"measures": "清理通道"}, evidence=uploads)
    assert seen == [True]
    assert snapshot(app, item.id) == before  # the report's photo, shared with the upload, stays


def test_a_fire_that_loses_every_retry_takes_back_its_files(app: App, monkeypatch: pytest.MonkeyPatch) -> None:
    item = reported(app, "rectifying")
    before = snapshot(app, item.id)

    def contended(item_id: int, *args: Any, **kwargs: Any) -> Any:
        raise ConcurrentUpdate(item_id)

    monkeypatch.setattr(app.store, "transition", contended)
    with pytest.raises(ConcurrentUpdate):
        app.service.fire(item.id or 0, "submit", "马建军", {"measures": "清理通道"}, evidence=taken(app, BEFORE, NEW))
    assert snapshot(app, item.id) == before


def test_files_that_reach_the_limit_meanwhile_refuse_the_other_write_and_stay(
        app: App, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two uploads to an item holding one file, the limit three: each was within it when
    decided, and while one was being written the other wrote two files first. The
    limit is counted again in the write: it is refused, the other's files (one of them
    the same file as one of its own) stay, its own new file goes."""
    item = reported(app, "submitted")
    i = item.id or 0
    shared = ("平面图.png", files.png(40, 30))
    own, theirs = taken(app, NEW, shared), taken(app, shared, ("方案.pdf", files.pdf()))
    before = held(app)
    real = app.store.transition
    first = [True]

    def meanwhile(*args: Any, **kwargs: Any) -> Any:
        if first[0]:
            first[0] = False
            app.service.fire(i, "verify", "周安宁", evidence=theirs)  # within the limit: 1 + 2
        return real(*args, **kwargs)

    monkeypatch.setattr(app.store, "transition", meanwhile)
    with pytest.raises(EvidenceRefused, match=f"每个事项最多 {MAX_FILES} 个佐证文件，本事项已有 3 个"):
        app.service.fire(i, "reject", "赵卫东", evidence=own)  # 1 + 2 as decided, 3 + 2 as written
    assert held(app) == before | hashes(theirs)
    assert not hashes(taken(app, NEW)) & held(app)
    attached = app.store.attachments(i)
    assert len(attached) == MAX_FILES and [a.attachment.name for a in attached][1:] == ["平面图.png", "方案.pdf"]
    assert app.store.get(i).state == "verified"


# -- the keeper's crossing with another write of the same bytes ---------------------------


def _keeper(tmp_path: Path, referenced: Any) -> tuple[Keeper, DirectoryEvidence, Accepted]:
    store = DirectoryEvidence(tmp_path / "evidence")
    [upload] = check(EvidenceConfig(), [NEW])
    return Keeper(store, referenced), store, upload


def test_a_removal_puts_back_a_file_another_write_recorded_meanwhile(tmp_path: Path) -> None:
    answers = [set(), None]  # nothing names it when asked first; by the second question, another write does

    def referenced(sha256s: Any) -> set[str]:
        answer = answers.pop(0)
        return set(sha256s) if answer is None else answer

    keeper, store, upload = _keeper(tmp_path, referenced)

    def refused() -> None:
        raise ConcurrentUpdate(1)

    with pytest.raises(ConcurrentUpdate):
        keeper.around([upload], refused)
    assert answers == [] and store.missing(upload.blobs()) == set()


def test_a_write_that_succeeds_puts_back_a_file_a_removal_took_meanwhile(tmp_path: Path) -> None:
    keeper, store, upload = _keeper(tmp_path, lambda sha256s: set())

    def written() -> str:
        for sha256 in upload.blobs():  # another write of the same bytes failed and took them back
            store.remove(sha256)
        return "written"

    assert keeper.around([upload], written) == "written"
    assert store.missing(upload.blobs()) == set()


def test_a_failed_write_keeps_its_files_when_nobody_can_say_whether_they_are_named(tmp_path: Path) -> None:
    def unreachable(sha256s: Any) -> set[str]:
        raise StoreError("数据库 测试 暂时无法访问")

    keeper, store, upload = _keeper(tmp_path, unreachable)

    def failed() -> None:
        raise StoreError("数据库 测试 写入失败")

    with pytest.raises(StoreError, match="写入失败"):  # the write's own error, not the cleanup's
        keeper.around([upload], failed)
    assert store.missing(upload.blobs()) == set()
