"""Nothing a person reads at the terminal is English or Python (issue 19): every
command's and subcommand's --help, and a sample of every kind of refusal, outside --json."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from adapters.cli import cli

# Python's own words on screen: a repr, a traceback, click's English frame.
PYTHON = ("{'", "['", "None", "True", "False", "Error:", "Usage:", "Traceback", "Exception", "<class",
          "<=x", "x>=", "x<=")
# Words an English sentence is made of; a run of two or more English words holding one
# of them is a sentence. Options (--help), commands and field names are not sentences.
ENGLISH_WORDS = {
    "the", "a", "an", "is", "are", "was", "were", "be", "not", "no", "of", "to", "for", "and", "or",
    "this", "that", "with", "such", "must", "did", "you", "mean", "missing", "invalid", "try",
    "show", "got", "expected", "could", "find", "found", "value", "option", "argument", "command",
    "error", "usage", "help", "exit", "message", "version", "cannot", "unknown", "given", "requires",
    "while", "scanning", "parsing", "mapping", "allowed", "here", "unexpected", "does", "exist",
}
RUN = re.compile(r"[A-Za-z]+(?:[ ,.']+[A-Za-z]+)+")
# Not words: options (--help), file names (org.yaml, missing.xlsx), commands as typed.
NOT_WORDS = re.compile(r"(?<![\w-])--?[A-Za-z][\w-]*|[\w./-]+\.[A-Za-z]{2,5}\b|rectify(?: [a-z][a-z-]*)*")


def english(text: str) -> list[str]:
    """The English sentences (and Python) in `text`."""
    found = [p for p in PYTHON if p in text]
    for run in RUN.findall(NOT_WORDS.sub(" ", text)):
        words = re.findall(r"[A-Za-z]+", run)
        if len(words) >= 2 and any(w.lower() in ENGLISH_WORDS for w in words):
            found.append(run)
    return found


def test_the_detector_sees_english() -> None:
    assert english("Error: Missing option '--title'.") and english("Usage: rectify [OPTIONS]")
    assert english("Show this message and exit.") and english("{'at': 1}") and english("paused False")
    assert english("could not find expected ':'") and english("'remnd' was unexpected")
    assert not english("用法：rectify fire [选项] 事项编号 事件\n  --set KEY=VALUE  可设置 assign、start")
    assert not english("错误：缺少选项 --title（隐患或任务标题）") and not english("rectify web link 姓名")


def _commands(command: click.Command, path: list[str]) -> Iterator[list[str]]:
    yield path
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            yield from _commands(sub, [*path, name])


COMMANDS = list(_commands(cli, []))


def _said(site: Path | None, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, [*(["--site", str(site)] if site else []), *args], prog_name="rectify")
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout + result.stderr


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(p) or "rectify")
def test_every_help_page_is_chinese(path: list[str]) -> None:
    code, said = _said(None, *path, "--help")
    assert code == 0 and "用法：rectify" in said, said
    assert english(said) == [], said


# (what is typed, what the refusal says) — one of each kind a person meets.
REFUSALS = [
    (["report"], "缺少选项 --title（隐患或任务标题）"),
    (["report", "--title", "x", "--level", "中"], "--level 的值无效：“中”不是可选的值（可选：一般、重大）"),
    (["bogus"], "没有命令 bogus"),
    (["fier"], "没有命令 fier（是否指 fire？）"),
    (["list", "--levle", "x"], "没有选项 --levle"),
    (["fire", "abc", "assign", "--actor", "赵卫东"], "事项编号 的值无效：“abc”不是有效的数字"),
    (["fire", "1"], "缺少参数 事件"),
    (["fire", "999", "assign", "--actor", "赵卫东"], "找不到事项"),
    (["show", "1", "extra"], "多余的参数：extra"),
    (["fire", "1", "bogus", "--actor", "赵卫东"], "没有这个事件"),
    (["fire", "1", "assign", "--actor", "赵卫东", "--set", "bogus=1"], "未知字段"),
    (["fire", "1", "assign", "--actor", "赵卫东", "--set", "bogus"], "应写成 字段=值"),
    (["fire", "1", "assign", "--actor", "路人甲"], "找不到人员"),
    (["report", "--title", "x", "--unit", "保位处"], "找不到单位：保位处"),
    (["export", "x.xlsx", "--state", "bogus"], "找不到状态：bogus"),
    (["calendar", "show", "3000"], "年份 的值无效"),
    (["deadline", "随便写写"], "无法识别期限"),
    (["import", "missing.xlsx"], "错误："),
    (["policy"], "用法：rectify policy"),
    (["calendar", "apply"], "须用 --actor 指明操作人"),
    (["policy", "apply", "--actor", "马建军"], "无权迁移"),
]


@pytest.fixture
def with_item(run):  # type: ignore[no-untyped-def]
    run("report", "--title", "实训楼消防通道堵塞", "--category", "消防", "--unit", "保卫处", "--reporter", "郭晓明")
    return run.site


@pytest.mark.parametrize(("args", "expected"), REFUSALS, ids=lambda a: " ".join(a) if isinstance(a, list) else "")
def test_every_kind_of_refusal_is_chinese(with_item: Path, args: list[str], expected: str) -> None:
    code, said = _said(with_item, *args)
    assert expected in said, said
    assert english(said) == [], said


BROKEN_FILES = [
    ("rules/policy.yaml", '    remind: ["50%", "3个工作日前"]\n', '    remnd: ["50%", "3个工作日前"]\n'),
    ("rules/policy.yaml", '    remind: ["50%", "3个工作日前"]\n', '    remind ["50%", "3个工作日前"]\n'),
    ("rules/policy.yaml", '    remind: ["50%", "3个工作日前"]\n', '    remind: ["50%", "3个工作日前"\n'),
    ("rules/policy.yaml", 'expr: "15个工作日内"', 'expr: "随便写写"'),
    ("rules/policy.yaml", 'escalate: "一般隐患督办"', 'escalate: [1, {a: 2}]'),
    ("rules/policy.yaml", 'escalate: "一般隐患督办"', 'escalate: !!python/object:os.system "x"'),
    ("org.yaml", 'roles: ["inspector"]}', 'roles: ["检察人员"]}'),
    ("org.yaml", 'safety_office: "综治办"', 'safety_office: ["综治办"]'),
    ("rectify.yaml", "timezone:", "timezone: [1]\nx:"),
    ("workflows/hazard.yaml", 'initial: "reported"', 'initial: "bogus"'),
    ("calendar.yaml", "\n", "\nyears: {2027: {holidays: 3}}\n"),
]


@pytest.mark.parametrize(("name", "old", "new"), BROKEN_FILES, ids=lambda v: v if "/" in v or v.endswith("yaml") else "")
def test_a_broken_site_file_is_said_in_chinese(run, name: str, old: str, new: str) -> None:  # type: ignore[no-untyped-def]
    path = run.site / name
    text = path.read_text(encoding="utf-8")
    assert old in text, (name, old)
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    for args in (["check"], ["list"]):
        code, said = _said(run.site, *args)
        assert code != 0 and "错误" in said, said
        assert english(said) == [], said
