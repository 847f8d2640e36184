"""A stand-in for WeCom's and DingTalk's custom group robots on 127.0.0.1, behaving as
their documentation says, for the daemon's webhooks to point at.

- WeCom (`/cgi-bin/webhook/send?key=KEY`): an unknown key is errcode 93000; markdown
  `content` over 4,096 bytes and text `content` over 2,048 bytes are 40058; more than 20
  messages in a minute from one robot are 45009.
- DingTalk (`/robot/send?access_token=TOKEN[&timestamp=MS&sign=SIGN]`): an unknown
  token is 300005; a robot with a 加签 secret checks the timestamp (within one hour of
  the server's clock) and the signature, base64(HMAC-SHA256(secret,
  "{timestamp}\\n{secret}")) — computed here on its own, not with the daemon's code —
  and a robot with keywords wants one in the message: otherwise 310000; markdown `text`
  over 20,000 bytes is 460101; more than 20 messages in a minute are 130101, and the
  robot is then held for 10 minutes.

It can be told to fail: `down()` (nothing listens on the port until `up()`),
`mode = "rate_limited"` (every request refused with the platform's rate-limit errcode),
`mode = "http500"`. Its clock (`now`, seconds) can be a test's fake clock. Everything
received (`received`) and refused (`refused`) is kept, with the server's time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

MINUTE = 60.0


@dataclass
class DingRobot:
    secret: str | None = None
    keywords: tuple[str, ...] = ()


@dataclass
class Received:
    kind: str  # wecom | dingtalk
    robot: str  # the key or access token
    body: dict[str, Any]
    at: float  # the server's clock

    @property
    def msgtype(self) -> str:
        return str(self.body["msgtype"])

    @property
    def text(self) -> str:
        part = self.body[self.msgtype]
        return str(part.get("content") if self.kind == "wecom" else part.get("text", part.get("content")))

    @property
    def mentions(self) -> list[str]:
        if self.kind == "wecom":
            return list(self.body.get("text", {}).get("mentioned_mobile_list") or [])
        return list(self.body.get("at", {}).get("atMobiles") or [])


@dataclass
class RobotServer:
    now: Callable[[], float] = time.time
    wecom: set[str] = field(default_factory=set)
    dingtalk: dict[str, DingRobot] = field(default_factory=dict)
    mode: str | None = None
    received: list[Received] = field(default_factory=list)
    refused: list[tuple[str, str, int, str, float]] = field(default_factory=list)
    port: int = 0
    _arrivals: dict[str, list[float]] = field(default_factory=dict)
    _held: dict[str, float] = field(default_factory=dict)
    _httpd: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # -- addresses -------------------------------------------------------------------

    def wecom_url(self, key: str) -> str:
        self.wecom.add(key)
        return f"http://127.0.0.1:{self.port}/cgi-bin/webhook/send?key={key}"

    def dingtalk_url(self, token: str, secret: str | None = None, keywords: tuple[str, ...] = ()) -> str:
        self.dingtalk[token] = DingRobot(secret, keywords)
        return f"http://127.0.0.1:{self.port}/robot/send?access_token={token}"

    # -- running ---------------------------------------------------------------------

    def up(self) -> RobotServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                length = int(self.headers.get("Content-Length") or 0)
                status, reply = server.handle(self.path, self.rfile.read(length))
                data = json.dumps(reply).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self._httpd.server_address[1]
        threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def down(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    # -- the platforms ---------------------------------------------------------------

    def handle(self, path: str, raw: bytes) -> tuple[int, dict[str, Any]]:
        parts = urlsplit(path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        if self.mode == "http500":
            return 500, {"error": "internal"}
        try:
            body = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            return 200, {"errcode": 40016 if parts.path.startswith("/cgi-bin") else 43004, "errmsg": "invalid json"}
        with self._lock:
            if parts.path == "/cgi-bin/webhook/send":
                return 200, self._wecom(query.get("key", ""), body)
            if parts.path == "/robot/send":
                return 200, self._dingtalk(query, body)
        return 404, {"errmsg": "not found"}

    def _refuse(self, kind: str, robot: str, code: int, message: str) -> dict[str, Any]:
        self.refused.append((kind, robot, code, message, self.now()))
        return {"errcode": code, "errmsg": message}

    def _too_many(self, robot: str) -> bool:
        """20 messages in the minute before now have arrived already."""
        now = self.now()
        recent = [t for t in self._arrivals.get(robot, []) if t > now - MINUTE]
        return len(recent) >= 20

    def _accept(self, kind: str, robot: str, body: dict[str, Any]) -> dict[str, Any]:
        now = self.now()
        self._arrivals.setdefault(robot, []).append(now)
        self.received.append(Received(kind, robot, body, now))
        return {"errcode": 0, "errmsg": "ok"}

    def _wecom(self, key: str, body: dict[str, Any]) -> dict[str, Any]:
        if key not in self.wecom:
            return self._refuse("wecom", key, 93000, "invalid webhook url, hint: [robot-server]")
        if self.mode == "rate_limited" or self._too_many(key):
            return self._refuse("wecom", key, 45009, "api freq out of limit")
        msgtype = body.get("msgtype")
        limit = {"markdown": 4096, "text": 2048}.get(str(msgtype))
        if limit is None:
            return self._refuse("wecom", key, 40008, "invalid message type")
        content = str(body.get(msgtype, {}).get("content", ""))
        if len(content.encode("utf-8")) > limit:
            return self._refuse("wecom", key, 40058, f"{msgtype}.content exceed max length {limit}")
        return self._accept("wecom", key, body)

    def _dingtalk(self, query: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
        token = query.get("access_token", "")
        robot = self.dingtalk.get(token)
        if robot is None:
            return self._refuse("dingtalk", token, 300005, "token is not exist")
        if robot.secret is not None:
            refusal = self._signature(robot.secret, query)
            if refusal:
                return self._refuse("dingtalk", token, 310000, refusal)
        markdown = body.get("markdown") or {}
        text = str(markdown.get("text", "")) + str(markdown.get("title", ""))
        if robot.keywords and not any(k in text for k in robot.keywords):
            return self._refuse("dingtalk", token, 310000, "keywords not in content")
        now = self.now()
        if self.mode == "rate_limited" or self._held.get(token, 0) > now:
            return self._refuse("dingtalk", token, 130101, "send too fast, exceed 20 times per minute")
        if self._too_many(token):
            self._held[token] = now + 600  # 限流10分钟
            return self._refuse("dingtalk", token, 130101, "send too fast, exceed 20 times per minute")
        if len(str(markdown.get("text", "")).encode("utf-8")) > 20000:
            return self._refuse("dingtalk", token, 460101, "message too long, exceed 20000 bytes")
        return self._accept("dingtalk", token, body)

    def _signature(self, secret: str, query: dict[str, str]) -> str | None:
        stamp, sign = query.get("timestamp", ""), query.get("sign", "")
        if not stamp.isdigit() or not sign:
            return "sign not match, timestamp or sign missing"
        if abs(self.now() * 1000 - int(stamp)) > 3600 * 1000:
            return "invalid timestamp"
        expected = base64.b64encode(hmac.new(secret.encode(), f"{stamp}\n{secret}".encode(),
                                             hashlib.sha256).digest()).decode()
        if not hmac.compare_digest(expected, sign):
            return "sign not match, more: [https://open.dingtalk.com/document/robots/customize-robot-security-settings]"
        return None

    # -- what arrived ----------------------------------------------------------------

    def busiest_minute(self, robot: str) -> int:
        """The most messages of `robot` that arrived within any 60 seconds."""
        times = sorted(r.at for r in self.received if r.robot == robot)
        return max((sum(1 for t in times if start <= t < start + MINUTE) for start in times), default=0)


@pytest.fixture
def robot_server() -> Iterator[RobotServer]:
    server = RobotServer().up()
    yield server
    server.down()
