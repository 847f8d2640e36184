"""A hazard's whole life in a real browser on a phone (390 × 844, 3×, touch): real
uvicorn, real Chromium, the workbench of a real site. A reporter logs in with a login
link and reports a hazard with a photo (a JPEG made with Pillow); the unit head
assigns; the responsible person starts, with the measures to take; the responsible
person asks for an extension and the safety office approves it; the responsible person
reports the rectification done (整改完成，申请验收) with an after-photo; the inspector finds
it in 我的待办 under 待验收 and verifies on a form showing the report's photos beside the
after photos, adding one of their own; the safety office closes. On the way: a person without the
right sees no button, a forged POST is refused with a Chinese page, another unit's
person cannot open the item or its photo. Every page fits the phone's width.

The screenshots of the main pages (我的待办, the item page, 随手拍, the verify form) go
to $RECTIFY_SCREENSHOTS when set: `RECTIFY_SCREENSHOTS=docs/screenshots` makes those
in the README."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from adapters.web import build
from adapters.web.login import operator_link
from adapters.wiring import App
from engine.evidence import carried
from engine.ports import Query
from tests import evidencefiles as files
from tests.browser import PHONE, horizontal_overflow
from tests.webclient import web_app  # noqa: F401  (the app fixture)

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.filterwarnings("ignore::DeprecationWarning")]

BEFORE = files.jpeg(1600, 1200)  # with EXIF: time taken and a position in Shanghai
AFTER = files.jpeg(1200, 900, exif=False, color="#27ae60")
ON_SPOT = files.jpeg(900, 1200, exif=False, color="#2980b9")


class People:
    """A phone for each person, logged in by tapping their login link."""

    def __init__(self, chromium: Any, app: App, url: str) -> None:
        self.chromium, self.app, self.url = chromium, app, url
        self.contexts: list[Any] = []

    def phone(self, person: str) -> Any:
        context = self.chromium.new_context(**PHONE)
        context.set_default_timeout(15_000)
        self.contexts.append(context)
        page = context.new_page()
        link = operator_link(self.app, person, self.app.service.clock.now(), self.url)
        assert link.startswith(self.url + "/login/")
        page.goto(link)
        fits(page)
        page.get_by_role("button", name="登录").tap()
        page.wait_for_url(self.url + "/")
        assert f"退出（{person}）" in page.inner_text("header")
        return page

    def close(self) -> None:
        for context in self.contexts:
            context.close()


def fits(page: Any) -> None:
    """The page has a viewport meta tag and no horizontal scrolling on the phone."""
    assert page.locator('meta[name="viewport"]').count() == 1
    assert horizontal_overflow(page) <= 0, page.url


def images_loaded(page: Any, selector: str) -> int:
    """How many of the images are decoded (a broken image has naturalWidth 0), once
    each has been scrolled into view (they load lazily) and has loaded or failed."""
    for image in page.locator(selector).all():
        image.scroll_into_view_if_needed()
    page.wait_for_function("s => [...document.querySelectorAll(s)].every(e => e.complete)", arg=selector)
    return int(page.eval_on_selector_all(selector, "els => els.filter(e => e.naturalWidth > 0).length"))


@pytest.fixture
def people(chromium: Any, live_server: Callable[[Any], str], app: App) -> Iterator[People]:
    url = live_server(build(app, "http://127.0.0.1"))
    crowd = People(chromium, app, url)
    yield crowd
    crowd.close()


def report(people: People, shot: Callable[..., Path]) -> int:
    reporter = people.phone("郭晓明")
    reporter.get_by_role("link", name="随手拍").first.tap()
    reporter.wait_for_url(people.url + "/report")
    fits(reporter)
    reporter.fill("#f-title", "实训楼二楼消防通道堵塞")
    reporter.select_option("#f-category", "消防")
    reporter.fill("#f-location", "实训楼二楼东侧")
    reporter.select_option("#f-unit", "保卫处")
    reporter.fill("#f-description", "通道内堆放桌椅杂物，影响疏散")
    reporter.set_input_files("#f-photos", files=[{"name": "整改前.jpg", "mimeType": "image/jpeg", "buffer": BEFORE}])
    shot(reporter, "随手拍", full_page=False)
    reporter.get_by_role("button", name="上报").tap()
    reporter.wait_for_url("**/items/*?done=report")
    fits(reporter)
    assert "已登记" in reporter.inner_text("main")
    section = reporter.inner_text("#attachments")
    assert "整改前.jpg" in section and "拍摄时间：2021-02-28 10:15:00+08:00" in section and "北纬 31.23040°" in section
    assert images_loaded(reporter, "#attachments img") == 1
    return int(reporter.url.split("/items/")[1].split("?")[0])


def refusals(people: People, item_id: int, app: App) -> None:
    """Another unit's person cannot open the item or its photo; the responsible person,
    who may not verify their own item, sees no 验收 button, and their forged POST is
    refused with a Chinese page, nothing written."""
    stranger = people.phone("张海峰")
    [photo] = app.store.attachments(item_id)[:1]
    for path in (f"/items/{item_id}", f"/items/{item_id}/files/{photo.id}"):
        answer = stranger.goto(people.url + path)
        assert answer.status == 404 and "找不到" in stranger.inner_text("main")
        assert "消防通道" not in stranger.content()
        fits(stranger)
    responsible = people.phone("马建军")
    responsible.goto(f"{people.url}/items/{item_id}")
    assert responsible.get_by_role("button", name="验收", exact=True).count() == 0
    assert responsible.get_by_role("link", name="验收", exact=True).count() == 0
    version = app.store.get(item_id).version
    responsible.evaluate("""([id, version]) => {
        const f = document.createElement('form');
        f.method = 'post'; f.action = `/items/${id}/events/verify`;
        const csrf = document.querySelector('input[name=csrf]').value;
        for (const [k, v] of [['csrf', csrf], ['version', String(version)], ['measures', '自己验收'],
                              ['evidence', '照片']]) {
            const i = document.createElement('input'); i.type = 'hidden'; i.name = k; i.value = v; f.appendChild(i);
        }
        document.body.appendChild(f); f.submit();
    }""", [item_id, version])
    responsible.wait_for_url(f"**/items/{item_id}/events/verify")
    assert "不能执行此操作" in responsible.inner_text("main")
    fits(responsible)
    assert app.store.get(item_id).state == "rectifying" and app.store.get(item_id).version == version


def extension(people: People, item_id: int, app: App, responsible: Any, head: Any) -> None:
    """The responsible person asks for a later deadline from the item page; the unit
    head (no approver under the rules) has nothing to answer; the safety office
    approves, and the deadline moves through the engine."""
    old_due = app.service.plan(app.store.get(item_id)).due
    responsible.goto(f"{people.url}/items/{item_id}")
    responsible.fill("#x-deadline", "2021年4月2日前")
    responsible.fill("#x-reason", "防火门需厂家定制，到货需三周")
    fits(responsible)
    responsible.get_by_role("button", name="提交延期申请").tap()
    responsible.wait_for_url("**/items/*?done=*")
    assert "已提交延期申请" in responsible.inner_text("main") and "待审批" in responsible.inner_text("#extensions")
    fits(responsible)
    head.goto(f"{people.url}/items/{item_id}")
    assert head.get_by_role("button", name="批准延期").count() == 0
    office = people.phone("周安宁")
    assert "待审批的延期申请（1 项）" in office.inner_text("main")
    office.goto(f"{people.url}/items/{item_id}")
    office.fill("#x-note", "同意，请按期完成")
    office.get_by_role("button", name="批准延期").tap()
    office.wait_for_url("**/items/*?done=*")
    fits(office)
    assert "已批准" in office.inner_text("#extensions")
    new_due = app.service.plan(app.store.get(item_id)).due
    assert old_due is not None and new_due is not None and new_due > old_due
    assert str(new_due)[:10] == "2021-04-02"


def fire(page: Any, event: str, fill: Callable[[Any], None]) -> None:
    """Tap the event's button on the item page, fill its form, confirm."""
    page.get_by_role("link", name=event, exact=True).tap()
    page.wait_for_selector("#event-form")
    fits(page)
    fill(page)
    page.get_by_role("button", name=f"确认{event}", exact=True).tap()
    page.wait_for_url("**/items/*?done=*")
    fits(page)
    assert f"已{event}" in page.inner_text("main")


def test_a_hazard_from_report_with_a_photo_to_closure_on_phones(
        people: People, app: App, screenshot: Callable[..., Path]) -> None:
    item_id = report(people, screenshot)
    assert carried(app.store.history(item_id)[0].changes)[0].name == "整改前.jpg"

    head = people.phone("赵卫东")  # head of 保卫处
    head.goto(f"{people.url}/items/{item_id}")
    fire(head, "交办", lambda p: p.select_option("#f-responsible", "马建军"))
    assert app.store.get(item_id).state == "assigned"

    responsible = people.phone("马建军")
    assert "实训楼二楼消防通道堵塞" in responsible.inner_text("main")
    fits(responsible)
    screenshot(responsible, "我的待办", full_page=False)
    responsible.get_by_text("实训楼二楼消防通道堵塞").first.tap()
    responsible.wait_for_url(f"**/items/{item_id}")

    fire(responsible, "开始整改", lambda p: p.fill("#f-measures", "清理通道内桌椅杂物，张贴禁止堆放标识"))
    assert app.store.get(item_id).state == "rectifying"
    refusals(people, item_id, app)
    extension(people, item_id, app, responsible, head)

    def done(p: Any) -> None:
        assert p.input_value("#f-measures") == "清理通道内桌椅杂物，张贴禁止堆放标识"
        assert "还没有整改后照片" in p.inner_text("#photo-compare")
        p.set_input_files("#f-photos", files=[{"name": "整改后.jpg", "mimeType": "image/jpeg", "buffer": AFTER}])

    responsible.goto(f"{people.url}/items/{item_id}")
    fire(responsible, "整改完成，申请验收", done)
    assert app.store.get(item_id).state == "submitted"
    assert "待验收" in responsible.inner_text("main")
    assert images_loaded(responsible, "#attachments img") == 2

    inspector = people.phone("郭晓明")
    waiting = inspector.inner_text("#awaiting")
    assert "待验收（1 项）" in waiting and "实训楼二楼消防通道堵塞" in waiting
    inspector.locator("#awaiting").get_by_text("实训楼二楼消防通道堵塞").tap()
    inspector.wait_for_url(f"**/items/{item_id}")
    inspector.get_by_role("link", name="验收", exact=True).tap()
    inspector.wait_for_selector("#photo-compare img")
    compare = inspector.inner_text("#photo-compare")
    assert compare.index("整改前") < compare.index("整改前.jpg") < compare.index("整改后") < compare.index("整改后.jpg")
    assert images_loaded(inspector, "#photo-compare img") == 2
    inspector.fill("#f-evidence", "现场复查照片")
    inspector.set_input_files("#f-photos", files=[{"name": "复查.jpg", "mimeType": "image/jpeg", "buffer": ON_SPOT}])
    fits(inspector)
    inspector.locator("#event-form").scroll_into_view_if_needed()
    inspector.evaluate("document.querySelector('#event-form').scrollIntoView()")
    screenshot(inspector, "验收表单", full_page=False)
    inspector.get_by_role("button", name="确认验收", exact=True).tap()
    inspector.wait_for_url("**/items/*?done=verify")
    fits(inspector)
    assert app.store.get(item_id).state == "verified"

    office = people.phone("周安宁")
    office.goto(f"{people.url}/items/{item_id}")
    office.get_by_role("button", name="销号").tap()
    office.wait_for_url("**/items/*?done=close")
    fits(office)
    assert "已销号" in office.inner_text("main")
    assert images_loaded(office, "#attachments img") == 3
    office.evaluate("window.scrollTo(0, 0)")
    screenshot(office, "事项页面", full_page=False)
    office.evaluate("document.querySelector('#attachments').scrollIntoView()")
    screenshot(office, "事项页面-佐证材料", full_page=False)
    rows = app.store.history(item_id)
    assert [(r.event, r.actor) for r in rows] == [
        ("report", "郭晓明"), ("assign", "赵卫东"), ("start", "马建军"), ("extension_request", "马建军"),
        ("extension_approve", "周安宁"), ("submit", "马建军"), ("verify", "郭晓明"), ("close", "周安宁")]
    assert [[a.name for a in carried(r.changes)] for r in rows] == [["整改前.jpg"], [], [], [], [], ["整改后.jpg"],
                                                                     ["复查.jpg"], []]


def test_a_refused_photo_on_a_phone_is_a_chinese_page_and_nothing_is_reported(people: People, app: App) -> None:
    reporter = people.phone("郭晓明")
    reporter.goto(people.url + "/report")
    reporter.fill("#f-title", "配电房门锁损坏")
    reporter.select_option("#f-category", "消防")
    reporter.set_input_files("#f-photos", files=[{"name": "整改照片.jpg", "mimeType": "image/jpeg", "buffer": files.EXE}])
    with reporter.expect_navigation() as navigation:
        reporter.get_by_role("button", name="上报").tap()
    assert navigation.value is not None and navigation.value.status == 415
    main = reporter.inner_text("main")
    assert "文件不能作为佐证" in main and "Windows 可执行程序" in main and "未做任何修改" in main
    fits(reporter)
    assert app.store.count(Query()) == 0 and app.store.attachments(1) == []
