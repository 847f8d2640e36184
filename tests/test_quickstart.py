"""The README's quickstart works as printed: every line of its "work with the demo site"
block is run, in order, on a demo site as `make run` creates it (`rectify init DIR --demo`);
`ID=$(rectify report … -q)` keeps the new item's id for the lines after it. A line the test
does not know how to run fails it, so the block cannot grow a step nobody tried."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

from adapters.cli import cli

README = Path(__file__).resolve().parent.parent / "README.md"
CAPTURE = re.compile(r"^(\w+)=\$\((rectify .*)\)$")


def quickstart() -> list[str]:
    """The shell lines of the block that follows "Then work with the demo site"."""
    text = README.read_text(encoding="utf-8")
    start = text.index("Then work with the demo site")
    block = text[text.index("```sh\n", start) + len("```sh\n"):]
    return [line for line in block[:block.index("```")].splitlines() if line.strip()]


def _args(command: str, names: dict[str, str]) -> list[str]:
    words = shlex.split(command, comments=True)
    assert words[0] == "rectify", command
    return [re.sub(r"\$(\w+)", lambda m: names[m.group(1)], w) for w in words[1:]]


@pytest.mark.slow
def test_the_quickstart_runs_as_printed(tmp_path: Path) -> None:
    runner = CliRunner(env={"COLUMNS": "80", "RECTIFY_SITE": None})
    made = runner.invoke(cli, ["init", str(tmp_path / "demo"), "--demo"], catch_exceptions=False)
    assert made.exit_code == 0, made.output
    names: dict[str, str] = {}
    outputs = []
    for line in quickstart():
        if line == ". .venv/bin/activate":
            continue  # the shell finds `rectify`; here it is called in-process
        if line.startswith("export "):
            key, _, value = line.removeprefix("export ").partition("=")
            assert key == "RECTIFY_SITE", line
            runner.env["RECTIFY_SITE"] = str(tmp_path / value)
            continue
        capture = CAPTURE.match(line)
        name, command = (capture.group(1), capture.group(2)) if capture else (None, line)
        result = runner.invoke(cli, _args(command, names), catch_exceptions=False)
        assert result.exit_code == 0, (line, result.output)
        if name:
            names[name] = result.stdout.strip()
            assert names[name].isdigit(), (line, result.stdout)  # just the id
        outputs.append(result.stdout)
    assert "ID" in names and len(outputs) >= 6
    shown = outputs[-1]
    assert f"事项 {names['ID']}：实训楼消防通道堵塞" in shown and "已销号" in shown
    assert "销号：已验收 → 已销号" in shown and "责任人：（空）→ 马建军" in shown
