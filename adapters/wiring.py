"""Builds a running application from a site directory: config, org, workflows, store, engine."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine as SqlEngine

from adapters import database, stagereport
from adapters.mail import mailer_for
from adapters.outbox import SqlOutbox
from adapters.sqlstore import SqlStore
from adapters.templates import Rendered, Templates
from engine import org as org_mod
from engine import plan as plan_mod
from engine import site as site_mod
from engine import sitecalendar
from engine import workflow as workflow_mod
from engine.clock import Clock, SystemClock
from engine.errors import ConfigError, Problem
from engine.mail import Mailer
from engine.model import Item
from engine.notices import DeadlineChange
from engine.org import Org
from engine.plan import Plan
from engine.policy import Policy, unit_problems
from engine.policybook import PolicyBook
from engine.ports import ItemStore, SiteOutbox
from engine.provisional import Recount
from engine.scheduler import Scheduler
from engine.service import Engine
from engine.site import SiteConfig
from engine.sitecalendar import SiteCalendar
from engine.workcal import WorkCalendar
from engine.workflow import Workflows


@dataclass
class SiteFiles:
    """Everything a site's files define, loaded and cross-checked together."""

    org: Org
    workflows: Workflows
    rules: Policy
    calendar: SiteCalendar


def load_policy(config: SiteConfig, rules_dir: Path | None = None, clock: Clock | None = None) -> SiteFiles:
    """org.yaml, calendar.yaml, workflows/ and rules/, with every problem in any file
    reported at once."""
    problems: list[Problem] = []
    org = workflows = rules = calendar = None
    try:
        org = org_mod.load(config.org_file)
    except ConfigError as exc:
        problems += exc.problems
    try:
        calendar = sitecalendar.load(config.calendar_file)
    except ConfigError as exc:
        problems += exc.problems
    try:
        workflows = workflow_mod.load_dir(config.workflows_dir)
    except ConfigError as exc:
        problems += exc.problems
    states = sorted({s for wf in (workflows or {}).values() for s in wf.states})
    try:
        # Term words ("开学前", "每学期") are checked against the site's terms; with a
        # broken calendar.yaml (already reported) they are taken as written.
        rules = plan_mod.load_policy(rules_dir or config.rules_dir, (clock or SystemClock()).now(), states,
                                     calendar.workcal if calendar is not None else None)
    except ConfigError as exc:
        problems += exc.problems
    if org is not None and rules is not None:
        problems += unit_problems(rules, org.unit_names())
    if org is not None and calendar is not None:
        problems += org.campus_problems(str(config.org_file), calendar.campuses)
    if problems or org is None or workflows is None or rules is None or calendar is None:
        raise ConfigError(problems)
    return SiteFiles(org, workflows, rules, calendar)


@dataclass
class App:
    config: SiteConfig
    policy: SiteFiles
    store: ItemStore
    engine: Engine

    def close(self) -> None:
        self.store.close()

    @property
    def outbox(self) -> SiteOutbox:
        if not isinstance(self.store, SqlStore):
            raise TypeError("the outbox needs a SQL store")
        return SqlOutbox(self.store)

    @property
    def database(self) -> SqlEngine:
        """The SQL database behind the store (the daemon's locks are taken on it)."""
        if not isinstance(self.store, SqlStore):
            raise TypeError("no SQL database behind this store")
        return self.store.engine

    def scheduler(self, mailer: Mailer | None = None, site_wide: Callable[[], bool] | None = None) -> Scheduler:
        """The tick: schedule, compose with the site's templates, deliver by the site's mailer;
        `site_wide` says whether this process may do the once-per-site work now."""
        templates = Templates(self.config.templates_dir)
        sched = self.config.scheduler
        mail = self.config.mail
        return Scheduler(
            self.engine, self.outbox, templates.digest,
            mailer or mailer_for(mail, clock=self.engine.clock, sender_name=self.config.name),
            site_name=self.config.name, tick_seconds=sched.tick_seconds, batch_size=sched.batch_size,
            claim_seconds=sched.claim_seconds, max_attempts=mail.max_attempts,
            periodic=stagereport.periodic(self, templates), site_wide=site_wide)

    def recount(self, previous: WorkCalendar | None = None, terms_changed: bool | None = None) -> Recount:
        """Counts open provisional deadlines again with the current calendar (`previous`:
        the calendar they were counted with, when known), and those read against the
        terms unless the terms are known unchanged; tells people by mail."""
        templates = Templates(self.config.templates_dir)

        def render(change: DeadlineChange) -> Rendered:
            try:
                return templates.deadline_changed(change)
            except ConfigError:  # a broken site template must not keep the deadline wrong
                return Templates(None).deadline_changed(change)

        return Recount(self.engine, self.outbox, render, self.config.name, previous, terms_changed)

    def plan_for(self, item: Item, rules: Policy | None = None) -> Plan:
        """The item's plan under the version it is bound to (or under a draft policy)."""
        return self.engine.plan(item, rules)

    def plans_for(self, items: list[Item], rules: Policy | None = None) -> list[Plan]:
        return [self.engine.plan(i, rules) for i in items]


def policy_book(current: Policy, store: ItemStore, config: SiteConfig) -> PolicyBook:
    """The current policy, and older versions rebuilt from the texts the store kept."""
    return PolicyBook(
        current,
        load=store.policy_sources,
        build=lambda loaded_at, sources: plan_mod.policy_from_sources(config.rules_dir, sources, loaded_at),
        save=lambda p: store.save_policy(p.version, p.loaded_at, p.sources),
    )


def open_app(site_dir: Path, clock: Clock | None = None, store: ItemStore | None = None) -> App:
    """The site's application on its database, or on `store` (a MemoryStore in tests)."""
    config = site_mod.load(site_dir)
    policy = load_policy(config, clock=clock)
    if store is None:
        sql_engine = database.open_engine(config.database_url)
        database.require_current(sql_engine)
        store = SqlStore(sql_engine)
    engine = Engine(store, policy.workflows, policy.org, clock or SystemClock(),
                    policy_book(policy.rules, store, config), tz=config.timezone,
                    calendar=policy.calendar.workcal, campus_calendar=policy.calendar.calendar_for)
    return App(config, policy, store, engine)
