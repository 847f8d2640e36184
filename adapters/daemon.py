"""`rectify daemon`: one APScheduler interval job (the tick), live reload of the site's files.

The main thread only waits for flags: SIGTERM/SIGINT ask it to stop (the running tick
finishes first), SIGHUP and any change under rules/, workflows/, templates/ or to
org.yaml or calendar.yaml ask for a reload. A reload parses, validates and builds
everything, checks it against the database and only then swaps; a broken edit is
refused with file:line in the log and an email to the site's administrator, and the
daemon keeps running on the last good version.

When the calendar changes (a reload swaps in a calendar.yaml with another digest) and at
start (the file may have changed while the daemon was down), deadlines that were counted
provisionally into a year nobody had arranged are counted again (engine.provisional); if
that fails (the database went away), the next tick tries again.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import structlog
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from adapters.alerts import admin_alert
from adapters.leader import SqliteDaemonLock, sqlite_path
from adapters.outbox import daemon_name
from adapters.sitefiles import load_site_files
from adapters.wiring import App, open_app
from engine.errors import AlreadyRunning, ConfigError, Problem
from engine.ports import Clock
from engine.provisional import RecountSummary
from engine.scheduler import Scheduler, TickSummary
from engine.snapshot import Snapshot
from engine.workcal import WorkCalendar

log = structlog.get_logger("rectify.daemon")


class Daemon:
    def __init__(self, site_dir: Path, clock: Clock | None = None, app: App | None = None,
                 on_tick: Callable[[TickSummary], None] | None = None, name: str | None = None) -> None:
        self.app = app or open_app(site_dir, clock)
        self.clock = self.app.service.clock
        self.name = name or daemon_name()
        self.started_at = self.clock.now()
        self.leadership = self.app.leadership(self.name)
        self._database_lock: SqliteDaemonLock | None = None
        self.scheduler: Scheduler = self.app.scheduler(site_wide=self.leadership.held)
        self._lock = threading.Lock()  # a reload never swaps files in the middle of a tick
        self.stop_requested = threading.Event()
        self.reload_requested = threading.Event()
        self._last_alert: tuple[str, ...] | None = None
        self.on_tick = on_tick
        # A recount that failed, to retry at the next tick: its reason, the calendar the
        # deadlines were counted with before the reload, whether the terms changed.
        self._recount_pending: tuple[str, WorkCalendar | None, bool | None] | None = None

    @property
    def version(self) -> str:
        return self.app.site.rules.version

    # -- the tick --------------------------------------------------------------------

    def tick(self, at: datetime | None = None) -> TickSummary | None:
        """One tick as of `at` (now by default). Never raises: a failed tick is logged and
        recorded, and the next one tries again."""
        with self._lock:
            at = at or self.clock.now()
            if self._recount_pending is not None:
                self._recount(*self._recount_pending)
            started = time.perf_counter()
            summary, error = None, None
            try:
                summary = self.scheduler.tick(at)
            except Exception as exc:  # noqa: BLE001 - the daemon outlives any one tick
                error = f"{type(exc).__name__}: {exc}"
                log.error("tick_failed", error=error, exc_info=True)
            seconds = time.perf_counter() - started
            if summary is not None:
                summary.seconds = seconds
                log.info("tick", **summary.to_json())
                if self.on_tick is not None:
                    self.on_tick(summary)
            try:
                self.app.outbox.record_tick(self.name, self.started_at, self.clock.now(), at, seconds,
                                            self.version, error)
            except Exception as exc:  # noqa: BLE001
                log.error("heartbeat_failed", error=str(exc))
            return summary

    # -- reload ----------------------------------------------------------------------

    def reload(self, reason: str = "change") -> bool:
        """Load the site's files afresh and swap them in, or keep the current ones."""
        with self._lock:
            old = self.version
            try:
                files = load_site_files(self.app.config, clock=self.clock)
                self._check_against_database(files)
                files.templates.check()
            except ConfigError as exc:
                problems = tuple(str(p) for p in exc.problems)
                log.error("reload_refused", reason=reason, keeping=old, problems=list(problems))
                self._alert_admin(problems, old)
                return False
            except Exception as exc:  # noqa: BLE001 - e.g. the database is unreachable, a bug
                # Named by its type: a MemoryError or RecursionError has no message of its own.
                error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
                log.error("reload_failed", reason=reason, keeping=old, error=error, exc_info=True)
                self._alert_admin((f"重新加载站点文件时出错（{error}）",), old)
                return False
            old_calendar = self.app.site.calendar
            self.app.service.swap(files)  # one reference: ticks after this see only the new site
            self._last_alert = None
            changed = files.calendar.digest != old_calendar.digest
            log.info("policy_reloaded", reason=reason, old=old, new=self.version,
                     calendar=files.calendar.digest or None, calendar_changed=changed)
            if changed:
                school = (files.calendar.terms, files.calendar.events) != (old_calendar.terms, old_calendar.events)
                self._recount("calendar_changed", old_calendar.workcal, school)
            return True

    # -- provisional deadlines -------------------------------------------------------

    def recount_at_start(self) -> RecountSummary | None:
        """calendar.yaml may have changed while the daemon was down: count provisional
        deadlines again before the first tick."""
        with self._lock:
            return self._recount("start")

    def _recount(self, reason: str, previous: WorkCalendar | None = None,
                 terms_changed: bool | None = None) -> RecountSummary | None:
        """Count open provisional deadlines (and, unless the terms and events are known
        unchanged, those read against them) again with the current calendar and send the
        notices it queued. Never raises: a failure is logged and retried at the next tick."""
        if self._recount_pending is not None:  # an earlier run failed: cover its changes too
            _, previous, earlier = self._recount_pending
            terms_changed = None if earlier is None or terms_changed is None else earlier or terms_changed
        try:
            summary = self.app.recount(previous, terms_changed).run(reason)
        except Exception as exc:  # noqa: BLE001 - e.g. the database is unreachable
            log.error("provisional_recompute_failed", reason=reason, error=str(exc), exc_info=True)
            self._recount_pending = (reason, previous, terms_changed)
            return None
        self._recount_pending = None
        if any(r.notified for r in summary.items):
            try:
                self.scheduler.deliver(self.clock.now())
            except Exception as exc:  # noqa: BLE001 - queued: the next tick sends them
                log.error("deliver_failed", error=str(exc))
        return summary

    def _check_against_database(self, files: Snapshot) -> None:
        check_against_database(self.app, files)

    def _alert_admin(self, problems: tuple[str, ...], version: str) -> None:
        config = self.app.config
        if problems == self._last_alert:
            return  # one editor save can fire several events: one email per distinct problem set
        self._last_alert = problems
        now = self.clock.now()
        message = admin_alert(config, f"站点文件修改未生效，继续按规则版本 {version} 运行", problems, now)
        if message is None:
            return
        try:
            self.app.outbox.add_message(message, now)
            self.scheduler.deliver(now)
        except Exception as exc:  # noqa: BLE001
            log.error("admin_alert_failed", error=str(exc))

    # -- running ---------------------------------------------------------------------

    def watched(self) -> list[Path]:
        config = self.app.config
        return [p for p in (config.rules_dir, config.workflows_dir, config.templates_dir, config.root)
                if p.exists()]

    def _is_watched(self, _change: Any, path: str) -> bool:
        config = self.app.config
        p = Path(path)
        if p.parent == config.root and p.name in (config.org_file.name, config.calendar_file.name):
            return True
        return any(d in p.parents for d in (config.rules_dir, config.workflows_dir, config.templates_dir))

    def _watch(self) -> None:
        from watchfiles import watch

        stop = self.stop_requested
        try:
            # The site root is watched without recursion for org.yaml; the directories
            # (not single files) so that editors' write-temp-then-rename saves are seen.
            for changes in watch(*self.watched(), watch_filter=self._is_watched, stop_event=stop,
                                 recursive=True, raise_interrupt=False):
                log.info("files_changed", paths=sorted({c[1] for c in changes})[:10])
                self.reload_requested.set()
        except Exception as exc:  # noqa: BLE001 - without a watcher SIGHUP still works
            log.error("watch_failed", error=str(exc))

    def close(self) -> None:
        self.leadership.close()
        self.app.close()

    def lock_database(self) -> None:
        """On SQLite, become the database's only daemon, or AlreadyRunning (and closed)
        if another daemon serves it. Nothing to do on PostgreSQL."""
        database = sqlite_path(self.app.database)
        if database is None or self._database_lock is not None:
            return
        lock = SqliteDaemonLock(database, self.clock)
        try:
            lock.acquire()
        except AlreadyRunning:
            self.close()
            raise
        self._database_lock = lock

    def run(self) -> None:
        """Tick until SIGTERM/SIGINT (after lock_database, if not done yet)."""
        self.lock_database()
        try:
            self._run()
        finally:
            if self._database_lock is not None:
                self._database_lock.release()
                self._database_lock = None

    def _run(self) -> None:
        tz = self.app.config.timezone
        signal.signal(signal.SIGTERM, lambda *_: self.stop_requested.set())
        signal.signal(signal.SIGINT, lambda *_: self.stop_requested.set())
        signal.signal(signal.SIGHUP, lambda *_: self.reload_requested.set())
        seconds = self.app.config.scheduler.tick_seconds
        jobs = BackgroundScheduler(timezone=tz)
        jobs.add_job(self.tick, IntervalTrigger(seconds=seconds, timezone=tz), id="tick",
                     next_run_time=self.clock.now().astimezone(tz), coalesce=True, max_instances=1, misfire_grace_time=None)
        watcher = threading.Thread(target=self._watch, name="rectify-watch", daemon=True)
        log.info("daemon_started", name=self.name, version=self.version, tick_seconds=seconds,
                 database=self.app.database.url.render_as_string(hide_password=True),
                 mail=self.app.config.mail.transport)
        self.recount_at_start()
        jobs.start()
        watcher.start()
        try:
            while not self.stop_requested.wait(0.2):
                if self.reload_requested.is_set():
                    self.reload_requested.clear()
                    self.reload("sighup_or_change")
        finally:
            log.info("daemon_stopping", name=self.name)
            jobs.shutdown(wait=True)  # the running tick finishes
            self.close()
            log.info("daemon_stopped", name=self.name)


def check_against_database(app: App, files: Snapshot) -> None:
    """Every (workflow, state) stored items are in must still exist in `files`."""
    problems = []
    for workflow, state, count in app.store.states_in_use():
        wf = files.workflows.get(workflow)
        if wf is None:
            problems.append(Problem(str(app.config.workflows_dir), None,
                                    f"流程“{workflow}”被删除，但数据库中仍有 {count} 项事项使用它"))
        elif state not in wf.states:
            problems.append(Problem(wf.source or workflow, None,
                                    f"流程“{workflow}”删除了状态“{state}”，但数据库中仍有 {count} 项事项处于该状态"))
    if problems:
        raise ConfigError(problems)
