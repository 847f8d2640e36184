"""Creating a site directory: the files `rectify init` writes and the database it prepares."""

from __future__ import annotations

import shutil
from pathlib import Path

from adapters import database
from adapters.resources import shipped, site_file
from engine import site as site_mod
from engine.errors import ConfigError
from engine.site import SiteConfig
from engine.sitecalendar import CALENDAR_FILE

CALENDAR_SCHEMA = "calendar.schema.json"


def create_site(directory: Path, database_url: str | None = None) -> SiteConfig:
    """Write rectify.yaml, org.yaml, calendar.yaml, rules/, workflows/, templates/ and migrate
    the database."""
    if (directory / site_mod.CONFIG_FILE).exists():
        raise ConfigError.single(str(directory / site_mod.CONFIG_FILE), None,
                                 "这里已经是一个站点，未做任何改动")
    directory.mkdir(parents=True, exist_ok=True)
    text = site_file(site_mod.CONFIG_FILE).read_text(encoding="utf-8")
    if database_url:
        text = text.replace('url: "sqlite:///rectify.db"', f'url: "{database_url}"')
    (directory / site_mod.CONFIG_FILE).write_text(text, encoding="utf-8")
    shutil.copyfile(site_file("org.yaml"), directory / "org.yaml")
    write_calendar(directory)
    for name in ("rules", "workflows", "templates"):
        shutil.copytree(shipped(name), directory / name, dirs_exist_ok=True)
    config = site_mod.load(directory.resolve())
    engine = database.open_engine(config.database_url, must_exist=False)
    try:
        database.upgrade(engine)
    finally:
        engine.dispose()
    return config


def write_calendar(directory: Path) -> Path:
    """The shipped calendar.yaml (commented, with a demo school's terms) and its schema;
    refuses to overwrite a site's own calendar."""
    target = directory / CALENDAR_FILE
    if target.exists():
        raise ConfigError.single(str(target), None, "站点已有 calendar.yaml，未做任何改动")
    shutil.copyfile(site_file(CALENDAR_FILE), target)
    shutil.copyfile(site_file(CALENDAR_SCHEMA), directory / CALENDAR_SCHEMA)
    return target
