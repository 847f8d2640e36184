"""YAML reading for site files: safe, YAML-1.2-like scalars, and a line for every key.

PyYAML follows YAML 1.1, where `NO` is False and `1:30` is 90. Site files are edited
by hand, so only `true`/`false` are booleans and only plain decimals are numbers;
everything else stays the string the editor typed.

Limits (README "Input limits"), each refused as a ConfigError at the file and line:
anchors and aliases (`&a`, `*a`) are refused while the document is composed, before
anything is built, so an alias bomb never expands (PyYAML shares an aliased node, but
schema validation and error messages walk the shared graph as a tree); a file is at
most MAX_FILE_BYTES, checked before it is parsed (adapters/sitefiles.py reads at most
that many bytes of a file); lists and mappings nest at most
MAX_DEPTH deep.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from engine.errors import ConfigError


class LineDict(dict):  # type: ignore[type-arg]
    """A mapping that remembers the line of itself and of each key (1-based)."""

    line: int = 0
    key_lines: dict[str, int]

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)


class LineList(list):  # type: ignore[type-arg]
    line: int = 0
    item_lines: list[int]

    def line_of(self, index: int) -> int:
        return self.item_lines[index] if index < len(self.item_lines) else self.line


# A site file's largest size, in bytes (the shipped ones are a few KB).
MAX_FILE_BYTES = 1 << 20
# How deep lists and mappings may nest (the shipped files need 5).
MAX_DEPTH = 32

_NO_ALIASES = "站点文件不允许使用锚点和别名，请直接写出内容"


class _Refused(yaml.MarkedYAMLError):
    """Something the YAML language allows but site files do not; the message is the whole problem."""


class _Loader(yaml.SafeLoader):
    _depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            raise _Refused(problem=f"使用了 YAML 别名（*{event.anchor}），{_NO_ALIASES}", problem_mark=event.start_mark)
        if getattr(event, "anchor", None) is not None:
            raise _Refused(problem=f"使用了 YAML 锚点（&{event.anchor}），{_NO_ALIASES}", problem_mark=event.start_mark)
        if isinstance(event, yaml.CollectionStartEvent):
            if self._depth >= MAX_DEPTH:
                raise _Refused(problem=f"YAML 格式错误：列表或键值表嵌套层次过深（最多 {MAX_DEPTH} 层）",
                               problem_mark=event.start_mark)
            self._depth += 1
            try:
                return super().compose_node(parent, index)
            finally:
                self._depth -= 1
        return super().compose_node(parent, index)


# Drop YAML 1.1's implicit resolvers and put back a YAML 1.2 core-schema subset.
_Loader.yaml_implicit_resolvers = {}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:int", re.compile(r"^[-+]?[0-9]+$"), list("-+0123456789")
)
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?$"),
    list("-+0123456789."),
)
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:null", re.compile(r"^(?:~|null|Null|NULL|)$"), ["~", "n", "N", ""]
)


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> LineDict:
    result = LineDict()
    result.line = node.start_mark.line + 1
    result.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str | int):
            raise yaml.constructor.ConstructorError(
                None, None, "键必须是文字", key_node.start_mark
            )
        key = str(key)
        if key[:1] == "\u3000" or key[-1:] == "\u3000":
            raise yaml.constructor.ConstructorError(
                None, None, f"键“{key.strip()}”前后有全角空格“　”，请改为半角空格", key_node.start_mark
            )
        if key in result:
            raise yaml.constructor.ConstructorError(
                None, None, f"键“{key}”重复出现", key_node.start_mark
            )
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = key_node.start_mark.line + 1
    return result


def _construct_sequence(loader: _Loader, node: yaml.SequenceNode) -> LineList:
    if node.flow_style:
        for child in node.value:
            if isinstance(child, yaml.ScalarNode) and not child.style and "，" in child.value:
                raise _Refused(problem=f"第{child.start_mark.line + 1}行的列表用了全角逗号“，”（{child.value[:40]}），"
                                       "请改为半角“,”；若这一项本身含逗号，请给它加引号",
                               problem_mark=child.start_mark)
    result = LineList(loader.construct_object(child, deep=True) for child in node.value)
    result.line = node.start_mark.line + 1
    result.item_lines = [child.start_mark.line + 1 for child in node.value]
    return result


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


def _guarded(construct: Any) -> Any:
    """A scalar constructor whose failures (`!!int abc`, `!!timestamp 2020-13-45`, a
    5,000-digit number) are YAML errors at the value's line, not Python exceptions."""

    def construct_or_refuse(loader: _Loader, node: yaml.ScalarNode) -> Any:
        try:
            return construct(loader, node)
        except (ValueError, TypeError, AttributeError, KeyError, OverflowError) as exc:
            raise yaml.constructor.ConstructorError(
                None, None, f"无法读取的值“{str(node.value)[:60]}”（!!{node.tag.rsplit(':', 1)[-1]}）", node.start_mark
            ) from exc

    return construct_or_refuse


for _tag in ("bool", "int", "float", "timestamp"):
    _name = f"tag:yaml.org,2002:{_tag}"
    _Loader.add_constructor(_name, _guarded(yaml.SafeLoader.yaml_constructors[_name]))


def too_large(size: int) -> str:
    return f"文件过大（{size:,} 字节），站点文件最大 {MAX_FILE_BYTES:,} 字节（1 MiB）"


# PyYAML's problem (its start) → what it means, in Chinese, and whether the line to name
# is where the construct began (the context mark: the key that lacks its colon, the
# opening quote or bracket) rather than where PyYAML noticed (often the line after).
_PROBLEMS: list[tuple[str, str, bool]] = [
    ("could not find expected ':'", "缺少冒号“:”：这一行应写成“键: 值”（冒号为半角，后面留一个空格）", True),
    ("mapping values are not allowed here",
     "这里不能出现“键: 值”：可能是缩进不对，或值里含有“: ”（含冒号的值请加引号）", False),
    ("expected <block end>", "缩进不对：这一行与上面同一层的各行没有对齐", False),
    ("did not find expected key", "缩进不对，或缺少冒号：这一行应与同一层的键对齐，写成“键: 值”", False),
    ("did not find expected '-' indicator", "缩进不对：列表中的这一行应以“- ”开头并与上一项对齐", False),
    ("did not find expected node content", "这里缺少值", False),
    ("expected the node content", "这里缺少值", False),
    ("expected ',' or ']'", "方括号列表 [...] 没有闭合，或各项之间缺少半角逗号“,”", True),
    ("expected ',' or '}'", "花括号 {...} 没有闭合，或各项之间缺少半角逗号“,”", True),
    ("found unexpected end of stream", "引号没有闭合：从这一行开始的引号到文件末尾都没有结束", True),
    ("found unknown escape character", "双引号中的反斜杠“\\”无效（含反斜杠的文字请改用单引号）", False),
    ("found character", "这个字符不能出现在值的开头（如 @、`、%）：请给这个值加引号", False),
    ("expected a comment or a line break", "这一行的值后面多了内容：含空格、冒号或 # 的值请加引号", False),
    ("expected ' ', but found", "这里缺少一个空格", False),
    ("expected a single document", "文件中只能有一个文档：去掉多余的“---”", False),
    ("found unexpected document separator", "文件中只能有一个文档：去掉多余的“---”", False),
    ("found undefined tag handle", "不支持的 YAML 标签（以 ! 开头的写法）", False),
    ("could not determine a constructor", "不支持的 YAML 标签（以 ! 开头的写法）", False),
    ("expected chomping or indentation indicators", "多行文字（| 或 >）后面的写法不对", False),
    ("expected indentation indicator", "多行文字（| 或 >）后面的写法不对", False),
    ("while scanning a block scalar", "多行文字（| 或 >）的写法不对", False),
]
_UNREADABLE = "这一行无法读取：请检查冒号、缩进、引号和括号"
_FULL_WIDTH_COLON = re.compile(r"^\s*(?:-\s+)?[^\s#'\"：:][^#'\"：:]*：")


def full_width_hint(line_text: str, line: int) -> str | None:
    """What is wrong with a line whose key is followed by a full-width colon (`remind：`)
    or that is indented with a full-width space, in the words the editor needs."""
    if line_text.startswith("\u3000") or line_text.lstrip(" ").startswith("\u3000"):
        return f"第{line}行用全角空格“　”缩进，请改为半角空格"
    if _FULL_WIDTH_COLON.match(line_text):
        return f"第{line}行用了全角冒号“：”，请改为半角“:”（后面留一个空格）"
    return None


def _last_content_line(text: str, before: int | None) -> int | None:
    """The last line before `before` holding more than blanks and comments."""
    lines = text.splitlines()[: before or None]
    for number in range(len(lines), 0, -1):
        if lines[number - 1].strip() and not lines[number - 1].lstrip().startswith("#"):
            return number
    return before


def _line_text(text: str, line: int | None) -> str:
    lines = text.splitlines()
    return lines[line - 1] if line and 0 < line <= len(lines) else ""


def yaml_problem(exc: yaml.MarkedYAMLError, text: str) -> tuple[int | None, str]:
    """The line and the Chinese message of a PyYAML error."""
    problem = exc.problem or ""
    message, at_context = next(((said, at) for start, said, at in _PROBLEMS
                                if problem.startswith(start) or (exc.context or "").startswith(start)),
                               (_UNREADABLE, False))
    mark = (exc.context_mark if at_context else None) or exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark else None
    if "<stream end>" in problem:
        message, line = "文件到此结束，但括号或引号没有闭合", _last_content_line(text, line)
    for candidate in dict.fromkeys([line, exc.context_mark and exc.context_mark.line + 1,
                                    exc.problem_mark and exc.problem_mark.line + 1]):
        hint = full_width_hint(_line_text(text, candidate), candidate) if candidate else None
        if hint:
            return candidate, hint
    return line, f"YAML 格式错误：{message}"


def loads(text: str, filename: str) -> Any:
    """Parse one YAML document; syntax errors become a ConfigError with the line."""
    if len(text) > MAX_FILE_BYTES or len(text.encode("utf-8")) > MAX_FILE_BYTES:
        raise ConfigError.single(filename, None, too_large(len(text.encode("utf-8"))))
    if "\t" in text:
        raise ConfigError.single(filename, text[: text.index("\t")].count("\n") + 1, "文件中含有制表符（Tab），请改用空格缩进")
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader derives from SafeLoader
    except _Refused as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else None
        raise ConfigError.single(filename, line, exc.problem or "") from None
    except yaml.MarkedYAMLError as exc:
        if isinstance(exc, yaml.constructor.ConstructorError) and _is_chinese(exc.problem or ""):
            line, message = (exc.problem_mark.line + 1 if exc.problem_mark else None), f"YAML 格式错误：{exc.problem}"
        else:
            line, message = yaml_problem(exc, text)
        raise ConfigError.single(filename, line, message) from exc
    except yaml.reader.ReaderError as exc:
        line = text[: exc.position].count("\n") + 1
        raise ConfigError.single(filename, line, f"文件中含有不允许的控制字符（#x{exc.character:04X}）") from exc
    except RecursionError as exc:
        raise ConfigError.single(filename, None, "YAML 格式错误：列表或键值表嵌套层次过深") from exc
    except yaml.YAMLError as exc:
        raise ConfigError.single(filename, None, f"YAML 格式错误：{_UNREADABLE}") from exc


def _is_chinese(message: str) -> bool:
    """Whether a constructor's message is one of ours (Chinese) rather than PyYAML's."""
    return any("\u4e00" <= ch <= "\u9fff" for ch in message)
