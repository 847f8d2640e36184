"""The group robots as the daemon's second channel, against tests/robotserver.py on
127.0.0.1 (its clock the daemon's fake clock): what each group is told, the platforms'
rules (signature, sizes, 20 a minute, errcodes), and the faults — the endpoint down for
an hour, rate limits, a wrong secret — with nothing lost and nothing sent twice."""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from adapters.robots import sign
from engine.service import NewItem
from tests.daemonharness import DaemonHarness
from tests.robotserver import RobotServer, robot_server  # noqa: F401  (a fixture)
from tests.robotsite import MOBILES, SECRET, use_robots
from tests.smtpserver import Server, use_smtp
from tests.test_scheduler import FOUND, local


class Harness(DaemonHarness):
    """The site's daemon on a fake clock and a MemoryStore; mail to a recording SMTP
    server, the robots' webhooks to a RobotServer keeping the same time."""

    def __init__(self, site: Path, server: Server, robots: RobotServer, store: object = None) -> None:
        super().__init__(site, server, FOUND, memory=store is None)
        self.robots = robots
        robots.now = lambda: self.clock.now().timestamp()
        channel = self.daemon.scheduler.robots
        assert channel is not None
        channel.rng = random.Random(11)

    def hazard(self, title: str = "消防通道堆放杂物", unit: str = "保卫处", **kw: object) -> int:
        self.clock.set(FOUND)
        values = {"category": "消防", "unit": unit, "reporter": "郭晓明", "deadline": "3日内", **kw}
        item = self.service.report(NewItem(title=title, **values))  # type: ignore[arg-type]
        assert item.id is not None
        return item.id

    def tick(self, when: str | datetime) -> list[tuple[str, str]]:
        return self.tick_at(local(when) if isinstance(when, str) else when)

    def ticks(self, start: datetime, every: timedelta, until: datetime) -> None:
        at = start
        while at <= until:
            self.tick_at(at)
            at += every

    def outbox(self, *args: str) -> str:
        return str(self.run("outbox", *args).stdout)

    def listed(self) -> list[dict[str, object]]:
        """`rectify outbox --json`."""
        return json.loads(self.run("outbox", "--json").stdout)  # type: ignore[no-any-return]

    def robot_rows(self) -> list[object]:
        return [m for m in self.app.outbox.list_messages(("pending", "sent", "dead")) if m.channel == "robot"]


@pytest.fixture
def harness(memory_site: Path, serve: Callable[..., Server], robot_server: RobotServer) -> Iterator[Harness]:  # noqa: F811
    server = serve()
    use_smtp(memory_site, server)
    use_robots(memory_site, robot_server)
    yield Harness(memory_site, server, robot_server)


def _items_in_messages(harness: Harness) -> Counter[int]:
    """How many times each notification was carried to the 保卫处 group."""
    carried: Counter[int] = Counter()
    for m in harness.robot_rows():
        if m.recipient_name == "保卫处":  # type: ignore[attr-defined]
            carried.update(m.notifications)  # type: ignore[attr-defined]
    return carried


# -- what a group is told --------------------------------------------------------------


def test_the_units_group_gets_one_markdown_message_mentioning_the_people_concerned(harness: Harness) -> None:
    harness.hazard("实训楼消防通道堵塞")
    harness.hazard("二号楼灭火器过期")
    harness.tick("2021-03-05T09:00")  # both overdue
    ding = [r for r in harness.robots.received if r.robot == "baowei"]
    assert len(ding) == 1, [r.text for r in ding]
    message = ding[0]
    assert message.msgtype == "markdown"
    assert "实训楼消防通道堵塞" in message.text and "二号楼灭火器过期" in message.text
    assert "新增 2 项" in message.text and "保卫处" in message.body["markdown"]["title"]
    # The unit head (the responsible person while none is assigned) is @-mentioned by
    # mobile, and the text carries "@mobile" as DingTalk wants.
    assert message.mentions == [MOBILES["赵卫东"]]
    assert f"@{MOBILES['赵卫东']}" in message.text
    assert message.body["at"]["isAtAll"] is False
    # Mail is unchanged: the digests still go out.
    assert any(rcpt == "zhao.weidong@example.org" for rcpt, _, _ in harness.mail())
    # Nothing went to groups nobody concerned belongs to.
    assert {r.robot for r in harness.robots.received} == {"baowei"}


def test_each_group_is_told_only_of_its_own_peoples_steps(harness: Harness) -> None:
    harness.hazard("食堂燃气软管老化", unit="总务处", category="燃气")
    harness.hazard("实训楼消防通道堵塞", unit="保卫处")
    harness.tick("2021-03-05T09:00")
    by_robot = {r.robot: r for r in harness.robots.received if r.msgtype == "markdown"}
    assert "食堂燃气软管老化" in by_robot["zongwu"].text and "实训楼消防通道堵塞" not in by_robot["zongwu"].text
    assert "实训楼消防通道堵塞" in by_robot["baowei"].text and "食堂燃气软管老化" not in by_robot["baowei"].text
    # WeCom's markdown cannot @ by mobile: a text message after it mentions the people,
    # and the markdown shows no numbers.
    wecom = [r for r in harness.robots.received if r.robot == "zongwu"]
    assert [r.msgtype for r in wecom] == ["markdown", "text"]
    assert wecom[1].mentions == [MOBILES["王建国"]]
    assert MOBILES["王建国"] not in wecom[0].text and "王建国" in wecom[0].text


@pytest.mark.slow
def test_a_leader_who_belongs_to_no_unit_is_told_in_the_leaders_group(harness: Harness) -> None:
    harness.hazard("校门口报警装置未联网", level="重大")
    for day in range(5, 40, 3):
        harness.tick(FOUND + timedelta(days=day))
    leaders = [r for r in harness.robots.received if r.robot == "leaders"]
    assert leaders, "the ladder reaches the 分管校领导 by then"
    assert any(r.msgtype == "text" and MOBILES["陈立德"] in r.mentions for r in leaders)
    assert any("校门口报警装置未联网" in r.text for r in leaders if r.msgtype == "markdown")


@pytest.mark.slow
def test_a_long_list_is_split_within_the_platforms_limits_and_every_step_is_carried_once(
        harness: Harness) -> None:
    for n in range(60):
        harness.hazard(f"第{n + 1}号教室" + "消防设施损坏需要更换" * 12, unit="总务处")
        harness.hazard(f"第{n + 1}号宿舍" + "疏散指示标志不亮" * 12, unit="保卫处")
    harness.tick("2021-03-05T09:00")
    harness.ticks(local("2021-03-05T09:01"), timedelta(seconds=30), local("2021-03-05T09:10"))
    wecom = [r for r in harness.robots.received if r.robot == "zongwu" and r.msgtype == "markdown"]
    ding = [r for r in harness.robots.received if r.robot == "baowei"]
    assert len(wecom) > 1 and len(ding) > 1
    assert all(len(r.text.encode()) <= 4096 for r in wecom)
    assert all(len(r.text.encode()) <= 20000 for r in ding)
    assert len(wecom) > len(ding)  # WeCom's limit is the smaller
    assert all(f"/{len(wecom)} 条）" in r.text for r in wecom)
    for n in range(60):
        assert sum(f"第{n + 1}号教室消防" in r.text for r in wecom) == 1
        assert sum(f"第{n + 1}号宿舍疏散" in r.text for r in ding) == 1
    assert not harness.robots.refused
    assert set(_items_in_messages(harness).values()) == {1}


def test_the_dingtalk_signature_is_the_documented_one() -> None:
    # base64(HMAC-SHA256(key=secret, "{timestamp}\n{secret}")), URL-encoded: worked out
    # here with the standard library, as DingTalk's documentation shows it.
    import base64
    import hashlib
    import hmac
    from urllib.parse import quote_plus

    stamp = 1614560400000
    raw = hmac.new(SECRET.encode(), f"{stamp}\n{SECRET}".encode(), hashlib.sha256).digest()
    assert sign(SECRET, stamp) == quote_plus(base64.b64encode(raw).decode())
    assert "+" not in sign(SECRET, stamp) and "/" not in sign(SECRET, stamp)


# -- faults ---------------------------------------------------------------------------


def test_the_endpoint_down_for_an_hour_delays_but_loses_nothing(harness: Harness) -> None:
    harness.hazard("实训楼消防通道堵塞")
    harness.hazard("食堂燃气软管老化", unit="总务处", category="燃气")
    harness.robots.down()
    start = local("2021-03-05T09:00")
    harness.ticks(start, timedelta(minutes=1), start + timedelta(hours=1))
    assert harness.robots.received == []
    rows = harness.robot_rows()
    assert rows and all(m.status == "pending" for m in rows)  # type: ignore[attr-defined]
    # Tried again and again (the first message of each robot: the others wait behind it).
    assert min(m.attempts for m in rows) == 0 and sum(m.attempts >= 5 for m in rows) == 2  # type: ignore[attr-defined]
    listed = {r["to"]: r for r in harness.listed()}
    assert listed["保卫处（钉钉群机器人）"]["status"] == "pending"
    assert "连接失败" in listed["保卫处（钉钉群机器人）"]["last_error"]
    # Mail went out meanwhile.
    assert harness.mail()
    harness.robots.up()
    harness.ticks(start + timedelta(hours=1, minutes=1), timedelta(minutes=5), start + timedelta(hours=4))
    assert {m.status for m in harness.robot_rows()} == {"sent"}  # type: ignore[attr-defined]
    received = [(r.robot, r.msgtype) for r in harness.robots.received]
    assert sorted(received) == [("baowei", "markdown"), ("zongwu", "markdown"), ("zongwu", "text")]
    assert "没有待发" in harness.outbox()


def test_a_group_message_that_failed_in_office_hours_is_retried_only_in_them(harness: Harness) -> None:
    """Composed on Friday at 17:50 with the endpoint down; the endpoint is back at 18:30,
    outside office hours: nothing goes to the groups that night or over the weekend, and
    everything on Monday at 08:00, as mail."""
    harness.hazard("实训楼消防通道堵塞")
    harness.robots.down()
    harness.tick("2021-03-05T17:50")
    assert harness.robot_rows() and harness.robots.received == []
    harness.robots.up()
    for at in ("2021-03-05T18:30", "2021-03-05T23:00", "2021-03-06T10:00", "2021-03-07T20:00", "2021-03-08T07:59"):
        harness.tick(at)
    assert harness.robots.received == []
    assert {m.status for m in harness.robot_rows()} == {"pending"}  # type: ignore[attr-defined]
    harness.tick("2021-03-08T08:00")
    assert harness.robots.received and {m.status for m in harness.robot_rows()} == {"sent"}  # type: ignore[attr-defined]


def test_a_rate_limited_robot_waits_and_every_message_arrives_once(harness: Harness) -> None:
    harness.hazard("实训楼消防通道堵塞")
    harness.hazard("食堂燃气软管老化", unit="总务处", category="燃气")
    harness.robots.mode = "rate_limited"
    start = local("2021-03-05T09:00")
    harness.tick(start)
    assert {(kind, code) for kind, _, code, _, _ in harness.robots.refused} == {("wecom", 45009), ("dingtalk", 130101)}
    # Held for every daemon: WeCom a minute, DingTalk ten minutes; not counted as tries.
    harness.robots.mode = None
    harness.ticks(start + timedelta(seconds=30), timedelta(seconds=30), start + timedelta(minutes=9))
    assert {r.robot for r in harness.robots.received} == {"zongwu"}
    harness.ticks(start + timedelta(minutes=9, seconds=30), timedelta(seconds=30), start + timedelta(minutes=12))
    assert sorted(r.robot for r in harness.robots.received) == ["baowei", "zongwu", "zongwu"]
    assert all(m.status == "sent" and m.attempts == 1 for m in harness.robot_rows())  # type: ignore[attr-defined]


@pytest.mark.slow
def test_twenty_a_minute_per_robot_spreads_the_messages_out(harness: Harness) -> None:
    for n in range(200):
        harness.hazard(f"第{n + 1}号教室" + "消防设施损坏需要更换" * 14, unit="总务处")
    start = local("2021-03-05T09:00")
    harness.ticks(start, timedelta(seconds=5), start + timedelta(minutes=6))
    wecom = [r for r in harness.robots.received if r.robot == "zongwu"]
    assert len(wecom) > 20  # more than a minute's worth
    assert harness.robots.refused == []  # the budget kept below the platform's limit
    assert harness.robots.busiest_minute("zongwu") <= 20
    assert {m.status for m in harness.robot_rows()} == {"sent"}  # type: ignore[attr-defined]
    assert wecom[-1].at - wecom[0].at >= 65  # spread out, not dropped
    assert sum(r.at < wecom[0].at + 65 for r in wecom) == 20


def test_a_wrong_secret_is_a_dead_letter_with_the_platforms_message_and_the_admin_is_told(
        memory_site: Path, serve: Callable[..., Server], robot_server: RobotServer) -> None:  # noqa: F811
    server = serve()
    use_smtp(memory_site, server)
    use_robots(memory_site, robot_server, org_secret="SEC" + "0" * 64)
    harness = Harness(memory_site, server, robot_server)
    harness.hazard("实训楼消防通道堵塞")
    harness.hazard("二号楼灭火器过期")
    harness.tick("2021-03-05T09:00")
    assert robot_server.refused and robot_server.refused[0][2] == 310000
    assert "sign not match" in robot_server.refused[0][3]
    dead = [m for m in harness.robot_rows() if m.status == "dead"]  # type: ignore[attr-defined]
    assert len(dead) == 1 and "310000" in dead[0].last_error and "sign not match" in dead[0].last_error  # type: ignore[attr-defined]
    listed = [r for r in harness.listed() if r["to"] == "保卫处（钉钉群机器人）"]
    assert [r["status"] for r in listed] == ["dead"]
    assert "加签密钥" in str(listed[0]["last_error"]) and "sign not match" in str(listed[0]["last_error"])
    admin = [(subject, body) for rcpt, subject, body in harness.mail() if rcpt == "admin@example.org"]
    assert len(admin) == 1
    assert "保卫处的钉钉群机器人的消息无法送达" in admin[0][0]
    assert "sign not match" in admin[0][1] and "rectify outbox retry" in admin[0][1]
    # Told once, not at every tick; the other groups are not held up.
    harness.tick("2021-03-05T10:00")
    assert len([1 for rcpt, _, _ in harness.mail() if rcpt == "admin@example.org"]) == 1
    # Fixed in org.yaml and retried: delivered, once.
    org = memory_site / "org.yaml"
    org.write_text(org.read_text(encoding="utf-8").replace("SEC" + "0" * 64, SECRET), encoding="utf-8")
    assert harness.daemon.reload("test")
    harness.run("outbox", "retry")
    harness.tick("2021-03-05T10:05")
    assert [r.robot for r in robot_server.received if r.robot == "baowei"] == ["baowei"]
    assert {m.status for m in harness.robot_rows()} == {"sent"}  # type: ignore[attr-defined]


def test_a_timestamp_more_than_an_hour_off_is_refused_by_the_platform(harness: Harness) -> None:
    harness.hazard("实训楼消防通道堵塞")
    harness.robots.now = lambda: harness.clock.now().timestamp() + 3601  # the platform's clock
    harness.tick("2021-03-05T09:00")
    assert any(code == 310000 and msg == "invalid timestamp" for _, _, code, msg, _ in harness.robots.refused)
