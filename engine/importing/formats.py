"""The two list formats: their columns (titles and aliases), which are required or carried
down, the words a cell may use, and finding the header row of a sheet."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from engine.errors import quoted
from engine.text import clean as clean_text


@dataclass
class Table:
    """One sheet: its name and its rows as (row number, cell values), streamed."""

    name: str
    rows: Iterable[tuple[int, Sequence[Any]]]
    total: int | None = None  # rows in the sheet, when the file says (for progress bars)


@dataclass(frozen=True)
class Column:
    name: str  # internal
    title: str  # the canonical Chinese header
    aliases: tuple[str, ...] = ()


def _columns(*specs: Column) -> dict[str, Column]:
    return {c.name: c for c in specs}


TASK_COLUMNS = _columns(
    Column("list_no", "序号", ("编号", "no", "no.")),
    Column("project", "整治项目", ("project",)),
    Column("title", "整治内容", ("title",)),
    Column("description", "突出问题", ("problem",)),
    Column("units", "责任单位", ("牵头单位", "unit", "units")),
    Column("requirement", "整治要求", ("整改要求", "requirement")),
    Column("deadline", "完成时间", ("完成时限", "完成期限", "deadline")),
    Column("remarks", "备注", ("备考", "remarks")),
)
TASK_REQUIRED = ("list_no", "title", "units", "requirement", "deadline")
# Blank cells in these columns mean "as above".
TASK_CARRIED = ("project", "title", "description", "units")

HAZARD_COLUMNS = _columns(
    Column("item_id", "台账编号", ("item id", "item_id")),
    Column("origin", "来源编号", ("origin",)),
    Column("kind", "事项类型", ("kind",)),
    Column("key", "编号", ("隐患编号", "序号", "key", "no", "no.")),
    Column("title", "隐患名称", ("标题", "隐患标题", "隐患内容", "存在问题", "title")),
    Column("category", "类别", ("隐患类别", "隐患类型", "category")),
    Column("level", "等级", ("隐患等级", "隐患级别", "级别", "level")),
    Column("units", "责任单位", ("整改责任单位", "责任部门", "整改单位", "unit")),
    Column("co_units", "配合单位", ("协办单位", "co_units")),
    Column("responsible", "责任人", ("整改责任人", "responsible")),
    Column("location", "位置", ("地点", "隐患部位", "部位", "隐患位置", "所在位置", "location")),
    Column("found_at", "发现时间", ("发现日期", "排查时间", "排查日期", "检查时间", "检查日期", "found", "found_at", "found date")),
    Column("reporter", "报告人", ("排查人", "检查人", "发现人", "reporter")),
    Column("deadline", "整改时限", ("整改期限", "完成时间", "完成时限", "整改时间", "deadline")),
    Column("measures", "整改措施", ("measures",)),
    Column("description", "描述", ("隐患描述", "具体情况", "description")),
    Column("interim_controls", "防控措施", ("临时防控措施", "interim_controls")),
    Column("watcher", "专人盯防", ("盯防人", "watcher")),
    Column("funds", "整改资金", ("资金", "funds")),
    Column("requirement", "整治要求", ("requirement",)),
    Column("project", "整治项目", ("project",)),
    Column("list_no", "清单序号", ("list_no",)),
    Column("remarks", "备注", ("备考", "remarks")),
)
HAZARD_REQUIRED = ("title", "units", "found_at")
# Text fields an import may set or correct on an item (besides unit and deadline).
TEXT_FIELDS = ("title", "category", "level", "location", "measures", "description", "interim_controls",
               "funds", "requirement", "project", "list_no", "remarks")
PERSON_FIELDS = ("responsible", "reporter", "watcher")
FORMATS = {"task": (TASK_COLUMNS, TASK_REQUIRED), "hazard": (HAZARD_COLUMNS, HAZARD_REQUIRED)}
LEVEL_WORDS = {"一般": "一般", "一般隐患": "一般", "general": "一般", "重大": "重大", "重大隐患": "重大", "major": "重大"}
KIND_WORDS = {"hazard": "hazard", "隐患": "hazard", "task": "task", "整治任务": "task", "任务": "task"}

HEADER_SCAN = 20  # header rows are looked for among the first rows of a sheet


def normalise_header(value: Any) -> str:
    text = "" if value is None else clean_text(str(value))
    return re.sub(r"[\s*＊:：]+", "", text).lower()


def _lookup(columns: dict[str, Column]) -> dict[str, str]:
    found: dict[str, str] = {}
    for col in columns.values():
        for alias in (col.title, *col.aliases):
            found.setdefault(normalise_header(alias), col.name)
    return found


@dataclass(frozen=True)
class Header:
    row: int
    kind: str
    positions: dict[str, int]  # column name -> index in the row
    letters: dict[str, str]  # column name -> the header text as written
    unused: tuple[str, ...]  # headers that mean nothing here


def find_header(rows: Sequence[tuple[int, Sequence[Any]]], kind: str | None) -> tuple[Header | None, str]:
    """The header row among the first rows, for the given kind or whichever fits best;
    (None, why) when no row has every required column."""
    best: tuple[int, Header] | None = None
    missing_note = ""
    for number, values in rows:
        for candidate in ([kind] if kind else ["task", "hazard"]):
            columns, required = FORMATS[candidate]
            positions, letters, unused = _match_columns(values, _lookup(columns))
            if len(positions) < 2:
                continue
            lacking = [columns[n].title for n in required if n not in positions]
            if lacking:
                if not missing_note or len(positions) > 2:
                    missing_note = f"第{number}行像是表头，但缺少必需的列：{'、'.join(lacking)}"
                continue
            header = Header(number, candidate, positions, letters, tuple(unused))
            score = len(positions)
            if best is None or score > best[0]:
                best = (score, header)
        if best:
            return best[1], ""
    return None, missing_note or f"前{HEADER_SCAN}行中找不到表头（应含“序号、整治内容、责任单位、整治要求、完成时间”或“隐患名称、责任单位、发现时间”等列）"


def _match_columns(values: Sequence[Any], names: dict[str, str]) -> tuple[dict[str, int], dict[str, str], list[str]]:
    """A candidate header row read against one format's headers: (positions, letters as
    written, the quoted headers that mean nothing in this format)."""
    positions: dict[str, int] = {}
    letters: dict[str, str] = {}
    unused = []
    for index, value in enumerate(values):
        key = normalise_header(value)
        if not key:
            continue
        name = names.get(key)
        if name and name not in positions:
            positions[name], letters[name] = index, str(value).strip()
        else:
            unused.append(quoted(str(value).strip()))
    return positions, letters, unused
