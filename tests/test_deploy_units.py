"""The systemd units in deploy/ run commands rectify has, with options it takes."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

from adapters.cli import cli

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"
COMMANDS = [
    (unit.name, line.split("=", 1)[1])
    for unit in sorted(DEPLOY.glob("*.service"))
    for line in unit.read_text(encoding="utf-8").splitlines()
    if line.startswith(("ExecStart=", "ExecStartPre=")) and "/rectify " in line
]


def test_every_unit_runs_rectify() -> None:
    assert {name for name, _ in COMMANDS} == {unit.name for unit in DEPLOY.glob("*.service")}


@pytest.mark.parametrize(("unit", "command"), COMMANDS)
def test_the_units_commands_and_options_exist(unit: str, command: str) -> None:
    args = shlex.split(command)[1:]  # after the path to rectify
    result = CliRunner().invoke(cli, [*args, "--help"])
    assert result.exit_code == 0, (unit, command, result.output)
    assert "用法：" in result.output
