"""The robot side of the outbox, the same on every backend (memory, SQLite, PostgreSQL):
robot rows are messages the mail's claims skip; a step reaches a robot once; the rate
budget gives at most `limit` sends per window and says when the next is free; a hold
stops every send until it ends."""

from __future__ import annotations

import shutil
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from adapters import database
from adapters.outbox import SqlOutbox
from adapters.sqlstore import SqlStore
from engine.ports import SiteOutbox
from engine.scheduler import Composed
from tests.conftest import _fresh_pg_database
from tests.pgserver import PgServer

T0 = datetime(2021, 3, 1, 1, 0, tzinfo=UTC)
WINDOW = timedelta(seconds=65)


def _robot(ids: tuple[int, ...] = (), robot: str = "r1", msgtype: str = "markdown") -> Composed:
    return Composed("保卫处", f"robot:{robot}", "保卫处：1项隐患整改督办", "### 正文", None, ids, channel="robot",
                    robot={"id": robot, "kind": "dingtalk", "msgtype": msgtype, "part": 1, "parts": 1,
                           "mentions": ["13800000002"]})


def _mail() -> Composed:
    return Composed("马建军", "ma.jianjun@example.org", "【督办】", "正文", None, ())


def test_robot_messages_are_claimed_apart_from_the_mail(outbox: SiteOutbox) -> None:
    mail = outbox.add_message(_mail(), T0)
    robot = outbox.add_message(_robot(), T0)
    claimed = outbox.claim_robot_messages(T0, 10, T0 + timedelta(minutes=5))
    assert [m.id for m in claimed] == [robot]
    m = claimed[0]
    assert (m.robot, m.kind, m.msgtype, m.group, m.mentions, m.attempts) == ("r1", "dingtalk", "markdown", "保卫处",
                                                                            ("13800000002",), 0)
    assert m.title == "保卫处：1项隐患整改督办" and m.text == "### 正文"
    assert [x.id for x in outbox.claim_messages(T0, 10, T0 + timedelta(minutes=5))] == [mail]
    # Leased: not claimed again before the lease ends; released, due again.
    assert outbox.claim_robot_messages(T0 + timedelta(minutes=1), 10, T0 + timedelta(minutes=6)) == []
    outbox.release([robot], T0 + timedelta(minutes=2))
    assert [x.id for x in outbox.claim_robot_messages(T0 + timedelta(minutes=2), 10, T0 + timedelta(minutes=7))] == [robot]
    outbox.mark_dead(robot, 3, "sign not match")
    assert outbox.retry_dead([robot], T0) == 1
    assert [x.attempts for x in outbox.claim_robot_messages(T0 + timedelta(minutes=8), 10, T0 + timedelta(minutes=9))] == [0]


def test_a_step_reaches_a_robot_once(outbox: SiteOutbox) -> None:
    with_steps = _robot((101, 102))
    outbox.add_message(with_steps, T0)
    assert outbox.add_message(_robot((102,)), T0) is None  # already carried to r1: not queued again
    outbox.add_message(_robot((102,), robot="r2"), T0)  # another robot: queued
    outbox.add_message(_robot((), msgtype="text"), T0)  # a mention carries no step: queued
    rows = [(m.recipient_email, list(m.notifications)) for m in outbox.list_messages(("pending",))]
    assert sorted(rows) == sorted([("robot:r1", [101, 102]), ("robot:r2", [102]), ("robot:r1", [])])


def test_the_budget_gives_limit_sends_per_window_and_says_when_the_next_is_free(outbox: SiteOutbox) -> None:
    at = [T0 + timedelta(seconds=3 * i) for i in range(20)]
    assert [outbox.reserve_send("r1", t, 20, WINDOW) for t in at] == [None] * 20
    now = T0 + timedelta(seconds=61)
    assert outbox.reserve_send("r1", now, 20, WINDOW) == T0 + WINDOW  # the oldest send leaves the window
    assert outbox.reserve_send("r2", now, 20, WINDOW) is None  # each robot its own budget
    assert outbox.reserve_send("r1", T0 + WINDOW, 20, WINDOW) is None
    assert outbox.reserve_send("r1", T0 + WINDOW, 20, WINDOW) == at[1] + WINDOW


def test_a_hold_stops_every_send_until_it_ends(outbox: SiteOutbox) -> None:
    until = T0 + timedelta(minutes=10)
    outbox.hold_robot("r1", until)
    outbox.hold_robot("r1", T0 + timedelta(minutes=1))  # a shorter hold does not shorten it
    assert outbox.reserve_send("r1", T0 + timedelta(minutes=5), 20, WINDOW) == until
    assert outbox.reserve_send("r1", until, 20, WINDOW) is None


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def shared_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """One migrated database that several processes' outboxes open on their own."""
    if request.param == "sqlite":
        path = tmp_path / "rectify.db"
        shutil.copyfile(request.getfixturevalue("migrated_sqlite"), path)
        return f"sqlite:///{path}"
    server: PgServer = request.getfixturevalue("pg_server")
    return _fresh_pg_database(server, request.getfixturevalue("pg_template"))


def test_daemons_with_their_own_connections_share_one_budget(shared_url: str) -> None:
    """Four daemons (each its own engine and connections, as separate processes have)
    ask for 15 sends each at the same instant: the database grants 20 in all."""
    stores = [SqlStore(database.open_engine(shared_url)) for _ in range(4)]
    start = threading.Barrier(len(stores))

    def ask(store: SqlStore) -> list[datetime | None]:
        box = SqlOutbox(store)
        start.wait()
        return [box.reserve_send("r1", T0, 20, WINDOW) for _ in range(15)]

    try:
        with ThreadPoolExecutor(len(stores)) as pool:
            answers = [a for found in pool.map(ask, stores) for a in found]
    finally:
        for s in stores:
            s.close()
    assert answers.count(None) == 20 and len(answers) == 60
    assert all(a == T0 + WINDOW for a in answers if a is not None)
