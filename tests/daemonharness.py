"""A daemon on a fake clock mailing a recording SMTP server: the base of the tests that
tick a site through days and read what arrived."""

from __future__ import annotations

import random
from datetime import datetime
from pathlib import Path

from adapters.daemon import Daemon
from adapters.memory import MemoryStore
from adapters.wiring import open_app
from engine.clock import FakeClock
from engine.ports import ItemStore
from tests.conftest import Cli
from tests.smtpserver import Server


class DaemonHarness:
    """The site's daemon, ticked by hand; tests tick hours or days apart rather than every
    minute, so a step counts as late (the daemon was down) only after two days without a tick.
    On the site's database, or on `store`, or (`memory`) on a fresh MemoryStore: the
    scheduler's decisions without SQL, whose promises tests/contract/ proves the same."""

    def __init__(self, site: Path, server: Server, start: datetime, store: ItemStore | None = None,
                 memory: bool = False) -> None:
        self.site, self.server = site, server
        self.clock = FakeClock(start)
        if memory and store is None:
            store = MemoryStore(clock=self.clock)
        app = open_app(site, self.clock, store) if store is not None else None
        self.daemon = Daemon(site, self.clock, app=app)
        self.daemon.scheduler.rng = random.Random(7)
        self.daemon.scheduler.tick_seconds = 86400
        self.app = self.daemon.app
        self.service = self.app.service
        # Commands run on the same store as the daemon.
        self.run = Cli(site, store)

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

    def queued(self) -> list[tuple[int, str, datetime]]:
        """(item, step key, instant) of every notification queued, in order."""
        return self.app.outbox.queued()  # type: ignore[attr-defined]


AROUND_THE_CLOCK = '\ndelivery:\n  office_hours: {days: "all", start: "00:00", end: "24:00"}\n'


def deliver_around_the_clock(site: Path) -> None:
    """Give the site office hours covering every instant (rectify.yaml
    delivery.office_hours): for tests on the real clock, which may run at night or on a
    weekend, and whose subject is not office hours."""
    config = site / "rectify.yaml"
    config.write_text(config.read_text(encoding="utf-8") + AROUND_THE_CLOCK, encoding="utf-8")
