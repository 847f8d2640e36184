"""Deadlines counted into a year whose holiday arrangement is not known yet: provisional on
the item, in `show` and in the mail, and counted again (with a ledger row and, if the
deadline moved, one email to the responsible person) once calendar.yaml gains the year.

The 2027 arrangements below are invented for the tests (not the published ones). Without
one, "10个工作日内" from Thursday 24 Dec 2026 counts 28 Dec–8 Jan with only 元旦 off:
due 8 Jan 2027, provisional.

The daemon works on a MemoryStore (with its MemoryOutbox; the SQL ones keep the same
promises: tests/contract/); `calendar apply` by hand runs on SQLite.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from structlog.testing import capture_logs

from engine.ports import ItemStore
from engine.service import NewItem
from tests.conftest import Cli
from tests.daemonharness import DaemonHarness
from tests.smtpserver import Server, use_smtp

TZ = ZoneInfo("Asia/Shanghai")
FOUND = datetime(2026, 12, 24, 9, 0, tzinfo=TZ)  # a Thursday
BEFORE_2027 = datetime(2026, 12, 28, 9, 0, tzinfo=TZ)  # when the notice is "published"

# 元旦 from 1 to 4 January (a Monday): "10个工作日内" from 24 Dec moves from 8 to 11 January.
MOVES = """\
years:
  2027:
    notice: "测试用虚构安排（元旦连休四天）"
    holidays:
      "2027-01-01至2027-01-04": "元旦"
      "2027-02-06至2027-02-13": "春节"
    workdays:
      "2027-02-14": "春节"
"""
# 元旦 on Friday 1 January with the weekend: the 8 January deadline stays, now exact.
STAYS = """\
years:
  2027:
    notice: "测试用虚构安排（元旦三天）"
    holidays:
      "2027-01-01至2027-01-03": "元旦"
      "2027-02-06至2027-02-13": "春节"
    workdays:
      "2027-02-14": "春节"
"""

MA = "ma.jianjun@example.org"  # 马建军, made responsible
HEAD = "zhao.weidong@example.org"  # 赵卫东, head of 保卫处


class Harness(DaemonHarness):
    """A site whose daemon runs on a fake clock in late December 2026, on a MemoryStore
    (a fresh one, or `store` for a daemon started again), and mails a recording SMTP server."""

    def __init__(self, site: Path, server: Server, store: ItemStore | None = None) -> None:
        super().__init__(site, server, FOUND, store, memory=True)

    def hazard(self, title: str, deadline: str = "10个工作日内", responsible: str | None = "马建军") -> int:
        self.clock.set(FOUND)
        item = self.service.report(NewItem(title=title, category="消防", unit="保卫处", reporter="郭晓明",
                                         deadline=deadline))
        assert item.id is not None
        if responsible:
            self.service.fire(item.id, "assign", "赵卫东", {"responsible": responsible}, at=FOUND + timedelta(hours=1))
        return item.id

    def own_rule_and_other(self, deadline: str) -> tuple[int, int, int]:
        """Three hazards: one whose own deadline is `deadline`, one the lab rule gives its
        deadline (the site's rules/lab.yaml), one counted in days (left alone)."""
        own = self.hazard("实训室电闸外露", deadline=deadline)
        self.clock.set(FOUND)
        by_rule = self.service.report(NewItem(title="危化品柜未上锁", category="实验室及危化品", unit="保卫处",
                                            reporter="郭晓明", responsible="马建军")).id
        assert by_rule is not None
        return own, by_rule, self.hazard("楼道应急灯损坏", deadline="3日内")

    def close(self, item_id: int) -> None:
        at = FOUND + timedelta(hours=2)
        self.service.fire(item_id, "start", "马建军", at=at)
        self.service.fire(item_id, "submit", "马建军", {"measures": "更换应急灯", "evidence": "照片"}, at=at)
        self.service.fire(item_id, "verify", "郭晓明", at=at)
        self.service.fire(item_id, "close", "周安宁", at=at)

    def declare(self, text: str) -> bool:
        """calendar.yaml gains 2027 and the daemon reloads it."""
        self.clock.set(BEFORE_2027)
        (self.site / "calendar.yaml").write_text(text, encoding="utf-8")
        return self.daemon.reload("test")

    def tick(self, when: str) -> list[tuple[str, str]]:
        """Tick as of `when` (site time); (recipient, subject) of every message that arrived."""
        return self.tick_at(datetime.fromisoformat(when).replace(tzinfo=TZ))

    def show(self, item_id: int) -> dict:
        return json.loads(self.run("show", str(item_id), "--json").stdout)


    def queued_messages(self) -> int:
        status = self.app.outbox.status(self.clock.now())
        return int(status["pending"] + status["sent"] + status["dead"])


def _prepare(site: Path, server: Server) -> None:
    use_smtp(site, server)
    # The campaign's report obligations and stage reports would add tasks and mail every
    # tick: they have their own tests.
    campaign = site / "rules" / "campaign.yaml"
    campaign.write_text(campaign.read_text(encoding="utf-8").split("obligations:")[0], encoding="utf-8")


@contextmanager
def running(site: Path, server: Server, *edits: Callable[[Path], object]) -> Iterator[Harness]:
    """The daemon of a Harness on `site` (prepared, then changed by each of `edits`),
    closed afterwards."""
    _prepare(site, server)
    for edit in edits:
        edit(site)
    h = Harness(site, server)
    try:
        yield h
    finally:
        h.daemon.close()


@pytest.fixture
def harness(memory_site: Path, serve: Callable[..., Server]) -> Iterator[Harness]:
    with running(memory_site, serve()) as h:
        yield h


def test_a_count_into_an_unarranged_year_is_provisional_in_show_and_in_the_mail(harness: Harness) -> None:
    """10 working days from 24 Dec 2026 reach 2027: the item, `show --json`, `explain` and the
    reminder all say the deadline is provisional, and why."""
    h = harness
    i = h.hazard("楼道应急灯损坏")
    item = h.app.store.get(i)
    assert item.provisional is True and item.due.isoformat() == "2027-01-08"
    shown = h.show(i)
    assert shown["provisional"] is True and shown["due"] == "2027-01-08"
    assert "2027年的法定节假日安排尚未公布" in shown["provisional_note"]
    assert "暂定" in h.run("explain", str(i)).stdout
    # The 50% reminder fell due on 1 January (元旦) at 04:30: delivered on the next working
    # day, in office hours.
    arrived = h.tick("2027-01-04T09:00")
    assert [to for to, _ in arrived] == [MA] and "暂定" in arrived[0][1]
    (_, _, body) = h.mail()[-1]
    assert "整改期限：2027年1月8日（暂定）" in body and "2027年的法定节假日安排尚未公布" in body


def test_declaring_the_year_moves_the_deadline_records_it_and_tells_the_responsible_person_once(
        harness: Harness) -> None:
    """2027 declared with 4 January off: the open item's deadline moves to 11 January and is
    exact; the ledger has a calendar_update row with old and new due; 马建军 gets one mail.
    A closed item is not touched; reloading an unchanged calendar does nothing."""
    h = harness
    i = h.hazard("楼道应急灯损坏")
    closed = h.hazard("配电室门锁损坏")
    h.close(closed)
    closed_history = len(h.app.store.history(closed))
    with capture_logs() as logs:
        assert h.declare(MOVES) is True
    item = h.app.store.get(i)
    assert item.provisional is False and item.due.isoformat() == "2027-01-11"
    row = h.show(i)["history"][-1]
    assert row["event"] == "calendar_update" and row["actor"] == "系统"
    assert row["changes"]["due"] == ["2027-01-08", "2027-01-11"]
    assert row["changes"]["provisional"] == [True, False]
    assert row["changes"]["overdue_at"] == ["2027-01-09T00:00:00+08:00", "2027-01-12T00:00:00+08:00"]
    assert row["note"].startswith("2027年节假日安排已加入日历，期限由暂定改为确定")
    assert h.show(i)["provisional"] is False
    mail = h.mail()
    assert [(to, subject) for to, subject, _ in mail] == [
        (MA, "【期限调整】楼道应急灯损坏（整改期限由2027年1月8日改为2027年1月11日）")]
    body = mail[0][2]
    assert "原整改期限：2027年1月8日（暂定）" in body and "新整改期限：2027年1月11日" in body
    assert "新整改期限：2027年1月11日（暂定）" not in body
    assert h.app.store.get(closed).provisional is True  # closed: left as it was
    assert len(h.app.store.history(closed)) == closed_history
    [run] = [e for e in logs if e["event"] == "provisional_recomputed"]
    assert (run["checked"], run["moved"], run["confirmed"], run["still_provisional"]) == (1, 1, 0, 0)
    reloaded = [e for e in logs if e["event"] == "policy_reloaded"]
    assert reloaded and reloaded[0]["calendar_changed"] is True
    # Nothing new: a reload of the same files, and the ticks after, send nothing more.
    history = len(h.app.store.history(i))
    with capture_logs() as logs:
        assert h.daemon.reload("test") is True
    assert not [e for e in logs if e["event"] == "provisional_recomputed"]
    assert len(h.app.store.history(i)) == history
    assert h.tick("2026-12-28T10:00") == [] and len(h.mail()) == 1
    # The reminders follow the new deadline: "3个工作日前" of the end of 11 January is 7
    # January (of 8 January it was the 6th).
    # 50%, fell due on Sunday 3 January: delivered on the next working day (the 4th is off now).
    assert h.tick("2027-01-04T09:00") == []
    assert [to for to, _ in h.tick("2027-01-05T09:00")] == [MA]
    assert h.tick("2027-01-06T12:00") == []
    assert [to for to, _ in h.tick("2027-01-07T09:00")] == [MA]


def test_a_deadline_that_does_not_move_is_only_marked_exact(harness: Harness) -> None:
    """2027 declared with 元旦 on its own Friday: 8 January stays; the ledger says the
    deadline is now exact, nobody is mailed."""
    h = harness
    i = h.hazard("楼道应急灯损坏")
    assert h.declare(STAYS) is True
    item = h.app.store.get(i)
    assert item.provisional is False and item.due.isoformat() == "2027-01-08"
    row = h.show(i)["history"][-1]
    assert row["event"] == "calendar_update" and row["changes"] == {"provisional": [True, False]}
    assert "最后期限不变" in row["note"]
    assert h.mail() == [] and h.queued_messages() == 0
    assert h.tick("2026-12-28T10:00") == []


def test_an_item_without_responsible_person_tells_the_unit_head(harness: Harness) -> None:
    """Not assigned yet: the unit head (赵卫东 of 保卫处) is told instead."""
    h = harness
    h.hazard("楼道应急灯损坏", responsible=None)
    assert h.declare(MOVES) is True
    assert [to for to, _, _ in h.mail()] == [HEAD]
    assert "您的身份：责任人" in h.mail()[0][2]


def test_a_count_reaching_a_year_still_unknown_stays_provisional(harness: Harness) -> None:
    """300 working days reach 2028: with 2027 declared the deadline moves, still provisional,
    and the mail and the ledger say which year is still missing."""
    h = harness
    i = h.hazard("实训楼外墙瓷砖脱落", deadline="300个工作日内")
    before = h.app.store.get(i)
    assert before.provisional is True and before.due.year == 2028
    assert h.declare(MOVES) is True
    after = h.app.store.get(i)
    assert after.provisional is True and after.due > before.due
    row = h.show(i)["history"][-1]
    assert "仍为暂定（2028年安排尚未公布）" in row["note"] and "provisional" not in row["changes"]
    [(to, subject, body)] = h.mail()
    assert to == MA and subject.endswith("，暂定）") and "2028年的法定节假日安排尚未公布" in body


def test_the_daemon_counts_again_at_start_and_retries_a_failed_run(
        memory_site: Path, serve: Callable[..., Server], monkeypatch: pytest.MonkeyPatch) -> None:
    """calendar.yaml changed while the daemon was down: the start counts again. A run that
    fails (the database gone) is retried by the next tick."""
    server = serve()
    _prepare(memory_site, server)
    h = Harness(memory_site, server)
    i = h.hazard("楼道应急灯损坏")
    h.daemon.close()
    (memory_site / "calendar.yaml").write_text(MOVES, encoding="utf-8")
    h = Harness(memory_site, server, h.app.store)  # started again on the same store, with the new calendar
    try:
        original = h.app.recount
        monkeypatch.setattr(h.app, "recount", lambda previous=None: _broken())
        assert h.daemon.recount_at_start() is None
        assert h.app.store.get(i).provisional is True
        monkeypatch.setattr(h.app, "recount", original)
        h.tick("2026-12-28T10:00")
        assert h.app.store.get(i).due.isoformat() == "2027-01-11"
        [(to, subject, _)] = h.mail()
        assert to == MA and "期限调整" in subject
        assert h.daemon.recount_at_start() is not None and len(h.mail()) == 1
    finally:
        h.daemon.close()


def _broken() -> object:
    raise RuntimeError("数据库连接中断（测试）")


def test_calendar_apply_by_hand_and_its_dry_run(run: Cli) -> None:
    """`rectify calendar apply --dry-run` lists what would change and writes nothing; without
    it the items are counted again, recorded and their notices queued; then nothing is left."""
    ids = []
    for title in ("楼道应急灯损坏", "配电室门锁损坏"):
        out = run("report", "--title", title, "--category", "消防", "--unit", "保卫处", "--reporter", "郭晓明",
                  "--found-at", "2026-12-24T09:00", "--at", "2026-12-24T09:00", "--deadline", "10个工作日内", "--json")
        ids.append(json.loads(out.stdout)["id"])
    run("fire", str(ids[1]), "assign", "--actor", "赵卫东", "--set", "responsible=马建军")
    (run.site / "calendar.yaml").write_text(MOVES, encoding="utf-8")
    history = [len(json.loads(run("show", str(i), "--json").stdout)["history"]) for i in ids]
    dry = json.loads(run("calendar", "apply", "--dry-run", "--json").stdout)
    assert dry["dry_run"] is True and (dry["checked"], dry["moved"]) == (2, 2)
    assert [(r["item"], r["old_due"], r["new_due"], r["notified"]) for r in dry["items"]] == [
        (ids[0], "2027-01-08", "2027-01-11", ["赵卫东"]), (ids[1], "2027-01-08", "2027-01-11", ["马建军"])]
    for i, n in zip(ids, history, strict=True):
        shown = json.loads(run("show", str(i), "--json").stdout)
        assert shown["history"][-1]["event"] != "calendar_update" and len(shown["history"]) == n
    assert json.loads(run("outbox", "--json").stdout) == []
    assert "须用 --actor 指明操作人" in run("calendar", "apply", code=2).stderr
    assert "无权" in run("calendar", "apply", "--actor", "马建军", code=1).stderr
    text = run("calendar", "apply", "--actor", "周安宁").stdout
    assert f"事项 {ids[1]} 配电室门锁损坏：2027-01-08（暂定） → 2027-01-11（确定），已通知 马建军" in text
    assert "期限改变 2 项" in text
    queued = json.loads(run("outbox", "--json").stdout)
    assert sorted(m["to"] for m in queued) == ["赵卫东 <zhao.weidong@example.org>", "马建军 <ma.jianjun@example.org>"]
    shown = json.loads(run("show", str(ids[1]), "--json").stdout)
    assert shown["provisional"] is False and shown["history"][-1]["event"] == "calendar_update"
    again = json.loads(run("calendar", "apply", "--actor", "罗静", "--json").stdout)
    assert (again["checked"], again["items"]) == (0, [])
