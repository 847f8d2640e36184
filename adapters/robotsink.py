"""A small local robot sink for trying rectify out (`rectify robot-sink`, started by
`make run`): it answers the daemon's WeCom and DingTalk webhooks on 127.0.0.1 as the
platforms do when they accept a message, and writes each message it receives as a
markdown file a person can read (`robots/0001-保卫处-钉钉.md` in the site).

What it checks, as the platforms do: a DingTalk robot's 加签 signature and timestamp
(within one hour), when the site's org.yaml gives the robot a secret (errcode 310000
otherwise), and the size limits (WeCom markdown 4,096 bytes, text 2,048; DingTalk
20,000). It does not limit the rate: the daemon keeps to 20 a minute by itself.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Mapping
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import structlog

from adapters.robots import SecretMissing, read_source
from engine.org import Org
from engine.robots import DINGTALK, WECOM

log = structlog.get_logger("rectify.robotsink")

_LIMITS = {("wecom", "markdown"): 4096, ("wecom", "text"): 2048, ("dingtalk", "markdown"): 20000}


def known_secrets(org: Org, root: Path) -> dict[str, str]:
    """access_token -> 加签 secret of the site's DingTalk robots that have one."""
    found = {}
    for robot in org.robots().values():
        if robot.kind != DINGTALK or robot.secret is None:
            continue
        try:
            url, secret = read_source(robot.webhook, root), read_source(robot.secret, root)
        except SecretMissing:
            continue
        token = parse_qs(urlsplit(url).query).get("access_token", [""])[0]
        found[token] = secret
    return found


class RobotSink:
    def __init__(self, directory: Path, secrets: Mapping[str, str], tz: ZoneInfo, groups: Mapping[str, str]) -> None:
        self.directory, self.secrets, self.tz, self.groups = directory, dict(secrets), tz, dict(groups)
        self._lock = threading.Lock()
        self._count = len(list(directory.glob("*.md"))) if directory.exists() else 0

    def answer(self, path: str, raw: bytes) -> dict[str, Any]:
        parts = urlsplit(path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        kind = WECOM if parts.path == "/cgi-bin/webhook/send" else DINGTALK if parts.path == "/robot/send" else None
        if kind is None:
            return {"errcode": 404, "errmsg": "not found"}
        try:
            body = json.loads(raw.decode("utf-8"))
            msgtype = str(body["msgtype"])
            part = body[msgtype]
        except (UnicodeDecodeError, ValueError, KeyError, TypeError):
            return {"errcode": 40016 if kind == WECOM else 43004, "errmsg": "invalid json"}
        token = query.get("key" if kind == WECOM else "access_token", "")
        refused = self._signature(token, query) if kind == DINGTALK else None
        if refused:
            return {"errcode": 310000, "errmsg": refused}
        text = str(part.get("content") if kind == WECOM else part.get("text", ""))
        limit = _LIMITS.get((kind, msgtype))
        if limit is not None and len(text.encode("utf-8")) > limit:
            return {"errcode": 40058 if kind == WECOM else 460101, "errmsg": f"content exceed max length {limit}"}
        self._write(kind, token, msgtype, body, text)
        return {"errcode": 0, "errmsg": "ok"}

    def _signature(self, token: str, query: Mapping[str, str]) -> str | None:
        secret = self.secrets.get(token)
        if secret is None:
            return None
        stamp, sign = query.get("timestamp", ""), query.get("sign", "")
        if not stamp.isdigit() or abs(time.time() * 1000 - int(stamp)) > 3600 * 1000:
            return "invalid timestamp"
        expected = base64.b64encode(hmac.new(secret.encode(), f"{stamp}\n{secret}".encode(), hashlib.sha256).digest())
        return None if hmac.compare_digest(expected.decode(), sign) else "sign not match"

    def _write(self, kind: str, token: str, msgtype: str, body: dict[str, Any], text: str) -> None:
        platform = "企业微信" if kind == WECOM else "钉钉"
        group = self.groups.get(token, token)
        mentions = (body.get("text", {}).get("mentioned_mobile_list") if kind == WECOM
                    else body.get("at", {}).get("atMobiles")) or []
        now = datetime.now(self.tz)
        header = (f"<!-- {platform}群机器人（{group}）收到的 {msgtype} 消息，{now:%Y-%m-%d %H:%M:%S}"
                  + (f"；@ {'、'.join(map(str, mentions))}" if mentions else "") + " -->\n\n")
        with self._lock:
            self.directory.mkdir(parents=True, exist_ok=True)
            self._count += 1
            path = self.directory / f"{self._count:04d}-{group}-{platform}.md"
            path.write_text(header + text + "\n", encoding="utf-8")
        log.info("robot_sink_received", path=str(path), kind=kind, msgtype=msgtype)


def serve(sink: RobotSink, host: str, port: int) -> ThreadingHTTPServer:
    """The sink's HTTP server (not started: call serve_forever)."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            length = min(int(self.headers.get("Content-Length") or 0), 1 << 20)
            data = json.dumps(sink.answer(self.path, self.rfile.read(length)), ensure_ascii=False).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    return ThreadingHTTPServer((host, port), Handler)


def group_names(org: Org, root: Path) -> dict[str, str]:
    """key / access_token -> the group's owner, for the files' names."""
    names = {}
    for robot in org.robots().values():
        try:
            url = read_source(robot.webhook, root)
        except SecretMissing:
            continue
        query = parse_qs(urlsplit(url).query)
        token = (query.get("key") or query.get("access_token") or [""])[0]
        names[token] = "校领导" if robot.owner == "leaders" else robot.owner
    return names
