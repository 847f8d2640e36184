"""The authorization matrix: each kind of person × each page and each event of a
保卫处 hazard in every state. A button is shown exactly when the engine accepts the
event from that person; what is refused changes nothing; what is done is ledgered with
the logged-in person as the actor; what a person may not see is a 404."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters.wiring import App, open_app
from engine.access import may_see
from engine.clock import FakeClock
from tests.conftest import START, audit_findings
from tests.webclient import Browser, hazard, text_of

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

PEOPLE = {
    "周安宁": "safety office",
    "郭晓明": "inspector in the safety office (so safety_office too)",
    "林正道": "principal",
    "陈立德": "leader of 保卫处",
    "赵卫东": "head of 保卫处",
    "马建军": "responsible person in 保卫处",
    "王建国": "head of another unit",
    "张海峰": "responsible person in another unit",
    "刘思远": "leader of other units",
}
STATES = ("reported", "assigned", "rectifying", "submitted", "verified", "closed")
FIELDS = {"assign": {"responsible": "马建军"}, "submit": {"measures": "清理通道", "evidence": "整改照片"},
          "fix_on_spot": {"measures": "当场清理"}}
# What the workflow says, spelled out: who may fire what on a 保卫处 hazard.
EXPECTED = {
    ("reported", "assign"): {"周安宁", "郭晓明", "林正道", "陈立德", "赵卫东"},
    ("reported", "fix_on_spot"): {"周安宁", "郭晓明", "赵卫东", "马建军"},
    ("assigned", "start"): {"周安宁", "郭晓明", "赵卫东", "马建军"},
    ("rectifying", "submit"): {"周安宁", "郭晓明", "赵卫东", "马建军"},
    # 郭晓明 did not start it nor report it done (马建军 did) and is not responsible: he may verify.
    ("submitted", "verify"): {"周安宁", "郭晓明", "林正道", "陈立德", "赵卫东"},
    ("submitted", "reject"): {"周安宁", "郭晓明", "林正道", "陈立德", "赵卫东"},
    ("verified", "reject"): {"周安宁", "郭晓明", "林正道", "陈立德", "赵卫东"},
    ("verified", "close"): {"周安宁", "郭晓明", "林正道", "陈立德", "赵卫东"},
}


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    from adapters.sitesetup import create_site

    site = tmp_path_factory.mktemp("matrix") / "site"
    create_site(site)
    application = open_app(Path(site), FakeClock(START))
    yield application
    try:
        assert audit_findings(application) == []
    finally:
        application.close()


@pytest.fixture(scope="module")
def browsers(app: App) -> dict[str, Browser]:
    return {person: Browser(app).login(person) for person in PEOPLE}


def offered_on(page: str, item_id: int) -> set[str]:
    """The events the item page offers: buttons (forms) and links to their forms."""
    return set(re.findall(rf'(?:action|href)="/items/{item_id}/events/(\w+)"', page))


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("person", list(PEOPLE))
def test_pages_and_events_for_each_person_and_state(app: App, browsers: dict[str, Browser], person: str,
                                                    state: str) -> None:
    browser = browsers[person]
    item = hazard(app, f"矩阵{state}{person}", state=state)
    wf = app.service.workflows["hazard"]
    assert browser.get("/").status_code == 200 and browser.get("/report").status_code == 200
    page = browser.get(f"/items/{item.id}")
    if not may_see(app.service.org, person, item):
        assert page.status_code == 404 and item.title not in page.text
        assert browser.get(f"/items/{item.id}/amend").status_code == 404
        for t in wf.allowed_from(state):
            answer = browser.post(f"/items/{item.id}/events/{t.event}", FIELDS.get(t.event, {}))
            assert answer.status_code == 404 and app.store.get(item.id or 0).version == item.version
        return
    assert page.status_code == 200
    shown = offered_on(page.text, item.id or 0)
    events = {t.event: t.title for t in wf.allowed_from(state)}
    assert shown == {e for e in events if person in EXPECTED.get((state, e), set())}, (person, state, shown)
    for event in shown:
        assert events[event] in text_of(page.text)  # labelled with the event's title
    for event in sorted(events, key=lambda e: e in shown):  # refusals first, then what is allowed
        target = item if event not in shown else hazard(app, f"矩阵{state}{person}{event}", state=state)
        form = browser.get(f"/items/{target.id}/events/{event}")
        assert form.status_code == (200 if event in shown else 403)
        answer = browser.post(f"/items/{target.id}/events/{event}", FIELDS.get(event, {}))
        after = app.store.get(target.id or 0)
        if event in shown:
            assert answer.status_code == 303, text_of(answer.text)
            entry = app.store.history(target.id or 0)[-1]
            assert (entry.event, entry.actor) == (event, person)
        else:
            assert answer.status_code == 403 and after.version == target.version
            assert "Traceback" not in answer.text and not re.search(r"[a-z]+_[a-z]+", text_of(answer.text))
    # An event of another state is refused for everyone.
    other = next(t.event for t in wf.transitions if state not in t.sources)
    answer = browser.post(f"/items/{item.id}/events/{other}", FIELDS.get(other, {}))
    assert answer.status_code == 403 and app.store.get(item.id or 0).version == item.version
