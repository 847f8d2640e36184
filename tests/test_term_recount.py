"""Deadlines read against the school terms ("寒假前", a rule's "学期末") are counted
again when calendar.yaml's terms change: a ledger row saying the terms changed, and one
email to the responsible person with the old and the new deadline (not called 暂定)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from tests.smtpserver import Server
from tests.test_provisional import MA, Harness, running

TERM = '{name: "2026-2027学年第一学期", start: "2026-09-01", end: "2027-01-22"}'
EARLIER_END = '{name: "2026-2027学年第一学期", start: "2026-09-01", end: "2027-01-15"}'
LAB_RULE = """\
rules:
  - name: "实验室隐患学期末前整改"
    match: {kind: "hazard", category: "实验室及危化品"}
    priority: 10
    deadline: {expr: "学期末"}
"""


@pytest.fixture
def harness(memory_site: Path, serve: Callable[..., Server]) -> Iterator[Harness]:
    """test_provisional's daemon (on a MemoryStore) on a fresh site."""
    assert TERM in (memory_site / "calendar.yaml").read_text(encoding="utf-8")
    with running(memory_site, serve(), lambda site: (site / "rules" / "lab.yaml").write_text(
            LAB_RULE, encoding="utf-8")) as h:
        yield h


def _end_term_earlier(h: Harness) -> bool:
    path = h.site / "calendar.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace(TERM, EARLIER_END, 1), encoding="utf-8")
    return h.daemon.reload("test")


def test_an_earlier_term_end_moves_term_deadlines_records_and_tells_once(harness: Harness) -> None:
    h = harness
    own, by_rule, other = h.own_rule_and_other("寒假前")
    assert {h.app.store.get(i).due.isoformat() for i in (own, by_rule)} == {"2027-01-22"}
    other_history = len(h.app.store.history(other))

    assert _end_term_earlier(h)
    for i in (own, by_rule):
        item = h.app.store.get(i)
        assert item.due.isoformat() == "2027-01-15" and item.provisional is False
        row = h.show(i)["history"][-1]
        assert row["event"] == "calendar_update" and row["actor"] == "系统"
        assert row["changes"]["due"] == ["2027-01-22", "2027-01-15"]
        assert row["note"] == ("学期安排已更新（calendar.yaml 的 terms），期限按新的学期重新计算，"
                               "最后期限由2027年1月22日改为2027年1月15日")
    assert len(h.app.store.history(other)) == other_history  # not read against the terms

    notices = [(to, subject, body) for to, subject, body in h.mail() if "期限调整" in subject]
    assert sorted(to for to, _, _ in notices) == [MA, MA]
    assert all("由2027年1月22日改为2027年1月15日" in subject and "暂定" not in subject for _, subject, _ in notices)
    assert all("原整改期限：2027年1月22日\r\n" in body for _, _, body in notices)

    # Reloading the same terms again finds nothing to change and tells nobody again.
    received = len(h.mail())
    assert h.daemon.reload("again")
    report = h.daemon.recount_at_start()
    assert report is not None and report.moved == 0 and report.terms_unchanged == 2
    assert len(h.mail()) == received


def test_a_closed_term_item_is_left_alone(harness: Harness) -> None:
    h = harness
    i = h.hazard("实训室电闸外露", deadline="寒假前")
    h.close(i)
    history = len(h.app.store.history(i))
    assert _end_term_earlier(h)
    assert len(h.app.store.history(i)) == history
    assert h.app.store.get(i).due.isoformat() == "2027-01-22"


def test_calendar_apply_counts_term_deadlines_by_hand(harness: Harness) -> None:
    h = harness
    i = h.hazard("实训室电闸外露", deadline="寒假前")
    path = h.site / "calendar.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace(TERM, EARLIER_END, 1), encoding="utf-8")
    dry = json.loads(h.run("calendar", "apply", "--dry-run", "--json").stdout)
    [row] = dry["items"]
    assert row["item"] == i and row["old_due"] == "2027-01-22" and row["new_due"] == "2027-01-15"
    assert row["was_provisional"] is False and row["provisional"] is False and row["notified"] == ["马建军"]
    assert h.app.store.get(i).due.isoformat() == "2027-01-22"  # a dry run writes nothing
    out = h.run("calendar", "apply", "--actor", "周安宁").stdout
    assert f"事项 {i} 实训室电闸外露：2027-01-22（确定） → 2027-01-15（确定），已通知 马建军" in out
    assert h.app.store.get(i).due.isoformat() == "2027-01-15"


@pytest.mark.usefixtures("info_logging")
def test_a_reload_that_changes_only_holidays_does_not_look_at_term_deadlines(harness: Harness) -> None:
    h = harness
    h.hazard("实训室电闸外露", deadline="寒假前")
    path = h.site / "calendar.yaml"
    text = path.read_text(encoding="utf-8")
    assert "\nlocal:\n" in text
    with capture_logs() as logs:
        path.write_text(text.replace("\nlocal:\n", '\nlocal:\n  - {days: "2026-12-30", off: "校运动会"}\n', 1),
                        encoding="utf-8")
        assert h.daemon.reload("holidays")
        assert _end_term_earlier(h)
    runs = [e for e in logs if e["event"] == "provisional_recomputed"]
    assert [(r["checked"], r["terms_unchanged"], r["moved"]) for r in runs] == [(0, 0, 0), (1, 0, 1)]
