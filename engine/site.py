"""The site: one directory holding rectify.yaml, org.yaml, calendar.yaml, rules/, workflows/ and
templates/. This module builds the configuration from rectify.yaml's parsed data and the
`RECTIFY_*` overrides it is given; adapters/sitefiles.py reads the file and the environment."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from engine import yamlfile
from engine.deadline.dates import WORKDAY_END
from engine.errors import ConfigError
from engine.mail import valid_addr_spec, visible
from engine.officehours import OfficeHours, clock_text, minutes_of
from engine.validate import check

CONFIG_FILE = "rectify.yaml"
_CLOCK = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]")

SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "site_name": {"type": "string"},
        "database": {
            "type": "object",
            "additionalProperties": False,
            "properties": {"url": {"type": "string", "minLength": 1}},
        },
        "timezone": {"type": "string"},
        "admin_email": {"type": "string"},
        "mail": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "transport": {"enum": ["smtp", "file"]},
                "host": {"type": "string"},
                "port": {"type": "integer", "minimum": 1, "maximum": 65535},
                "security": {"enum": ["none", "starttls", "ssl"]},
                "username": {"type": "string"},
                "password_env": {"type": "string"},
                "password_file": {"type": "string"},
                "from": {"type": "string"},
                "outbox_dir": {"type": "string"},
                "timeout_seconds": {"type": "number", "exclusiveMinimum": 0},
                "max_attempts": {"type": "integer", "minimum": 1},
            },
        },
        "web": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "base_url": {"type": "string", "pattern": "^https?://[^\\s/?#]+(/[^\\s?#]*)?$"},
                "link_days": {"type": "number", "exclusiveMinimum": 0},
                "ask_minutes": {"type": "number", "exclusiveMinimum": 0},
                "session_hours": {"type": "number", "exclusiveMinimum": 0},
                "secret_file": {"type": "string", "minLength": 1},
            },
        },
        "deadlines": {
            "type": "object",
            "additionalProperties": False,
            "properties": {"workday_end": {"type": "string", "pattern": "^([01]?[0-9]|2[0-3]):[0-5][0-9]$"}},
        },
        "evidence": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "store": {"enum": ["directory", "database"]},
                "directory": {"type": "string", "minLength": 1},
                "max_mb": {"type": "number", "exclusiveMinimum": 0, "maximum": 1024},
                "max_files": {"type": "integer", "minimum": 1, "maximum": 1000},
            },
        },
        "delivery": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "office_hours": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        "days": {"enum": ["working", "all"]},
                        "start": {"type": "string"},
                        "end": {"type": "string"},
                    },
                },
            },
        },
        "scheduler": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "tick_seconds": {"type": "number", "exclusiveMinimum": 0},
                "claim_seconds": {"type": "number", "exclusiveMinimum": 0},
                "batch_size": {"type": "integer", "minimum": 1},
            },
        },
    },
}


@dataclass(frozen=True)
class MailConfig:
    transport: str = "file"
    host: str = "localhost"
    port: int = 25
    security: str = "none"
    username: str | None = None
    password_env: str | None = None
    password_file: str | None = None
    sender: str = "rectify@example.org"
    outbox_dir: Path = Path("mail")
    timeout_seconds: float = 30.0
    max_attempts: int = 12


@dataclass(frozen=True)
class SchedulerConfig:
    tick_seconds: float = 60.0
    claim_seconds: float = 300.0
    batch_size: int = 500


@dataclass(frozen=True)
class WebConfig:
    """The web workbench (`rectify web`): its public address, how long login links and
    sessions last, and the file holding the key that signs cookies and digest links.
    `base_url` None: not configured; `rectify web` then uses the address it listens on,
    and digests carry no links."""

    base_url: str | None = None
    link_days: float = 7.0
    ask_minutes: float = 30.0
    session_hours: float = 12.0
    secret_file: Path = Path("web-secret")

    @property
    def configured(self) -> bool:
        return self.base_url is not None


@dataclass(frozen=True)
class EvidenceConfig:
    """Where evidence files are kept and how much is accepted (README "Evidence")."""

    store: str = "directory"  # directory (of the site) | database (shared by every machine)
    directory: Path = Path("evidence")
    max_mb: float = 20.0  # the largest file accepted
    max_files: int = 30  # the most files one item may hold

    @property
    def max_bytes(self) -> int:
        return int(self.max_mb * 1024 * 1024)


@dataclass(frozen=True)
class SiteConfig:
    root: Path
    name: str
    database_url: str
    timezone: ZoneInfo
    admin_email: str | None
    mail: MailConfig
    scheduler: SchedulerConfig
    web: WebConfig = WebConfig()
    # When a deadline written "下班前" is overdue (deadlines.workday_end, default 17:30).
    workday_end: time = WORKDAY_END
    evidence: EvidenceConfig = EvidenceConfig()
    # When reminders and escalations may be delivered (delivery.office_hours).
    office_hours: OfficeHours = OfficeHours()

    @property
    def org_file(self) -> Path:
        return self.root / "org.yaml"

    @property
    def rules_dir(self) -> Path:
        return self.root / "rules"

    @property
    def workflows_dir(self) -> Path:
        return self.root / "workflows"

    @property
    def templates_dir(self) -> Path:
        return self.root / "templates"

    @property
    def calendar_file(self) -> Path:
        return self.root / "calendar.yaml"


def _database_url(raw: str, root: Path) -> str:
    """Relative SQLite paths are relative to the site directory, not to the caller's cwd."""
    prefix = "sqlite:///"
    if raw.startswith(prefix) and not raw.startswith(prefix + "/") and ":memory:" not in raw:
        return prefix + str((root / raw[len(prefix):]).resolve())
    return raw


def _number(name: str, value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ConfigError.single(name, None, f"应为正数：{value}") from None
    if number <= 0:
        raise ConfigError.single(name, None, f"应为正数：{value}")
    return number


def parse(root: Path, text: str, filename: str, overrides: Mapping[str, str] | None = None) -> SiteConfig:
    """rectify.yaml's text: parsed, checked against the schema and built with the overrides."""
    data = yamlfile.loads(text, filename) or {}
    problems = check(data, SCHEMA, filename)
    if problems:
        raise ConfigError(problems)
    return build(root, data, filename, overrides)


class _Overrides:
    """The `RECTIFY_*` overrides: a set, non-empty value wins over the file's."""

    def __init__(self, values: Mapping[str, str]) -> None:
        self._values = values

    def given(self, name: str) -> bool:
        return bool(self._values.get(name))

    def __call__(self, name: str, default: Any) -> Any:
        value = self._values.get(name)
        return value if value not in (None, "") else default


def build(root: Path, data: Any, filename: str, overrides: Mapping[str, str] | None = None) -> SiteConfig:
    """The configuration from rectify.yaml's (schema-checked) data and the `RECTIFY_*`
    overrides (the environment, read by the caller)."""
    env = _Overrides(overrides or {})
    zone_name = data.get("timezone", "Asia/Shanghai")
    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError.single(filename, data.line_of("timezone"), f"未知的时区“{zone_name}”") from None
    mail = _mail(root, data.get("mail", {}), env)
    admin_email = env("RECTIFY_ADMIN_EMAIL", data.get("admin_email"))
    if admin_email and not valid_addr_spec(admin_email):
        from_env = env.given("RECTIFY_ADMIN_EMAIL")
        raise ConfigError.single("RECTIFY_ADMIN_EMAIL" if from_env else filename,
                                 None if from_env else data.line_of("admin_email"),
                                 f"管理员邮箱 admin_email“{visible(admin_email)}”格式不正确"
                                 "（应形如 name@example.org，只写一个地址）")
    database_url = _database_url(
        env("RECTIFY_DATABASE_URL", data.get("database", {}).get("url", "sqlite:///rectify.db")), root)
    scheduler = data.get("scheduler", {})
    workday_end = data.get("deadlines", {}).get("workday_end")
    tick = _number("RECTIFY_TICK_SECONDS", env("RECTIFY_TICK_SECONDS", scheduler.get("tick_seconds", 60)))
    return SiteConfig(
        root=root,
        name=data.get("site_name", root.name),
        database_url=database_url,
        timezone=zone,
        admin_email=admin_email,
        mail=mail,
        scheduler=SchedulerConfig(
            tick_seconds=tick,
            claim_seconds=float(scheduler.get("claim_seconds", 300)),
            batch_size=int(scheduler.get("batch_size", 500)),
        ),
        workday_end=time.fromisoformat(f"{workday_end:0>5}") if workday_end else WORKDAY_END,
        web=_web(root, data.get("web", {}), env),
        evidence=_evidence(root, data.get("evidence", {}), database_url),
        office_hours=_office_hours(data.get("delivery", {}), filename),
    )


def _office_hours(delivery: Any, filename: str) -> OfficeHours:
    """delivery.office_hours (schema-checked): `start` must come before `end`."""
    hours = delivery.get("office_hours", {})
    default = OfficeHours()
    for key in ("start", "end"):
        text = hours.get(key)
        if text is not None and not (_CLOCK.fullmatch(text) or (key == "end" and text == "24:00")):
            raise ConfigError.single(filename, hours.line_of(key),
                                     f"delivery.office_hours.{key}“{visible(text)}”应写成 24 小时制的“HH:MM”，"
                                     "如 \"08:00\"、\"18:30\"" + ("（一天结束写 \"24:00\"）" if key == "end" else ""))
    start = minutes_of(hours["start"]) if "start" in hours else default.start
    end = minutes_of(hours["end"]) if "end" in hours else default.end
    if start >= end:
        key = "end" if "end" in hours else "start"
        raise ConfigError.single(filename, hours.line_of(key),
                                 f"delivery.office_hours 的开始时间 start（{clock_text(start)}）应早于结束时间 end"
                                 f"（{clock_text(end)}）；全天发送请写 start: \"00:00\"、end: \"24:00\"")
    return OfficeHours(start, end, hours.get("days", default.days))


def _web(root: Path, web: Any, env: _Overrides) -> WebConfig:
    base = env("RECTIFY_WEB_BASE_URL", web.get("base_url"))
    return WebConfig(
        base_url=base.rstrip("/") if base else None,
        link_days=float(web.get("link_days", 7)),
        ask_minutes=float(web.get("ask_minutes", 30)),
        session_hours=float(web.get("session_hours", 12)),
        secret_file=root / env("RECTIFY_WEB_SECRET_FILE", web.get("secret_file", "web-secret")),
    )


def _evidence(root: Path, data: Any, database_url: str) -> EvidenceConfig:
    """Files in the site's directory, unless the site is on PostgreSQL (then in the
    database, which every machine serving the site shares) or rectify.yaml says."""
    shared = not database_url.startswith("sqlite")
    return EvidenceConfig(
        store=data.get("store", "database" if shared else "directory"),
        directory=root / data.get("directory", "evidence"),
        max_mb=float(data.get("max_mb", 20)),
        max_files=int(data.get("max_files", 30)),
    )


def _mail(root: Path, mail: Any, env: _Overrides) -> MailConfig:
    port = env("RECTIFY_SMTP_PORT", mail.get("port", 25))
    try:
        port = int(port)
    except ValueError:
        raise ConfigError.single("RECTIFY_SMTP_PORT", None, f"端口应为整数：{port}") from None
    transport = env("RECTIFY_MAIL_TRANSPORT", mail.get("transport", "file"))
    if transport not in ("smtp", "file"):
        raise ConfigError.single("RECTIFY_MAIL_TRANSPORT", None, f"邮件方式应为 smtp 或 file：{transport}")
    security = env("RECTIFY_SMTP_SECURITY", mail.get("security", "none"))
    if security not in ("none", "starttls", "ssl"):
        raise ConfigError.single("RECTIFY_SMTP_SECURITY", None, f"加密方式应为 none、starttls 或 ssl：{security}")
    return MailConfig(
        transport=transport,
        host=env("RECTIFY_SMTP_HOST", mail.get("host", "localhost")),
        port=port,
        security=security,
        username=env("RECTIFY_SMTP_USERNAME", mail.get("username")),
        password_env=env("RECTIFY_SMTP_PASSWORD_ENV", mail.get("password_env")),
        password_file=str(root / mail["password_file"]) if mail.get("password_file") else None,
        sender=env("RECTIFY_MAIL_FROM", mail.get("from", "rectify@example.org")),
        outbox_dir=root / env("RECTIFY_MAIL_OUTBOX_DIR", mail.get("outbox_dir", "mail")),
        timeout_seconds=float(mail.get("timeout_seconds", 30)),
        max_attempts=int(mail.get("max_attempts", 12)),
    )
