"""Group robots (群机器人) of WeCom (企业微信) and DingTalk (钉钉): their settings in
org.yaml, the platforms' documented limits, and what a group is told, as data.

org.yaml gives a unit (the safety office is one) and the school leaders' group
(`leaders:`) a list of `robots`. Each robot is a webhook, and for DingTalk's 加签
security setting a secret; either may be written in org.yaml, or named as an
environment variable (`webhook_env`, `secret_env`) or a file of the site
(`webhook_file`, `secret_file`), as the SMTP password is. Nothing here reads them: the
adapter (adapters/robots.py) does when it sends.

Every tick, the notifications composed into digests are also grouped by the group each
recipient belongs to (their unit's, or the leaders'): one markdown message per robot of
the group, listing the group's new steps and @-mentioning the recipients by their
`mobile`. A message longer than the platform allows is split into parts. The message
rows go through the outbox as mail does (engine/robotdelivery.py sends them).

Platform rules followed (the platforms' documentation of custom group robots):
- WeCom: markdown `content` at most 4,096 bytes (UTF-8); a markdown message cannot
  @-mention by mobile (only `text` messages can, with `mentioned_mobile_list`), so the
  group gets, after the markdown, one short text message mentioning the people;
  errcode 45009 is the rate limit, 93000 an invalid webhook key.
- DingTalk: markdown `text` at most 20,000 bytes; the people are mentioned with
  `at.atMobiles` and `@mobile` in the text; the 加签 signature is
  base64(HMAC-SHA256(secret, "{timestamp}\\n{secret}")) with the timestamp in
  milliseconds, URL-encoded, as `&timestamp=…&sign=…`, within one hour of the
  platform's clock; errcode 130101 (more than 20 a minute: the robot is held for 10
  minutes) and 90030 are rate limits, 310000 a refused signature, keyword or IP address.
- Both: at most 20 messages a minute per robot.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

from engine.errors import Problem
from engine.mail import PermanentFailure, TemporaryFailure, visible
from engine.names import normalise

if TYPE_CHECKING:
    from engine.org import Org
    from engine.scheduler import Composed, Pending

WECOM, DINGTALK = "wecom", "dingtalk"
LEADERS = "leaders"  # the owner of the school leaders' group robots (org.yaml `leaders:`)
LEADERS_TITLE = "校领导"
PER_MINUTE = 20  # messages a robot may send in a minute (both platforms)


@dataclass(frozen=True)
class Platform:
    title: str  # 企业微信 | 钉钉
    markdown_bytes: int  # the largest markdown text, in UTF-8 bytes
    text_bytes: int  # the largest text message
    url_hint: str


PLATFORMS = {
    WECOM: Platform("企业微信", 4096, 2048, "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…"),
    DINGTALK: Platform("钉钉", 20000, 20000, "https://oapi.dingtalk.com/robot/send?access_token=…"),
}

# A mainland (China) mobile number: 11 digits, 1 then 3-9; written with +86 / 86 / 0086,
# spaces or hyphens is the same number.
_MOBILE = re.compile(r"1[3-9]\d{9}")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def mobile_number(written: Any) -> str | None:
    """The 11-digit number of a mainland mobile number as written, or None."""
    text = normalise(str(written)).replace(" ", "").replace("-", "")
    for prefix in ("+86", "0086", "86"):
        if text.startswith(prefix) and len(text) == 11 + len(prefix):
            text = text[len(prefix):]
            break
    return text if _MOBILE.fullmatch(text) else None


@dataclass(frozen=True)
class Source:
    """Where a robot's webhook or secret comes from: written in org.yaml (`value`), an
    environment variable (`env`) or a file (`file`, relative to the site)."""

    value: str | None = None
    env: str | None = None
    file: str | None = None

    @property
    def descriptor(self) -> str:
        """Which source this is, without the value when it is written in org.yaml's
        place of another file: the robot's identity (its rate budget) is derived from it."""
        if self.env:
            return f"env:{self.env}"
        if self.file:
            return f"file:{self.file}"
        return f"value:{self.value}"


@dataclass(frozen=True)
class Robot:
    """One group robot: a WeCom or DingTalk group's custom robot."""

    kind: str  # wecom | dingtalk
    owner: str  # the unit's name, or LEADERS
    webhook: Source
    secret: Source | None = None
    line: int | None = field(default=None, compare=False)

    @property
    def id(self) -> str:
        """Stable while the webhook's setting stays: the rate budget and the outbox rows
        are kept under it (the same webhook for two units is one robot, one budget)."""
        digest = hashlib.sha256(f"{self.kind}\n{self.webhook.descriptor}".encode()).hexdigest()
        return digest[:16]

    @property
    def platform(self) -> Platform:
        return PLATFORMS[self.kind]

    @property
    def title(self) -> str:
        """e.g. "保卫处的钉钉群机器人"."""
        owner = LEADERS_TITLE if self.owner == LEADERS else self.owner
        return f"{owner}的{self.platform.title}群机器人"


_SOURCE_PROPS = {"type": "string", "minLength": 1}
ROBOT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["kind"],
    "additionalProperties": False,
    "properties": {
        "kind": {"enum": [WECOM, DINGTALK]},
        **{f"{what}{suffix}": _SOURCE_PROPS for what in ("webhook", "secret") for suffix in ("", "_env", "_file")},
    },
}
ROBOTS_SCHEMA: dict[str, Any] = {"type": "array", "items": ROBOT_SCHEMA}


def parse_robots(entries: Any, owner: str, filename: str) -> tuple[tuple[Robot, ...], list[Problem]]:
    """A schema-checked `robots:` list: the robots and every problem with its line."""
    robots: list[Robot] = []
    problems: list[Problem] = []
    for i, entry in enumerate(entries or ()):
        line = entries.line_of(i)
        where = f"{LEADERS_TITLE if owner == LEADERS else '单位“' + owner + '”'}的第 {i + 1} 个群机器人"
        found = [_source(entry, what, where, filename, line, problems) for what in ("webhook", "secret")]
        webhook, secret = found
        if webhook is None:
            if not any(entry.get(f"webhook{s}") for s in ("", "_env", "_file")):
                problems.append(Problem(filename, line, f"{where}缺少 webhook（或 webhook_env、webhook_file）"))
            continue
        robot = Robot(entry["kind"], owner, webhook, secret, line)
        problems += _robot_problems(entry, robot, where, filename)
        robots.append(robot)
    return tuple(robots), problems


def _source(entry: Any, what: str, where: str, filename: str, line: int,
            problems: list[Problem]) -> Source | None:
    given = {s: entry[f"{what}{s}"] for s in ("", "_env", "_file") if entry.get(f"{what}{s}")}
    if not given:
        return None
    if len(given) > 1:
        names = "、".join(f"{what}{s}" for s in given)
        problems.append(Problem(filename, entry.line_of(f"{what}{next(iter(given))}"),
                                f"{where}同时写了 {names}，只能写其中一个"))
        return None
    suffix, value = next(iter(given.items()))
    if suffix == "_env" and not _ENV_NAME.fullmatch(value):
        problems.append(Problem(filename, entry.line_of(f"{what}_env"),
                                f"{where}的 {what}_env“{visible(value)}”不是有效的环境变量名"))
        return None
    return Source(value=value) if suffix == "" else Source(env=value) if suffix == "_env" else Source(file=value)


def _robot_problems(entry: Any, robot: Robot, where: str, filename: str) -> list[Problem]:
    problems = []
    if robot.webhook.value is not None:
        reason = webhook_problem(robot.kind, robot.webhook.value)
        if reason:
            problems.append(Problem(filename, entry.line_of("webhook"), f"{where}的 webhook {reason}"))
    if robot.kind == WECOM and robot.secret is not None:
        key = next(k for k in ("secret", "secret_env", "secret_file") if entry.get(k))
        problems.append(Problem(filename, entry.line_of(key),
                                f"{where}是企业微信群机器人，企业微信群机器人没有加签密钥，请删除 {key}"))
    if robot.secret is not None and robot.secret.value is not None:
        reason = secret_problem(robot.secret.value)
        if reason:
            problems.append(Problem(filename, entry.line_of("secret"), f"{where}的 secret {reason}"))
    return problems


_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def webhook_problem(kind: str, url: str) -> str | None:
    """Why `url` is not a webhook of a `kind` robot (None when it is one). http:// only to
    this machine (a local test server): elsewhere the key would travel in clear text."""
    platform = PLATFORMS[kind]
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname
    except ValueError:
        return f"“{visible(url)[:100]}”不是有效的网址（应形如 {platform.url_hint}）"
    if parts.scheme not in ("http", "https") or not host:
        return f"“{visible(url)[:100]}”不是有效的网址（应形如 {platform.url_hint}）"
    if parts.scheme == "http" and host not in _LOOPBACK:
        return "应以 https:// 开头（只有本机地址 127.0.0.1、localhost 可用 http://），否则密钥会明文传输"
    wanted = "key" if kind == WECOM else "access_token"
    if not parse_qs(parts.query).get(wanted, [""])[0]:
        return f"缺少 {wanted} 参数（{platform.title}群机器人的地址应形如 {platform.url_hint}）"
    return None


def secret_problem(secret: str) -> str | None:
    """Why `secret` is not a DingTalk 加签 secret (the SEC… string the robot's security
    settings show), or None."""
    if not secret.startswith("SEC") or len(secret) < 8 or not secret.isascii() or not secret.isalnum():
        return "应为钉钉机器人安全设置“加签”一栏显示的以 SEC 开头的字符串"
    return None


# -- failures ----------------------------------------------------------------------------


class RobotTemporaryFailure(TemporaryFailure):
    """The platform is unreachable, busy or answered with an error worth retrying."""

    def _sentence(self) -> str:
        return f"群机器人消息 {self.key} 暂时无法送达{self._facts()}：{self.reason}；稍后重试"


class RateLimited(RobotTemporaryFailure):
    """The platform's rate limit: the robot sends nothing until `hold_seconds` have passed."""

    def __init__(self, key: str, reason: str, *, hold_seconds: float, **facts: Any) -> None:
        self.hold_seconds = hold_seconds
        super().__init__(key, reason, **facts)


class RobotPermanentFailure(PermanentFailure):
    """The platform refused the message or the robot (signature, keyword, IP address,
    webhook): retrying cannot help until someone fixes the setting."""

    def _sentence(self) -> str:
        return f"群机器人消息 {self.key} 无法送达，不再重试{self._facts()}：{self.reason}"


# -- what a group is told -----------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """One step of one item, as a group reads it, with whom it concerns in the group."""

    head: str  # markdown: which item, and each of its steps on a line
    people: tuple[tuple[str, str | None], ...]  # (name, mobile) of the people concerned
    notification_ids: tuple[int, ...]

    @property
    def mobiles(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(m for _, m in self.people if m))

    def text(self, kind: str) -> str:
        """The entry's paragraph; on DingTalk each mobile is written as "@mobile", which
        the platform shows as the person's name when `at.atMobiles` lists it (WeCom
        mentions by the text message after the markdown: no numbers in the group)."""
        names = "、".join(_markdown_text(name) + (f" @{mobile}" if mobile and kind == DINGTALK else "")
                         for name, mobile in self.people)
        return f"{self.head}  \n请 {names} 处理" if names else self.head


@dataclass(frozen=True)
class GroupContext:
    """What the composition needs besides the notifications."""

    site_name: str
    org: Org
    tz: ZoneInfo
    state_title: Callable[[str, str], str]  # (workflow, state) -> 整改中 …


def group_of(recipient: dict[str, Any], org: Org) -> str | None:
    """The owner (a unit's name, or LEADERS) of the group a recipient belongs to: a
    person's unit's, a unit mailbox's own, the leaders' for the principal and the
    分管校领导 who belong to no unit; None for anyone else (the higher authority)."""
    name = recipient.get("name") or ""
    person = org.people.get(name)
    if person is None:
        return name if name in org.units else None
    if person.unit:
        return person.unit
    if org.principal == name or org.supervised_by(name) or "leader" in person.roles:
        return LEADERS
    return None


def robots_of(owner: str, org: Org) -> tuple[Robot, ...]:
    if owner == LEADERS:
        return org.leader_robots
    unit = org.units.get(owner)
    return unit.robots if unit is not None else ()


def group_messages(pending: Sequence[Pending], at: datetime, ctx: GroupContext) -> list[Composed]:
    """For each group with a robot that someone told of these notifications belongs to:
    its messages (one per robot, split to the platform's limit) in the order to send."""
    from engine.scheduler import Composed

    by_owner: dict[str, list[tuple[Pending, list[dict[str, Any]]]]] = {}
    for p in pending:
        owners: dict[str, list[dict[str, Any]]] = {}
        for r in p.recipients:
            owner = group_of(r, ctx.org)
            if owner is not None and robots_of(owner, ctx.org):
                owners.setdefault(owner, []).append(r)
        for owner, people in owners.items():
            by_owner.setdefault(owner, []).append((p, people))
    composed: list[Composed] = []
    for owner, found in by_owner.items():
        by_item: dict[int, list[tuple[Pending, list[dict[str, Any]]]]] = {}
        for p, people in sorted(found, key=lambda e: (e[0].step_at, e[0].item.id or 0)):
            by_item.setdefault(p.item.id or 0, []).append((p, people))
        entries = [_entry(steps, at, ctx) for steps in by_item.values()]
        for robot in robots_of(owner, ctx.org):
            urgent = any(p.urgent for p, _ in found)
            composed += [Composed(robot.owner if owner != LEADERS else LEADERS_TITLE, f"robot:{robot.id}",
                                  title, text, None, ids, channel="robot", robot=meta, urgent=urgent)
                         for title, text, ids, meta in _messages(robot, entries, at, ctx)]
    return composed


def _entry(steps: list[tuple[Pending, list[dict[str, Any]]]], at: datetime, ctx: GroupContext) -> Entry:
    """One item's entry: the item, then each of its new steps (repeats of a rung as one
    line; a reminder whose deadline has passed is left to the overdue step that says so)."""
    item = steps[-1][0].item
    state = ctx.state_title(item.workflow, item.state)
    where = "，".join(x for x in (item.unit, item.category, item.level, state) if x)
    overdue = item.overdue_with_pauses()
    is_overdue = overdue is not None and overdue <= at
    shown = [p for p, _ in steps if not (p.kind == "remind" and is_overdue)] or [steps[-1][0]]
    rungs: dict[str, list[Pending]] = {}
    for p in shown:
        rungs.setdefault(p.step_key.split(".")[0], []).append(p)
    lines = [_step_line(group, at, overdue) for group in rungs.values()]
    found: dict[str, str | None] = {}
    for _, people in steps:
        for r in people:
            person = ctx.org.people.get(r.get("name") or "")
            found.setdefault(r["name"], person.mobile if person is not None else None)
    head = (f"**{_kind(item.kind)} {item.id}：{_markdown_text(item.title)}**  \n{_markdown_text(where)}  \n"
            + "  \n".join(lines))
    return Entry(head, tuple(found.items()), tuple(p.id for p, _ in steps))


def _step_line(repeats: list[Pending], at: datetime, overdue: datetime | None) -> str:
    p = repeats[-1]
    if p.kind == "escalate" and overdue is not None:
        days = max(0, (at - overdue).days)
        when = f"已逾期 {days} 天（{p.label}）" if days else f"已逾期（{p.label}）"
    elif p.kind == "remind" and p.item.due is not None:
        due = p.item.due
        when = f"整改期限 {due.year}年{due.month}月{due.day}日（{p.label}提醒）"
    else:
        when = p.label
    times = f"，共 {len(repeats)} 次" if len(repeats) > 1 else ""
    late = "（补发）" if any(r.late for r in repeats) else ""
    return f"【{_markdown_text(p.action)}】{_markdown_text(when)}{times}{late}"


def _kind(kind: str) -> str:
    return {"hazard": "隐患", "task": "任务"}.get(kind, kind)


def _markdown_text(text: str) -> str:
    """User text inside markdown: one line, without characters that start markup."""
    flat = " ".join(text.split())
    return re.sub(r"([\\`*_\[\]<>#|~])", r"\\\1", flat)


# Room kept in each part for "（第 NN/NN 条）" in its heading, where _PART stands.
_PART_MARK_BYTES = 40
_PART = "\x00part\x00"


def _messages(robot: Robot, entries: Sequence[Entry], at: datetime,
              ctx: GroupContext) -> list[tuple[str, str, tuple[int, ...], dict[str, Any]]]:
    """(title, text, notification ids, robot meta) of each message to the robot, in order."""
    platform = robot.platform
    group = LEADERS_TITLE if robot.owner == LEADERS else robot.owner
    local = at.astimezone(ctx.tz)
    heading = (f"### {_markdown_text(ctx.site_name)}隐患整改督办（{_markdown_text(group)}）{_PART}\n\n"
               f"> {local.year}年{local.month}月{local.day}日 {local:%H:%M}，新增 {len(entries)} 项\n\n")
    limit = platform.markdown_bytes - len(heading.encode()) - _PART_MARK_BYTES
    parts = _pack([(e, _cut(e.text(robot.kind), limit)) for e in entries], limit)
    title = f"{group}：{len(entries)}项隐患整改督办"
    out = []
    for n, part in enumerate(parts, 1):
        mark = f"（第 {n}/{len(parts)} 条）" if len(parts) > 1 else ""
        text = heading.replace(_PART, mark) + "\n\n".join(t for _, t in part)
        mobiles = list(dict.fromkeys(m for e, _ in part for m in e.mobiles))
        meta = {"id": robot.id, "kind": robot.kind, "msgtype": "markdown", "part": n, "parts": len(parts),
                "mentions": mobiles if robot.kind == DINGTALK else []}
        out.append((title + mark, text, tuple(n for e, _ in part for n in e.notification_ids), meta))
    every = list(dict.fromkeys(m for e in entries for m in e.mobiles))
    if robot.kind == WECOM and every:
        # WeCom's markdown cannot @ by mobile: a text message after it does.
        text = _cut(f"{group}：以上 {len(entries)} 项隐患整改督办消息，请被提醒的同事及时处理。", platform.text_bytes)
        out.append((title, text, (), {"id": robot.id, "kind": robot.kind, "msgtype": "text", "part": 0,
                                      "parts": len(parts), "mentions": every}))
    return out


def _cut(text: str, limit: int) -> str:
    """`text` in at most `limit` UTF-8 bytes (cut at a character, ending "…")."""
    data = text.encode()
    if len(data) <= limit:
        return text
    return data[: limit - len("…".encode())].decode("utf-8", "ignore") + "…"


def _pack(entries: Sequence[tuple[Entry, str]], limit: int) -> list[list[tuple[Entry, str]]]:
    """Entries in order, in as few parts as fit `limit` bytes each (joined by a blank line)."""
    parts: list[list[tuple[Entry, str]]] = []
    size = 0
    for entry, text in entries:
        n = len(text.encode())
        if parts and size + 2 + n <= limit:
            parts[-1].append((entry, text))
            size += 2 + n
        else:
            parts.append([(entry, text)])
            size = n
    return parts
