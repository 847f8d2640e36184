"""Photos on the workbench through the ASGI test client: the 随手拍 form and event forms
take photos (checked on their bytes, kept with the event's ledger row), the item page
shows them grouped by event with EXIF time and position, the verify form shows the
start photos beside the after photos, files are served only to those who may see the
item, and every refusal is a Chinese 4xx page with nothing written."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from adapters.web import photos
from adapters.wiring import App, open_app
from engine.clock import FakeClock
from engine.evidence import carried
from engine.ports import Query
from tests import evidencefiles as files
from tests.conftest import START, audit_findings
from tests.webclient import Browser, hazard, text_of

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _open(site: Path, **evidence: Any) -> Iterator[App]:
    if evidence:
        path = site / "rectify.yaml"
        text = path.read_text(encoding="utf-8")
        for key, value in evidence.items():
            text, n = re.subn(rf"(?m)^  {key}: .*$", f"  {key}: {value}", text)
            assert n == 1, key
        path.write_text(text, encoding="utf-8")
    application = open_app(site, FakeClock(START))
    yield application
    try:
        assert audit_findings(application) == []
    finally:
        application.close()


@pytest.fixture
def app(sqlite_site: Path) -> Iterator[App]:
    yield from _open(sqlite_site)


@pytest.fixture
def small(sqlite_site: Path) -> Iterator[App]:
    """A site accepting files of at most 50 KB, two per item."""
    yield from _open(sqlite_site, max_mb=0.05, max_files=2)


def as_(app: App, person: str) -> Browser:
    return Browser(app).login(person)


def post_files(browser: Browser, path: str, data: dict[str, str], uploads: list[tuple[str, bytes, str]]) -> Any:
    return browser.client.post(path, data={"csrf": browser.csrf, **data},
                               files=[("photos", u) for u in uploads])


REPORT = {"title": "实训楼消防通道堵塞", "category": "消防", "level": "一般", "unit": "保卫处",
          "location": "实训楼二楼", "description": "杂物堆放"}


def stored_files(app: App) -> list[Path]:
    root = app.config.evidence.directory
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def items(app: App) -> int:
    return len(app.store.query(Query()))


def report_with(browser: Browser, *uploads: tuple[str, bytes, str]) -> Any:
    return post_files(browser, "/report", REPORT, list(uploads))


def test_the_report_form_takes_photos_and_the_item_page_shows_them_with_exif(app: App) -> None:
    reporter = as_(app, "郭晓明")
    form = reporter.get("/report").text
    assert 'type="file"' in form and 'accept="image/*' in form and 'capture="environment"' in form
    assert "multiple" in form and 'enctype="multipart/form-data"' in form
    answer = report_with(reporter, ("现场.jpg", files.jpeg(), "image/jpeg"), ("平面图.pdf", files.pdf(), "application/pdf"))
    assert answer.status_code == 303, text_of(answer.text)
    item_id = int(answer.headers["location"].split("/")[2].split("?")[0])
    [report_row] = app.store.history(item_id)
    recorded = carried(report_row.changes)
    assert [a.name for a in recorded] == ["现场.jpg", "平面图.pdf"]
    kept = app.store.attachments(item_id)
    assert [f.seq for f in kept] == [report_row.seq] * 2 and {f.uploaded_by for f in kept} == {"郭晓明"}
    page = reporter.get(f"/items/{item_id}").text
    shown = text_of(page)
    assert "佐证材料" in shown and "上报（整改前）" in shown
    assert "拍摄时间：2021-02-28 10:15:00+08:00" in shown and "拍摄位置：北纬 31.23040°，东经 121.47370°" in shown
    assert f'src="/items/{item_id}/files/{kept[0].id}?thumb=1"' in page
    assert f'href="/items/{item_id}/files/{kept[1].id}?download=1"' in page and "下载PDF" in shown.replace(" ", "")


@pytest.mark.slow
def test_files_are_served_only_to_those_who_may_see_the_item(app: App) -> None:
    reporter = as_(app, "郭晓明")
    answer = report_with(reporter, ("现场.jpg", files.jpeg(), "image/jpeg"), ("方案.pdf", files.pdf(), "application/pdf"))
    item_id = int(answer.headers["location"].split("/")[2].split("?")[0])
    photo, pdf = app.store.attachments(item_id)
    got = reporter.get(f"/items/{item_id}/files/{photo.id}")
    assert got.status_code == 200 and got.content == files.jpeg()
    assert got.headers["content-type"] == "image/jpeg" and got.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in got.headers["content-security-policy"] and got.headers["content-disposition"].startswith("inline")
    assert "no-store" not in got.headers["cache-control"] and got.headers["cache-control"].startswith("private")
    thumb = reporter.get(f"/items/{item_id}/files/{photo.id}?thumb=1")
    assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/jpeg"
    assert len(thumb.content) < len(got.content) and b"rectify-test-camera" not in thumb.content
    document = reporter.get(f"/items/{item_id}/files/{pdf.id}")
    assert document.headers["content-type"] == "application/pdf"
    assert document.headers["content-disposition"].startswith("attachment")
    # Another unit's responsible person: the same 404 as for nothing, no name leaked.
    other = as_(app, "张海峰").get(f"/items/{item_id}/files/{photo.id}")
    assert other.status_code == 404 and "现场.jpg" not in other.text and "找不到" in text_of(other.text)
    assert other.content != files.jpeg()
    # A file id of another item is not found through this item.
    second = hazard(app, title="另一个隐患")
    assert reporter.get(f"/items/{second.id}/files/{photo.id}").status_code == 404
    assert reporter.get(f"/items/{item_id}/files/999999").status_code == 404
    # Not logged in: to the login page, no bytes.
    anonymous = Browser(app).get(f"/items/{item_id}/files/{photo.id}")
    assert anonymous.status_code == 303 and "/login" in anonymous.headers["location"]


@pytest.mark.parametrize(("name", "data", "why"), [
    ("整改照片.jpg", files.EXE, "Windows 可执行程序"),
    ("图.svg", files.SVG, "SVG"),
    ("页面.jpg", files.HTML, "网页"),
    ("断了.jpg", files.jpeg()[:4000], "损坏"),
])
def test_a_refused_file_is_a_chinese_page_and_nothing_is_written(app: App, name: str, data: bytes, why: str) -> None:
    reporter = as_(app, "郭晓明")
    before = items(app)
    answer = report_with(reporter, ("好的.jpg", files.jpeg(), "image/jpeg"), (name, data, "image/jpeg"))
    assert answer.status_code == 415
    shown = text_of(answer.text)
    assert why in shown and name in shown and "未做任何修改" in shown and "Traceback" not in answer.text
    assert items(app) == before and stored_files(app) == []


def test_an_event_refused_with_a_photo_keeps_nothing(app: App) -> None:
    item = hazard(app, state="submitted")
    outsider = as_(app, "张海峰")
    answer = post_files(outsider, f"/items/{item.id}/events/verify",
                        {"measures": "清理", "evidence": "照片", "version": str(item.version)},
                        [("后.jpg", files.jpeg(color="#27ae60"), "image/jpeg")])
    assert answer.status_code in (403, 404) and "后.jpg" not in answer.text
    # The responsible person may not verify their own item: the engine's Chinese refusal.
    responsible = as_(app, "马建军")
    answer = post_files(responsible, f"/items/{item.id}/events/verify",
                        {"measures": "清理", "evidence": "照片", "version": str(item.version)},
                        [("后.jpg", files.jpeg(color="#27ae60"), "image/jpeg")])
    assert answer.status_code == 403 and "不能" in text_of(answer.text)
    assert app.store.attachments(item.id or 0) == [] and stored_files(app) == []
    assert app.store.get(item.id or 0).state == "submitted"


def test_the_verify_form_shows_start_photos_beside_after_photos_and_records_them(app: App) -> None:
    reporter = as_(app, "郭晓明")
    answer = report_with(reporter, ("整改前.jpg", files.jpeg(), "image/jpeg"))
    item_id = int(answer.headers["location"].split("/")[2].split("?")[0])
    svc = app.service
    svc.fire(item_id, "assign", "周安宁", {"responsible": "马建军"})
    item = svc.fire(item_id, "start", "马建军", {})
    responsible = as_(app, "马建军")
    office = as_(app, "周安宁")
    # The responsible person reports it done (整改完成，申请验收) with the after-photo: no text needed.
    form = responsible.get(f"/items/{item_id}/events/submit")
    shown = text_of(form.text)
    assert form.status_code == 200 and "还没有整改后照片" in shown and "整改后照片或 PDF" in shown
    assert 'id="photo-compare"' in form.text and 'name="photos"' in form.text and "multipart/form-data" in form.text
    answer = post_files(responsible, f"/items/{item_id}/events/submit",
                        {"measures": "清理通道", "version": str(item.version)},
                        [("整改后.jpg", files.jpeg(color="#27ae60", exif=False), "image/jpeg")])
    assert answer.status_code == 303, text_of(answer.text)
    rows = app.store.history(item_id)
    assert [a.name for a in carried(rows[-1].changes)] == ["整改后.jpg"] and rows[-1].event == "submit"
    # The verifier's form shows both sides.
    form = office.get(f"/items/{item_id}/events/verify")
    compare = text_of(form.text[form.text.index('id="photo-compare"'):])
    assert form.status_code == 200 and compare.index("整改前") < compare.index("整改前.jpg")
    assert compare.index("整改后") < compare.index("整改后.jpg") and "还没有整改后照片" not in compare
    answer = office.post(f"/items/{item_id}/events/verify", {"version": str(app.store.get(item_id).version)})
    assert answer.status_code == 303, text_of(answer.text)
    assert app.store.get(item_id).fields["verifier"] == "周安宁"
    html = responsible.get(f"/items/{item_id}").text
    section = text_of(html[html.index('id="attachments"'):html.index('id="history"')])
    assert section.index("上报（整改前）") < section.index("整改前.jpg") < section.index("整改完成，申请验收")
    assert section.index("整改完成，申请验收") < section.index("整改后.jpg")


def test_a_file_over_the_size_limit_is_refused_and_nothing_is_written(small: App) -> None:
    reporter = as_(small, "郭晓明")
    big = files.jpeg(1600, 1200)
    assert len(big) > small.config.evidence.max_bytes
    answer = report_with(reporter, ("大.jpg", big, "image/jpeg"))
    assert answer.status_code == 413 and "过大" in text_of(answer.text) and "未做任何修改" in text_of(answer.text)
    assert items(small) == 0 and stored_files(small) == []


def test_the_files_an_item_may_hold_and_a_form_may_carry_are_limited(small: App) -> None:
    reporter = as_(small, "郭晓明")
    photo = ("小.jpg", files.jpeg(200, 150), "image/jpeg")
    answer = report_with(reporter, photo, ("二.png", files.png(), "image/png"), ("三.png", files.png(40, 30), "image/png"))
    assert answer.status_code == 415 and "最多 2 个" in text_of(answer.text)
    assert items(small) == 0 and stored_files(small) == []
    many = [(f"{n}.jpg", files.jpeg(20 + n, 20), "image/jpeg") for n in range(photos.FILES_PER_FORM + 1)]
    answer = report_with(reporter, *many)
    assert answer.status_code == 413 and f"最多上传 {photos.FILES_PER_FORM} 个" in text_of(answer.text)
    assert items(small) == 0


def test_an_empty_file_input_is_no_file(app: App) -> None:
    reporter = as_(app, "郭晓明")
    answer = report_with(reporter, ("", b"", "application/octet-stream"))
    assert answer.status_code == 303
    assert app.store.attachments(int(answer.headers["location"].split("/")[2].split("?")[0])) == []


def _raw(app: App, headers: list[tuple[bytes, bytes]]) -> tuple[int, bool]:
    """POST /report straight to the ASGI app with these headers: (status, whether the
    body was asked for at all)."""
    asgi = Browser(app).asgi
    read: list[bool] = []
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        read.append(True)
        return {"type": "http.request", "body": b"x" * 1024, "more_body": True}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
             "scheme": "http", "path": "/report", "raw_path": b"/report", "query_string": b"",
             "headers": [(b"host", b"rectify.test"), *headers], "client": ("127.0.0.1", 1), "server": ("rectify.test", 80),
             "root_path": ""}
    asyncio.run(asgi(scope, receive, send))
    return int(sent[0]["status"]), bool(read)


def test_a_200_mb_upload_is_refused_before_its_body_is_read(app: App) -> None:
    multipart = (b"content-type", b"multipart/form-data; boundary=xyz")
    status, read = _raw(app, [multipart, (b"content-length", str(200 * 1024 * 1024).encode())])
    assert status == 413 and not read
    status, read = _raw(app, [multipart])  # no length given: refused, not read to its end
    assert status == 411 and not read
    # The limit for a form with files: its fields and FILES_PER_FORM files of evidence.max_mb.
    limit = photos.body_limit(app.config.evidence, 256 * 1024)
    assert 100 * 1024 * 1024 < limit < 200 * 1024 * 1024


def test_a_photo_uploaded_through_one_process_is_served_by_another(site: Path, clock: FakeClock) -> None:
    """On SQLite the site's directory, on PostgreSQL the database's evidence store: any
    process serving the site serves every file."""
    first_app, second_app = open_app(site, clock), open_app(site, clock)
    try:
        answer = report_with(as_(first_app, "郭晓明"), ("现场.jpg", files.jpeg(), "image/jpeg"))
        assert answer.status_code == 303, text_of(answer.text)
        item_id = int(answer.headers["location"].split("/")[2].split("?")[0])
        [photo] = second_app.store.attachments(item_id)
        assert second_app.config.evidence.store == ("directory" if second_app.config.database_url.startswith("sqlite")
                                                    else "database")
        elsewhere = as_(second_app, "周安宁")
        assert "现场.jpg" in text_of(elsewhere.get(f"/items/{item_id}").text)
        got = elsewhere.get(f"/items/{item_id}/files/{photo.id}")
        assert got.status_code == 200 and got.content == files.jpeg()
        assert audit_findings(first_app) == []
    finally:
        first_app.close()
        second_app.close()


@pytest.mark.slow
def test_who_gets_a_file_follows_who_may_see_the_item(app: App) -> None:
    """Every person of the demo org × a photo and its thumbnail on a 保卫处 hazard: 200
    exactly for those `may_see` lets see the item, the same 404 for everyone else."""
    from engine.access import may_see
    from tests.test_web_matrix import PEOPLE

    answer = report_with(as_(app, "郭晓明"), ("现场.jpg", files.jpeg(), "image/jpeg"))
    item_id = int(answer.headers["location"].split("/")[2].split("?")[0])
    item = app.store.get(item_id)
    [photo] = app.store.attachments(item_id)
    seen = set()
    for person in PEOPLE:
        browser = as_(app, person)
        for suffix in ("", "?thumb=1", "?download=1"):
            got = browser.get(f"/items/{item_id}/files/{photo.id}{suffix}")
            if may_see(app.service.org, person, item):
                assert got.status_code == 200 and got.headers["content-type"] == "image/jpeg", person
                seen.add(person)
            else:
                assert got.status_code == 404 and "现场.jpg" not in got.text, person
        download = browser.get(f"/items/{item_id}/files/{photo.id}?download=1")
        if download.status_code == 200:
            assert download.headers["content-disposition"].startswith("attachment")
    assert not {"张海峰", "王建国"} & seen and {"周安宁", "郭晓明", "马建军", "赵卫东"} <= seen
