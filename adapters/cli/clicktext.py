"""click's own words in Chinese: its help texts, usage lines and usage errors.

click marks every text it shows with `gettext` (`from gettext import gettext as _` in
each of its modules) so that a program can translate them. The process-wide gettext
domain would pick a catalogue by the LANGUAGE/LANG of whoever runs the command (a
server's `LANG=C` would show English again), so `install` binds click's `_` and
`ngettext` to CATALOGUE, a translation that does not depend on the environment. The
errors click builds from pieces (`Missing option '--title'.`, the repr of choices)
are said again by `usage_error` from the exception's facts: which option, its help
text, the values it accepts.
"""

from __future__ import annotations

import gettext
import inspect
import re
from typing import Any

import click
import click.core
import click.decorators
import click.exceptions
import click.formatting
import click.parser
import click.shell_completion
import click.termui
import click.types
import click.utils
from rich.cells import cell_len

# click's msgid → Chinese. Plural msgids (ngettext) are listed in both forms. The
# placeholders are click's; a translation may drop one it does not need, never add one.
MESSAGES: dict[str, str] = {
    "Usage:": "用法：",
    "Options": "选项",
    "Commands": "命令",
    "Positional arguments": "参数",
    "Show this message and exit.": "显示本帮助并退出。",
    "Show the version and exit.": "显示版本号并退出。",
    "%(prog)s, version %(version)s": "%(prog)s 版本 %(version)s",
    "required": "必填",
    "default: {default}": "默认：{default}",
    "env var: {var}": "环境变量：{var}",
    "(dynamic)": "（动态）",
    "deprecated": "已弃用",
    "Aborted!": "已中止。",
    "Error: {message}": "错误：{message}",
    "Try '{command} {option}' for help.": "输入 {command} {option} 查看帮助。",
    "Missing command.": "缺少命令。",
    "Missing argument": "缺少参数",
    "Missing option": "缺少选项",
    "Missing parameter": "缺少参数",
    "Missing {param_type}": "缺少{param_type}",
    "Missing parameter: {param_name}": "缺少参数：{param_name}",
    "No such option {name!r}.": "没有选项 {name}。",
    "No such command {name!r}.": "没有命令 {name}。",
    "Did you mean {possibility}?": "是否指 {possibility}？",
    "(Did you mean one of: {possibilities}?)": "（是否指：{possibilities}？）",
    "Invalid value: {message}": "值无效：{message}",
    "Invalid value for {param_hint}: {message}": "{param_hint} 的值无效：{message}",
    "Got unexpected extra argument ({args})": "多余的参数：{args}",
    "Got unexpected extra arguments ({args})": "多余的参数：{args}",
    "Option {name!r} does not take a value.": "选项 {name} 不带值。",
    "Option {name!r} requires an argument.": "选项 {name} 需要一个值。",
    "Option {name!r} requires {nargs} arguments.": "选项 {name} 需要 {nargs} 个值。",
    "Argument {name!r} takes {nargs} values.": "参数 {name} 需要 {nargs} 个值。",
    "Invalid start character for option ({option})": "选项的开头字符无效（{option}）",
    "Takes {nargs} values but 1 was given.": "需要 {nargs} 个值，只给了 1 个。",
    "Takes {nargs} values but {len} were given.": "需要 {nargs} 个值，给了 {len} 个。",
    "Value must be an iterable.": "值必须是一组值。",
    "Choose from:\n\t{choices}": "可选：{choices}",
    "{value!r} is not {choice}.": "“{value}”不是可选的值（可选：{choice}）。",
    "{value!r} is not one of {choices}.": "“{value}”不是可选的值（可选：{choices}）。",
    "{value!r} does not match the format {format}.": "“{value}”不符合格式 {format}。",
    "{value!r} does not match the formats {formats}.": "“{value}”不符合格式 {formats}。",
    "{value!r} is not a valid {number_type}.": "“{value}”不是有效的数字。",
    "{value} is not in the range {range}.": "{value} 超出范围（{range}）。",
    "{value!r} is not a valid boolean. Recognized values: {states}": "“{value}”不是是/否值（可用：{states}）。",
    "{value!r} is not a valid UUID.": "“{value}”不是有效的 UUID。",
    "{len_type} values are required, but {len_value} was given.": "需要 {len_type} 个值，给了 {len_value} 个。",
    "{len_type} values are required, but {len_value} were given.": "需要 {len_type} 个值，给了 {len_value} 个。",
    "file": "文件",
    "directory": "目录",
    "path": "路径",
    "{name} {filename!r} does not exist.": "{name} {filename} 不存在。",
    "{name} {filename!r} is a file.": "{name} {filename} 是文件，不是目录。",
    "{name} {filename!r} is a directory.": "{name} {filename} 是目录，不是文件。",
    "{name} {filename!r} is not readable.": "{name} {filename} 无法读取。",
    "{name} {filename!r} is not writable.": "{name} {filename} 无法写入。",
    "{name} {filename!r} is not executable.": "{name} {filename} 无法执行。",
    "Could not open file {filename!r}: {message}": "无法打开文件 {filename}：{message}",
    "unknown error": "未知错误",
    "Do you want to continue?": "是否继续？",
    "Confirm the action without prompting.": "不询问，直接确认。",
    "Repeat for confirmation": "请再输入一次以确认",
    "Error: The two entered values do not match.": "错误：两次输入的值不一致。",
    "Error: invalid input": "错误：输入无效",
    "Press any key to continue...": "按任意键继续……",
}


class Catalogue(gettext.NullTranslations):
    """A gettext translation from a dict: what it does not know it shows unchanged."""

    def __init__(self, messages: dict[str, str]) -> None:
        super().__init__()
        self.messages = messages

    def gettext(self, message: str) -> str:
        return self.messages.get(message, message)

    def ngettext(self, msgid1: str, msgid2: str, n: int) -> str:
        return self.messages.get(msgid1 if n == 1 else msgid2, msgid1 if n == 1 else msgid2)


CATALOGUE = Catalogue(MESSAGES)
_MODULES = (click.core, click.decorators, click.exceptions, click.formatting, click.parser,
            click.shell_completion, click.termui, click.types, click.utils)


def install() -> None:
    """Bind click's `_` and `ngettext` to CATALOGUE (idempotent)."""
    for module in _MODULES:
        if hasattr(module, "_"):
            module._ = CATALOGUE.gettext  # type: ignore[attr-defined]
        if hasattr(module, "ngettext"):
            module.ngettext = CATALOGUE.ngettext  # type: ignore[attr-defined]


# What the positional arguments are called on the usage line and in errors.
ARGUMENT_NAMES = {
    "item_id": "事项编号", "event": "事件", "directory": "目录", "file": "文件",
    "person": "姓名", "expression": "期限表述", "year": "年份", "ids": "编号",
    "names": "模板名", "name": "名称",
}


# What a value is, on the help page, for options whose type has an English metavar
# (`--title TEXT`, `--month INTEGER RANGE`): by the type's name.
TYPE_METAVARS = {
    "text": "文字", "integer": "整数", "integer range": "整数", "float": "数字",
    "float range": "数字", "path": "路径", "filename": "文件", "boolean": "是/否",
    "datetime": "时间", "uuid": "UUID",
}


def name_params(params: list[click.Parameter]) -> None:
    """Give the arguments their Chinese names and the options Chinese metavars, where the
    command did not name them itself."""
    for param in params:
        if param.metavar is not None:
            continue
        if isinstance(param, click.Argument) and param.name in ARGUMENT_NAMES:
            param.metavar = ARGUMENT_NAMES[param.name] + ("..." if param.nargs == -1 else "")
        elif isinstance(param, click.Option) and not param.is_flag and param.type.name in TYPE_METAVARS:
            param.metavar = TYPE_METAVARS[param.type.name]


def _param_name(param: click.Parameter | None, ctx: click.Context | None) -> str:
    """`--title（隐患或任务标题）` for an option, `事项编号` for an argument."""
    if param is None:
        return "参数"
    if isinstance(param, click.Option):
        shown = "/".join(o for o in param.opts if o.startswith("--")) or "/".join(param.opts)
        # the help text in brackets, its own brackets made commas: --actor（操作人，须在 org.yaml 中）
        help_text = (param.help or "").replace("（", "，").replace("）", "")
        return f"{shown}（{help_text}）" if help_text else shown
    return param.make_metavar(ctx) if ctx is not None else param.human_readable_name


def _choices(param: click.Parameter | None) -> str:
    if param is not None and isinstance(param.type, click.Choice):
        return "、".join(str(c) for c in param.type.choices)
    return ""


def _did_you_mean(possibilities: list[str] | None) -> str:
    return f"（是否指 {'、'.join(sorted(possibilities))}？）" if possibilities else ""


def usage_message(exc: click.ClickException) -> str:
    """The error in Chinese, said from the exception's facts where click assembles it."""
    ctx = getattr(exc, "ctx", None)
    param = getattr(exc, "param", None)
    if isinstance(exc, click.MissingParameter):
        kind = "选项" if isinstance(param, click.Option) else "参数"
        choices = _choices(param)
        return f"缺少{kind} {_param_name(param, ctx)}" + (f"，可选：{choices}" if choices else "")
    if isinstance(exc, click.BadParameter) and param is not None:
        return f"{_param_name(param, ctx)} 的值无效：{plain_ranges(_choice_message(exc, param))}"
    if isinstance(exc, click.NoSuchOption):
        return f"没有选项 {exc.option_name}{_did_you_mean(exc.possibilities)}"
    if isinstance(exc, click.exceptions.NoSuchCommand):
        return f"没有命令 {exc.command_name}{_did_you_mean(exc.possibilities)}"
    return exc.format_message()


_TOKEN = re.compile(r"\[[^\]\n]{1,30}\]|[\x21-\x7e]+|\s+|.")
# Punctuation a line may not begin with; it stays at the end of the line before.
_CLOSING = set("。，、；：！？）》」』”’")


_RANGES = [
    (re.compile(r"(-?[\d.]+)<=?x<=?(-?[\d.]+)"), r"\1 至 \2"),
    (re.compile(r"x>=(-?[\d.]+)"), r"不小于 \1"),
    (re.compile(r"x>(-?[\d.]+)"), r"大于 \1"),
    (re.compile(r"x<=(-?[\d.]+)"), r"不大于 \1"),
    (re.compile(r"x<(-?[\d.]+)"), r"小于 \1"),
]


def plain_ranges(text: str) -> str:
    """click's ranges as words: “1<=x<=12” → “1 至 12”, “x>=1” → “不小于 1”."""
    for pattern, said in _RANGES:
        text = pattern.sub(said, text)
    return text.replace("; ", "；")


def _joined(text: str) -> str:
    """The lines of a paragraph as one line: a space between two words, none where a
    line ends or begins with a Chinese character."""
    out = ""
    for line in (part.strip() for part in text.splitlines()):
        if out and line and (ord(out[-1]) < 0x2E80 and ord(line[0]) < 0x2E80):
            out += " "
        out += line
    return out


def wrap(text: str, width: int) -> list[str]:
    """`text` in lines of at most `width` terminal columns (a Chinese character takes two;
    closing punctuation may hang one past it), broken between Chinese characters or at
    spaces, never inside a word or an option."""
    lines: list[str] = []
    line = ""
    for token in _TOKEN.findall(_joined(text)):
        if line and cell_len(line + token) > width and token not in _CLOSING:
            lines.append(line.rstrip())
            line = "" if token.isspace() else token
        else:
            line += token
    return [*lines, line.rstrip()] if line.strip() else lines


def short_help(text: str, width: int) -> str:
    """The first sentence of a help text, cut to `width` columns with “…”."""
    first = _joined(inspect.cleandoc(text).split("\n\n")[0])
    end = first.find("。")
    first = first[: end + 1] if end >= 0 else first
    if cell_len(first) <= width:
        return first
    while first and cell_len(first) > width - 2:
        first = first[:-1]
    return first + "…"


class Formatter(click.HelpFormatter):
    """Help set out with Chinese punctuation (“用法：”, “选项：”) and columns measured in
    terminal cells, so that lines with Chinese text line up and fit the width."""

    def write_text(self, text: str) -> None:
        indent = " " * self.current_indent
        paragraphs = []
        for paragraph in re.split(r"\n\s*\n", text.strip("\n")):
            if paragraph.lstrip().startswith("\b"):  # click's mark: keep these lines as written
                paragraphs.append("\n".join(indent + line for line in paragraph.lstrip()[1:].strip("\n").splitlines()))
            else:
                paragraphs.append("\n".join(indent + line for line in wrap(paragraph, self.width - self.current_indent)))
        self.write("\n\n".join(paragraphs) + "\n")

    def write_dl(self, rows: Any, col_max: int = 30, col_spacing: int = 2) -> None:
        rows = list(rows)
        first_col = min(max((cell_len(first) for first, _ in rows), default=0), col_max) + col_spacing
        indent = " " * self.current_indent
        for first, second in rows:
            self.write(f"{indent}{first}")
            if not second:
                self.write("\n")
                continue
            if cell_len(first) <= first_col - col_spacing:
                self.write(" " * (first_col - cell_len(first)))
            else:
                self.write("\n" + " " * (first_col + self.current_indent))
            lines = wrap(plain_ranges(second), max(self.width - first_col - self.current_indent, 20)) or [""]
            self.write(lines[0] + "\n")
            for line in lines[1:]:
                self.write(" " * (first_col + self.current_indent) + line + "\n")

    def write_heading(self, heading: str) -> None:
        self.write(f"{'':>{self.current_indent}}{heading}：\n")

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        super().write_usage(prog, args, "用法：" if prefix is None else prefix)


class Context(click.Context):
    formatter_class = Formatter


def _choice_message(exc: click.BadParameter, param: click.Parameter) -> str:
    """click quotes a Choice's values as Python reprs ('一般', '重大'): list them as words."""
    if not isinstance(param.type, click.Choice):
        return exc.message
    choices = [str(c) for c in param.type.choices]
    return exc.message.replace(", ".join(map(repr, choices)), "、".join(choices))


class Shown(click.UsageError):
    """A click error said in Chinese: the usage line, where to find help, the error."""

    def __init__(self, original: click.ClickException) -> None:
        super().__init__(usage_message(original), getattr(original, "ctx", None))
        self.exit_code = original.exit_code  # type: ignore[misc]
        self.original = original

    def show(self, file: Any = None) -> None:
        if not isinstance(self.original, click.UsageError):
            click.echo(f"错误：{self.message}", err=True)
            return
        if self.ctx is not None:
            click.echo(self.ctx.get_usage(), err=True)
            click.echo(f"输入 {self.ctx.command_path} --help 查看帮助。\n", err=True)
        click.echo(f"错误：{self.message}", err=True)
