"""A daemon on a fake clock mailing a recording SMTP server: the base of the tests that
tick a site through days and read what arrived."""

from __future__ import annotations

import random
from datetime import datetime
from pathlib import Path

from adapters.daemon import Daemon
from engine.clock import FakeClock
from tests.smtpserver import Server


class DaemonHarness:
    """The site's daemon, ticked by hand; tests tick hours or days apart rather than every
    minute, so a step counts as late (the daemon was down) only after two days without a tick."""

    def __init__(self, site: Path, server: Server, start: datetime) -> None:
        self.site, self.server = site, server
        self.clock = FakeClock(start)
        self.daemon = Daemon(site, self.clock)
        self.daemon.scheduler.rng = random.Random(7)
        self.daemon.scheduler.tick_seconds = 86400
        self.app = self.daemon.app
        self.service = self.app.service

    def tick_at(self, at: datetime) -> list[tuple[str, str]]:
        """Tick as of `at`; (recipient, subject) of every message that arrived."""
        self.clock.set(at)
        before = len(self.server.handler.received)
        assert self.daemon.tick(at) is not None
        return [(r.rcpt_tos[0], str(r.message["Subject"])) for r in self.server.handler.received[before:]]

    def mail(self) -> list[tuple[str, str, str]]:
        """(recipient, subject, plain body) of every message received so far."""
        return [(r.rcpt_tos[0], str(r.message["Subject"]), r.message.get_body(("plain",)).get_content())
                for r in self.server.handler.received]
