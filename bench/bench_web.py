"""The web workbench (issue 17) on 1,000,000 items of which 100,000 are open: its pages
against the raw SQL of the same queries in the same run, and 50 clients on loopback.

The site is the dashboard benchmark's (`bench.sites`, 600 template items moved by the
real Service, N copies of which one in ten stays open; `bench.bench_dashboard._closing`).

Pages, through the real ASGI app (`adapters.web.build`, httpx's ASGI transport on one event loop), each
person logged in as a browser is: a login link (`adapters.web.login.operator_link`),
its page, and its form POSTed with the page's CSRF token:

- 我的待办 (`/`, first page) for the safety office (周安宁, site-wide) and for a unit
  head (赵卫东, 保卫处);
- 综合看板: the web page at DASHBOARD_PATH when the app has one; until then
  `engine.dashboard.build` for the safety office's scope, rendered with the web's own
  Jinja2 environment (a template here: every number, both quarters' tables, the
  overdue and 挂牌督办 rows, the SVG chart of `adapters.charts`), said so in the table.

Baseline for each: the SELECT statements and parameters that very request sent
(recorded from SQLAlchemy's cursor events during an untimed request: the session
lookup, the page's queries), executed through the driver's cursor and fetched, same
run. ROUNDS alternating rounds; a round of a page quicker than ROUND_SECONDS repeats it
(both sides the same number of times) and takes the time per request; the fastest round
of each side counts. Target: at most 2×.

Load (`bench.webload`): `rectify web` on 127.0.0.1 (a free port) in its own process,
CLIENTS clients each logged in (people of org.yaml in turn), each fetching its 我的待办
and an item page from it, in turn: first one request at a time round-robin over the
clients (the unloaded latency), then all concurrently for LOAD_SECONDS (QUICK_SECONDS
with --quick). Reported: requests, p50/p95, errors. Targets: 0 errors; the concurrent
p95 no more than CLIENTS × the unloaded p95 (no worse than each request waiting for
every other client's: the server does not collapse under load; chosen here, the issue
names no latency).

`python -m bench.bench_web [--quick] [--items N] [--seconds S]`.
"""

from __future__ import annotations

import asyncio
import re
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import event, func, select

from adapters.schema import items
from adapters.web import build as build_web
from adapters.web.login import operator_link
from adapters.wiring import App, open_app
from bench import sites, webload
from bench.bench_dashboard import OPEN_SHARE, TEMPLATES, _closing, _raw
from bench.common import Result
from engine import dashboard
from engine.clock import FakeClock

QUICK_ITEMS, FULL_ITEMS = 100_000, 1_000_000
ROUNDS = 5
ROUND_SECONDS = 0.25  # a fast page is requested this long in a row, its time per request taken
CLIENTS = 50
LOAD_SECONDS, QUICK_SECONDS = 30.0, 5.0
SERIAL_SHARE = 3  # the one-at-a-time run lasts a third of the concurrent one
SAFETY_OFFICE, UNIT_HEAD = "周安宁", "赵卫东"
DASHBOARD_PATH = "/board"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')

class Recorder:
    """The SELECT statements the database got while `recording` (not the BEGINs)."""

    def __init__(self, app: App) -> None:
        self.db = app.store.db  # type: ignore[attr-defined]
        self.sent: list[tuple[str, Any]] = []

    def _record(self, conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            self.sent.append((statement, parameters))

    def recording(self, fn: Callable[[], object]) -> list[tuple[str, Any]]:
        self.sent = []
        event.listen(self.db, "before_cursor_execute", self._record)
        try:
            fn()
        finally:
            event.remove(self.db, "before_cursor_execute", self._record)
        return self.sent


class Browser:
    """httpx over the ASGI app (no socket), on one event loop kept for the whole run, so
    a timed request is the app's work and not a new loop or thread per request (as
    Starlette's TestClient makes)."""

    def __init__(self, asgi: Any, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.client = httpx.AsyncClient(transport=httpx.ASGITransport(app=asgi), base_url="http://testserver")

    def get(self, path: str) -> httpx.Response:
        return self.loop.run_until_complete(self.client.get(path))

    def post(self, path: str, data: dict[str, str]) -> httpx.Response:
        return self.loop.run_until_complete(self.client.post(path, data=data))

    def close(self) -> None:
        self.loop.run_until_complete(self.client.aclose())


def logged_in(asgi: Any, loop: asyncio.AbstractEventLoop, app: App, person: str, at: datetime) -> Browser:
    """A client with `person`'s session, made the way a browser makes one."""
    client = Browser(asgi, loop)
    path = operator_link(app, person, at, "")
    shown = client.get(path)
    token = CSRF.search(shown.text)
    assert shown.status_code == 200 and token is not None, shown.status_code
    answer = client.post(path, data={"csrf": token.group(1)})
    assert answer.status_code == 303, answer.status_code
    return client


def _get(client: Browser, path: str, wanted: str) -> Callable[[], object]:
    def fetch() -> object:
        answer = client.get(path)
        if answer.status_code != 200 or wanted not in answer.text:
            raise RuntimeError(f"{path}: {answer.status_code} {answer.text[:300]}")
        return answer

    return fetch


def _pages(asgi: Any, loop: asyncio.AbstractEventLoop, app: App,
           at: datetime) -> list[tuple[str, Callable[[], object]]]:
    office = logged_in(asgi, loop, app, SAFETY_OFFICE, at)
    head = logged_in(asgi, loop, app, UNIT_HEAD, at)
    pages: list[tuple[str, Callable[[], object]]] = [
        (f"我的待办 {SAFETY_OFFICE} (site-wide)", _get(office, "/", "/items/")),
        (f"我的待办 {UNIT_HEAD} (unit head)", _get(head, "/", "/items/")),
    ]
    pages.append((f"综合看板 {SAFETY_OFFICE}", _get(office, DASHBOARD_PATH, "看板")))
    return pages


def _timed(app: App, fn: Callable[[], object], statements: list[tuple[str, Any]],
           reps: int) -> tuple[list[float], list[float]]:
    """Seconds per call, each round `reps` calls of each side in turn; sides alternate."""
    page_s: list[float] = []
    raw_s: list[float] = []
    for r in range(ROUNDS):
        for side in ("page", "raw") if r % 2 == 0 else ("raw", "page"):
            start = time.perf_counter()
            for _ in range(reps):
                if side == "page":
                    fn()
                else:
                    _raw(app, statements)
            (page_s if side == "page" else raw_s).append((time.perf_counter() - start) / reps)
    return page_s, raw_s


def measure_pages(app: App, at: datetime) -> list[dict[str, Any]]:
    asgi = build_web(app)
    recorder = Recorder(app)
    out = []
    loop = asyncio.new_event_loop()
    try:
        for name, fn in _pages(asgi, loop, app, at):
            fn()  # warm: templates compiled, the pinned snapshot made
            start = time.perf_counter()
            fn()
            reps = max(1, int(ROUND_SECONDS / (time.perf_counter() - start)))
            statements = recorder.recording(fn)
            page_s, raw_s = _timed(app, fn, statements, reps)
            print(f"  {name}: {len(statements)} statements, {reps} a round; page s " + " ".join(f"{t:.4f}" for t in page_s)
                  + "; raw s " + " ".join(f"{t:.4f}" for t in raw_s), file=sys.stderr, flush=True)
            out.append({"name": name, "page": min(page_s), "raw": min(raw_s), "statements": len(statements)})
    finally:
        loop.close()
    return out


def measure_load(app: App, seconds: float, clients: int) -> tuple[webload.Load, webload.Load]:
    people = list(app.service.org.people)
    port = webload.free_port()
    with webload.server(app.config.root, port) as base:
        now = datetime.now(UTC)
        links = [operator_link(app, people[i % len(people)], now, base) for i in range(clients)]
        serial, loaded = webload.run(base, links, seconds, seconds / SERIAL_SHARE)
    if serial.errors or loaded.errors:
        for error in (serial.errors + loaded.errors)[:10]:
            print(f"  error: {error}", file=sys.stderr)
        for line in webload.server_log(app.config.root):
            print(f"  server: {line}", file=sys.stderr)
    print(f"  load one at a time: {serial.summary()}", file=sys.stderr)
    print(f"  load concurrent: {loaded.summary()}", file=sys.stderr, flush=True)
    return serial, loaded


def _site(size: int, at: datetime, tmp: Any) -> App:
    templates = sites.make_templates(sites.make_site(tmp / "templates"), at, TEMPLATES)
    app = open_app(sites.make_site(tmp / "big"), FakeClock(at))
    try:
        sites.bulk_fill(app, templates, size, lambda i: (i * 7919) % TEMPLATES, _closing(templates, app, at),
                        label="web: ")
    finally:
        templates.app.close()
    with app.store.read() as conn:  # type: ignore[attr-defined]
        total = conn.execute(select(func.count()).select_from(items)).scalar_one()
    if total != size:
        raise RuntimeError(f"built {total} items, wanted {size}")
    return app


def measure(size: int, seconds: float, clients: int = CLIENTS) -> dict[str, Any]:
    at = datetime.now(UTC).replace(second=0, microsecond=0)
    with sites.workdir("rectify-bench-web-") as tmp:
        app = _site(size, at, tmp)
        try:
            opened = dashboard.build(app.service, at)
            open_count = opened.open.value + opened.tasks_open.value
            pages = measure_pages(app, at)
        finally:
            app.close()
        app = open_app(app.config.root)  # the real clock, as the server has
        try:
            serial, loaded = measure_load(app, seconds, clients)
        finally:
            app.close()
    return {"size": size, "open": open_count, "pages": pages, "serial": serial, "load": loaded}


def results(m: dict[str, Any]) -> list[Result]:
    size = f"{m['size']:,} items, {m['open']:,} open"
    out = [Result(name=f"web {p['name']}", figure=p["page"], baseline=p["raw"], unit="s",
                  baseline_name=f"the same {p['statements']} SQL statements through the driver's cursor, "
                                f"same run ({size})", target=2.0, higher_is_better=False)
           for p in m["pages"]]
    serial, loaded = m["serial"], m["load"]
    out.append(Result(
        name=f"web load: {loaded.clients} clients {loaded.seconds:.0f} s, p95", figure=loaded.percentile(95) * 1000,
        baseline=serial.percentile(95) * 1000, unit="ms",
        baseline_name=f"p95 one request at a time over the same sessions ({serial.requests:,} requests); "
                      f"loaded: {loaded.requests:,} requests, {loaded.requests / loaded.seconds:.1f}/s, "
                      f"p50 {loaded.percentile(50) * 1000:.0f} ms",
        target=float(loaded.clients), higher_is_better=False))
    out.append(Result(
        name="web load: errors / requests", figure=len(loaded.errors) + len(serial.errors),
        baseline=loaded.requests + serial.requests, unit="requests",
        baseline_name="every answer but a 200, and every exception or timeout, is an error",
        target=0.0, higher_is_better=False))
    return out


def run(quick: bool) -> list[Result]:
    return results(measure(QUICK_ITEMS if quick else FULL_ITEMS, QUICK_SECONDS if quick else LOAD_SECONDS))


def _arg(name: str, default: float) -> float:
    return float(sys.argv[sys.argv.index(name) + 1]) if name in sys.argv else default


if __name__ == "__main__":
    quick = "--quick" in sys.argv
    m = measure(int(_arg("--items", QUICK_ITEMS if quick else FULL_ITEMS)),
                _arg("--seconds", QUICK_SECONDS if quick else LOAD_SECONDS))
    for r in results(m):
        print(f"{r.name}: {r.figure:.4g} against {r.baseline:.4g} {r.unit}, ratio {r.ratio:.3f} "
              f"({'met' if r.met else 'NOT met'}; target {'>=' if r.higher_is_better else '<='}{r.target:g})")
    if not m["size"] // OPEN_SHARE * 0.9 <= m["open"] <= m["size"] // OPEN_SHARE * 1.1:
        raise SystemExit(f"{m['open']} open, wanted about {m['size'] // OPEN_SHARE}")
