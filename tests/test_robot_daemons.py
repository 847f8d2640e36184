"""Three `rectify daemon` processes on one PostgreSQL database sharing one WeCom robot:
together they keep to the platform's 20 messages a minute, and every step reaches the
group once (real processes on the real clock: slow)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from adapters.schema import messages, notifications
from adapters.sitesetup import create_site
from adapters.wiring import open_app
from engine.service import NewItem
from tests.conftest import _fresh_pg_database, _running_pg
from tests.daemonharness import deliver_around_the_clock
from tests.pgserver import PgServer
from tests.robotserver import RobotServer, robot_server  # noqa: F401  (a fixture)
from tests.robotsite import set_mobiles, set_robots
from tests.smtpserver import Server, use_smtp
from tests.test_faults import DaemonProcess, daemons, settled, wait_settled  # noqa: F401  (a fixture)

pytestmark = pytest.mark.slow


def test_three_daemons_on_postgresql_share_one_robots_budget(
        tmp_path: Path, pg_server: PgServer, serve: Callable[..., Server],
        robot_server: RobotServer, daemons: list[DaemonProcess]) -> None:  # noqa: F811
    _running_pg(pg_server)
    site = tmp_path / "site"
    create_site(site, _fresh_pg_database(pg_server))
    use_smtp(site, serve())
    deliver_around_the_clock(site)  # real daemons on the real clock, which may be at night
    path = site / "rectify.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("tick_seconds: 60", "tick_seconds: 1"), encoding="utf-8")
    set_robots(site, "总务处", [{"kind": "wecom", "webhook": robot_server.wecom_url("zongwu")}])
    set_mobiles(site, {"王建国": "13800000004"})
    app = open_app(site)
    try:
        now = app.service.clock.now()
        new = [app.service.prepare(NewItem(title=f"第{i + 1}号教室" + "消防设施损坏需要更换" * 18, category="消防",
                                           unit="总务处", found_at=now - timedelta(days=10), deadline="3日内"), at=now)
               for i in range(150)]
        app.store.add_batch(new, [])
        for n in range(3):
            daemons.append(DaemonProcess(site, tmp_path / f"daemon-{n}.log"))
        wait_settled(app, daemons, timeout=400)
        assert [d.stop() for d in daemons] == [0, 0, 0]
        assert settled(app)
        with app.store.read() as conn:
            rows = list(conn.execute(select(messages).where(messages.c.channel == "robot")))
            to_group = [n.id for n in conn.execute(select(notifications))
                        if any(r["name"] == "王建国" for r in n.recipients)]
    finally:
        app.close()
    received = [r for r in robot_server.received if r.robot == "zongwu"]
    assert len(received) > 20, "more than a minute's budget, so the daemons had to share it"
    assert robot_server.refused == []
    assert robot_server.busiest_minute("zongwu") <= 20
    assert all(r.status == "sent" for r in rows)
    assert len(received) == len(rows)  # each message once
    carried = Counter(n for r in rows for n in r.notifications)
    assert sorted(carried) == sorted(to_group) and set(carried.values()) == {1}
    senders = [sum(e.get("robot_sent", 0) for e in d.events() if e.get("msg") == "tick") for d in daemons]
    assert sum(senders) == len(rows), senders
    # Which daemon wins a free moment of the budget depends on when each ticks, so one
    # may send them all; that the budget is one for every process is proven by
    # tests/contract/test_robot_outbox.py (concurrent reservations on PostgreSQL).
