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

from engine.errors import ConfigError, Problem


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
        if key in result:
            raise yaml.constructor.ConstructorError(
                None, None, f"键“{key}”重复出现", key_node.start_mark
            )
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = key_node.start_mark.line + 1
    return result


def _construct_sequence(loader: _Loader, node: yaml.SequenceNode) -> LineList:
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
                None, None, f"无法读取的值“{str(node.value)[:60]}”（{node.tag}）", node.start_mark
            ) from exc

    return construct_or_refuse


for _tag in ("bool", "int", "float", "timestamp"):
    _name = f"tag:yaml.org,2002:{_tag}"
    _Loader.add_constructor(_name, _guarded(yaml.SafeLoader.yaml_constructors[_name]))


def too_large(size: int) -> str:
    return f"文件过大（{size:,} 字节），站点文件最大 {MAX_FILE_BYTES:,} 字节（1 MiB）"


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
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise ConfigError([Problem(filename, line, f"YAML 格式错误：{exc.problem or exc}")]) from exc
    except yaml.reader.ReaderError as exc:
        line = text[: exc.position].count("\n") + 1
        raise ConfigError.single(filename, line, f"文件中含有不允许的控制字符（#x{exc.character:04X}）") from exc
    except RecursionError as exc:
        raise ConfigError.single(filename, None, "YAML 格式错误：列表或键值表嵌套层次过深") from exc
    except yaml.YAMLError as exc:
        raise ConfigError([Problem(filename, None, f"YAML 格式错误：{exc}")]) from exc
