"""A real SMTP server for tests: aiosmtpd on a loopback port, recording what it accepts."""

from __future__ import annotations

import email
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from engine.site import MailConfig

SENDER = "rectify@school.example.org"
USER = "anquan"
PASSWORD = "s3cret-Pass-4711"


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    content: bytes
    peer: Any
    tls: bool
    login: bytes | None

    @property
    def message(self) -> EmailMessage:
        parsed = email.message_from_bytes(self.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class Recorder:
    """An aiosmtpd handler that keeps every accepted envelope and can answer with a fixed code."""

    rcpt_reply: Callable[[str], str | None] = lambda address: None
    data_reply: str | None = None
    received: list[Received] = field(default_factory=list)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # type: ignore[no-untyped-def]
        reply = self.rcpt_reply(address)
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        if self.data_reply:
            return self.data_reply
        login = session.auth_data.login if isinstance(session.auth_data, LoginPassword) else None
        tls = server.transport.get_extra_info("ssl_object") is not None
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos),
                                      envelope.content, session.peer, tls, login))
        return "250 Message accepted"


def _check_login(server, session, envelope, mechanism, auth_data):  # type: ignore[no-untyped-def]
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        USER.encode(), PASSWORD.encode())
    # handled=False: aiosmtpd itself answers a failure with "535 Authentication credentials invalid".
    return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Server:
    handler: Recorder
    port: int

    def config(self, **changes: Any) -> MailConfig:
        return replace(MailConfig(transport="smtp", host="127.0.0.1", port=self.port,
                                  sender=SENDER, timeout_seconds=5), **changes)


@pytest.fixture
def serve() -> Iterator[Callable[..., Server]]:
    """Starts aiosmtpd servers on loopback ports; stops them after the test."""
    controllers: list[Controller] = []

    def start(handler: Recorder | None = None, **kwargs: Any) -> Server:
        handler = handler or Recorder()
        port = _free_port()
        controller = Controller(handler, hostname="127.0.0.1", port=port,
                                server_hostname="mx.example.org", **kwargs)
        controller.start()
        controllers.append(controller)
        return Server(handler, port)

    yield start
    for controller in controllers:
        controller.stop()


def use_smtp(site: Path, server: Server) -> None:
    """Point a site made by `rectify init` at `server` instead of its mail folder."""
    path = site / "rectify.yaml"
    text = path.read_text(encoding="utf-8")
    text = text.replace('transport: "file"', 'transport: "smtp"').replace("port: 25", f"port: {server.port}")
    path.write_text(text, encoding="utf-8")
