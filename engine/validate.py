"""Schema validation of site files, with every problem reported at its file and line."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import jsonschema

from engine.errors import Problem, quoted
from engine.names import closest, did_you_mean
from engine.yamlfile import LineDict, LineList


def line_at(data: Any, path: Iterable[Any]) -> int | None:
    """The line of the deepest node along `path` that knows its line."""
    line = getattr(data, "line", None) or None
    node = data
    for key in path:
        if isinstance(node, LineDict) and key in node:
            line = node.line_of(key)
            node = node[key]
        elif isinstance(node, LineList) and isinstance(key, int) and key < len(node):
            line = node.line_of(key)
            node = node[key]
        else:
            break
    return line


_TYPE_NAMES = {
    "string": "文字", "integer": "整数", "number": "数字", "boolean": "true/false",
    "array": "列表", "object": "键值表", "null": "空值",
}


def described(value: Any) -> str:
    """A value as a person reads it in a message: text in quotes, a list or a mapping by
    what it is (never a Python repr)."""
    if value is None:
        return "空值"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "一个键值表"
    if isinstance(value, list):
        return "一个列表"
    if isinstance(value, int | float):
        return str(value)
    return f"“{quoted(value)}”"


def _full_width(value: Any) -> str:
    """A hint for a text that was meant as “键: 值” but was typed with a full-width colon."""
    if isinstance(value, str) and re.match(r"^\s*[\w-]+\s*：", value):
        return "；这里用了全角冒号“：”，请改为半角“:”（后面留一个空格）"
    return ""


def _where(error: jsonschema.ValidationError) -> str:
    return "/".join(str(p) for p in error.absolute_path) or "（文件顶层）"


def _type_message(error: jsonschema.ValidationError) -> str:
    expected = error.validator_value
    names = [expected] if isinstance(expected, str) else list(expected)
    shown = "或".join(_TYPE_NAMES.get(n, n) for n in names)
    hint = _full_width(error.instance) or "（含冒号、点号或 yes/no 的值请加引号）"
    return f"“{_where(error)}”应为{shown}，实际是{described(error.instance)}{hint}"


def _enum_message(error: jsonschema.ValidationError) -> str:
    allowed = [str(v) for v in error.validator_value]
    hint = did_you_mean(str(error.instance), allowed) if isinstance(error.instance, str) else ""
    return (f"“{_where(error)}”的值{described(error.instance)}不在允许范围内"
            f"（{hint + '可选' if hint else '可选'}：{'、'.join(allowed)}）")


def _known_keys(schema: Any) -> list[str]:
    return list(schema.get("properties", {})) if isinstance(schema, dict) else []


def _unknown_keys(error: jsonschema.ValidationError, data: Any) -> list[Problem]:
    """One problem per key the schema does not know, at the key's own line, naming the
    closest known key."""
    known = _known_keys(error.schema)
    instance = error.instance if isinstance(error.instance, dict) else {}
    problems = []
    for key in (k for k in instance if k not in known):
        close = closest(str(key), known, 1)
        said = f"{key}：未知的键，" + (f"是否指 {close[0]}？" if close else f"可用的键：{'、'.join(known)}")
        line = line_at(data, [*error.absolute_path, key])
        problems.append(Problem("", line, said))
    return problems


def _alternatives_message(error: jsonschema.ValidationError) -> str:
    """anyOf/oneOf: the types it could have been, or the closest alternative's own problem."""
    subs = list(error.context or [])
    if subs and all(sub.validator == "type" and not sub.relative_path for sub in subs):
        names = [t for sub in subs for t in ([sub.validator_value] if isinstance(sub.validator_value, str)
                                              else sub.validator_value)]
        shown = "或".join(dict.fromkeys(_TYPE_NAMES.get(n, n) for n in names))
        return f"“{_where(error)}”应为{shown}，实际是{described(error.instance)}{_full_width(error.instance)}"
    others = [sub for sub in subs if sub.validator != "type" or sub.relative_path]
    if others:
        return _message(max(others, key=lambda sub: len(sub.relative_path)))
    return f"“{_where(error)}”不符合这里可用的写法（实际是{described(error.instance)}）{_full_width(error.instance)}"


_SIMPLE = {
    "minItems": "不能为空",
    "minLength": "不能为空",
    "uniqueItems": "中有重复的项",
}


def _message(error: jsonschema.ValidationError) -> str:
    where = _where(error)
    value = error.validator_value
    if error.validator == "type":
        return _type_message(error)
    if error.validator == "required":
        missing = [k for k in value if k not in (error.instance or {})]
        return f"“{where}”缺少必填项“{'”“'.join(missing)}”"
    if error.validator == "enum":
        return _enum_message(error)
    if error.validator == "const":
        return f"“{where}”的值{described(error.instance)}无效，应为“{value}”"
    if error.validator in _SIMPLE:
        return f"“{where}”{_SIMPLE[error.validator]}"
    if error.validator in ("minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum"):
        bound = {"minimum": "不能小于", "exclusiveMinimum": "应大于", "maximum": "不能大于",
                 "exclusiveMaximum": "应小于"}[error.validator]
        return f"“{where}”的值 {described(error.instance)} {bound} {value}"
    if error.validator == "maxLength":
        return f"“{where}”过长：最多 {value} 个字符"
    if error.validator == "pattern":
        return f"“{where}”的值{described(error.instance)}格式不对"
    if error.validator in ("anyOf", "oneOf"):
        return _alternatives_message(error)
    if error.validator == "additionalProperties":  # inside anyOf: checked as a whole elsewhere
        unknown = _unknown_keys(error, None)
        if unknown:
            return f"“{where}”中的" + "；".join(p.message for p in unknown)
    return f"“{where}”不符合要求（实际是{described(error.instance)}）"


def check(data: Any, schema: dict[str, Any], filename: str) -> list[Problem]:
    """Every schema violation of `data`, each with the line it is on."""
    validator = jsonschema.Draft202012Validator(schema)
    problems = []
    for error in sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path))):
        if error.validator == "additionalProperties":
            problems += [Problem(filename, p.line, p.message) for p in _unknown_keys(error, data)]
        else:
            problems.append(Problem(filename, line_at(data, error.absolute_path), _message(error)))
    return problems
