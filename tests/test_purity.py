"""engine/ is pure (tools/purity.py) and functions stay short (tools/codeshape.py)."""

from __future__ import annotations

import runpy
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _tool(name: str) -> dict[str, Any]:
    return runpy.run_path(str(ROOT / "tools" / f"{name}.py"))


@pytest.mark.slow
def test_engine_reads_no_file_and_prints_nothing() -> None:
    assert _tool("purity")["violations"]() == []


def test_the_purity_check_sees_builtins_and_file_methods(tmp_path: Path) -> None:
    (tmp_path / "engine").mkdir()
    (tmp_path / "engine" / "bad.py").write_text(
        "def f(p):\n    print(open(p).read())\n    return p.read_text(), sorted(p.glob('*.yaml'))\n",
        encoding="utf-8")
    found = _tool("purity")["violations"](tmp_path)
    assert sorted(line.split(": ", 1)[0] for line in found) == ["engine/bad.py:2"] * 2 + ["engine/bad.py:3"] * 2


@pytest.mark.slow
def test_no_function_is_over_the_length_limit_but_the_listed_ones() -> None:
    tool = _tool("codeshape")
    assert [name for name, _ in tool["long_functions"]() if name not in tool["ALLOWED"]] == []
