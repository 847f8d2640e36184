"""The `rectify` command line. Each command group lives in its own module."""

from __future__ import annotations

import sys

from adapters.cli import audit as _audit  # noqa: F401  (registers commands)
from adapters.cli import calendar as _calendar  # noqa: F401
from adapters.cli import daemon as _daemon  # noqa: F401
from adapters.cli import dashboard as _dashboard  # noqa: F401
from adapters.cli import deadline as _deadline  # noqa: F401
from adapters.cli import evidence as _evidence  # noqa: F401
from adapters.cli import extend as _extend  # noqa: F401
from adapters.cli import items as _items  # noqa: F401
from adapters.cli import listing as _listing  # noqa: F401
from adapters.cli import plans as _plans  # noqa: F401
from adapters.cli import policy as _policy  # noqa: F401
from adapters.cli import robots as _robots  # noqa: F401
from adapters.cli import sheets as _sheets  # noqa: F401
from adapters.cli import site as _site  # noqa: F401
from adapters.cli import web as _web  # noqa: F401
from adapters.cli.base import cli


def main() -> None:
    sys.exit(cli.main(prog_name="rectify", standalone_mode=True))
