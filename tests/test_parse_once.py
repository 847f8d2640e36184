"""The suite's parse-once memo (tests/conftest.py) hands out exactly what a fresh parse
gives: equal values, the same lines for every mapping, key and list item, and objects of
the caller's own; a text that fails fails again. Its schema-check memo answers what a
fresh check answers."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from adapters.resources import shipped, site_file
from engine import validate, yamlfile
from engine.errors import ConfigError
from tests.conftest import _check, _parse, check_once, parse_once

SHIPPED = sorted([*shipped("rules").glob("*.yaml"), *shipped("workflows").glob("*.yaml"),
                  *(site_file(n) for n in ("rectify.yaml", "org.yaml", "calendar.yaml"))])


def _lines(value: Any) -> Any:
    """The value with every line number it remembers, as plain data."""
    if isinstance(value, yamlfile.LineDict):
        return ("map", value.line, value.key_lines, {k: _lines(v) for k, v in value.items()})
    if isinstance(value, yamlfile.LineList):
        return ("list", value.line, value.item_lines, [_lines(v) for v in value])
    return value


def test_the_suite_parses_through_the_memo_unless_told_not_to() -> None:
    expected = _parse if os.environ.get("RECTIFY_TEST_PARSE_EVERY_TIME") else parse_once
    assert yamlfile.loads is expected


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_a_remembered_parse_is_a_fresh_parse(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    fresh = _parse(text, str(path))
    first, again = parse_once(text, str(path)), parse_once(text, str(path))
    assert _lines(first) == _lines(again) == _lines(fresh)
    assert type(first) is type(fresh) and first is not again
    first[next(iter(first))] = "改过"  # a caller changing its copy changes nobody else's
    assert _lines(parse_once(text, str(path))) == _lines(fresh)


def test_a_text_that_fails_fails_every_time() -> None:
    text = 'a: &x ["lol"]\nb: *x\n'
    for _ in range(2):
        with pytest.raises(ConfigError, match="锚点"):
            parse_once(text, "bomb.yaml")


def test_a_text_remembered_under_one_name_is_a_fresh_parse_under_another(tmp_path: Path) -> None:
    text = site_file("org.yaml").read_text(encoding="utf-8")
    parse_once(text, str(tmp_path / "a" / "org.yaml"))
    assert _lines(parse_once(text, str(tmp_path / "b" / "org.yaml"))) == _lines(_parse(text, "elsewhere.yaml"))


def test_a_failing_text_names_the_file_it_was_read_from() -> None:
    for name in ("one.yaml", "two.yaml"):
        with pytest.raises(ConfigError) as caught:
            parse_once("a: [unclosed\n", name)
        assert caught.value.problems[0].file == name


SCHEMA = {"type": "object", "properties": {"remind": {"type": "string"}}, "additionalProperties": False}


def test_the_engine_checks_schemas_through_the_memo_unless_told_not_to() -> None:
    from engine import org, workflow
    expected = _check if os.environ.get("RECTIFY_TEST_PARSE_EVERY_TIME") else check_once
    assert validate.check is org.check is workflow.check is expected


def test_a_remembered_check_is_a_fresh_check() -> None:
    good = yamlfile.loads("remind: 3日前\n", "a.yaml")
    bad = yamlfile.loads("\nremind: 3\n", "b.yaml")
    for _ in range(2):
        assert check_once(good, SCHEMA, "a.yaml") == _check(good, SCHEMA, "a.yaml") == []
        assert check_once(bad, SCHEMA, "b.yaml") == _check(bad, SCHEMA, "b.yaml") != []
        assert check_once(bad, SCHEMA, "b.yaml")[0].line == 2
    stricter = {**SCHEMA, "required": ["escalate"]}
    assert check_once(good, stricter, "a.yaml") == _check(good, stricter, "a.yaml") != []
