"""Sites with group robots: org.yaml edited as an office would, webhooks pointing at a
tests/robotserver.py server."""

from __future__ import annotations

from pathlib import Path

from tests.robotserver import RobotServer

SECRET = "SEC6d0c4a1b2f3e4d5c6b7a8f9e0d1c2b3a4f5e6d7c8b9a0f1e2d3c4b5a6f7e8d9"
MOBILES = {"马建军": "13800000003", "赵卫东": "13800000002", "王建国": "13800000004",
           "张海峰": "13800000005", "陈立德": "13800000006", "周安宁": "13800000001"}


def robot_lines(entries: list[dict[str, str]], indent: str) -> str:
    """`robots:` with one flow mapping per robot, each value quoted."""
    lines = [indent + "robots:"]
    for e in entries:
        pairs = ", ".join(f'{k}: "{v}"' for k, v in e.items())
        lines.append(f"{indent}  - {{{pairs}}}")
    return "\n".join(lines) + "\n"


def set_robots(site: Path, unit: str, entries: list[dict[str, str]]) -> int:
    """Give `unit` these robots in org.yaml; the line of its first robot."""
    org = site / "org.yaml"
    text = org.read_text(encoding="utf-8")
    marker = f'  - name: "{unit}"\n'
    assert marker in text, unit
    before = text.split(marker)[0]
    org.write_text(text.replace(marker, marker + robot_lines(entries, "    "), 1), encoding="utf-8")
    return before.count("\n") + 3


def set_leader_robots(site: Path, entries: list[dict[str, str]]) -> None:
    org = site / "org.yaml"
    text = org.read_text(encoding="utf-8")
    org.write_text(text.replace("units:\n", "leaders:\n" + robot_lines(entries, "  ") + "units:\n", 1), encoding="utf-8")


def set_mobiles(site: Path, mobiles: dict[str, str] = MOBILES) -> None:
    org = site / "org.yaml"
    text = org.read_text(encoding="utf-8")
    for name, mobile in mobiles.items():
        old = f'{{name: "{name}", '
        assert old in text, name
        text = text.replace(old, f'{{name: "{name}", mobile: "{mobile}", ', 1)
    org.write_text(text, encoding="utf-8")


def use_robots(site: Path, server: RobotServer, *, org_secret: str = SECRET, server_secret: str = SECRET) -> None:
    """保卫处: a DingTalk robot with 加签; 总务处 and the leaders: WeCom robots; mobiles."""
    set_robots(site, "保卫处", [{"kind": "dingtalk", "webhook": server.dingtalk_url("baowei", server_secret),
                                "secret": org_secret}])
    set_robots(site, "总务处", [{"kind": "wecom", "webhook": server.wecom_url("zongwu")}])
    set_leader_robots(site, [{"kind": "wecom", "webhook": server.wecom_url("leaders")}])
    set_mobiles(site)
