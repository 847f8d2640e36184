"""The rule file's schema (rules/*.yaml): the words a rule may use and the JSON Schema
every file is checked against before anything is built from it."""

from __future__ import annotations

from typing import Any

from engine.org import role_words

ACTIONS = ("提醒", "通报", "约谈", "挂牌督办", "问责")
RECIPIENT_ROLES = {
    "responsible": "整改责任人",
    "watcher": "专人盯防人员",
    "unit_head": "责任单位负责人",
    "leader": "分管校领导",
    "principal": "校长",
    "safety_office": "综治办",
    "higher_authority": "上级教育部门",
}
DEFAULT_CATEGORIES = (
    "消防", "食品安全", "实验室及危化品", "治安防控", "校车及交通", "传染病防控", "建筑与施工",
    "实习实训", "燃气", "特种设备", "防溺水", "心理健康", "安全教育", "其他",
)

# Who may answer an extension request (延期申请): roles held on the item (engine.access)
# that a digest can also reach (engine.recipients).
EXTENSION_APPROVERS = {
    "safety_office": "综治办",
    "unit_head": "责任单位负责人",
    "leader": "分管校领导",
    "principal": "校长",
}
_EXTENSION = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "approvers": {"type": "array", "minItems": 1, "items": {"enum": role_words(EXTENSION_APPROVERS)}},
        "max_count": {"type": "integer", "minimum": 0},
        "max_days": {"type": "integer", "minimum": 1},
    },
}
_STRINGS = {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}, "minItems": 1}]}
_ROLES = {"type": "array", "minItems": 1, "items": {"enum": role_words(RECIPIENT_ROLES)}}
_STEP = {
    "type": "object",
    "required": ["after", "action", "notify"],
    "additionalProperties": False,
    "properties": {
        "after": {"type": "string"},
        "action": {"enum": list(ACTIONS)},
        "notify": _ROLES,
        "repeat": {"type": "string"},
        "urgent": {"type": "boolean"},
        "note": {"type": "string"},
    },
}
_LADDER = {"type": "array", "minItems": 1, "items": _STEP}
_RULE = {
    "type": "object",
    "required": ["name", "match"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "minLength": 1},
        "description": {"type": "string"},
        "match": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "kind": {"anyOf": [{"enum": ["hazard", "task"]}, {"type": "array", "items": {"enum": ["hazard", "task"]}}]},
                "category": _STRINGS, "level": _STRINGS, "unit": _STRINGS, "phase": _STRINGS, "tags": _STRINGS,
            },
        },
        "priority": {"type": "integer"},
        "deadline": {
            "type": "object",
            "required": ["expr"],
            "additionalProperties": False,
            "properties": {"expr": {"type": "string"}, "from": {"type": "string"}},
        },
        "remind": {"type": "array", "items": {"type": "string"}},
        "escalate": {"anyOf": [{"type": "string"}, _LADDER]},
        "pause_in": {"type": "array", "items": {"type": "string"}},
        "urgent": {"type": "boolean"},
        "extension": _EXTENSION,
    },
}
_PHASE = {
    "type": "object",
    "required": ["name", "window"],
    "additionalProperties": False,
    "properties": {"name": {"type": "string"}, "window": {"type": "string"}, "description": {"type": "string"}},
}
_OBLIGATION = {
    "type": "object",
    "required": ["name", "every", "units"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string"},
        "title": {"type": "string"},
        "every": {"type": "string"},
        "units": {"anyOf": [{"const": "all"}, {"type": "array", "items": {"type": "string"}, "minItems": 1}]},
        "report_to": {"type": "array", "items": {"type": "string"}},
        "phase": _STRINGS,
        "campaign": {"type": "string"},
        "from": {"type": "string"},
        "until": {"type": "string"},
    },
}
# What a 责任单位 cell means when it names no single unit ("…及相关部门").
UNIT_PHRASE_MEANINGS = {
    "all": "全部单位",
    "offices": "全部职能处室",
    "colleges": "全部二级学院",
    "safety_office": "综治办（牵头协调）",
    "none": "不指向任何单位（仅为说明）",
}
REPORT_PERIODS = {"quarter": "季度", "half": "半年", "month": "月", "year": "年"}
REPORT_RECIPIENTS = ("safety_office", "principal", "leader", "higher_authority")
_UNIT_PHRASE = {
    "type": "object",
    "required": ["phrase", "means"],
    "additionalProperties": False,
    "properties": {"phrase": {"type": "string", "minLength": 1},
                   "means": {"enum": list(UNIT_PHRASE_MEANINGS)}},
}
_REPORT = {
    "type": "object",
    "required": ["name", "period", "send_to"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "minLength": 1},
        "title": {"type": "string"},
        "period": {"enum": list(REPORT_PERIODS)},
        "send_to": {"type": "array", "minItems": 1, "items": {"enum": role_words(REPORT_RECIPIENTS)}},
        "campaign": {"type": "string"},
        "phase": _STRINGS,
    },
}
SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "$schema": {"type": "string"},
        "categories": {"type": "array", "items": {"type": "string"}, "minItems": 1},
        "ladders": {"type": "object", "additionalProperties": _LADDER},
        "rules": {"type": "array", "items": _RULE},
        "campaigns": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name", "phases"],
                "additionalProperties": False,
                "properties": {
                    "name": {"type": "string"},
                    "reference": {"type": "string"},
                    "phases": {"type": "array", "minItems": 1, "items": _PHASE},
                },
            },
        },
        "obligations": {"type": "array", "items": _OBLIGATION},
        "unit_phrases": {"type": "array", "items": _UNIT_PHRASE},
        "reports": {"type": "array", "items": _REPORT},
        "extension": _EXTENSION,
    },
}



def schema_document() -> dict[str, Any]:
    """The JSON Schema shipped as rules/rule.schema.json, for editors to complete and check."""
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "title": "rectify 规则文件", **SCHEMA}

