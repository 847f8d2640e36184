"""The daemon's tick against a real SMTP server (aiosmtpd on loopback) with a fake clock.

No test sleeps: time moves only when a test moves the FakeClock, and each tick is run
as of that instant. The daemon works on a MemoryStore (and its MemoryOutbox): these are
the scheduler's decisions; that the SQL store and outbox keep the same promises is
tests/contract/'s to prove. The command-line tests at the end run on SQLite.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from structlog.testing import capture_logs

from adapters.memory import MemoryStore
from engine.ports import Query
from engine.service import NewItem
from tests.conftest import Cli
from tests.daemonharness import DaemonHarness, deliver_around_the_clock
from tests.smtpserver import Server, use_smtp
from tests.test_obligations import OWN_OBLIGATIONS

TZ = ZoneInfo("Asia/Shanghai")


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=TZ)


FOUND = local("2021-03-01T09:00")  # a Monday


class Harness(DaemonHarness):
    """A site whose daemon ticks on a fake clock from 1 March 2021, on a MemoryStore, and
    mails a recording SMTP server."""

    def __init__(self, site: Path, server: Server) -> None:
        super().__init__(site, server, FOUND, memory=True)

    def hazard(self, title: str = "消防通道堆放杂物", deadline: str | None = "3日内", **kw: object) -> int:
        self.clock.set(FOUND)
        values = {"category": "消防", "unit": "保卫处", "reporter": "郭晓明", "deadline": deadline, **kw}
        item = self.service.report(NewItem(title=title, **values))  # type: ignore[arg-type]
        assert item.id is not None
        return item.id

    def tick(self, when: str | datetime) -> list[tuple[str, str]]:
        """Tick as of `when`; returns (recipient, subject) of every message that arrived."""
        return self.tick_at(local(when) if isinstance(when, str) else when)

    def bodies(self) -> list[str]:
        return [body for _, _, body in self.mail()]


@pytest.fixture
def harness(memory_site: Path, serve: Callable[..., Server]) -> Iterator[Harness]:
    site = memory_site
    server = serve()
    use_smtp(site, server)
    # The campaign's report obligations would add a task per unit per period: their own test.
    campaign = site / "rules" / "campaign.yaml"
    campaign.write_text(campaign.read_text(encoding="utf-8").split("obligations:")[0], encoding="utf-8")
    h = Harness(site, server)
    yield h
    h.daemon.close()


# Addresses of the demo org the ladder climbs through.
MA = "ma.jianjun@example.org"  # 马建军, the responsible person
HEAD = "zhao.weidong@example.org"  # 赵卫东, head of 保卫处
LEADER = "chen.lide@example.org"  # 陈立德, the supervising school leader
OFFICE = "zongzhiban@example.org"  # 综治办, the safety office


def test_a_3_day_hazard_is_reminded_then_climbs_the_ladder(harness: Harness) -> None:
    """Reminder before the deadline, the unit head after it, then the leader and the safety office."""
    h = harness
    i = h.hazard()
    h.service.fire(i, "assign", "赵卫东", {"responsible": "马建军"}, at=FOUND + timedelta(hours=1))
    assert h.tick("2021-03-01T12:00") == []
    reminders = h.tick("2021-03-03T09:00")  # 50% and "3个工作日前" both fell due
    assert [to for to, _ in reminders] == [MA] and "补发" not in reminders[0][1]
    assert "整改提醒" in h.bodies()[-1] or "提醒" in h.bodies()[-1]
    overdue = dict(h.tick("2021-03-05T09:00"))  # due 4 March: overdue from the 5th
    assert set(overdue) == {MA, HEAD} and "逾期督办" in overdue[HEAD]
    assert h.tick("2021-03-08T09:00") == []
    reported = dict(h.tick("2021-03-10T09:00"))  # 逾期3个工作日: 通报 to the head and the leader
    assert set(reported) == {HEAD, LEADER} and "通报" in reported[LEADER]
    interview = dict(h.tick("2021-03-19T09:00"))  # 逾期10个工作日: 约谈 reaches the safety office
    assert OFFICE in interview and "约谈" in "".join(h.bodies()[-len(interview):])


def test_a_deadline_moved_into_the_past_sends_the_escalation_reached(harness: Harness) -> None:
    """A changed deadline counts its steps afresh from the change, as for an item reported
    then: the latest rung reached (通报, 逾期3个工作日) is sent, not the reminders and
    rungs before it, and nothing says 补发 (no daemon was down)."""
    h = harness
    i = h.hazard(deadline="15个工作日内")
    h.tick("2021-03-10T09:00")
    h.service.fire(i, "assign", "赵卫东", {"responsible": "马建军", "deadline": "3日内"},
                  at=local("2021-03-10T10:00"))  # due 4 March: overdue since the 5th
    arrived = dict(h.tick("2021-03-10T11:00"))
    assert set(arrived) == {HEAD, LEADER} and "通报" in arrived[LEADER]
    assert not any("补发" in subject for subject in arrived.values())
    assert [key for _, key, _ in h.queued()] == ["escalate1.0"]
    assert h.tick("2021-03-10T12:00") == []
    # Moved later: no longer overdue, nothing owed until the new plan's own steps.
    h.service.amend(i, "周安宁", {"deadline": "2021年4月30日前"}, note="经研究同意延期",
                   at=local("2021-03-10T13:00"))
    assert h.tick("2021-03-10T14:00") == []


def test_a_shortened_deadline_does_not_send_reminders_it_puts_in_the_past(harness: Harness) -> None:
    h = harness
    i = h.hazard(deadline="15个工作日内")
    h.service.fire(i, "assign", "赵卫东", {"responsible": "马建军", "deadline": "5日内"},
                  at=local("2021-03-04T10:00"))  # due 6 March: its reminders fell on the 3rd and 4th
    assert h.tick("2021-03-04T11:00") == []
    overdue = dict(h.tick("2021-03-08T09:00"))  # Monday: office hours
    assert set(overdue) == {MA, HEAD} and not any("补发" in s for s in overdue.values())


@pytest.mark.slow
def test_simulate_lists_exactly_what_the_ticks_queue(harness: Harness) -> None:
    h = harness
    i = h.hazard()
    h.service.fire(i, "assign", "赵卫东", {"responsible": "马建军"}, at=FOUND + timedelta(hours=1))
    h.hazard("配电室门锁损坏", deadline=None, category="其他")  # the rule's 15 working days
    rows = json.loads(h.run("simulate", "--from", "2021-03-01T09:00", "--to", "2021-04-30",
                                  "--json").stdout)
    day, end = local("2021-03-01T10:00"), local("2021-04-30T00:00")
    while day < end:
        h.tick(day)
        day += timedelta(hours=6)
    h.tick(end)
    simulated = sorted((r["item"], r["key"], datetime.fromisoformat(r["at"])) for r in rows)
    assert simulated and sorted(h.queued()) == simulated


def test_the_same_tick_twice_sends_nothing_twice(harness: Harness) -> None:
    h = harness
    h.hazard()
    first = h.tick("2021-03-05T09:00")
    assert first
    assert h.tick("2021-03-05T09:00") == []
    # Even with the cursor lost (a crash between queuing and the cursor update), the unique
    # key keeps every step queued once.
    store = h.app.store
    assert isinstance(store, MemoryStore)
    for item in store.query(Query()):
        assert item.id is not None
        store.move_cursor(item.id, None, FOUND)
    assert h.tick("2021-03-05T09:01") == []
    keys = h.queued()
    assert len(keys) == len(set(keys))


def test_a_restart_after_a_week_down_sends_every_missed_step_once_in_order(harness: Harness) -> None:
    h = harness
    h.hazard()
    h.tick("2021-03-01T10:00")  # the daemon ran, then went down for three weeks
    arrived = h.tick("2021-03-22T09:00")
    assert arrived and all(subject.startswith("【补发】") for _, subject in arrived)
    steps = h.queued()
    assert [s[2] for s in steps] == sorted(s[2] for s in steps)  # queued in time order
    assert {s[1] for s in steps} >= {"remind0.0", "escalate0.0", "escalate1.0", "escalate1.1", "escalate2.0"}
    assert h.tick("2021-03-22T09:01") == []
    # One digest per recipient, one entry per item: the head's mail has the item once,
    # headed by the rung it reached (约谈), listing every missed step of it.
    head_mail = [r for r in h.server.handler.received if r.rcpt_tos == [HEAD]]
    assert len(head_mail) == 1
    body = head_mail[0].message.get_body(("plain",)).get_content()
    assert body.count("消防通道堆放杂物") == 1 and "补发" in body
    assert "1. 【逾期督办·约谈】消防通道堆放杂物" in body and "2. " not in body
    assert "【逾期督办】（逾期即）2021年3月5日 00:00 到期" in body
    # The repeating 通报 fell due three times while the daemon was down: one line says so.
    assert {"escalate1.0", "escalate1.1", "escalate1.2"} <= {s[1] for s in steps}
    assert body.count("【逾期督办·通报】") == 1
    assert "本项通报自 2021年3月10日" in body and "共到期 3 次，因系统暂停未能按时发送" in body


def test_a_server_refusing_for_an_hour_then_accepting_gets_everything(
        harness: Harness) -> None:
    h = harness
    h.hazard()
    h.hazard("配电箱未上锁", category="其他", unit="总务处")
    h.server.handler.data_reply = "451 4.3.0 Try again later"
    t = local("2021-03-05T09:00")
    for minute in range(0, 60):
        assert h.tick(t + timedelta(minutes=minute)) == []
    status = h.app.outbox.status(t)
    assert status["pending"] > 0 and status["dead"] == 0
    h.server.handler.data_reply = None
    arrived: list[tuple[str, str]] = []
    for minute in range(60, 60 * 8, 5):
        arrived += h.tick(t + timedelta(minutes=minute))
    status = h.app.outbox.status(t + timedelta(hours=8))
    assert status["pending"] == 0 and status["dead"] == 0 and status["sent"] == len(arrived)
    assert {to for to, _ in arrived} >= {MA, HEAD, "wang.jianguo@example.org"} - {MA}


def test_a_5xx_is_a_dead_letter_until_an_operator_retries(harness: Harness) -> None:
    h = harness
    h.hazard()
    h.server.handler.data_reply = "550 5.7.1 Message rejected"
    assert h.tick("2021-03-05T09:00") == []
    run = h.run
    dead = json.loads(run("outbox", "--json").stdout)
    assert dead and all(m["status"] == "dead" and "550" in m["last_error"] for m in dead)
    assert "死信" in run("status").stdout
    h.server.handler.data_reply = None
    assert h.tick("2021-03-05T10:00") == []  # dead letters are not retried by themselves
    assert "已放回待发队列" in run("outbox", "retry").stdout
    assert len(h.tick("2021-03-05T10:01")) == len(dead)
    assert json.loads(run("outbox", "--json").stdout) == []


def test_a_header_injection_attempt_in_a_title_is_harmless(harness: Harness) -> None:
    h = harness
    h.hazard("灭火器过期\r\nBcc: evil@example.org\r\nX-Evil: 1")
    arrived = h.tick("2021-03-05T09:00")
    assert arrived
    for r in h.server.handler.received:
        assert "evil@example.org" not in r.rcpt_tos
        assert r.message["Bcc"] is None and r.message["X-Evil"] is None
        assert "\n" not in str(r.message["Subject"])


def test_closing_an_item_stops_its_ladder(harness: Harness) -> None:
    h = harness
    i = h.hazard()
    assert h.tick("2021-03-05T09:00")
    h.clock.set(local("2021-03-05T10:00"))
    h.service.fire(i, "assign", "赵卫东", {"responsible": "马建军"})
    h.service.fire(i, "start", "马建军")
    h.service.fire(i, "submit", "马建军", {"measures": "清理通道", "evidence": "照片"})
    h.service.fire(i, "verify", "郭晓明")
    h.service.fire(i, "close", "周安宁")
    assert h.app.store.get(i).next_action_at is None
    assert h.tick("2021-04-30T09:00") == []


def test_a_broken_rule_edit_keeps_the_old_policy_and_emails_the_administrator(harness: Harness) -> None:
    h = harness
    h.hazard()
    version = h.daemon.version
    rules = h.site / "rules" / "policy.yaml"
    good = rules.read_text(encoding="utf-8")
    rules.write_text(good.replace('expr: "15个工作日内"', 'expr: "找时间处理"'), encoding="utf-8")
    h.clock.set(local("2021-03-02T09:00"))
    assert h.daemon.reload("test") is False
    assert h.daemon.version == version
    admin = [r for r in h.server.handler.received if r.rcpt_tos == ["admin@example.org"]]
    assert len(admin) == 1
    body = admin[0].message.get_body(("plain",)).get_content()
    assert "policy.yaml:" in body and "找时间处理" in body and version in body
    assert h.tick("2021-03-05T09:00")  # still running, on the old policy
    rules.write_text(good.replace('expr: "15个工作日内"', 'expr: "10个工作日内"'), encoding="utf-8")
    assert h.daemon.reload("test") is True and h.daemon.version != version


def test_a_reload_that_would_strand_stored_items_is_refused(harness: Harness) -> None:
    h = harness
    i = h.hazard()
    h.service.fire(i, "assign", "赵卫东", {"responsible": "马建军"})
    path = h.site / "workflows" / "hazard.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("assigned", "handed_over"), encoding="utf-8")
    assert h.daemon.reload("test") is False
    assert h.tick("2021-03-05T09:00")


def test_tick_and_status_from_the_command_line(sqlite_site: Path) -> None:
    deliver_around_the_clock(sqlite_site)  # `tick` runs on the real clock: maybe at night
    run = Cli(sqlite_site)
    run("report", "--title", "楼梯扶手松动", "--category", "消防", "--unit", "保卫处", "--reporter", "郭晓明",
        "--found-at", "2021-03-01T09:00", "--deadline", "3日内")
    # Reported today for a hazard found in 2021: its latest escalation is owed now.
    report = json.loads(run("tick", "--json").stdout)
    assert report["sent"] >= 1 and report["dead"] == 0
    assert list((sqlite_site / "mail").glob("notice-*.eml"))
    status = json.loads(run("status", "--json").stdout)
    assert status["sent"] == report["sent"] and status["dead"] == 0 and status["daemons"]
    assert "上次调度" in run("status").stdout


def test_each_tick_opens_the_periods_report_tasks_once(memory_site: Path, serve: Callable[..., Server]) -> None:
    site = memory_site
    server = serve()
    use_smtp(site, server)
    h = Harness(site, server)
    try:
        h.tick("2021-03-01T10:00")
        opened = len(h.app.store.query(Query(kind=["task"])))
        units = len(h.app.site.org.units)
        assert opened >= units  # at least one obligation open in March 2021, for every unit
        h.tick("2021-03-01T10:01")
        assert len(h.app.store.query(Query(kind=["task"]))) == opened
    finally:
        h.app.close()


@pytest.mark.usefixtures("info_logging")
def test_a_failing_obligation_is_logged_once_and_the_others_still_open(memory_site: Path,
                                                                      serve: Callable[..., Server]) -> None:
    """每学期 past the last term in calendar.yaml cannot be worked out: the tick logs it
    (with file and line) when it starts failing, not at every tick, and opens the
    other obligations' tasks; once calendar.yaml lists the next term, it recovers."""
    site = memory_site
    server = serve()
    use_smtp(site, server)
    (site / "rules" / "own.yaml").write_text(OWN_OBLIGATIONS, encoding="utf-8")
    h = Harness(site, server)
    try:
        with capture_logs() as logs:
            h.tick("2027-08-10T10:00")
            h.tick("2027-08-10T10:01")
        failed = [e for e in logs if e["event"] == "obligation_failed"]
        assert len(failed) == 1, failed
        assert failed[0]["obligation"] == "学期安全总结" and failed[0]["where"].endswith("own.yaml:2")
        assert "2027年8月10日以后的学期" in failed[0]["error"]
        origins = {i.origin for i in h.app.store.query(Query(kind=["task"]))}
        assert "obligation:月度自查:2027-09-01:总务处" in origins
        assert not any(o and o.startswith("obligation:学期安全总结") for o in origins)
        calendar = site / "calendar.yaml"
        calendar.write_text(calendar.read_text(encoding="utf-8").replace(
            "terms:\n", 'terms:\n  - {name: "2027-2028学年第一学期", start: "2027-09-01", end: "2028-01-21"}\n', 1),
            encoding="utf-8")
        assert h.daemon.reload()
        with capture_logs() as logs:
            h.tick("2027-08-10T10:02")
        assert [e["obligation"] for e in logs if e["event"] == "obligation_recovered"] == ["学期安全总结"]
        assert "obligation:学期安全总结:2028-01-21:保卫处" in {i.origin for i in h.app.store.query(Query(kind=["task"]))}
    finally:
        h.daemon.close()


def _wait_for(predicate: Callable[[], bool], what: str, proc: subprocess.Popen[str], timeout: float = 60) -> None:
    """Poll until `predicate` holds (the daemon runs in real time); fail with its log otherwise."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    proc.kill()
    _, err = proc.communicate()
    pytest.fail(f"daemon never {what}; exit={proc.returncode}\n{err[-3000:]}")


@pytest.mark.slow
def test_the_daemon_process_ticks_reloads_on_edit_and_sighup_and_stops_on_sigterm(tmp_path: Path) -> None:
    site = tmp_path / "site"
    Cli(tmp_path)("init", str(site), "--demo")
    config = site / "rectify.yaml"
    config.write_text(config.read_text(encoding="utf-8").replace("tick_seconds: 60", "tick_seconds: 1"),
                      encoding="utf-8")
    deliver_around_the_clock(site)  # the real clock: maybe at night
    log = tmp_path / "daemon.log"
    env = {**os.environ, "RECTIFY_LOG_LEVEL": "INFO"}
    with log.open("w") as sink:
        proc = subprocess.Popen([sys.executable, "-m", "adapters.cli", "--site", str(site), "daemon"],
                                stdout=subprocess.DEVNULL, stderr=sink, text=True, env=env)
    try:
        _wait_for(lambda: any((site / "mail").glob("notice-*.eml")), "wrote mail", proc)
        rules = site / "rules" / "policy.yaml"
        rules.write_text(rules.read_text(encoding="utf-8").replace('"15个工作日内"', '"10个工作日内"'),
                         encoding="utf-8")
        _wait_for(lambda: "policy_reloaded" in log.read_text(), "reloaded after an edit", proc)
        rules.write_text(rules.read_text(encoding="utf-8") + "\n  - name: [broken\n", encoding="utf-8")
        _wait_for(lambda: "reload_refused" in log.read_text(), "refused a broken edit", proc)
        proc.send_signal(signal.SIGHUP)
        _wait_for(lambda: log.read_text().count("reload_refused") >= 2, "reloaded on SIGHUP", proc)
        assert proc.poll() is None  # still running on the last good policy
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    text = log.read_text()
    assert '"msg": "tick"' in text and "daemon_stopped" in text


def test_check_reports_a_broken_site_template_with_file_and_line(sqlite_site: Path) -> None:
    (sqlite_site / "templates" / "digest.subject.j2").write_text("【督办】{{ digest.nope }\n", encoding="utf-8")
    out = Cli(sqlite_site)("check", code=1)
    assert "digest.subject.j2:1" in out.stderr


@pytest.mark.slow
def test_report_task_periods_missed_while_no_daemon_ran_are_created_once_marked_backfilled(
        memory_site: Path, serve: Callable[..., Server]) -> None:
    """The daemon ran on 1 March 2021, then not until 15 July: the monthly lists due 1
    April to 1 July and the quarter's report due 30 June were never created. The first
    tick after creates each once (补建, with a note in its ledger), besides the current
    periods; the next tick creates nothing; no period before the first tick is made up."""
    site = memory_site
    server = serve()
    use_smtp(site, server)
    campaign = site / "rules" / "campaign.yaml"  # the obligations, without the stage reports
    campaign.write_text(campaign.read_text(encoding="utf-8").split("\n# 阶段报告")[0] + "\n", encoding="utf-8")
    h = Harness(site, server)
    try:
        first = h.daemon.tick(local("2021-03-01T10:00"))
        assert first is not None and first.backfilled == 0
        origins = {i.origin for i in h.app.store.query(Query(kind=["task"]))}
        assert {o.split(":")[2] for o in origins} == {"2021-03-01", "2021-03-31"}  # nothing before
        units = len({o.split(":")[3] for o in origins})
        h.clock.set(local("2021-07-15T10:00"))
        after = h.daemon.tick(local("2021-07-15T10:00"))
        assert after is not None
        tasks = h.app.store.query(Query(kind=["task"]))
        by_due: dict[str, list[str]] = {}
        for task in tasks:
            assert task.origin is not None
            by_due.setdefault(task.origin.split(":")[2], []).append(task.title)
        missed = ["2021-04-01", "2021-05-01", "2021-06-01", "2021-06-30", "2021-07-01"]
        assert sorted(by_due) == sorted(["2021-03-01", "2021-03-31", *missed, "2021-08-01", "2021-09-30"])
        assert after.backfilled == len(missed) * units and after.opened == (len(missed) + 2) * units
        for due in missed:
            assert len(by_due[due]) == units and all(t.endswith(f"（{due} 前，补建）") for t in by_due[due])
        assert not any("补建" in t for due in ("2021-08-01", "2021-09-30") for t in by_due[due])
        backfilled = next(t for t in tasks if t.origin and ":2021-06-30:" in t.origin)
        assert backfilled.id is not None
        assert "补建" in (h.app.store.history(backfilled.id)[0].note or "")
        again = h.daemon.tick(local("2021-07-15T10:01"))
        assert again is not None and (again.opened, again.backfilled) == (0, 0)
    finally:
        h.daemon.close()
