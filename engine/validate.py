"""Schema validation of site files, with every problem reported at its file and line."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import jsonschema

from engine.errors import Problem
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


def _message(error: jsonschema.ValidationError) -> str:
    where = "/".join(str(p) for p in error.absolute_path) or "（文件顶层）"
    if error.validator == "type":
        expected = error.validator_value
        names = [expected] if isinstance(expected, str) else list(expected)
        shown = "或".join(_TYPE_NAMES.get(n, n) for n in names)
        return f"“{where}”应为{shown}，实际是 {error.instance!r}（含冒号、点号或 yes/no 的值请加引号）"
    if error.validator == "required":
        missing = error.message.split("'")[1] if "'" in error.message else error.message
        return f"“{where}”缺少必填项“{missing}”"
    if error.validator == "additionalProperties":
        return f"“{where}”中有未知的键：{error.message.split('(')[-1].rstrip(')')}"
    if error.validator == "enum":
        allowed = "、".join(str(v) for v in error.validator_value)
        return f"“{where}”的值 {error.instance!r} 不在允许范围内（可选：{allowed}）"
    if error.validator == "minItems":
        return f"“{where}”不能为空"
    return f"“{where}”：{error.message}"


def check(data: Any, schema: dict[str, Any], filename: str) -> list[Problem]:
    """Every schema violation of `data`, each with the line it is on."""
    validator = jsonschema.Draft202012Validator(schema)
    problems = []
    for error in sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path))):
        problems.append(Problem(filename, line_at(data, error.absolute_path), _message(error)))
    return problems
