"""Where the shipped workflows/, rules/, templates/ and site files are."""

from __future__ import annotations

import sys
from pathlib import Path

from engine.errors import ConfigError

_HERE = Path(__file__).resolve().parent


def shipped(name: str) -> Path:
    """A shipped directory: next to the source tree, else installed under share/rectify."""
    for base in (_HERE.parent, Path(sys.prefix) / "share" / "rectify"):
        candidate = base / name
        if candidate.exists():
            return candidate
    raise ConfigError.single(name, None, "找不到随程序提供的文件，请检查安装")


def site_file(name: str) -> Path:
    return _HERE / "sitefiles" / name
