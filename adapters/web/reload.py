"""The workbench follows edits of the site's files as the daemon does: org.yaml,
calendar.yaml, workflows/, rules/ and templates/ are watched; a change is loaded whole,
checked (every file, and against the states stored items are in) and only then swapped
in; a broken edit is logged (`web_reload_refused`) and the last good files stay. The
daemon mails the administrator about it; the workbench does not mail twice."""

from __future__ import annotations

import threading

import structlog

from adapters.daemon import check_against_database
from adapters.sitefiles import load_site_files
from adapters.wiring import App
from engine.errors import ConfigError

log = structlog.get_logger("rectify.web")


def reload_site(app: App) -> bool:
    """Load the site's files afresh and swap them in; False (and nothing changed) when
    they are broken."""
    try:
        files = load_site_files(app.config, clock=app.service.clock)
        check_against_database(app, files)
    except ConfigError as exc:
        log.error("web_reload_refused", problems=[str(p) for p in exc.problems][:20])
        return False
    except Exception as exc:  # noqa: BLE001 - e.g. the database is unreachable
        log.error("web_reload_failed", error=f"{type(exc).__name__}: {exc}"[:500])
        return False
    app.service.swap(files)
    log.info("web_reloaded", version=files.rules.version)
    return True


def watch_site(app: App, stop: threading.Event) -> threading.Thread:
    """A background thread reloading the site whenever its files change."""
    from watchfiles import watch

    config = app.config
    dirs = [config.rules_dir, config.workflows_dir, config.templates_dir]
    names = {config.org_file.name, config.calendar_file.name}

    def wanted(_change: object, path: str) -> bool:
        from pathlib import Path

        p = Path(path)
        return (p.parent == config.root and p.name in names) or any(d in p.parents for d in dirs)

    def run() -> None:
        try:
            for _ in watch(*[p for p in (*dirs, config.root) if p.exists()], watch_filter=wanted,
                           stop_event=stop, raise_interrupt=False):
                reload_site(app)
        except Exception as exc:  # noqa: BLE001 - without a watcher a restart still reloads
            log.error("web_watch_failed", error=str(exc))

    thread = threading.Thread(target=run, name="rectify-web-watch", daemon=True)
    thread.start()
    return thread
