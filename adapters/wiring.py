"""Builds a running application from a site directory: config, org, workflows, store, engine."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine as SqlEngine

from adapters import database, stagereport
from adapters.clock import SystemClock
from adapters.leader import Leadership, leadership_for
from adapters.mail import mailer_for
from adapters.memory import MemoryOutbox, MemoryStore
from adapters.outbox import SqlOutbox
from adapters.sitefiles import load_config, load_site_files
from adapters.sqlstore import SqlStore
from adapters.templates import Rendered, Templates
from engine.errors import ConfigError
from engine.model import Item
from engine.notices import DeadlineChange, Digest
from engine.plan import Plan
from engine.policy import Policy, policy_from_sources
from engine.ports import (
    Clock,
    EvidenceStore,
    ItemStore,
    LeaderLock,
    Mailer,
    RobotSender,
    SiteOutbox,
)
from engine.provisional import Recount
from engine.robotdelivery import RobotChannel
from engine.scheduler import Scheduler
from engine.service import Service
from engine.site import SiteConfig
from engine.snapshot import Snapshot
from engine.workcal import WorkCalendar


@dataclass
class App:
    """A site's configuration, its store and the application service over them. The
    site's files live in one place: the service's snapshot (`app.site`)."""

    config: SiteConfig
    store: ItemStore
    service: Service

    @property
    def site(self) -> Snapshot:
        return self.service.site

    @property
    def organisation(self) -> str:
        """The name messages are signed and sent with: org.yaml's organisation, else the
        site's name (rectify.yaml site_name)."""
        return self.site.org.name or self.config.name

    @property
    def templates(self) -> Templates:
        found = self.site.templates
        return found if isinstance(found, Templates) else Templates(self.config.templates_dir)

    def close(self) -> None:
        self.store.close()

    @property
    def outbox(self) -> SiteOutbox:
        """Every outbox port over the store: in its database, or beside it in memory."""
        if isinstance(self.store, MemoryStore):
            return MemoryOutbox(self.store)
        if not isinstance(self.store, SqlStore):
            raise TypeError(f"no outbox for a {type(self.store).__name__}")
        return SqlOutbox(self.store)

    def leadership(self, name: str) -> LeaderLock:
        """Who may do the once-per-site work: on PostgreSQL the daemon holding the site's
        advisory lock; on SQLite (one daemon per database) and in memory, this process."""
        if isinstance(self.store, SqlStore):
            return leadership_for(self.store.db, name)
        return Leadership()

    @property
    def evidence(self) -> EvidenceStore:
        """Where the site keeps evidence files (rectify.yaml `evidence.store`), to read
        them; the service is what keeps them (with the event that records them)."""
        return self.service.evidence

    @property
    def database(self) -> SqlEngine:
        """The SQL database behind the store (the daemon's locks are taken on it)."""
        if not isinstance(self.store, SqlStore):
            raise TypeError("no SQL database behind this store")
        return self.store.db

    def scheduler(self, mailer: Mailer | None = None, site_wide: Callable[[], bool] | None = None,
                  robots: RobotSender | None = None) -> Scheduler:
        """The tick: schedule, compose with the site's templates, deliver by the site's mailer
        and the group robots (by `robots`, else their webhooks over HTTP); `site_wide` says
        whether this process may do the once-per-site work now."""
        sched = self.config.scheduler
        mail = self.config.mail
        return Scheduler(
            self.service, self.outbox, self.render_digest,
            mailer or mailer_for(mail, clock=self.service.clock, sender_name=self.organisation),
            site_name=self.config.name, tick_seconds=sched.tick_seconds, batch_size=sched.batch_size,
            claim_seconds=sched.claim_seconds, max_attempts=mail.max_attempts,
            periodic=stagereport.periodic(self), site_wide=site_wide, robots=self.robot_channel(robots),
            office_hours=self.config.office_hours)

    def robot_channel(self, sender: RobotSender | None = None) -> RobotChannel:
        """The group robots' delivery: the outbox's robot rows and rate budget, the
        webhooks, and the administrator told of dead letters by email."""
        from adapters.alerts import admin_alert
        from adapters.robots import HttpRobots

        config, clock = self.config, self.service.clock

        def alert(title: str, problems: tuple[str, ...], at: datetime) -> None:
            message = admin_alert(config, title, problems, at, happened="有群机器人消息无法送达",
                                  advice="请按上述提示修正 org.yaml 或机器人的安全设置，然后运行 rectify outbox retry 重新发送。")
            if message is not None:
                self.outbox.add_message(message, at)

        return RobotChannel(self.outbox, sender or HttpRobots(config.root, clock), lambda: self.service.org, clock,
                            max_attempts=config.mail.max_attempts, claim_seconds=config.scheduler.claim_seconds,
                            alert=alert)

    def render_digest(self, digest: Digest) -> Rendered:
        """A digest with, for each item, a link that opens it for the recipient (when
        the web workbench has a public address, `web.base_url`)."""
        from adapters.web.links import DigestLinks

        links: dict[int, str] = {}
        if self.config.web.configured and isinstance(self.store, SqlStore):
            links = DigestLinks(self.config.web, self.store)(digest, self.site.org)
        return self.templates.digest(digest, links, self.config.web.link_days)

    def recount(self, previous: WorkCalendar | None = None, terms_changed: bool | None = None) -> Recount:
        """Counts open provisional deadlines again with the current calendar (`previous`:
        the calendar they were counted with, when known), and those read against the
        terms unless the terms are known unchanged; tells people by mail."""
        from adapters.web.links import DigestLinks

        templates, web = self.templates, self.config.web
        links = DigestLinks(web, self.store) if web.configured and isinstance(self.store, SqlStore) else None

        def render(change: DeadlineChange) -> Rendered:
            link = links.change(change, self.site.org) if links is not None else None
            try:
                return templates.deadline_changed(change, link, web.link_days)
            except ConfigError:  # a broken site template must not keep the deadline wrong
                return Templates(None).deadline_changed(change, link, web.link_days)

        return Recount(self.service, self.outbox, render, self.organisation, previous, terms_changed)

    def plan_for(self, item: Item, rules: Policy | None = None) -> Plan:
        """The item's plan under the version it is bound to (or under a draft policy)."""
        return self.service.plan(item, rules)

    def plans_for(self, items: list[Item], rules: Policy | None = None) -> list[Plan]:
        return [self.service.plan(i, rules) for i in items]


def _archive(store: ItemStore, config: SiteConfig) -> dict[str, Any]:
    """Where the service finds older policy versions: the texts the store kept."""
    return {
        "load": store.policy_sources,
        "build": lambda loaded_at, sources: policy_from_sources(config.rules_dir, sources, loaded_at),
        "save": lambda p: store.save_policy(p.version, p.loaded_at, p.sources),
    }


def _evidence(store: ItemStore, config: SiteConfig, clock: Clock) -> dict[str, Any]:
    """Where the service keeps evidence files (built when first needed), and how many an item may hold."""
    def opened() -> EvidenceStore:
        from adapters.evidence.stores import evidence_store

        return evidence_store(config.evidence, store, clock)

    return {"evidence": opened, "max_files": config.evidence.max_files}


def open_app(site_dir: Path, clock: Clock | None = None, store: ItemStore | None = None) -> App:
    """The site's application on its database, or on `store` (a MemoryStore in tests)."""
    clock = clock or SystemClock()
    config = load_config(site_dir)
    site = load_site_files(config, clock=clock)
    if store is None:
        sql_engine = database.open_engine(config.database_url)
        database.require_current(sql_engine)
        store = SqlStore(sql_engine, clock)
    return App(config, store, Service(store, site, clock, **_archive(store, config), **_evidence(store, config, clock)))
