"""Load on the web workbench over loopback: `rectify web` in its own process (uvicorn, one
worker, as `make run` starts it), N clients in this one (httpx.AsyncClient each, its own
cookies), each logged in through a login link and the login page's form, then fetching
我的待办 and an item page of its own list in turn until the time is up.

Bounded: no request starts after the time is up, each request has a timeout, and the
whole run has a deadline; the server is stopped (SIGTERM, then SIGKILL) whatever happens.
Every answer but a 200 and every exception (a timeout included) is an error.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import AsyncExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

REQUEST_TIMEOUT = 60.0  # s, one request
GRACE = 120.0  # s, beyond the duration, for the requests under way and the logins
STARTUP = 60.0  # s, for the server to answer
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
ITEM = re.compile(r'href="/items/(\d+)"')


@dataclass
class Load:
    clients: int
    seconds: float  # measured: first request to last answer
    latencies: list[float] = field(default_factory=list)  # s, every answered request
    errors: list[str] = field(default_factory=list)

    @property
    def requests(self) -> int:
        return len(self.latencies) + len(self.errors)

    def percentile(self, p: float) -> float:
        if not self.latencies:
            return float("inf")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]

    def summary(self) -> str:
        return (f"{self.clients} clients, {self.seconds:.1f} s: {self.requests:,} requests "
                f"({self.requests / self.seconds if self.seconds else 0:.1f}/s), p50 "
                f"{self.percentile(50) * 1000:.0f} ms, p95 {self.percentile(95) * 1000:.0f} ms, "
                f"max {max(self.latencies, default=0) * 1000:.0f} ms, errors {len(self.errors)}"
                + (f" (first: {self.errors[0]})" if self.errors else ""))


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def server(root: Path, port: int) -> Iterator[str]:
    """`rectify --site ROOT web --port PORT` until the block ends; yields its address."""
    command = [sys.executable, "-m", "adapters.cli", "--site", str(root), "web", "--host", "127.0.0.1",
               "--port", str(port)]
    log = open(root / "web-bench-server.log", "wb")  # noqa: SIM115 - closed below
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(base, process, root)
        yield base
    finally:
        _stop(process)
        log.close()


def _wait_ready(base: str, process: subprocess.Popen[bytes], root: Path) -> None:
    deadline = time.monotonic() + STARTUP
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"rectify web exited ({process.returncode}): "
                               + (root / "web-bench-server.log").read_text(errors="replace")[-2000:])
        try:
            if httpx.get(base + "/login", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"rectify web did not answer within {STARTUP:.0f} s")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=15)


async def login(client: httpx.AsyncClient, link: str) -> list[int]:
    """Use a login link as a browser does (GET shows the button, POST with the form's
    CSRF token starts the session); returns the item ids on the person's 我的待办
    (first page; none for someone with nothing to do)."""
    shown = await client.get(link)
    found = CSRF.search(shown.text)
    if shown.status_code != 200 or found is None:
        raise RuntimeError(f"login link page: {shown.status_code}")
    answer = await client.post(link, data={"csrf": found.group(1)})
    if answer.status_code != 303:
        raise RuntimeError(f"login: {answer.status_code}")
    todo = await client.get("/")
    if todo.status_code != 200 or "我的待办" not in todo.text:
        raise RuntimeError(f"我的待办 after login: {todo.status_code}")
    return [int(i) for i in dict.fromkeys(ITEM.findall(todo.text))]


def _paths(ids: list[int]) -> Iterator[str]:
    """我的待办 and an item page of it, in turn, forever (我的待办 alone if it lists none)."""
    n = 0
    while True:
        yield "/"
        if ids:
            yield f"/items/{ids[n % len(ids)]}"
        n += 1


_LAST: dict[int, float] = {}  # client → when its last answer came (for the error messages)


async def _one(client: httpx.AsyncClient, path: str, load: Load) -> None:
    begin = time.perf_counter()
    try:
        answer = await client.get(path)
    except httpx.HTTPError as exc:
        idle = begin - _LAST.get(id(client), begin)
        load.errors.append(f"{path}: {type(exc).__name__} {exc} ({idle:.2f} s after this client's last answer)"[:300])
        return
    finally:
        _LAST[id(client)] = time.perf_counter()
    if answer.status_code == 200:
        load.latencies.append(time.perf_counter() - begin)
    else:
        load.errors.append(f"{path}: HTTP {answer.status_code}")


async def _fetch(client: httpx.AsyncClient, paths: Iterator[str], stop_at: float, load: Load) -> None:
    while time.perf_counter() < stop_at:
        await _one(client, next(paths), load)


async def _serial(clients: Sequence[httpx.AsyncClient], paths: Sequence[Iterator[str]], seconds: float) -> Load:
    load = Load(1, 0.0)
    started = time.perf_counter()
    stop_at, n = started + seconds, 0
    while time.perf_counter() < stop_at:
        await _one(clients[n % len(clients)], next(paths[n % len(clients)]), load)
        n += 1
    load.seconds = time.perf_counter() - started
    return load


async def _concurrent(clients: Sequence[httpx.AsyncClient], paths: Sequence[Iterator[str]],
                      seconds: float) -> Load:
    load = Load(len(clients), 0.0)
    started = time.perf_counter()
    stop_at = started + seconds
    await asyncio.wait_for(asyncio.gather(*(_fetch(c, p, stop_at, load) for c, p in zip(clients, paths,
                                                                                         strict=True))),
                           timeout=seconds + GRACE)
    load.seconds = time.perf_counter() - started
    return load


async def _logins(clients: Sequence[httpx.AsyncClient], links: Sequence[str],
                  load: Load) -> list[tuple[httpx.AsyncClient, list[int]]]:
    """Every client logs in at once; one that cannot is an error and takes no part."""
    got = await asyncio.wait_for(asyncio.gather(*(login(c, link) for c, link in zip(clients, links, strict=True)),
                                                return_exceptions=True), timeout=GRACE)
    ready = []
    for client, ids in zip(clients, got, strict=True):
        if isinstance(ids, BaseException):
            load.errors.append(f"login: {type(ids).__name__}: {ids}"[:200])
        else:
            ready.append((client, ids))
    return ready


async def _run(base: str, links: Sequence[str], seconds: float, serial_seconds: float) -> tuple[Load, Load]:
    async with AsyncExitStack() as stack:
        clients = [await stack.enter_async_context(
            httpx.AsyncClient(base_url=base, timeout=REQUEST_TIMEOUT, limits=httpx.Limits(max_connections=1)))
            for _ in links]
        logins = Load(len(links), 0.0)
        ready = await _logins(clients, links, logins)
        if not ready:
            return Load(1, 0.0), logins
        serial = await asyncio.wait_for(_serial([c for c, _ in ready], [_paths(ids) for _, ids in ready],
                                                serial_seconds), timeout=serial_seconds + GRACE)
        loaded = await _concurrent([c for c, _ in ready], [_paths(ids) for _, ids in ready], seconds)
        loaded.clients = len(links)
        loaded.errors[:0] = logins.errors
    return serial, loaded


def server_log(root: Path, lines: int = 30) -> list[str]:
    """The end of the server's output (uvicorn's warnings, the workbench's error log)."""
    path = root / "web-bench-server.log"
    text = path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""
    return [line[:400] for line in text.splitlines()[-lines:]]


def run(base: str, links: Sequence[str], seconds: float, serial_seconds: float) -> tuple[Load, Load]:
    """One client per link, all logged in; then `serial_seconds` of one request at a
    time round-robin over them, then `seconds` of all of them at once."""
    return asyncio.run(_run(base, links, seconds, serial_seconds))
