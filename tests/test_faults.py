"""Faults, with real processes: several daemons on one PostgreSQL database, daemons killed
with SIGKILL, PostgreSQL restarted under a daemon and not there yet when it starts.

Daemons run as `python -m adapters.cli --site SITE daemon` on the real clock (ticking
every second) and mail a real SMTP server (aiosmtpd on loopback). Items are made due
now: found days ago with a three-day deadline, reported through the engine's bulk path
(`Service.prepare` + `Store.add_batch`), which leaves each with its latest escalation
due at once. Every wait is bounded.

What "exactly once" is checked against, independently of the daemons:
- queued: for every item, the notifications stored are exactly the steps its plan has
  between its cursor when it was reported and its cursor at the end;
- delivered: every notification is in exactly one message per recipient address, every
  message was sent, and the SMTP server received every message's Message-ID; a
  Message-ID received twice is a duplicate delivery (the window between the server's
  250 and the daemon's commit), counted against the kills.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from adapters.schema import items, messages, notifications, stage_reports
from adapters.sitesetup import create_site
from adapters.wiring import App, open_app
from engine.service import NewItem
from tests.conftest import _fresh_pg_database
from tests.daemonharness import deliver_around_the_clock
from tests.pgserver import PgServer
from tests.smtpserver import Recorder, Server, use_smtp

pytestmark = pytest.mark.slow  # real daemon processes, kills and restarts

REPO = Path(__file__).resolve().parent.parent
SETTLE_TIMEOUT = 240.0


# -- sites and daemons ---------------------------------------------------------------


def _make_site(root: Path, database_url: str | None, server: Server, *, claim_seconds: float,
               batch_size: int = 500) -> Path:
    site = root / "site"
    create_site(site, database_url)
    use_smtp(site, server)
    path = site / "rectify.yaml"
    text = path.read_text(encoding="utf-8").replace("tick_seconds: 60", f"tick_seconds: 1\n  claim_seconds: {claim_seconds}\n"
                                            f"  batch_size: {batch_size}")
    path.write_text(text, encoding="utf-8")
    deliver_around_the_clock(site)  # the real clock may be at night or on a weekend
    return site


class DaemonProcess:
    """One `rectify daemon` process with its log in a file."""

    def __init__(self, site: Path, log: Path) -> None:
        self.log = log
        self.terminated = False
        env = {**os.environ, "RECTIFY_LOG_LEVEL": "INFO", "PYTHONPATH": str(REPO)}
        with log.open("a") as sink:
            self.proc = subprocess.Popen([sys.executable, "-m", "adapters.cli", "--site", str(site), "daemon"],
                                         stdout=subprocess.DEVNULL, stderr=sink, text=True, env=env, cwd=REPO)

    def events(self) -> list[dict[str, Any]]:
        found = []
        for line in self.log.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("{"):
                try:
                    found.append(json.loads(line))
                except json.JSONDecodeError:
                    continue  # a line cut off by SIGKILL
        return found

    def count(self, msg: str) -> int:
        return sum(1 for e in self.events() if e.get("msg") == msg)

    def wait_for(self, what: str, predicate: Callable[[], bool], timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        self.kill()
        pytest.fail(f"daemon never {what}; exit={self.proc.returncode}\n{self.log.read_text()[-4000:]}")

    def terminate(self) -> None:
        """SIGTERM, once: a second one could land after the exiting interpreter has put
        the default handler back, and kill it (exit -15) instead of letting it finish."""
        if not self.terminated and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.terminated = True

    def stop(self) -> int:
        self.terminate()
        return self.proc.wait(timeout=60)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=30)


@pytest.fixture
def daemons() -> Iterator[list[DaemonProcess]]:
    started: list[DaemonProcess] = []
    yield started
    for d in started:
        d.kill()


# -- work falling due ----------------------------------------------------------------


def add_due_items(app: App, count: int, rng: random.Random, wave: int) -> dict[int, datetime]:
    """`count` hazards due now (their latest escalation); returns id → cursor when reported."""
    now = app.service.clock.now()
    rules = app.service.policies.current
    units = sorted(app.site.org.units)
    categories = list(rules.categories)
    new = []
    for i in range(count):
        report = NewItem(title=f"第{wave}批测试隐患{i + 1}号：安全出口指示灯不亮", category=rng.choice(categories),
                        unit=rng.choice(units), found_at=now - timedelta(days=rng.randint(5, 30), hours=rng.randint(0, 8)),
                        deadline="3日内", location="实训楼")
        new.append(app.service.prepare(report, at=now))
    ids = app.store.add_batch(new, [])
    assert all(item.next_action_at is not None and item.next_action_at <= now for item, _ in new)
    return {i: item.planned_until for i, (item, _) in zip(ids, new, strict=True)}


def settled(app: App) -> bool:
    """Nothing due, nothing left to compose, nothing waiting to be sent."""
    now = app.service.clock.now()
    count = func.count()
    with app.store.read() as conn:
        due = conn.execute(select(count).select_from(items).where(items.c.next_action_at <= now)).scalar()
        unsent = conn.execute(select(count).select_from(notifications)
                              .where(notifications.c.composed.is_(False))).scalar()
        pending = conn.execute(select(count).select_from(messages).where(messages.c.status != "sent")).scalar()
    return due == 0 and unsent == 0 and pending == 0


def wait_settled(app: App, running: list[DaemonProcess], timeout: float = SETTLE_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if settled(app):
            return
        for d in running:
            if d.proc.poll() is not None:
                pytest.fail(f"a daemon exited ({d.proc.returncode})\n{d.log.read_text()[-4000:]}")
        time.sleep(0.5)
    logs = "\n".join(d.log.read_text()[-2000:] for d in running)
    pytest.fail(f"work not done within {timeout:.0f} s\n{logs}")


def check_exactly_once(app: App, cursors: dict[int, datetime], server: Server) -> int:
    """The checks in the module docstring; returns how many duplicate deliveries there were."""
    with app.store.read() as conn:
        queued: dict[int, list[tuple[str, datetime]]] = defaultdict(list)
        recipients: dict[int, set[str]] = {}
        for n in conn.execute(select(notifications)):
            queued[n.item_id].append((n.step_key, n.step_at))
            recipients[n.id] = {r["email"].lower() for r in n.recipients if r.get("email")}
        sent = list(conn.execute(select(messages)))
    for item_id, cursor in cursors.items():
        item = app.store.get(item_id)
        plan = app.service.plan(item)
        expected = sorted((s.key, s.at) for s in plan.steps(cursor, item.planned_until))
        assert expected, f"item {item_id} had nothing due"
        assert sorted(queued[item_id]) == expected, f"item {item_id}: queued {queued[item_id]} != plan {expected}"
    carried: dict[int, list[str]] = defaultdict(list)
    for m in sent:
        assert m.status == "sent", (m.id, m.status, m.last_error)
        for n_id in m.notifications:
            carried[n_id].append(m.recipient_email.lower())
    for n_id, addresses in recipients.items():
        assert sorted(carried[n_id]) == sorted(addresses), f"notification {n_id}: in {carried[n_id]}, for {addresses}"
    received = Counter(str(r.message["Message-ID"]) for r in server.handler.received)
    wanted = {f"<notice-{m.id}@" for m in sent}
    got = {mid.split("@")[0] + "@" for mid in received}
    assert wanted <= got, f"{len(wanted - got)} messages never reached the SMTP server"
    assert got <= wanted, f"the SMTP server received messages the outbox never had: {sorted(got - wanted)[:5]}"
    return sum(c - 1 for c in received.values())


# -- several daemons on PostgreSQL ------------------------------------------------------


def test_three_daemons_on_postgresql_queue_and_deliver_every_step_exactly_once(
        tmp_path: Path, pg_server: PgServer, serve: Callable[..., Server], daemons: list[DaemonProcess]) -> None:
    if not pg_server.url:
        pytest.skip(pg_server.reason)
    server = serve()
    site = _make_site(tmp_path, _fresh_pg_database(pg_server), server, claim_seconds=60, batch_size=200)
    app = open_app(site)
    try:
        cursors = add_due_items(app, 20_000, random.Random(20), wave=1)
        for n in range(3):
            daemons.append(DaemonProcess(site, tmp_path / f"daemon-{n}.log"))
        wait_settled(app, daemons)
        # One daemon took the site lock and kept it (counted before stopping: once its
        # holder stops, another daemon takes it, as it should).
        assert sum(d.count("site_lock_taken") for d in daemons) == 1
        for d in daemons:
            d.terminate()
        assert [d.stop() for d in daemons] == [0, 0, 0]
        duplicates = check_exactly_once(app, cursors, server)
        assert duplicates == 0
        # The work was shared, and the once-per-site work done once.
        claimed = [sum(e.get("items", 0) for e in d.events() if e.get("msg") == "tick") for d in daemons]
        assert sum(1 for c in claimed if c) >= 2, claimed
        assert sum(claimed) >= len(cursors)
        with app.store.read() as conn:
            reports = conn.execute(select(stage_reports.c.name, stage_reports.c.period)).all()
        assert len(reports) == len(set(reports))
    finally:
        app.close()


# -- SIGKILL ---------------------------------------------------------------------------


class SlowRecorder(Recorder):
    """Accepts each message, then takes a moment before answering 250: a kill in that
    moment leaves a message the server has but the daemon does not know was sent."""

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        reply = await super().handle_DATA(server, session, envelope)
        await asyncio.sleep(0.03)
        return reply


def test_a_daemon_killed_at_random_points_loses_no_step_and_sends_at_most_one_duplicate_per_kill(
        tmp_path: Path, serve: Callable[..., Server], daemons: list[DaemonProcess]) -> None:
    server = serve(SlowRecorder())
    site = _make_site(tmp_path, None, server, claim_seconds=1, batch_size=20)
    app = open_app(site)
    rng = random.Random(7)
    cursors: dict[int, datetime] = {}
    kills = 0
    try:
        for wave in range(1, 21):
            cursors |= add_due_items(app, 60, rng, wave)
            d = DaemonProcess(site, tmp_path / "daemon.log")
            daemons.append(d)
            before = d.count("daemon_started")
            d.wait_for("started", lambda d=d, before=before: d.count("daemon_started") > before)
            time.sleep(rng.uniform(0.0, 2.0))
            if d.proc.poll() is None:
                d.proc.send_signal(signal.SIGKILL)
                kills += 1
            d.proc.wait(timeout=30)
        final = DaemonProcess(site, tmp_path / "daemon.log")
        daemons.append(final)
        wait_settled(app, [final])
        assert final.stop() == 0
        duplicates = check_exactly_once(app, cursors, server)
        print(f"{kills} kills, {duplicates} duplicate deliveries, {len(server.handler.received)} received")
        assert duplicates <= kills
    finally:
        app.close()


# -- PostgreSQL going away ---------------------------------------------------------------


@pytest.fixture(scope="module")
def own_pg() -> Iterator[PgServer]:
    """A PostgreSQL server of this module's own, free to be stopped and restarted."""
    server = PgServer()
    if not server.url:
        if os.environ.get("RECTIFY_REQUIRE_PG"):
            pytest.fail(f"PostgreSQL 测试必须运行：{server.reason}")
        pytest.skip(server.reason)
    yield server
    server.stop()


def test_postgresql_restarted_under_a_running_daemon(
        tmp_path: Path, own_pg: PgServer, serve: Callable[..., Server], daemons: list[DaemonProcess]) -> None:
    server = serve()
    site = _make_site(tmp_path, _fresh_pg_database(own_pg), server, claim_seconds=10)
    app = open_app(site)
    rng = random.Random(3)
    try:
        cursors = add_due_items(app, 200, rng, wave=1)
        d = DaemonProcess(site, tmp_path / "daemon.log")
        daemons.append(d)
        wait_settled(app, [d])
        d.wait_for("took the site lock", lambda: d.count("site_lock_taken") == 1)
        own_pg.restart()
        cursors |= add_due_items(app, 200, rng, wave=2)
        wait_settled(app, [d], timeout=90)
        # The dedicated connection holding the site lock was cut off and opened again.
        d.wait_for("took the site lock again", lambda: d.count("site_lock_taken") == 2)
        assert d.stop() == 0
        assert check_exactly_once(app, cursors, server) == 0
    finally:
        app.close()


def test_a_daemon_started_before_postgresql_waits_for_it_and_says_so(
        tmp_path: Path, own_pg: PgServer, serve: Callable[..., Server], daemons: list[DaemonProcess]) -> None:
    server = serve()
    site = _make_site(tmp_path, _fresh_pg_database(own_pg), server, claim_seconds=10)
    own_pg.stop_server()
    try:
        d = DaemonProcess(site, tmp_path / "daemon.log")
        daemons.append(d)
        d.wait_for("logged that the database is unreachable", lambda: d.count("database_unreachable") >= 2)
        waiting = [e for e in d.events() if e.get("msg") == "database_unreachable"]
        assert waiting[0]["retry_in"] == 1 and waiting[1]["retry_in"] == 2
        assert "无法连接数据库" in waiting[0]["error"] and "重试" in waiting[0]["hint"]
        assert d.proc.poll() is None
    finally:
        own_pg.start_server()
    d.wait_for("started once the database came up", lambda: d.count("daemon_started") == 1, timeout=90)
    d.wait_for("ticked", lambda: d.count("tick") >= 1)
    app = open_app(site)
    try:
        cursors = add_due_items(app, 50, random.Random(5), wave=1)
        wait_settled(app, [d], timeout=90)
        assert d.stop() == 0
        assert check_exactly_once(app, cursors, server) == 0
    finally:
        app.close()


def test_a_second_daemon_on_a_sqlite_database_refuses_to_start(
        tmp_path: Path, serve: Callable[..., Server], daemons: list[DaemonProcess]) -> None:
    server = serve()
    site = _make_site(tmp_path, None, server, claim_seconds=10)
    first = DaemonProcess(site, tmp_path / "first.log")
    daemons.append(first)
    first.wait_for("started", lambda: first.count("daemon_started") == 1)
    second = subprocess.run([sys.executable, "-m", "adapters.cli", "--site", str(site), "daemon"],
                            capture_output=True, text=True, timeout=60, cwd=REPO,
                            env={**os.environ, "PYTHONPATH": str(REPO)})
    assert second.returncode == 1
    assert "已有守护进程在使用这个 SQLite 数据库" in second.stderr and "PostgreSQL" in second.stderr
    assert f"进程 {first.proc.pid}" in second.stderr
    assert "Traceback" not in second.stderr
    assert first.proc.poll() is None
    # The lock dies with its holder, however it dies.
    first.kill()
    third = DaemonProcess(site, tmp_path / "third.log")
    daemons.append(third)
    third.wait_for("started after the first was killed", lambda: third.count("daemon_started") == 1)
    assert third.stop() == 0
