"""No sequence of commands, by anyone, breaks separation of duties or scope.

Hypothesis draws commands — any event of the item's workflow or an amendment, by any
person in the demo org.yaml, setting any mix of fields — and fires them one after the
other. Whatever is accepted must leave no person both the responsible person (or the
rectifier) and the verifier of an item, and must have come from someone whose scope
reaches the item as it was before the command. The scope rule is written out here
independently of engine.access, so the two cannot be wrong together.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import event as event_note
from hypothesis import strategies as st

from adapters.memory import MemoryStore
from adapters.sitesetup import create_site
from adapters.wiring import App, open_app
from engine.clock import FakeClock
from engine.errors import RectifyError
from engine.model import Item
from engine.service import NewItem
from tests.conftest import START
from tests.examples import examples

PEOPLE = ["郭晓明", "罗静", "周安宁", "赵卫东", "马建军", "孙文博", "黄丽萍", "钱晓燕", "杨晨",
          "刘思远", "陈立德", "李明华", "林正道", "张海峰", "王建国"]
UNITS = ["保卫处", "教务处", "学工处", "总务处", "综治办"]
EVENTS = ["assign", "start", "submit", "verify", "reject", "close", "fix_on_spot", "request_funds", "approve_funds",
          "plan", "amend"]
VALUES = {
    "responsible": st.sampled_from(PEOPLE), "watcher": st.sampled_from(PEOPLE), "unit": st.sampled_from(UNITS),
    "deadline": st.sampled_from(["3日内", "2099年底前"]), "measures": st.just("更换"), "evidence": st.just("照片"),
    "title": st.just("改过的标题"), "funds": st.just("1万元"), "contingency_plan": st.just("值守"),
    "interim_controls": st.just("围挡"), "location": st.just("别处"), "description": st.just("补充说明"),
    "co_units": st.sampled_from(UNITS), "level": st.sampled_from(["一般", "重大"]), "category": st.just("消防"),
    "progress": st.just("已完成一半"), "requirement": st.just("按期完成"), "project": st.just("消防整治"),
}
@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    """The demo site's application on a MemoryStore: these are the service's decisions
    (the SQL stores keep the same promises: tests/contract/)."""
    site = tmp_path_factory.mktemp("trust") / "site"
    create_site(site)
    clock = FakeClock(START)
    application = open_app(Path(site), clock, store=MemoryStore(clock=clock))
    yield application
    application.close()


def in_scope(app: App, actor: str, item: Item) -> bool:
    """Who may touch an item, as the README states it."""
    org = app.site.org
    person = org.people[actor]
    unit = org.units.get(item.unit) if item.unit else None
    site_wide = (person.unit == org.safety_office or actor == org.principal
                 or bool({"inspector", "admin"} & person.roles))
    return (site_wide or actor in (item.responsible, item.reporter)
            or (unit is not None and (person.unit == unit.name or actor in (unit.head, unit.leader))))


def duties_apart(item: Item) -> bool:
    verifier = item.fields.get("verifier")
    return not verifier or verifier not in (item.responsible, item.fields.get("rectifier"))


def _command(data: st.DataObject, app: App, item: Item) -> tuple[str, str, dict[str, str]]:
    """Mostly an event the item's state allows with the fields it may set (so that many
    commands go through), sometimes anything at all."""
    wf = app.site.workflows[item.workflow]
    possible = wf.allowed_from(item.state)
    if possible and data.draw(st.integers(0, 3)) > 0:
        t = data.draw(st.sampled_from(possible))
        event, fields = t.event, list(t.settable)
    else:
        event = data.draw(st.sampled_from(EVENTS))
        fields = list(dict.fromkeys(f for a in wf.amendments for f in a.fields)) if event == "amend" else []
    names = data.draw(st.lists(st.sampled_from(fields), unique=True)) if fields else []
    if data.draw(st.integers(0, 4)) == 0:  # a field the command may not set, now and then
        names.append(data.draw(st.sampled_from(sorted(VALUES))))
    sets = {n: data.draw(VALUES[n]) for n in names}
    return event, data.draw(st.sampled_from(PEOPLE) | st.sampled_from(_concerned(app, item))), sets


def _concerned(app: App, item: Item) -> list[str]:
    """People with some tie to the item, so that commands often get past the role check."""
    org = app.site.org
    unit = org.units.get(item.unit) if item.unit else None
    named = [item.responsible, item.reporter, item.fields.get("rectifier"), "周安宁", "郭晓明", "林正道"]
    if unit:
        named += [unit.head, unit.leader]
    return [n for n in dict.fromkeys(named) if n]


@pytest.mark.slow  # fuzzing: 150 random command sequences (make test runs it)
@settings(max_examples=examples(150), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(level=st.sampled_from(["一般", "重大"]), unit=st.sampled_from(UNITS), reporter=st.sampled_from(PEOPLE),
       data=st.data())
def test_no_command_sequence_breaks_duties_or_scope(app: App, level: str, unit: str, reporter: str,
                                                     data: st.DataObject) -> None:
    item_id = app.service.report(NewItem(title="楼道灭火器过期", category="消防", level=level, unit=unit,
                                       reporter=reporter)).id
    assert item_id is not None
    for _ in range(data.draw(st.integers(1, 16))):
        before = app.store.get(item_id)
        event, actor, sets = _command(data, app, before)
        try:
            if event == "amend":
                after = app.service.amend(item_id, actor, sets, note="调整")
            else:
                after = app.service.fire(item_id, event, actor, sets)
        except RectifyError:
            assert app.store.get(item_id).version == before.version  # refused: nothing written
            continue
        event_note(event)
        assert in_scope(app, actor, before), (event, actor, before.unit, before.responsible)
        assert duties_apart(after), (event, actor, after.responsible, after.fields)
        if event != "amend":
            # Only the fields the event may set changed besides what the workflow records.
            wf = app.site.workflows[before.workflow]
            allowed = set(next(t for t in wf.transitions if t.event == event and before.state in t.sources).settable)
            recorded = {"rectifier", "verifier", "verified_at", "submitter", "approver", "closed_at", "rejections"}
            changed = {k for k in {*before.snapshot(), *after.snapshot()}
                       if before.snapshot().get(k) != after.snapshot().get(k)}
            assert changed <= allowed | recorded, (event, changed - allowed - recorded)

