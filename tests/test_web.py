"""The web workbench through Starlette's test client: login, sessions, CSRF, 我的待办,
the item page, events, amendments, 随手拍, authority and bad input."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import select

from adapters.schema import messages, web_logins, web_sessions
from adapters.web.auth import sha256
from adapters.wiring import App
from engine.errors import ConcurrentUpdate
from engine.ports import Query
from tests.webclient import BASE, Browser, advance, as_, hazard, text_of, web_app  # noqa: F401  (web_app: the app fixture)

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


# -- login ---------------------------------------------------------------------------


def test_a_login_link_logs_in_once_and_sets_a_safe_cookie(app: App) -> None:
    browser = Browser(app)
    from adapters.web.login import operator_link

    url = operator_link(app, "周安宁", app.service.clock.now(), BASE)
    path = url[len(BASE):]
    # Opening the link (a mail scanner does) does not use it up: only the button does.
    page = browser.get(path)
    assert page.status_code == 200 and "登录" in text_of(page.text)
    page = browser.get(path)
    answer = browser.client.post(path, data={"csrf": Browser.token(page.text)})
    assert answer.status_code == 303 and answer.headers["location"] == "/"
    cookie = answer.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie
    assert "我的待办" in text_of(browser.get("/").text)
    # The token is stored only as its hash.
    with app.store.read() as conn:  # type: ignore[attr-defined]
        rows = conn.execute(select(web_logins)).all()
    token = path.rsplit("/", 1)[1]
    assert [r.token_hash for r in rows] == [sha256(token)] and rows[0].used_at is not None
    # Used again in another browser: refused, in Chinese.
    other = Browser(app)
    page = other.get(path)
    again = other.client.post(path, data={"csrf": Browser.token(page.text)})
    assert again.status_code == 400 and "已经使用过" in text_of(again.text)
    assert "rectify_session" not in again.headers.get("set-cookie", "")


def test_a_tampered_or_expired_link_is_refused(app: App) -> None:
    from adapters.web.login import operator_link

    browser = Browser(app)
    path = operator_link(app, "马建军", app.service.clock.now(), BASE)[len(BASE):]
    token = Browser.token(browser.get(path).text)
    bad = browser.client.post(path[:-2] + "xx", data={"csrf": token})
    assert bad.status_code == 400 and "无效" in text_of(bad.text)
    signed = browser.client.post("/login/d.eyJhIjoxfQ.abc", data={"csrf": token})
    assert signed.status_code == 400 and "无效" in text_of(signed.text)
    advance(app, days=8)  # web.link_days defaults to 7
    late = browser.client.post(path, data={"csrf": token})
    assert late.status_code == 400 and "已过期" in text_of(late.text)


def test_links_on_an_https_address_set_secure_cookies(app: App) -> None:
    from adapters.web import build

    browser = Browser(app, build(app, "https://rectify.test"))
    browser.client.base_url = "https://rectify.test"  # type: ignore[assignment]
    from adapters.web.login import operator_link

    path = operator_link(app, "周安宁", app.service.clock.now(), "https://rectify.test")[len("https://rectify.test"):]
    answer = browser.client.post(path, data={"csrf": Browser.token(browser.get(path).text)})
    assert answer.status_code == 303 and "Secure" in answer.headers["set-cookie"]


def test_pages_need_a_session_and_a_post_without_one_changes_nothing(app: App) -> None:
    item = hazard(app)
    anonymous = Browser(app)
    for path in ("/", f"/items/{item.id}", "/report", f"/items/{item.id}/amend"):
        answer = anonymous.get(path)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/login?next=")
    answer = anonymous.post(f"/items/{item.id}/events/assign", {"responsible": "马建军"}, csrf="x")
    assert answer.status_code == 401 and "未做任何修改" in text_of(answer.text)
    assert app.store.get(item.id or 0).state == "reported"


def test_logout_and_expiry_hold_in_every_process(app: App) -> None:
    """Two workbench processes over one database: a session ended or expired in one is
    gone in the other (nothing is kept in a process's memory)."""
    from adapters.web import build

    first = as_(app, "赵卫东")
    second = Browser(app, build(app, BASE))
    second.client.cookies = first.client.cookies
    assert second.get("/").status_code == 200
    assert first.post("/logout").status_code == 303
    answer = second.get("/")
    assert answer.status_code == 303 and "expired=1" in answer.headers["location"]
    assert "登录已过期" in text_of(second.get(answer.headers["location"]).text)
    third = as_(app, "赵卫东")
    advance(app, hours=13)  # web.session_hours defaults to 12
    assert third.get("/").status_code == 303
    with app.store.read() as conn:  # type: ignore[attr-defined]
        assert len(conn.execute(select(web_sessions)).all()) == 2


def test_a_tampered_cookie_is_no_session(app: App) -> None:
    browser = as_(app, "周安宁")
    value = browser.client.cookies.get("rectify_session") or ""
    browser.client.cookies.set("rectify_session", value[:-3] + "abc")
    assert browser.get("/").status_code == 303


def test_every_post_needs_the_sessions_csrf_token(app: App) -> None:
    item = hazard(app)
    office = as_(app, "周安宁")
    for token in ("", "wrong"):
        answer = office.post(f"/items/{item.id}/events/assign", {"responsible": "马建军"}, csrf=token)
        assert answer.status_code == 403 and "校验码" in text_of(answer.text)
    other = as_(app, "郭晓明")  # another person's token is not this session's
    answer = office.post(f"/items/{item.id}/events/assign", {"responsible": "马建军"}, csrf=other.csrf)
    assert answer.status_code == 403
    assert office.post("/logout", csrf="").status_code == 403
    assert app.store.get(item.id or 0).version == 1


def test_the_login_page_mails_a_link_to_the_org_address_only(app: App) -> None:
    browser = Browser(app)
    page = browser.get("/login")
    token = Browser.token(page.text)
    known = browser.client.post("/login", data={"csrf": token, "who": "zhao.weidong@example.org"})
    unknown = browser.client.post("/login", data={"csrf": token, "who": "不存在的人"})
    assert known.status_code == unknown.status_code == 200
    assert text_of(known.text) == text_of(unknown.text)
    assert browser.client.post("/login", data={"who": "赵卫东"}).status_code == 403  # no token
    with app.store.read() as conn:  # type: ignore[attr-defined]
        sent = conn.execute(select(messages)).all()
    assert [(m.recipient_name, m.recipient_email) for m in sent] == [("赵卫东", "zhao.weidong@example.org")]
    link = re.search(r"/login/[A-Za-z0-9_-]+", sent[0].body_text)
    assert link and "30 分钟" in sent[0].body_text
    # The link in the mail logs 赵卫东 in.
    answer = browser.client.post(link.group(0), data={"csrf": Browser.token(browser.get(link.group(0)).text)})
    assert answer.status_code == 303 and "赵卫东" in text_of(browser.get("/").text)


def test_asking_for_links_is_limited_per_person_and_per_address(app: App) -> None:
    browser = Browser(app)
    token = Browser.token(browser.get("/login").text)
    for _ in range(5):
        assert browser.client.post("/login", data={"csrf": token, "who": "马建军"}).status_code == 200
    with app.store.read() as conn:  # type: ignore[attr-defined]
        assert len(conn.execute(select(messages)).all()) == 3  # per person: 3 an hour
    for _ in range(5):
        browser.client.post("/login", data={"csrf": token, "who": "无名氏"})
    limited = browser.client.post("/login", data={"csrf": token, "who": "周安宁"})
    assert limited.status_code == 429 and "过于频繁" in text_of(limited.text)
    advance(app, hours=2)
    assert browser.client.post("/login", data={"csrf": token, "who": "周安宁"}).status_code == 200


# -- 我的待办 ------------------------------------------------------------------------


def test_the_todo_list_is_scoped_and_puts_the_overdue_first(app: App) -> None:
    late = hazard(app, "保卫处逾期隐患", state="assigned")
    advance(app, days=30)
    fresh = hazard(app, "保卫处新隐患")
    other = hazard(app, "总务处隐患", unit="总务处")
    hazard(app, "已销号隐患", state="closed")
    office = text_of(as_(app, "周安宁").get("/").text)
    assert "共 3 项" in office and office.index("保卫处逾期隐患") < office.index("保卫处新隐患")
    assert re.search(r"保卫处逾期隐患 已交办 逾期\d+天", office) and "已销号隐患" not in office
    assert re.search(r"保卫处新隐患 已上报 剩余\d+个工作日", office)
    head = text_of(as_(app, "赵卫东").get("/").text)
    assert "共 2 项" in head and "总务处隐患" not in head and "可办理：交办、立查立改" in head
    responsible = text_of(as_(app, "马建军").get("/").text)
    assert "保卫处逾期隐患" in responsible and "总务处隐患" not in responsible
    assert "总务处隐患" in text_of(as_(app, "王建国").get("/").text)
    assert fresh.id and other.id and late.id


@pytest.mark.slow
def test_the_todo_list_shows_what_waits_for_the_persons_verification(app: App) -> None:
    """整改完成，申请验收: a verifier's 我的待办 lists the items waiting for them (longest
    waiting first); the one who reported it done, and people of other units, are not asked."""
    first = hazard(app, "保卫处先完成的隐患", state="submitted")
    advance(app, hours=2)
    second = hazard(app, "保卫处后完成的隐患", state="submitted")
    hazard(app, "保卫处整改中隐患", state="rectifying")
    hazard(app, "总务处待验收隐患", unit="总务处", state="submitted")
    for person in ("郭晓明", "赵卫东"):  # an inspector; the head of 保卫处
        page = as_(app, person).get("/").text
        waiting = text_of(page[page.index('id="awaiting"'):page.index('class="filters')])
        assert "已报告整改完成、等待您验收或审核的事项" in waiting and "马建军报告整改完成" in waiting
        assert waiting.index("保卫处先完成的隐患") < waiting.index("保卫处后完成的隐患")
        assert "整改中隐患" not in waiting
        assert ("总务处待验收隐患" in waiting) == (person == "郭晓明"), person
        assert ("待验收（3 项）" if person == "郭晓明" else "待验收（2 项）") in waiting
    for person in ("马建军", "王建国", "张海峰"):  # who reported them done; another unit's head; its responsible
        page = as_(app, person).get("/").text
        if person == "王建国":
            assert "待验收（1 项）" in text_of(page) and "保卫处先完成的隐患" not in text_of(page)
        else:
            assert 'id="awaiting"' not in page, person
    app.service.fire(first.id or 0, "verify", "郭晓明")
    page = as_(app, "赵卫东").get("/").text
    waiting = text_of(page[page.index('id="awaiting"'):page.index('class="filters')])
    assert "待验收（1 项）" in waiting and "保卫处先完成的隐患" not in waiting and second.id


@pytest.mark.slow
def test_the_todo_list_filters_searches_and_pages_in_sql(app: App) -> None:
    for n in range(23):
        hazard(app, f"灭火器过期{n:02d}", category="消防" if n % 2 else "治安防控")
    hazard(app, "食堂燃气", unit="总务处", category="燃气")
    office = as_(app, "周安宁")
    first = text_of(office.get("/").text)
    assert "共 24 项，第 1/2 页" in first and "下一页" in first
    assert "共 24 项，第 2/2 页" in text_of(office.get("/?page=2").text)
    assert "共 1 项" in text_of(office.get("/?unit=总务处").text)
    assert "共 11 项" in text_of(office.get("/?category=消防").text)
    assert "共 1 项" in text_of(office.get("/?q=燃气").text)
    assert "共 0 项" in text_of(office.get("/?q=%25").text)  # LIKE wildcards are text
    assert "共 24 项" in text_of(office.get("/?state=reported&level=一般").text)
    assert "共 1 项" in text_of(office.get("/?q=二楼&unit=总务处").text)  # location search
    partial = office.get("/?q=燃气", headers={"HX-Request": "true"})
    assert partial.status_code == 200 and "<html" not in partial.text and "食堂燃气" in partial.text
    assert office.get("/?page=abc").status_code == 200


# -- the item page -------------------------------------------------------------------


def test_the_item_page_shows_fields_deadline_plan_and_history_in_chinese(app: App) -> None:
    item = hazard(app, state="rectifying")
    page = as_(app, "周安宁").get(f"/items/{item.id}")
    shown = text_of(page.text)
    assert page.status_code == 200 and '<meta name="viewport"' in page.text
    for text in ("实训楼消防通道堵塞", "整改中", "责任单位 保卫处", "责任人 马建军", "位置 实训楼二楼",
                 "最后期限", "适用规则 一般隐患", "15个工作日内（规则）", "今后的提醒与督办",
                 "登记（已上报）", "交办（已上报 → 已交办）", "开始整改（已交办 → 整改中）", "郭晓明", "验收",
                 "为什么适用这条规则", "✓ 一般隐患（条件：类型=隐患，等级=一般） ← 生效", "✗ 重大隐患"):
        assert text in shown, text
    # No internal names: events, states, fields or Python values.
    assert not re.search(r"\b(reported|assigned|rectifying|responsible|None|True|False|item_unit)\b", shown)


def test_another_units_item_is_not_found_and_its_title_does_not_leak(app: App) -> None:
    item = hazard(app, "总务处的秘密隐患", unit="总务处")
    head = as_(app, "赵卫东")
    for path in (f"/items/{item.id}", f"/items/{item.id}/events/assign", f"/items/{item.id}/amend"):
        answer = head.get(path)
        assert answer.status_code == 404 and "总务处的秘密隐患" not in answer.text
    missing = head.get("/items/99999")
    assert missing.status_code == 404 and text_of(missing.text).replace("99999", str(item.id)) == text_of(
        head.get(f"/items/{item.id}").text)
    assert head.get("/items/99999999999999999999999").status_code == 404
    answer = head.post(f"/items/{item.id}/events/assign", {"responsible": "张海峰"})
    assert answer.status_code == 404 and app.store.get(item.id or 0).state == "reported"


def test_an_event_with_fields_opens_a_form_with_labels_and_pickers(app: App) -> None:
    item = hazard(app)
    office = as_(app, "周安宁")
    form = office.get(f"/items/{item.id}/events/assign")
    shown = text_of(form.text)
    assert form.status_code == 200 and "交办" in shown and "责任人 （必填）" in shown and "整改时限" in shown
    assert '<optgroup label="保卫处">' in form.text and "<option>马建军</option>" in form.text
    assert "<option>总务处</option>" in form.text
    partial = office.get(f"/items/{item.id}/events/assign", headers={"HX-Request": "true"})
    assert "<html" not in partial.text and 'id="event-form"' in partial.text
    done = office.post(f"/items/{item.id}/events/assign", {"responsible": "马建军", "deadline": "10个工作日内",
                                                           "version": "1", "note": "请尽快"})
    assert done.status_code == 303 and done.headers["location"] == f"/items/{item.id}?done=assign"
    assert "已交办。" in text_of(office.get(done.headers["location"]).text)
    [*_, entry] = app.store.history(item.id or 0)
    assert (entry.event, entry.actor, entry.note) == ("assign", "周安宁", "请尽快")
    assert app.store.get(item.id or 0).deadline == "10个工作日内"


def test_missing_and_malformed_fields_are_refused_in_chinese_and_nothing_is_written(app: App) -> None:
    item = hazard(app, state="rectifying")
    responsible = as_(app, "马建军")
    missing = responsible.post(f"/items/{item.id}/events/submit", {"evidence": "照片"})
    shown = text_of(missing.text)
    assert missing.status_code == 403 and "缺少必填字段" in shown and "整改措施" in shown
    assert "--set" not in shown and "measures" not in shown
    nothing = responsible.post(f"/items/{item.id}/events/submit", {"measures": "清理通道"})
    shown = text_of(nothing.text)
    assert nothing.status_code == 403 and "须附整改后照片" in shown and "整改佐证" in shown
    assert "evidence" not in shown
    office = as_(app, "周安宁")
    fresh = hazard(app, "另一隐患")
    for data, expected in (({"responsible": "查无此人"}, "找不到人员"), ({"responsible": "马建军", "deadline": "13月底前"}, ""),
                           ({"responsible": "马建军", "note": "x" * 6000}, "过长"),
                           ({"responsible": "马建军\u0007"}, "控制字符")):
        answer = office.post(f"/items/{fresh.id}/events/assign", data)
        assert answer.status_code == 400, (data, text_of(answer.text))
        assert expected in text_of(answer.text) and "Traceback" not in answer.text
    assert app.store.get(fresh.id or 0).version == 1 and app.store.get(item.id or 0).state == "rectifying"


def test_a_script_in_a_title_is_shown_as_text(app: App) -> None:
    office = as_(app, "周安宁")
    made = office.post("/report", {"title": "<script>alert(1)</script>", "category": "消防", "level": "一般",
                                   "unit": "保卫处"})
    assert made.status_code == 303
    for path in (made.headers["location"], "/"):
        page = office.get(path).text
        assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_a_stale_page_and_a_lost_race_get_a_clear_answer(app: App, monkeypatch: pytest.MonkeyPatch) -> None:
    item = hazard(app, state="submitted")
    inspector, office = as_(app, "郭晓明"), as_(app, "周安宁")
    version = str(app.store.get(item.id or 0).version)
    fields = {"version": version}
    assert office.post(f"/items/{item.id}/events/verify", fields).status_code == 303
    late = inspector.post(f"/items/{item.id}/events/verify", fields)
    assert late.status_code == 409 and "已被其他人修改" in text_of(late.text)
    # Without the page's version the engine decides on the item as it is now.
    fields.pop("version")
    again = inspector.post(f"/items/{item.id}/events/verify", fields)
    assert again.status_code == 403 and "当前状态为“已验收”" in text_of(again.text)
    # Another writer getting in first every time: ConcurrentUpdate after the retries.
    def always_concurrent(*args: object, **kwargs: object) -> None:
        raise ConcurrentUpdate(item.id)

    monkeypatch.setattr(type(app.store), "transition", always_concurrent)
    busy = office.post(f"/items/{item.id}/events/close", {})
    assert busy.status_code == 409 and "已被其他操作修改" in text_of(busy.text)


def test_an_internal_error_is_a_chinese_page_without_a_traceback(app: App, monkeypatch: pytest.MonkeyPatch) -> None:
    office = as_(app, "周安宁")
    monkeypatch.setattr("adapters.web.views.todo_rows", lambda *a: 1 / 0)
    answer = office.get("/")
    assert answer.status_code == 500 and "系统内部错误" in text_of(answer.text)
    assert "ZeroDivisionError" not in answer.text and "Traceback" not in answer.text


def test_unknown_pages_and_methods_are_chinese_pages(app: App) -> None:
    office = as_(app, "周安宁")
    assert "找不到页面" in text_of(office.get("/nothing").text)
    assert office.get("/nothing").status_code == 404
    assert office.client.delete("/").status_code == 405
    item = hazard(app)
    assert office.get(f"/items/{item.id}/events/fly").status_code == 404
    too_big = office.post("/report", {"title": "x", "description": "y" * 300_000})
    assert too_big.status_code == 413 and "过大" in text_of(too_big.text)


# -- amend ---------------------------------------------------------------------------


def test_the_amend_form_follows_the_workflow_and_needs_a_reason_where_it_says(app: App) -> None:
    item = hazard(app, state="assigned")
    office = as_(app, "周安宁")
    form = text_of(office.get(f"/items/{item.id}/amend").text)
    assert "整改时限" in form and "标题" in form and "理由" in form
    no_reason = office.post(f"/items/{item.id}/amend", {"deadline": "2021年6月底前"})
    assert no_reason.status_code == 403 and "须说明理由" in text_of(no_reason.text)
    done = office.post(f"/items/{item.id}/amend", {"deadline": "2021年6月底前", "note": "需采购设备"})
    assert done.status_code == 303 and app.store.get(item.id or 0).deadline == "2021年6月底前"
    assert app.store.history(item.id or 0)[-1].actor == "周安宁"
    responsible = as_(app, "马建军")
    form = text_of(responsible.get(f"/items/{item.id}/amend").text)
    assert "位置" in form and "整改时限" not in form
    refused = responsible.post(f"/items/{item.id}/amend", {"deadline": "2030年底前", "note": "x"})
    assert refused.status_code == 400 and app.store.get(item.id or 0).deadline == "2021年6月底前"
    assert responsible.post(f"/items/{item.id}/amend", {"location": "实训楼三楼"}).status_code == 303
    assert as_(app, "王建国").get(f"/items/{item.id}/amend").status_code == 404


# -- 随手拍 --------------------------------------------------------------------------


def test_a_report_lands_as_a_reported_item_with_the_logged_in_reporter(app: App) -> None:
    staff = as_(app, "杨晨")
    form = staff.get("/report")
    assert form.status_code == 200 and 'enctype="multipart/form-data"' in form.text and "不确定" in form.text
    # A multipart form (what the page sends, ready for photo fields), with a reporter
    # field slipped in: the reporter is the logged-in person all the same.
    made = staff.client.post("/report", files={"x": ("", b"")}, data={
        "csrf": staff.csrf, "title": "宿舍楼消防栓无水", "category": "消防", "level": "一般", "unit": "不确定",
        "location": "3号宿舍楼", "description": "一楼消防栓无水", "reporter": "周安宁"})
    assert made.status_code == 303, text_of(made.text)
    item_id = int(made.headers["location"].split("/")[2].split("?")[0])
    item = app.store.get(item_id)
    assert (item.state, item.unit, item.reporter, item.fields["description"]) == ("reported", None, "杨晨", "一楼消防栓无水")
    assert app.store.history(item_id)[0].actor == "杨晨"
    assert "已登记。" in text_of(staff.get(made.headers["location"]).text)
    # The safety office is told: its people with a link that opens the item, its mailbox with the address.
    with app.store.read() as conn:  # type: ignore[attr-defined]
        told = {m.recipient_name: m for m in conn.execute(select(messages)).all()}
    assert {"周安宁", "综治办"} <= set(told) and "杨晨通过随手拍上报" in told["周安宁"].body_text
    assert re.search(re.escape(BASE) + r"/login/d\.", told["周安宁"].body_text)
    assert f"{BASE}/items/{item_id}" in told["综治办"].body_text
    office = text_of(as_(app, "周安宁").get("/").text)
    assert "宿舍楼消防栓无水" in office and "未指定单位" in office
    for bad in ({"title": ""}, {"title": "x", "category": "天气"}, {"title": "x", "category": "消防", "level": "超大"},
                {"title": "x", "category": "消防", "unit": "火星办"}):
        assert staff.post("/report", bad).status_code in (400, 404)
    assert len(app.store.query(Query())) == 1


def test_pages_carry_security_headers_and_are_not_cached(app: App) -> None:
    page = as_(app, "周安宁").get("/")
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY" and page.headers["referrer-policy"] == "no-referrer"
    assert page.headers["cache-control"] == "no-store" and page.headers["x-content-type-options"] == "nosniff"
    assert "cache-control" not in Browser(app).get("/static/app.css").headers


def test_static_assets_ship_with_the_package(app: App) -> None:
    browser = Browser(app)
    js = browser.get("/static/htmx.min.js")
    assert js.status_code == 200 and "htmx" in js.text[:200]
    assert browser.get("/static/app.css").status_code == 200
    assert "Zero-Clause BSD" in browser.get("/static/htmx.LICENSE").text
    page = browser.get("/login").text
    assert "https://" not in page and "http://" not in page.replace(BASE, "")


def test_the_shared_session_secret_is_created_once_with_mode_0600(app: App, sqlite_site: Path) -> None:
    Browser(app)
    secret = sqlite_site / "web-secret"
    first = secret.read_text()
    Browser(app)
    assert secret.read_text() == first and (secret.stat().st_mode & 0o777) == 0o600


def test_sessions_last_the_configured_hours(app: App) -> None:
    browser = as_(app, "周安宁")
    advance(app, hours=11)
    assert browser.get("/").status_code == 200
    advance(app, hours=2)
    assert browser.get("/").status_code == 303


def test_a_state_final_in_one_workflow_and_open_in_another_is_matched_with_its_workflow() -> None:
    from adapters.web.queries import _open_states

    sql = str(_open_states({"a": frozenset({"x", "y"}), "b": frozenset({"y"})}, {"b": frozenset({"x"})})
              .compile(compile_kwargs={"literal_binds": True}))
    assert "items.state IN ('y')" in sql and "items.workflow = 'a' AND items.state IN ('x')" in sql


def test_the_workbench_follows_edits_of_the_site_files_and_keeps_the_last_good_ones(
        app: App, sqlite_site: Path) -> None:
    from adapters.web.reload import reload_site

    item = hazard(app)
    office = as_(app, "周安宁")
    path = sqlite_site / "workflows" / "hazard.yaml"
    good = path.read_text(encoding="utf-8")
    path.write_text(good.replace('title: "交办"', 'title: "交办整改"'), encoding="utf-8")
    assert reload_site(app)
    assert "交办整改" in text_of(office.get(f"/items/{item.id}").text)
    path.write_text(good.replace('- {name: "reported",   title: "已上报"}', ""), encoding="utf-8")
    assert not reload_site(app)  # items are in "reported": refused, the last good files stay
    assert "交办整改" in text_of(office.get(f"/items/{item.id}").text)
    path.write_text(good, encoding="utf-8")
