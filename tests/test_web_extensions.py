"""延期申请 on the web: who sees the request form and the answer buttons, the requests
listed on the item page and in 我的待办, and every refusal as a Chinese 4xx page with
nothing written."""

from __future__ import annotations

import re

import pytest

from adapters.wiring import App
from engine.model import Item
from tests.webclient import Browser, as_, hazard, text_of, web_app  # noqa: F401  (web_app: the app fixture)

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

ASK = {"deadline": "2021年4月2日前", "reason": "防火门需厂家定制，到货需三周"}


def written(app: App, item: Item) -> tuple[int, int, list[str]]:
    """What the item's extensions and ledger hold: (version, ledger rows, statuses)."""
    stored = app.store.get(item.id or 0)
    return stored.version, len(app.store.history(item.id or 0)), [e.status for e in app.service.extensions(item.id or 0)]


def plain(answer: object) -> str:
    text = text_of(answer.text)  # type: ignore[attr-defined]
    assert "Traceback" not in text and not re.search(r"[a-z]+_[a-z]+", text), text
    return text


def forms(page: str) -> set[str]:
    return set(re.findall(r'id="(extension-(?:request|answer))"', page)) | (
        {"approve"} if "/extension/approve" in page else set())


# Who may do what on a 保卫处 hazard being rectified (rules: approvers safety_office).
ROLES = {
    "马建军": {"extension-request"},  # its responsible person
    "赵卫东": {"extension-request"},  # head of its unit
    "周安宁": set(),  # the safety office answers, does not ask
    "陈立德": set(),  # leader of 保卫处: neither
    "林正道": set(),  # the principal: not an approver under the shipped rules
}


@pytest.mark.parametrize("person", list(ROLES))
def test_who_sees_the_request_form(app: App, person: str) -> None:
    item = hazard(app, state="rectifying")
    page = as_(app, person).get(f"/items/{item.id}")
    assert page.status_code == 200
    assert forms(page.text) == ROLES[person]
    if ROLES[person]:
        text = text_of(page.text)
        assert "每次最多延长 30 天（自然日）" in text and "最多批准延期 2 次，已批准 0 次" in text
        assert "由综治办审批" in text and "最晚可申请延期至" in text


def test_another_units_person_neither_sees_nor_asks(app: App) -> None:
    item = hazard(app, state="rectifying")
    other = as_(app, "张海峰")
    assert other.get(f"/items/{item.id}").status_code == 404
    before = written(app, item)
    answer = other.post(f"/items/{item.id}/extension/request", ASK)
    assert answer.status_code == 404 and item.title not in answer.text
    assert written(app, item) == before


def test_request_then_approve_moves_the_deadline(app: App) -> None:
    item = hazard(app, state="rectifying")
    old_due = app.service.plan(item).due
    asker = as_(app, "马建军")
    answer = asker.post(f"/items/{item.id}/extension/request", ASK)
    assert answer.status_code == 303, plain(answer)
    entry = app.store.history(item.id or 0)[-1]
    assert (entry.event, entry.actor) == ("extension_request", "马建军")
    page = text_of(asker.get(answer.headers["location"]).text)
    assert "已提交延期申请" in page and "马建军申请延期至2021年4月2日（2021年4月2日前）" in page
    assert "待审批" in page and ASK["reason"] in page and "申请延期" in page  # history titled in Chinese
    assert forms(asker.get(f"/items/{item.id}").text) == set()  # one pending at a time; may not answer

    office = as_(app, "周安宁")
    todo = office.get("/")
    assert "待审批的延期申请（1 项）" in text_of(todo.text) and f'href="/items/{item.id}#extensions"' in todo.text
    for person in ("马建军", "赵卫东", "陈立德"):  # not approvers: nothing to answer
        assert "待审批的延期申请" not in text_of(as_(app, person).get("/").text)
    shown = office.get(f"/items/{item.id}").text
    assert forms(shown) == {"extension-answer", "approve"}
    request_id = re.search(r'name="request" value="(\d+)"', shown)
    assert request_id
    answer = office.post(f"/items/{item.id}/extension/approve", {"request": request_id.group(1), "note": "同意"})
    assert answer.status_code == 303, plain(answer)
    after = app.store.get(item.id or 0)
    assert old_due is not None and app.service.plan(after).due is not None
    assert str(app.service.plan(after).due) == "2021-04-02" and app.service.plan(after).due != old_due
    entry = app.store.history(item.id or 0)[-1]
    assert (entry.event, entry.actor) == ("extension_approve", "周安宁")
    page = text_of(office.get(answer.headers["location"]).text)
    assert "已批准延期" in page and "周安宁于" in page and "已批准：同意" in page and "批准延期" in page
    assert "待审批的延期申请" not in text_of(office.get("/").text)


def test_a_refusal_needs_a_note_and_leaves_the_deadline(app: App) -> None:
    item = hazard(app, state="rectifying")
    app.service.request_extension(item.id or 0, "赵卫东", ASK["deadline"], ASK["reason"])
    due = app.service.plan(app.store.get(item.id or 0)).due
    office = as_(app, "周安宁")
    before = written(app, item)
    answer = office.post(f"/items/{item.id}/extension/refuse", {"note": " "})
    assert answer.status_code == 403 and "不予批准须说明理由" in plain(answer)
    assert "--note" not in answer.text and written(app, item) == before
    answer = office.post(f"/items/{item.id}/extension/refuse", {"note": "可先采取临时措施"})
    assert answer.status_code == 303, plain(answer)
    assert written(app, item)[2] == ["refused"]
    assert app.service.plan(app.store.get(item.id or 0)).due == due
    page = text_of(office.get(answer.headers["location"]).text)
    assert "不予批准：可先采取临时措施" in page and "已答复延期申请（不予批准）" in page
    # The responsible unit may ask again (the rule allows two approved extensions).
    assert forms(as_(app, "马建军").get(f"/items/{item.id}").text) == {"extension-request"}


def test_refusals_are_chinese_pages_and_write_nothing(app: App) -> None:
    item = hazard(app, state="rectifying")
    asker, head, office = as_(app, "马建军"), as_(app, "陈立德"), as_(app, "周安宁")
    before = written(app, item)
    cases = [
        (asker, "request", {"deadline": "2021年6月30日前", "reason": "工期长"}, 403, "最长延期 30 天"),
        (asker, "request", {"deadline": "长期坚持", "reason": "工期长"}, 403, "不是一个确定的日期"),
        (asker, "request", {"deadline": "2021年4月2日前", "reason": ""}, 403, "须说明申请延期的理由"),
        (asker, "request", {"deadline": "明年某天", "reason": "工期长"}, 403, "不是一个确定的日期"),
        (asker, "request", {"deadline": "十" * 300, "reason": "工期长"}, 400, "过长"),
        (head, "request", ASK, 403, "无权申请延期"),
        (office, "approve", {}, 403, "没有待审批的延期申请"),
        (asker, "cancel", {}, 404, "没有这一操作"),
    ]
    for browser, verb, form, status, said in cases:
        answer = browser.post(f"/items/{item.id}/extension/{verb}", form)
        assert answer.status_code == status, (verb, form, plain(answer))
        assert said in plain(answer)
        assert written(app, item) == before
    answer = asker.post(f"/items/{item.id}/extension/request", ASK, csrf="")
    assert answer.status_code == 403 and "校验码" in plain(answer) and written(app, item) == before


def test_answers_are_for_the_approvers_and_the_request_shown(app: App) -> None:
    item = hazard(app, state="rectifying")
    app.service.request_extension(item.id or 0, "马建军", ASK["deadline"], ASK["reason"])
    before = written(app, item)
    for person in ("马建军", "赵卫东", "陈立德"):
        answer = as_(app, person).post(f"/items/{item.id}/extension/approve", {})
        assert answer.status_code == 403 and written(app, item) == before, person
        assert person in plain(answer)
    # A page showing an older request: refused (409), nothing written.
    stale = as_(app, "周安宁").post(f"/items/{item.id}/extension/approve", {"request": "999999"})
    assert stale.status_code == 409 and "未做任何修改" in plain(stale) and written(app, item) == before
    # Another approver answered first: the second answer is refused.
    assert as_(app, "郭晓明").post(f"/items/{item.id}/extension/refuse", {"note": "不同意"}).status_code == 303
    late = as_(app, "罗静").post(f"/items/{item.id}/extension/approve", {})
    assert late.status_code == 403 and "郭晓明" in plain(late)


def test_a_closed_item_shows_its_requests_but_no_forms(app: App) -> None:
    item = hazard(app, state="rectifying")
    app.service.request_extension(item.id or 0, "马建军", ASK["deadline"], ASK["reason"])
    app.service.answer_extension(item.id or 0, "周安宁", True, None)
    item = app.service.fire(item.id or 0, "submit", "马建军", {"measures": "更换防火门", "evidence": "照片"})
    item = app.service.fire(item.id or 0, "verify", "郭晓明")
    item = app.service.fire(item.id or 0, "close", "周安宁", {})
    for person in ("马建军", "周安宁"):
        page = as_(app, person).get(f"/items/{item.id}").text
        assert forms(page) == set() and "已批准" in text_of(page)


# Each kind of person (as in tests/test_web_matrix.py) asking for, and answering, an
# extension of a 保卫处 hazard being rectified: 303 when the engine allows it, 404 for
# those who may not see the item, 403 (nothing written) for the rest.
MAY_ASK = {"马建军", "赵卫东"}
MAY_ANSWER = {"周安宁", "郭晓明"}  # the safety office (the shipped rules' approvers)
UNSEEN = {"王建国", "张海峰", "刘思远"}
PEOPLE = ("周安宁", "郭晓明", "林正道", "陈立德", "赵卫东", "马建军", "王建国", "张海峰", "刘思远")


@pytest.mark.parametrize("person", PEOPLE)
def test_the_extension_matrix(app: App, person: str) -> None:
    browser = as_(app, person)
    asked = hazard(app, f"矩阵甲{person}", state="rectifying")
    page = browser.get(f"/items/{asked.id}")
    assert page.status_code == (404 if person in UNSEEN else 200)
    assert ("extension-request" in forms(page.text)) == (person in MAY_ASK)
    before = written(app, asked)
    answer = browser.post(f"/items/{asked.id}/extension/request", ASK)
    expected = 303 if person in MAY_ASK else 404 if person in UNSEEN else 403
    assert answer.status_code == expected, plain(answer)
    if expected == 303:
        entry = app.store.history(asked.id or 0)[-1]
        assert (entry.event, entry.actor) == ("extension_request", person)
    else:
        assert written(app, asked) == before and asked.title not in answer.text

    pending = hazard(app, f"矩阵乙{person}", state="rectifying")
    app.service.request_extension(pending.id or 0, "马建军", ASK["deadline"], ASK["reason"])
    page = browser.get(f"/items/{pending.id}")
    assert ("approve" in forms(page.text)) == (person in MAY_ANSWER)
    assert ("待审批的延期申请" in text_of(browser.get("/").text)) == (person in MAY_ANSWER)
    before = written(app, pending)
    for verb, form in (("refuse", {"note": "不同意"}), ("approve", {})):
        answer = browser.post(f"/items/{pending.id}/extension/{verb}", form)
        if person in MAY_ANSWER:
            assert answer.status_code == 303, plain(answer)
            entry = app.store.history(pending.id or 0)[-1]
            assert (entry.event, entry.actor) == ("extension_refuse", person)
            break  # answered: the approval after it would find nothing pending
        assert answer.status_code == (404 if person in UNSEEN else 403), plain(answer)
        assert written(app, pending) == before
