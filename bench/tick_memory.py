"""`python -m bench.tick_memory SITE_DIR`: one daemon tick in a fresh process, then its peak RSS.

The process loads what `rectify daemon` loads (the CLI, APScheduler), opens the site
the way the daemon does (`adapters.daemon.Daemon(site_dir)`, real clock, the site's
own mailer) and runs `Daemon.tick()` once. It prints one JSON line: resident memory
after the imports, after opening the site, and the peak, in MB, with the tick's report.

The peak is the kernel's high-water mark of this process's resident set (VmHWM). On
Linux `ru_maxrss` is not that: through fork/vfork + exec it keeps the RSS of the
process that launched us (here the benchmark, holding a large build), so it is
printed too (`ru_maxrss_mb`) but not used.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from pathlib import Path

MB = 1024 * 1024


def rss_now_mb() -> float:
    with open("/proc/self/statm", encoding="ascii") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / MB


def peak_mb() -> float:
    """VmHWM: the most this process has had resident (KiB in /proc/self/status)."""
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def ru_maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def main(argv: list[str]) -> int:
    site = Path(argv[0])
    import apscheduler.schedulers.background  # noqa: F401  (resident in the real daemon)

    import adapters.cli  # noqa: F401  (`rectify daemon` runs through the CLI)
    from adapters import logs
    from adapters.daemon import Daemon

    logs.configure(level="WARNING")
    imported = rss_now_mb()
    daemon = Daemon(site)
    opened = rss_now_mb()
    started = time.perf_counter()
    report = daemon.tick()
    seconds = time.perf_counter() - started
    daemon.app.close()
    print(json.dumps({
        "rss_after_imports_mb": round(imported, 1), "rss_after_open_mb": round(opened, 1),
        "peak_mb": round(peak_mb(), 1), "ru_maxrss_mb": round(ru_maxrss_mb(), 1), "seconds": round(seconds, 3),
        "report": report.to_json() if report else None,
    }))
    return 0 if report is not None else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
