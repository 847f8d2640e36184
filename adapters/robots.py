"""The group robots' webhooks: WeCom (企业微信) and DingTalk (钉钉), posted with httpx.

A robot's webhook and secret are read when a message is sent (from org.yaml, the
environment variable or the file its setting names, as the SMTP password is), never
stored in the database, logged or put in an error message: an error names the
platform's host only. DingTalk's 加签 is computed here with the standard library
(hmac, hashlib, base64). The reply decides: HTTP 200 with errcode 0 is delivered; any
other errcode is a failure (engine/robots.py says which are retried).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus, urlsplit

import httpx
import structlog

from engine.errors import Problem
from engine.org import Org
from engine.ports import Clock
from engine.robotdelivery import RobotOutgoing
from engine.robots import (
    DINGTALK,
    WECOM,
    RateLimited,
    Robot,
    RobotPermanentFailure,
    RobotTemporaryFailure,
    Source,
    secret_problem,
    webhook_problem,
)

log = structlog.get_logger("rectify.robots")

TIMEOUT = httpx.Timeout(10.0, connect=5.0)

# errcodes of the platforms' replies (their documentation of custom robots).
WECOM_RATE_LIMITED = 45009  # api freq out of limit: 20 a minute
WECOM_INVALID_KEY = 93000  # invalid webhook url: a wrong key, or the robot was removed
WECOM_TOO_LONG = 40058  # markdown.content exceed max length 4096
DINGTALK_RATE_LIMITED = 130101  # send too fast, exceed 20 times per minute: held 10 minutes
DINGTALK_OVER_LIMIT = 90030  # webhook over limit
DINGTALK_REFUSED = 310000  # keywords not in content / sign not match / ip not in whitelist / invalid timestamp
DINGTALK_NO_TOKEN = 300005  # token is not exist

_HOLD = {WECOM_RATE_LIMITED: 60.0, DINGTALK_RATE_LIMITED: 600.0, DINGTALK_OVER_LIMIT: 600.0}
_PERMANENT = {
    WECOM_INVALID_KEY: "webhook 地址无效（key 不对，或群机器人已被移除），请在企业微信群设置中复制机器人的 webhook 地址",
    WECOM_TOO_LONG: "消息超过企业微信的长度上限",
    DINGTALK_REFUSED: "钉钉拒绝了机器人的消息：加签密钥、自定义关键词或 IP 地址白名单不符，请核对机器人的安全设置",
    DINGTALK_NO_TOKEN: "webhook 地址无效（access_token 不存在，或机器人已被移除）",
}


def sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk's 加签: base64(HMAC-SHA256(secret, "{timestamp}\\n{secret}")), URL-encoded."""
    digest = hmac.new(secret.encode("utf-8"), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return quote_plus(base64.b64encode(digest).decode("ascii"))


def payload(kind: str, message: RobotOutgoing) -> dict[str, Any]:
    """The JSON body the platform's webhook takes for the message."""
    mentions = list(message.mentions)
    if kind == WECOM:
        if message.msgtype == "text":
            return {"msgtype": "text", "text": {"content": message.text, "mentioned_mobile_list": mentions}}
        return {"msgtype": "markdown", "markdown": {"content": message.text}}
    return {"msgtype": "markdown", "markdown": {"title": message.title, "text": message.text},
            "at": {"atMobiles": mentions, "isAtAll": False}}


class SecretMissing(Exception):
    """A robot setting's environment variable or file gives nothing (message in Chinese)."""


def read_source(source: Source, root: Path, environ: Mapping[str, str] | None = None) -> str:
    """The value a setting names: written in org.yaml, an environment variable, a file of
    the site (its first line)."""
    if source.value is not None:
        return source.value.strip()
    if source.env:
        value = (os.environ if environ is None else environ).get(source.env, "").strip()
        if not value:
            raise SecretMissing(f"环境变量 {source.env} 未设置或为空")
        return value
    assert source.file
    path = root / source.file
    try:
        lines = path.read_text(encoding="utf-8").strip().splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise SecretMissing(f"无法读取文件 {path}：{reason}") from None
    if not lines or not lines[0].strip():
        raise SecretMissing(f"文件 {path} 是空的")
    return lines[0].strip()


def source_problems(org: Org, root: Path, org_file: str, environ: Mapping[str, str] | None = None) -> list[Problem]:
    """What `rectify check` finds in the robots' environment variables and files: each
    must give a webhook (or secret) the platform takes, as org.yaml's own values must."""
    problems = []
    for robot in org.robots().values():
        for what, source in (("webhook", robot.webhook), ("secret", robot.secret)):
            if source is None or source.value is not None:
                continue  # written in org.yaml: checked when it was read
            try:
                value = read_source(source, root, environ)
            except SecretMissing as exc:
                problems.append(Problem(org_file, robot.line, f"{robot.title}的 {what}：{exc}"))
                continue
            reason = webhook_problem(robot.kind, value) if what == "webhook" else secret_problem(value)
            if reason:
                where = f"环境变量 {source.env}" if source.env else f"文件 {source.file}"
                problems.append(Problem(org_file, robot.line, f"{robot.title}的 {what}（{where}）{reason}"))
    return problems


class HttpRobots:
    """RobotSender over HTTP. One client (a connection pool) for the daemon's life, made
    on the first message: a site without robots never pays for its TLS set-up."""

    def __init__(self, root: Path, clock: Clock, *, client: httpx.Client | None = None,
                 environ: Mapping[str, str] | None = None) -> None:
        self.root, self.clock, self.environ = root, clock, environ
        self._client = client

    @property
    def client(self) -> httpx.Client:
        if self._client is None:
            self._client = httpx.Client(timeout=TIMEOUT, follow_redirects=False, trust_env=False)
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()

    def send(self, robot: Robot, message: RobotOutgoing) -> None:
        url = self._url(robot, message)
        host = urlsplit(url).netloc
        body = json.dumps(payload(robot.kind, message), ensure_ascii=False).encode("utf-8")
        try:
            reply = self.client.post(url, content=body, headers={"Content-Type": "application/json; charset=utf-8"})
        except httpx.TimeoutException:
            raise RobotTemporaryFailure(message.key, f"{TIMEOUT.read:g} 秒内没有响应", server=host) from None
        except httpx.HTTPError as exc:
            raise RobotTemporaryFailure(message.key, _network_reason(exc), server=host) from None
        _check(reply, robot, message, host)
        log.info("robot_posted", key=message.key, server=host, kind=robot.kind, msgtype=message.msgtype)

    def _url(self, robot: Robot, message: RobotOutgoing) -> str:
        try:
            url = read_source(robot.webhook, self.root, self.environ)
            secret = read_source(robot.secret, self.root, self.environ) if robot.secret is not None else None
        except SecretMissing as exc:
            raise RobotPermanentFailure(message.key, f"{robot.title}的设置读不到：{exc}") from None
        reason = webhook_problem(robot.kind, url)
        if reason:
            raise RobotPermanentFailure(message.key, f"{robot.title}的 webhook {reason}")
        if robot.kind == DINGTALK and secret:
            timestamp = int(self.clock.now().timestamp() * 1000)
            url = f"{url}&timestamp={timestamp}&sign={sign(secret, timestamp)}"
        return url


def _check(reply: httpx.Response, robot: Robot, message: RobotOutgoing, host: str) -> None:
    """Raise unless the platform took the message (HTTP 200 and errcode 0)."""
    if reply.status_code != 200:
        failure = RobotTemporaryFailure if reply.status_code >= 500 or reply.status_code == 429 else RobotPermanentFailure
        raise failure(message.key, "平台拒绝了请求", server=host, code=reply.status_code, reply=reply.text[:200])
    try:
        data = reply.json()
        code = int(data.get("errcode", -1))
        text = str(data.get("errmsg", ""))[:300]
    except (ValueError, AttributeError, TypeError):
        raise RobotTemporaryFailure(message.key, "平台的答复不是预期的 JSON", server=host,
                                    reply=reply.text[:200]) from None
    if code == 0:
        return
    if code in _HOLD:
        raise RateLimited(message.key, f"{robot.platform.title}限制发送频率（每个机器人每分钟最多 20 条）",
                          hold_seconds=_HOLD[code], server=host, code=code, reply=text)
    if code in _PERMANENT:
        raise RobotPermanentFailure(message.key, _PERMANENT[code], server=host, code=code, reply=text)
    raise RobotTemporaryFailure(message.key, f"{robot.platform.title}返回错误", server=host, code=code, reply=text)


def _network_reason(exc: httpx.HTTPError) -> str:
    if isinstance(exc, httpx.ConnectError):
        return "连接失败（平台不可达、地址或端口不对）"
    return f"网络错误：{type(exc).__name__}"
