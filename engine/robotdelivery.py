"""Delivering the group robots' messages: the second channel beside the mail.

Each tick, after composing, `RobotChannel.deliver` leases the due robot messages from the
outbox (the same table as the mail, rows of channel "robot") and, oldest first, for
each one takes a send from its robot's budget — at most 20 in any 65 seconds (the
platforms' 20 a minute, with room for the time a request takes to arrive), kept in the
database, so every daemon of a PostgreSQL site shares it — and hands it to the
RobotSender (adapters/robots.py). Then:

    sent                 marked sent
    no send free         put back until a send is free (not an attempt)
    RateLimited          the robot is held (WeCom 45009: a minute; DingTalk 130101 /
                         90030: ten minutes) for every daemon; the message waits (not an attempt)
    TemporaryFailure     retried with capped exponential backoff and jitter; a dead
                         letter after max_attempts
    PermanentFailure     a dead letter with the platform's message (a wrong 加签 secret,
                         a keyword or IP whitelist refusal, an invalid webhook)

After a failure or a wait, the robot's other messages of the tick wait as long, so the
parts of a message stay in order. A dead letter is shown by `rectify outbox` and its
robot's administrator is told by email (once per robot and problem, until a send to it
works again); `rectify outbox retry` puts it back.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import structlog

from engine.mail import PermanentFailure, TemporaryFailure, retry_delay
from engine.robots import PER_MINUTE, RateLimited, Robot

if TYPE_CHECKING:
    from engine.org import Org
    from engine.ports import Clock, RobotOutbox, RobotSender
    from engine.scheduler import TickSummary

log = structlog.get_logger("rectify.robots")

# The budget's window: the platforms count 20 a minute by when requests arrive, which
# is after the send was taken from the budget (a commit and a connection later).
WINDOW = timedelta(seconds=65)
CLAIM_BATCH = 50

# (title, problems, at): tell the site's administrator (adapters/alerts.py queues a mail).
Alert = Callable[[str, tuple[str, ...], datetime], None]


@dataclass(frozen=True)
class RobotOutgoing:
    """A robot message leased for delivery."""

    id: int
    robot: str  # the robot's id (engine.robots.Robot.id)
    kind: str  # wecom | dingtalk
    msgtype: str  # markdown | text
    group: str  # the group's owner as shown: a unit, or 校领导
    title: str
    text: str
    mentions: tuple[str, ...]  # mobiles to @-mention
    attempts: int

    @property
    def key(self) -> str:
        return f"robot-{self.id}"

    @classmethod
    def of_row(cls, message_id: int, group: str, title: str, text: str, attempts: int,
               robot: dict[str, Any] | None) -> RobotOutgoing:
        """From a messages row: its robot column holds the robot's facts."""
        facts = robot or {}
        return cls(message_id, str(facts.get("id", "")), str(facts.get("kind", "")),
                   str(facts.get("msgtype", "markdown")), group, title, text,
                   tuple(facts.get("mentions") or ()), attempts)


class RobotChannel:
    def __init__(self, outbox: RobotOutbox, sender: RobotSender, org: Callable[[], Org], clock: Clock, *,
                 max_attempts: int = 12, claim_seconds: float = 300, rng: random.Random | None = None,
                 alert: Alert | None = None, per_window: int = PER_MINUTE, window: timedelta = WINDOW) -> None:
        self.outbox, self.sender, self.org, self.clock = outbox, sender, org, clock
        self.max_attempts, self.claim_seconds = max_attempts, claim_seconds
        self.rng = rng or random.Random()
        self.alert = alert
        self.per_window, self.window = per_window, window
        # (robot, problem) the administrator was told of; forgotten when the robot works.
        self._alerted: set[tuple[str, str]] = set()

    def deliver(self, at: datetime, summary: TickSummary, only_urgent: bool = False) -> None:
        """Send what is due (`only_urgent`: outside office hours). Never raises: the mail
        of the tick goes out whatever happens here."""
        try:
            while True:
                batch = self.outbox.claim_robot_messages(at, CLAIM_BATCH, at + timedelta(seconds=self.claim_seconds),
                                                         only_urgent)
                if not batch:
                    return
                self._send_batch(batch, at, summary)
                if len(batch) < CLAIM_BATCH:
                    return
        except Exception as exc:  # noqa: BLE001 - e.g. the database went away; the leases expire
            log.error("robot_deliver_failed", error=f"{type(exc).__name__}: {exc}", exc_info=True)

    def _send_batch(self, batch: list[RobotOutgoing], at: datetime, summary: TickSummary) -> None:
        robots = self.org().robots()
        waiting: dict[str, datetime] = {}  # robot -> when its next message may go
        dead: dict[str, list[str]] = {}
        for m in batch:
            if m.robot in waiting:
                self.outbox.release([m.id], waiting[m.robot])
                continue
            robot = robots.get(m.robot)
            if robot is None:
                error = f"org.yaml 中已没有发送这条消息的群机器人（{m.group}），请检查 org.yaml 的 robots"
                self._dead(m, m.attempts, error, summary, dead)
                continue
            free = self.outbox.reserve_send(m.robot, self.clock.now(), self.per_window, self.window)
            if free is not None:
                self.outbox.release([m.id], free)
                waiting[m.robot] = free
                log.info("robot_wait", message=m.id, robot=robot.title, until=free.isoformat())
                continue
            next_at = self._send(robot, m, at, summary, dead)
            if next_at is not None:
                waiting[m.robot] = next_at
        for robot_id, errors in dead.items():
            self._tell_admin(robots.get(robot_id), errors, at)

    def _send(self, robot: Robot, m: RobotOutgoing, at: datetime, summary: TickSummary,
              dead: dict[str, list[str]]) -> datetime | None:
        """Send one message; when the robot must wait, the instant it may send again."""
        attempts = m.attempts + 1
        try:
            self.sender.send(robot, m)
        except RateLimited as exc:
            until = self.clock.now() + timedelta(seconds=exc.hold_seconds)
            self.outbox.hold_robot(m.robot, until)
            self.outbox.mark_retry(m.id, m.attempts, until, str(exc))  # not the message's fault
            summary.robot_retried += 1
            log.warning("robot_rate_limited", message=m.id, robot=robot.title, until=until.isoformat(), error=str(exc))
            return until
        except TemporaryFailure as exc:
            return self._failed(m, attempts, at, str(exc), summary, dead)
        except PermanentFailure as exc:
            self._dead(m, attempts, str(exc), summary, dead)
            return None
        except Exception as exc:  # noqa: BLE001 - a bug must not lose the message
            return self._failed(m, attempts, at, f"{type(exc).__name__}: {exc}", summary, dead)
        self.outbox.mark_sent(m.id, at)
        summary.robot_sent += 1
        self._alerted = {a for a in self._alerted if a[0] != m.robot}
        log.info("robot_sent", message=m.id, robot=robot.title, msgtype=m.msgtype)
        return None

    def _failed(self, m: RobotOutgoing, attempts: int, at: datetime, error: str, summary: TickSummary,
                dead: dict[str, list[str]]) -> datetime | None:
        if attempts >= self.max_attempts:
            self._dead(m, attempts, f"已尝试 {attempts} 次：{error}", summary, dead)
            return None
        next_at = at + timedelta(seconds=retry_delay(attempts, rng=self.rng))
        self.outbox.mark_retry(m.id, attempts, next_at, error)
        summary.robot_retried += 1
        log.warning("robot_retry", message=m.id, attempts=attempts, retry_at=next_at.isoformat(), error=error)
        return next_at

    def _dead(self, m: RobotOutgoing, attempts: int, error: str, summary: TickSummary,
              dead: dict[str, list[str]]) -> None:
        self.outbox.mark_dead(m.id, attempts, error)
        summary.robot_dead += 1
        dead.setdefault(m.robot, []).append(error)
        log.error("robot_dead_letter", message=m.id, group=m.group, error=error)

    def _tell_admin(self, robot: Robot | None, errors: list[str], at: datetime) -> None:
        """One email per robot and problem (the first of the tick's dead letters)."""
        if self.alert is None or robot is None:
            return
        if (robot.id, errors[0]) in self._alerted:
            return
        self._alerted.add((robot.id, errors[0]))
        where = f"org.yaml 第 {robot.line} 行" if robot.line else "org.yaml"
        problems = (errors[0], f"本轮共有 {len(errors)} 条发往{robot.title}（{where}）的消息转为死信；"
                    "修正后运行 rectify outbox retry 重新发送（rectify outbox 可查看）")
        try:
            self.alert(f"{robot.title}的消息无法送达", problems, at)
        except Exception as exc:  # noqa: BLE001 - the dead letters are kept whatever happens
            log.error("robot_alert_failed", error=str(exc))
