"""A throwaway PostgreSQL server for the test session, on loopback only.

RECTIFY_TEST_PG_URL wins if set. Otherwise, when PostgreSQL's server binaries are
installed (`.ci/run` installs Debian's package), a cluster is created in a temporary
directory and started on a free 127.0.0.1 port, and removed at the end.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path


def _bindir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PgServer:
    def __init__(self) -> None:
        self.url: str | None = os.environ.get("RECTIFY_TEST_PG_URL")
        self.reason = ""
        self._dir: Path | None = None
        self._bindir: Path | None = None
        self._user: str | None = None
        if not self.url:
            self._start()

    def _run(self, *args: str) -> None:
        cmd = list(args)
        if os.geteuid() == 0:  # initdb refuses to run as root
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        subprocess.run(cmd, check=True, capture_output=True, timeout=120)

    def _start(self) -> None:
        bindir = _bindir()
        if bindir is None:
            self.reason = "未安装 PostgreSQL 服务器（.ci/run 会安装；或设置 RECTIFY_TEST_PG_URL）"
            return
        if os.geteuid() == 0:
            try:
                pwd.getpwnam("postgres")
            except KeyError:
                self.reason = "以 root 运行但系统中没有 postgres 用户"
                return
        self._bindir = bindir
        self._dir = Path(tempfile.mkdtemp(prefix="rectify-pg-"))
        if os.geteuid() == 0:
            shutil.chown(self._dir, "postgres")
        data, port = self._dir / "data", _free_port()
        self._run(str(bindir / "initdb"), "-D", str(data), "-U", "rectify", "--auth=trust", "-E", "UTF8",
                  "--locale=C.UTF-8")
        self.port = port
        self.start_server()
        self._run(str(bindir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "rectify", "rectify_test")
        self.url = f"postgresql+psycopg://rectify@127.0.0.1:{port}/rectify_test"

    def _ctl(self, *args: str) -> None:
        assert self._dir and self._bindir
        self._run(str(self._bindir / "pg_ctl"), "-D", str(self._dir / "data"), *args)

    def start_server(self) -> None:
        """Start (or start again) the cluster on its port, waiting until it accepts connections."""
        assert self._dir
        self._ctl("-l", str(self._dir / "log"), "-w", "-o",
                  f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self._dir} -c fsync=off "
                  "-c max_connections=200", "start")

    def stop_server(self) -> None:
        """Stop the cluster but keep its data (fast shutdown: sessions are cut off)."""
        self._ctl("-m", "fast", "-w", "stop")

    def restart(self) -> None:
        self.stop_server()
        self.start_server()

    def stop(self) -> None:
        if self._dir and self._bindir:
            try:
                self._ctl("-m", "fast", "stop")
            except subprocess.CalledProcessError:
                pass  # already stopped
            finally:
                shutil.rmtree(self._dir, ignore_errors=True)
