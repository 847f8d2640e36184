"""Creating a site directory: the files `rectify init` writes and the database it prepares."""

from __future__ import annotations

import shutil
from pathlib import Path

from adapters import database
from adapters.resources import shipped, site_file
from engine import site as site_mod
from engine.errors import ConfigError
from engine.site import SiteConfig


def create_site(directory: Path, database_url: str | None = None) -> SiteConfig:
    """Write rectify.yaml, org.yaml, rules/, workflows/, templates/ and migrate the database."""
    if (directory / site_mod.CONFIG_FILE).exists():
        raise ConfigError.single(str(directory / site_mod.CONFIG_FILE), None,
                                 "这里已经是一个站点，未做任何改动")
    directory.mkdir(parents=True, exist_ok=True)
    text = site_file(site_mod.CONFIG_FILE).read_text(encoding="utf-8")
    if database_url:
        text = text.replace('url: "sqlite:///rectify.db"', f'url: "{database_url}"')
    (directory / site_mod.CONFIG_FILE).write_text(text, encoding="utf-8")
    shutil.copyfile(site_file("org.yaml"), directory / "org.yaml")
    for name in ("rules", "workflows", "templates"):
        shutil.copytree(shipped(name), directory / name, dirs_exist_ok=True)
    config = site_mod.load(directory.resolve())
    engine = database.open_engine(config.database_url, must_exist=False)
    try:
        database.upgrade(engine)
    finally:
        engine.dispose()
    return config
