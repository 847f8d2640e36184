"""The demo's robot sink (`rectify robot-sink`): it takes the daemon's webhooks as the
platforms do and writes each message where a person can read it; the demo site has a
robot pointing at it."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from adapters.robots import HttpRobots
from adapters.robotsink import RobotSink, serve
from engine.clock import FakeClock
from engine.robotdelivery import RobotOutgoing
from engine.robots import Robot, RobotPermanentFailure, Source
from tests.conftest import Cli
from tests.robotsite import SECRET

TZ = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def sink(tmp_path: Path):  # type: ignore[no-untyped-def]
    found = RobotSink(tmp_path / "robots", {"tok": SECRET}, TZ, {"tok": "保卫处", "k1": "总务处"})
    server = serve(found, "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield found, server.server_address[1]
    server.shutdown()
    server.server_close()


def _message(text: str = "### 督办\n\n**隐患 1：消防通道堵塞**", msgtype: str = "markdown") -> RobotOutgoing:
    return RobotOutgoing(7, "r", "dingtalk", msgtype, "保卫处", "保卫处：1项隐患整改督办", text, ("13800000002",), 0)


def test_a_signed_dingtalk_message_is_written_as_a_file(sink, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    found, port = sink
    robot = Robot("dingtalk", "保卫处", Source(value=f"http://127.0.0.1:{port}/robot/send?access_token=tok"),
                  Source(value=SECRET))
    HttpRobots(tmp_path, FakeClock(datetime.now(UTC))).send(robot, _message())
    [path] = sorted((tmp_path / "robots").glob("*.md"))
    assert path.name == "0001-保卫处-钉钉.md"
    text = path.read_text(encoding="utf-8")
    assert "**隐患 1：消防通道堵塞**" in text and "@ 13800000002" in text


def test_a_wrong_secret_is_refused_as_dingtalk_refuses_it(sink, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _, port = sink
    robot = Robot("dingtalk", "保卫处", Source(value=f"http://127.0.0.1:{port}/robot/send?access_token=tok"),
                  Source(value="SEC" + "1" * 64))
    with pytest.raises(RobotPermanentFailure, match="310000 sign not match"):
        HttpRobots(tmp_path, FakeClock(datetime.now(UTC))).send(robot, _message())
    assert not (tmp_path / "robots").exists()


def test_a_wecom_message_over_4096_bytes_is_refused(sink, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _, port = sink
    robot = Robot("wecom", "总务处", Source(value=f"http://127.0.0.1:{port}/cgi-bin/webhook/send?key=k1"))
    with pytest.raises(RobotPermanentFailure, match="40058"):
        HttpRobots(tmp_path, FakeClock(datetime.now(UTC))).send(robot, _message("字" * 1400))
    HttpRobots(tmp_path, FakeClock(datetime.now(UTC))).send(robot, _message("字" * 1300))
    assert [p.name for p in (tmp_path / "robots").glob("*.md")] == ["0001-总务处-企业微信.md"]


@pytest.mark.slow
def test_the_demo_site_has_a_robot_for_the_sink(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from adapters.cli import cli

    result = CliRunner().invoke(cli, ["init", str(tmp_path / "demo"), "--demo"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    site = tmp_path / "demo"
    org = (site / "org.yaml").read_text(encoding="utf-8")
    assert 'webhook: "http://127.0.0.1:8090/robot/send?access_token=demo-baoweichu", secret_file: "robot-secret"' in org
    assert (site / "robot-secret").stat().st_mode & 0o777 == 0o600
    assert (site / "robot-secret").read_text(encoding="utf-8").startswith("SEC")
    check = Cli(site)("check")
    assert "站点文件校验通过" in check.stdout
