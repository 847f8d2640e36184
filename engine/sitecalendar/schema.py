"""The JSON Schema calendar.yaml is checked against before anything is built from it."""

from __future__ import annotations

from typing import Any

_NAME = {"type": "string", "minLength": 1}
_DAYS = {"type": "object", "additionalProperties": _NAME}
_YEAR = {
    "type": "object",
    "required": ["holidays"],
    "additionalProperties": False,
    "properties": {
        "notice": {"type": "string"},
        "holidays": {**_DAYS, "minProperties": 1},
        "workdays": _DAYS,
    },
}
_LOCAL = {
    "type": "object",
    "required": ["days"],
    "additionalProperties": False,
    "properties": {"days": _NAME, "off": _NAME, "work": _NAME, "campus": _NAME},
}
_TERM = {
    "type": "object",
    "required": ["name", "start", "end"],
    "additionalProperties": False,
    "properties": {"name": _NAME, "start": _NAME, "end": _NAME, "campus": _NAME},
}
# An event's occurrence: a day, "start至end", or {start, end} (end defaults to start).
_SPAN = {
    "type": "object",
    "required": ["start"],
    "additionalProperties": False,
    "properties": {"start": _NAME, "end": _NAME},
}
_OCCURRENCE = {"anyOf": [_NAME, _SPAN]}
_EVENT = {"anyOf": [_NAME, _SPAN, {"type": "array", "minItems": 1, "items": _OCCURRENCE}]}
SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "$schema": {"type": "string"},
        # Each section may be left empty ("years:" with its entries commented out).
        "years": {"type": ["object", "null"], "additionalProperties": _YEAR},
        "campuses": {"type": ["array", "null"], "items": _NAME},
        "local": {"type": ["array", "null"], "items": _LOCAL},
        "terms": {"type": ["array", "null"], "items": _TERM},
        "events": {"type": ["object", "null"], "additionalProperties": _EVENT},
    },
}


def schema_document() -> dict[str, Any]:
    """The JSON Schema shipped next to calendar.yaml, for editors to complete and check."""
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "title": "rectify 站点日历",
            **SCHEMA}
