"""Fails when engine/ does I/O that ruff's banned-api cannot see: calls of the builtins
`open`, `print`, `input`, `breakpoint`, and of file-system methods on any object
(`path.read_text()`, `directory.glob(...)`, ...), which ruff cannot tell from other
methods because it does not know the types of instances. `python tools/purity.py`, run
by `make lint` and by tests/test_purity.py. The imports and module attributes (`os.environ`,
`datetime.now`, `time.time`, `glob`, `gc`, ...) are ruff's TID251 (pyproject.toml)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

BUILTINS = {"open", "print", "input", "breakpoint"}
# pathlib's file-system methods (Path.resolve is left: site.py makes a relative SQLite
# path absolute against the site directory with it, as before the site files moved).
METHODS = {"open", "read_text", "read_bytes", "write_text", "write_bytes", "glob", "rglob",
           "iterdir", "exists", "is_file", "is_dir", "stat", "lstat", "mkdir", "rmdir",
           "unlink", "touch", "rename", "chmod", "samefile", "expanduser"}


def violations(root: Path = ROOT) -> list[str]:
    found: list[str] = []
    for path in sorted((root / "engine").rglob("*.py")):
        relative = path.relative_to(root).as_posix()
        tree = ast.parse(path.read_text(encoding="utf-8"), relative)
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            if isinstance(func, ast.Name) and func.id in BUILTINS:
                found.append(f"{relative}:{node.lineno}: {func.id}() in engine/")
            elif isinstance(func, ast.Attribute) and func.attr in METHODS:
                found.append(f"{relative}:{node.lineno}: .{func.attr}() in engine/ (file system)")
    return found


def main() -> int:
    found = violations()
    for line in found:
        print(line, file=sys.stderr)
    if found:
        print("engine/ is pure: read files, the environment and the clock in adapters/", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
