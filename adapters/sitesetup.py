"""Creating a site directory: the files `rectify init` writes and the database it prepares."""

from __future__ import annotations

import shutil
from pathlib import Path

from adapters import database
from adapters.resources import shipped, site_file
from adapters.sitefiles import load_config
from engine import site as site_mod
from engine.errors import ConfigError, FileAccess
from engine.site import SiteConfig
from engine.sitecalendar import CALENDAR_FILE

CALENDAR_SCHEMA = "calendar.schema.json"

TEMPLATES_README = """# 本站点的邮件模板

这里放本站点自己的邮件模板。与随程序提供的模板同名的文件会覆盖后者；
没有放文件的，使用随程序提供的模板（升级程序后自动使用新版）。

- 查看全部模板及各自从哪里加载：rectify templates list
- 复制一份随程序提供的模板到这里再修改：rectify templates copy digest.txt.j2
- 修改后检查：rectify check（守护进程会自动重新加载）

删除这里的某个文件，即恢复使用随程序提供的同名模板。
"""


def create_site(directory: Path, database_url: str | None = None) -> SiteConfig:
    """Write rectify.yaml, org.yaml, calendar.yaml, rules/, workflows/, an empty templates/
    (for the site's overrides) and migrate the database. A place that cannot be written
    (no permission, read-only, a file in the way) is a FileAccess error naming it."""
    if (directory / site_mod.CONFIG_FILE).exists():
        raise ConfigError.single(str(directory / site_mod.CONFIG_FILE), None,
                                 "这里已经是一个站点，未做任何改动")
    if directory.exists() and not directory.is_dir():
        raise FileAccess(directory, "创建站点目录", "已有同名的文件，不是目录")
    fresh = not directory.exists()
    try:
        return _create_site(directory, database_url)
    except BaseException as exc:
        if fresh:  # a directory this call made is not left half a site ("这里已经是一个站点")
            shutil.rmtree(directory, ignore_errors=True)
        if isinstance(exc, OSError):
            where = Path(exc.filename) if exc.filename else directory
            action = "创建站点目录" if where == directory else "为站点写入"
            raise FileAccess.from_os_error(exc, where, action) from exc
        raise


def _create_site(directory: Path, database_url: str | None) -> SiteConfig:
    directory.mkdir(parents=True, exist_ok=True)
    text = site_file(site_mod.CONFIG_FILE).read_text(encoding="utf-8")
    if database_url:
        text = text.replace('url: "sqlite:///rectify.db"', f'url: "{database_url}"')
    (directory / site_mod.CONFIG_FILE).write_text(text, encoding="utf-8")
    shutil.copyfile(site_file("org.yaml"), directory / "org.yaml")
    write_calendar(directory)
    for name in ("rules", "workflows"):
        shutil.copytree(shipped(name), directory / name, dirs_exist_ok=True)
    # Templates are not copied: the shipped ones are used (and improve with upgrades)
    # until the site puts a file of the same name here (`rectify templates copy NAME`).
    (directory / "templates").mkdir(exist_ok=True)
    (directory / "templates" / "README.md").write_text(TEMPLATES_README, encoding="utf-8")
    config = load_config(directory.resolve())
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
