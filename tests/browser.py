"""Tests in a real browser: Playwright driving Debian's Chromium, on a phone, against a
real ASGI server on loopback.

Browsers cannot be downloaded here (never `playwright install`): Chromium is Debian's
package (`.ci/run` installs it when missing), launched by its path — RECTIFY_CHROMIUM,
else `chromium` on PATH, else /usr/bin/chromium. Without it the browser tests are
skipped, unless RECTIFY_REQUIRE_BROWSER is set (CI), when they fail.

Fixtures (imported by tests/conftest.py; a test using any of them is marked `browser`
and `slow`):

    chromium       the browser, one per session
    phone          a new page in a phone's context: 390 × 844 CSS pixels, 3× density,
                   mobile, touch, zh-CN, Asia/Shanghai
    live_server    live_server(asgi_app) -> "http://127.0.0.1:PORT": uvicorn serving the
                   app in a thread on a free port, stopped after the test
    screenshot     screenshot(page, "name") -> the PNG's path: in $RECTIFY_SCREENSHOTS
                   when set (for the README), else in the test's tmp_path
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

PHONE: dict[str, Any] = {
    "viewport": {"width": 390, "height": 844},
    "screen": {"width": 390, "height": 844},
    "device_scale_factor": 3,
    "is_mobile": True,
    "has_touch": True,
    "locale": "zh-CN",
    "timezone_id": "Asia/Shanghai",
    "user_agent": ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
                   "Chrome/150.0.0.0 Mobile Safari/537.36"),
}
PHONE_WIDTH = PHONE["viewport"]["width"]
BROWSER_FIXTURES = frozenset({"chromium", "phone", "live_server"})


def chromium_path() -> str | None:
    """Debian's Chromium, where it is installed."""
    given = os.environ.get("RECTIFY_CHROMIUM")
    if given:
        return given
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None


def _unavailable(reason: str) -> None:
    if os.environ.get("RECTIFY_REQUIRE_BROWSER"):
        pytest.fail(f"浏览器测试必须运行：{reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    path = chromium_path()
    if path is None:
        _unavailable("未安装 Chromium（.ci/run 会用 apt-get install chromium 安装；或设置 RECTIFY_CHROMIUM）")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("未安装 playwright（pip install -e '.[dev]'）")
    with sync_playwright() as playwright:
        # --no-sandbox: the tests run as root in CI, where Chromium's sandbox refuses to start.
        browser = playwright.chromium.launch(executable_path=path, headless=True,
                                             args=["--no-sandbox", "--disable-dev-shm-usage"])
        yield browser
        browser.close()


@pytest.fixture
def phone(chromium: Any) -> Iterator[Any]:
    context = chromium.new_context(**PHONE)
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


class LiveServer:
    """uvicorn serving one ASGI app on 127.0.0.1 in a thread, on a port of its own."""

    def __init__(self, app: Any) -> None:
        import uvicorn

        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind(("127.0.0.1", 0))  # the port is ours from here on: no race for it
        self.port = int(self._socket.getsockname()[1])
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, log_level="warning", lifespan="auto", access_log=False)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._socket]},
                                        name=f"uvicorn-{self.port}", daemon=True)

    def start(self, timeout: float = 15.0) -> LiveServer:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"uvicorn did not start on {self.url}")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=15)
        self._socket.close()


@pytest.fixture
def live_server() -> Iterator[Callable[[Any], str]]:
    started: list[LiveServer] = []

    def serve(app: Any) -> str:
        server = LiveServer(app).start()
        started.append(server)
        return server.url

    yield serve
    for server in started:
        server.stop()


@pytest.fixture
def screenshot(tmp_path: Path) -> Callable[[Any, str], Path]:
    def take(page: Any, name: str, full_page: bool = True) -> Path:
        directory = Path(os.environ.get("RECTIFY_SCREENSHOTS") or tmp_path)
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        return path

    return take


def horizontal_overflow(page: Any) -> int:
    """How many CSS pixels the page is wider than the phone's screen (0 when it fits)."""
    return int(page.evaluate("document.documentElement.scrollWidth")) - PHONE_WIDTH


def mark_browser_tests(items: list[pytest.Item]) -> None:
    """A test using the browser fixtures is marked `browser` and `slow` (left out of
    `make test-quick`, run by `make test` and CI)."""
    for item in items:
        if BROWSER_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.slow)
