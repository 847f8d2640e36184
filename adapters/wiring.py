"""Builds a running application from a site directory: config, org, workflows, store, engine."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from adapters import database
from adapters.sqlstore import SqlStore
from engine import org as org_mod
from engine import site as site_mod
from engine import workflow as workflow_mod
from engine.clock import Clock, SystemClock
from engine.errors import ConfigError, Problem
from engine.org import Org
from engine.service import Engine
from engine.site import SiteConfig
from engine.workflow import Workflows


@dataclass
class Policy:
    """Everything a site's files define, loaded and cross-checked together."""

    org: Org
    workflows: Workflows


def load_policy(config: SiteConfig) -> Policy:
    """org.yaml and workflows/, with every problem in any file reported at once."""
    problems: list[Problem] = []
    org = workflows = None
    try:
        org = org_mod.load(config.org_file)
    except ConfigError as exc:
        problems += exc.problems
    try:
        workflows = workflow_mod.load_dir(config.workflows_dir)
    except ConfigError as exc:
        problems += exc.problems
    if problems or org is None or workflows is None:
        raise ConfigError(problems)
    return Policy(org, workflows)


@dataclass
class App:
    config: SiteConfig
    policy: Policy
    store: SqlStore
    engine: Engine

    def close(self) -> None:
        self.store.close()


def open_app(site_dir: Path, clock: Clock | None = None) -> App:
    config = site_mod.load(site_dir)
    policy = load_policy(config)
    sql_engine = database.open_engine(config.database_url)
    database.require_current(sql_engine)
    store = SqlStore(sql_engine)
    engine = Engine(store, policy.workflows, policy.org, clock or SystemClock())
    return App(config, policy, store, engine)
