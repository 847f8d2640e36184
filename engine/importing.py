"""Importing the campaign's lists: a task list (问题清单、任务清单、责任清单) or a hazard
list, read row by row into items, all or nothing.

This module knows the formats and their habits, not the file types: adapters/sheets.py
turns an .xlsx or .csv into `Table`s of plain cell values. Reading a table yields
`RowPlan`s (what each row means) and every problem found, each naming sheet, row and
column; `Importer.plan` then compares the rows with what is stored (a stable key per
row, so importing again creates no duplicates) and `Importer.apply` writes it in one
transaction.

Habits of real task lists that are understood:
- a blank cell in 整治项目, 整治内容, 突出问题 or 责任单位 means "as above" (merged cells);
- a row without 序号 continues the task above with another 整治要求 and its own 完成时间;
  each requirement becomes its own item, keyed 序号, 序号.2, 序号.3 …;
- several units in one cell ("教务处、综治办及相关部门"): the first named unit leads, the
  others assist; phrases naming no single unit are read as the rules' unit_phrases say;
- 完成时间 in the deadline language ("2020年底前", "立整立改\\n长期坚持"), read at the
  campaign's reference date.
"""

from __future__ import annotations

import difflib
import hashlib
import itertools
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from engine.deadline.dates import FIRST_YEAR, LAST_YEAR
from engine.errors import (
    CellProblem,
    DeadlineError,
    NotFound,
    RectifyError,
    SheetError,
    quoted,
    unknown_category,
)
from engine.model import IMPORT_FIELDS, Item, LedgerEntry, check_lengths, text_limit
from engine.org import Org
from engine.plan import read_deadline
from engine.policy import Policy
from engine.service import Engine, Report
from engine.text import FORBIDDEN, code_points
from engine.text import clean as clean_text
from engine.text import strip as strip_text

# How many problems are listed before the rest are only counted.
MAX_PROBLEMS = 200
# The most rows one import reads, by default (`rectify import --max-rows`): the plan holds
# every row until it is written, about 6 KB a row (README "Input limits").
MAX_ROWS = 100_000
# Rows planned together: one store lookup each, and few enough that a row's deadline,
# read when the row is read, is still memoised (plan.read_deadline) when it is planned.
PLAN_BATCH = 1000


class Formula(str):
    """A cell holding a formula instead of a value (its text, e.g. "=SUM(A1:A3)")."""


@dataclass
class Table:
    """One sheet: its name and its rows as (row number, cell values), streamed."""

    name: str
    rows: Iterable[tuple[int, Sequence[Any]]]
    total: int | None = None  # rows in the sheet, when the file says (for progress bars)


# -- columns -------------------------------------------------------------------------


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
)
HAZARD_REQUIRED = ("title", "units", "found_at")
# Text fields an import may set or correct on an item (besides unit and deadline).
TEXT_FIELDS = ("title", "category", "level", "location", "measures", "description", "interim_controls",
               "funds", "requirement", "project", "list_no")
PERSON_FIELDS = ("responsible", "reporter", "watcher")
FORMATS = {"task": (TASK_COLUMNS, TASK_REQUIRED), "hazard": (HAZARD_COLUMNS, HAZARD_REQUIRED)}
LEVEL_WORDS = {"一般": "一般", "一般隐患": "一般", "general": "一般", "重大": "重大", "重大隐患": "重大", "major": "重大"}
KIND_WORDS = {"hazard": "hazard", "隐患": "hazard", "task": "task", "整治任务": "task", "任务": "task"}

_HEADER_SCAN = 20  # header rows are looked for among the first rows of a sheet


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
            names = _lookup(columns)
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
    return None, missing_note or f"前{_HEADER_SCAN}行中找不到表头（应含“序号、整治内容、责任单位、整治要求、完成时间”或“隐患名称、责任单位、发现时间”等列）"


# The longest text a cell takes, for columns that fill no field of the same name (the
# others take their field's limit, engine.model): README "Input limits".
_CELL_LIMITS = {"item_id": 20, "origin": 200, "kind": 20, "key": 100, "found_at": 64,
                "units": text_limit("unit_text")[1]}


def cell_limit(column: str) -> int:
    """The most characters a cell of `column` (a Column name) may hold."""
    return _CELL_LIMITS.get(column) or text_limit(column)[1]


# -- units ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Units:
    """A 责任单位 cell understood: the lead unit, the assisting ones, and how it was read."""

    lead: str
    others: tuple[str, ...]
    reading: str

    @property
    def co_units(self) -> str:
        return "、".join(self.others)


_SEPARATORS = set("、，,；;/／ \t\r\n及和与等")


class UnitReader:
    """Reads 责任单位 cells against org.yaml and the rules' unit_phrases."""

    def __init__(self, org: Org, policy: Policy) -> None:
        self.org = org
        self.vocabulary: dict[str, tuple[str, str]] = {}  # word -> ("unit", name) | ("phrase", meaning)
        for phrase in policy.unit_phrases:
            self.vocabulary[phrase.phrase] = ("phrase", phrase.means)
        for unit in org.units.values():
            for word in (unit.name, *unit.aliases):
                self.vocabulary[word] = ("unit", unit.name)  # a real unit wins over a phrase
        self.longest = max((len(w) for w in self.vocabulary), default=1)
        self._cache: dict[str, Units] = {}

    def read(self, text: str) -> Units:
        """Raises NotFound naming the part that is neither a unit nor a known phrase."""
        key = text.strip()
        found = self._cache.get(key)
        if found is None:
            found = self._cache[key] = self._read(key)
        return found

    def _read(self, text: str) -> Units:
        named: list[str] = []
        meanings: list[str] = []
        i = 0
        while i < len(text):
            word = self._word_at(text, i)
            if word is not None:
                what, value = self.vocabulary[word]
                (named if what == "unit" else meanings).append(value)
                i += len(word)
            elif text[i] in _SEPARATORS:
                i += 1
            else:
                j = i
                while j < len(text) and text[j] not in _SEPARATORS:
                    j += 1
                unknown = text[i:j]
                close = difflib.get_close_matches(unknown, [w for w, v in self.vocabulary.items() if v[0] == "unit"], 3, 0.5)
                hint = f"是否指：{'、'.join(close)}？" if close else "请在 org.yaml 中登记该单位（或其别名），或在规则文件 unit_phrases 中说明这种说法"
                raise NotFound("单位", unknown, hint)
        if not named and not meanings:
            raise NotFound("单位", text or "（空）", "责任单位不能为空")
        extra: list[str] = []
        lead_by_office = False
        for meaning in meanings:
            if meaning == "all":
                extra += list(self.org.units)
            elif meaning == "offices":
                extra += [u.name for u in self.org.units.values() if u.kind == "office"]
            elif meaning == "colleges":
                extra += [u.name for u in self.org.units.values() if u.kind == "college"]
            elif meaning == "safety_office":
                extra.append(self.org.safety_office)
                lead_by_office = True
        ordered = list(dict.fromkeys(named + extra))
        if named:
            lead = named[0]
        elif lead_by_office or extra:
            lead = self.org.safety_office  # nobody named: the coordinating office leads
        else:
            raise NotFound("单位", text, "这一栏没有指出任何单位")
        others = tuple(u for u in ordered if u != lead)
        reading = f"牵头：{lead}" + (f"；配合：{'、'.join(others)}" if others else "")
        return Units(lead, others, reading)

    def _word_at(self, text: str, i: int) -> str | None:
        for length in range(min(self.longest, len(text) - i), 0, -1):
            word = text[i:i + length]
            if word in self.vocabulary:
                return word
        return None


# -- values --------------------------------------------------------------------------


def cell_text(value: Any) -> str:
    """A cell as text: numbers without a spurious .0, dates as ISO, whitespace trimmed."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="minutes")
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


_DATE_PATTERNS = (
    re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?"),
    re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日(?:\s*(\d{1,2})[:时](\d{2})?分?)?"),
)
EXCEL_EPOCH = datetime(1899, 12, 30)


def parse_instant(value: Any, tz: ZoneInfo) -> datetime:
    """A found-date cell: a date or datetime cell, an Excel serial number, or text such as
    2021-03-01, 2021/3/1 9:30, 2021年3月1日. Raises ValueError with the reason."""
    instant = _read_instant(value, tz)
    if not FIRST_YEAR <= instant.year <= LAST_YEAR:
        raise ValueError(f"日期“{cell_text(value)}”超出可以计算的日期范围（{FIRST_YEAR}年至{LAST_YEAR}年）")
    return instant


def _read_instant(value: Any, tz: ZoneInfo) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=tz)
    if isinstance(value, date):
        return datetime.combine(value, time(), tz)
    if isinstance(value, int | float) and not isinstance(value, bool):
        if 20000 < value < 80000:  # an Excel date serial that lost its format
            return (EXCEL_EPOCH + timedelta(days=float(value))).replace(tzinfo=tz)
        raise ValueError(f"数字“{cell_text(value)}”不是日期")
    text = cell_text(value)
    for pattern in _DATE_PATTERNS:
        m = pattern.fullmatch(text)
        if m:
            parts = [int(p) if p else 0 for p in m.groups()]
            try:
                return datetime(parts[0], parts[1], parts[2], parts[3], parts[4],
                                parts[5] if len(parts) > 5 else 0, tzinfo=tz)
            except ValueError as exc:
                raise ValueError(f"日期“{text}”不存在") from exc
    raise ValueError(f"无法识别的日期“{text}”（应写成 2021-03-01、2021/3/1 或 2021年3月1日）")


def deadline_text(value: Any) -> str:
    """A deadline cell as a deadline expression: a date cell becomes "2021年3月15日前"."""
    if isinstance(value, datetime | date):
        return f"{value.year}年{value.month}月{value.day}日前"
    return cell_text(value)


# -- rows ----------------------------------------------------------------------------


@dataclass
class RowPlan:
    """What one row (or one requirement of a task row) asks for."""

    sheet: str
    row: int
    kind: str
    key: str  # the origin key, or "#<id>" for a row naming a stored item
    item_id: int | None
    title: str
    fields: dict[str, Any]  # field -> value, for a new item and for comparison
    found_at: datetime | None
    unit_reading: str = ""
    deadline_reading: str = ""


@dataclass
class Outcome:
    """A row's fate: new, changed, unchanged, or kept (a closed item is not edited)."""

    row: RowPlan
    action: str
    item_id: int | None = None
    changes: dict[str, list[Any]] = field(default_factory=dict)
    note: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"sheet": self.row.sheet, "row": self.row.row, "kind": self.row.kind, "key": self.row.key,
                "action": self.action, "item_id": self.item_id, "title": self.row.title,
                "unit": self.row.fields.get("unit"), "units": self.row.unit_reading,
                "deadline": self.row.deadline_reading, "changes": self.changes, "note": self.note}


ACTIONS = {"new": "新增", "changed": "更新", "unchanged": "不变", "kept": "未改动"}


@dataclass
class ImportPlan:
    file: str
    outcomes: list[Outcome]
    warnings: list[str]
    new: list[tuple[Item, LedgerEntry]] = field(default_factory=list)
    changed: list[tuple[Item, int, LedgerEntry]] = field(default_factory=list)

    def count(self, action: str) -> int:
        return sum(1 for o in self.outcomes if o.action == action)

    def summary(self) -> str:
        parts = [f"{ACTIONS[a]} {self.count(a)} 项" for a in ACTIONS if self.count(a)]
        return "，".join(parts) or "没有数据行"


class Reader:
    """Turns tables into RowPlans, collecting every problem (up to MAX_PROBLEMS)."""

    def __init__(self, file: str, org: Org, policy: Policy, tz: ZoneInfo, *, kind: str | None,
                 reference: datetime | None, sources: dict[str, str], check_deadline: Callable[[str, datetime], str],
                 max_rows: int) -> None:
        self.file, self.org, self.policy, self.tz = file, org, policy, tz
        # The key prefix of each list kind: a task list's campaign, a hazard list's name.
        self.kind, self.reference, self.sources = kind, reference, sources
        self.check_deadline = check_deadline
        self.max_rows = max_rows
        self.units = UnitReader(org, policy)
        self.problems: list[CellProblem] = []
        self.problem_count = 0
        self.warnings: list[str] = []
        self.stripped = 0  # cells that had forbidden characters removed (engine.text)
        self.rows_read = 0
        self.categories = set(policy.categories)

    def problem(self, sheet: str | None, row: int | None, column: str | None, message: str) -> None:
        self.problem_count += 1
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(CellProblem(self.file, sheet, row, column, message))

    def rows(self, tables: Iterable[Table], only_sheet: str | None = None) -> Iterator[RowPlan]:
        """The rows to import, as they are read (Importer.plan consumes them in batches,
        while their deadlines are still in read_deadline's memo); problems are collected."""
        found = 0
        seen: dict[str, tuple[str, int]] = {}
        sheets_seen, skipped = 0, list[tuple[str, str]]()
        for table in tables:
            if only_sheet is not None and table.name != only_sheet:
                continue
            sheets_seen += 1
            rows = iter(table.rows)
            head = []
            for pair in rows:
                head.append(pair)
                if len(head) >= _HEADER_SCAN:
                    break
            header, why = find_header(head, self.kind)
            if header is None:
                if only_sheet is not None:
                    self.problem(table.name, None, None, why)
                else:
                    skipped.append((table.name, why))
                continue
            if header.unused:
                self.warnings.append(f"工作表“{table.name}”中这些列不导入：{'、'.join(header.unused)}")
            body = _chain((p for p in head if p[0] > header.row), rows)
            read_rows = self._task_rows if header.kind == "task" else self._hazard_rows
            for plan in read_rows(table.name, header, body):
                taken = seen.get(plan.key)
                if taken is not None:
                    self.problem(plan.sheet, plan.row, None,
                                 f"与工作表“{taken[0]}”第{taken[1]}行是同一事项（{_key_title(plan.key)}），同一文件中不能出现两次")
                    continue
                seen[plan.key] = (plan.sheet, plan.row)
                found += 1
                yield plan
        if only_sheet is not None and sheets_seen == 0:
            self.problem(only_sheet, None, None, "文件中没有这个工作表")
        elif not found and not self.problem_count:
            reasons = "；".join(f"工作表“{name}”：{why}" for name, why in skipped)
            self.problem(None, None, None, reasons or "文件中没有任何数据行")
        else:
            self.warnings += [f"工作表“{name}”不是任务清单或隐患清单，已跳过" for name, _ in skipped]
        if self.stripped > MAX_PROBLEMS:
            self.warnings.append(f"另有 {self.stripped - MAX_PROBLEMS} 个单元格删除了不可见的控制字符（只列出前 {MAX_PROBLEMS} 个）")

    def _count_row(self, sheet: str, number: int) -> bool:
        self.rows_read += 1
        if self.rows_read > self.max_rows:
            if self.rows_read == self.max_rows + 1:
                self.problem(sheet, number, None, f"超过单次导入的上限 {self.max_rows} 行，请分批导入（或用 --max-rows 调高上限）")
            return False
        return True

    def _data_rows(self, sheet: str, header: Header,
                   rows: Iterable[tuple[int, Sequence[Any]]]) -> Iterator[tuple[int, dict[str, Any]]]:
        """(row number, cells by column) for every non-empty row, up to the row limit."""
        for number, values in rows:
            if not self._count_row(sheet, number):
                return
            cells = self._cells(sheet, number, header, values)
            if cells is not None:
                yield number, cells

    def _cells(self, sheet: str, number: int, header: Header, values: Sequence[Any]) -> dict[str, Any] | None:
        """The row's cells by column name; None for an empty row or one with a formula."""
        cells: dict[str, Any] = {}
        bad = False
        for name, index in header.positions.items():
            value = values[index] if index < len(values) else None
            if isinstance(value, Formula):
                self.problem(sheet, number, header.letters[name],
                             f"单元格是公式（{value[:60]}）而不是数值；请在表格软件中复制后“选择性粘贴为数值”再导入")
                bad = True
                continue
            if isinstance(value, str):
                if FORBIDDEN.search(value):
                    value = self._stripped(sheet, number, header.letters[name], value)
                value = value.strip() or None
                if value is not None and len(value) > (limit := cell_limit(name)):
                    self.problem(sheet, number, header.letters[name],
                                 f"内容过长：共 {len(value):,} 个字符，这一列最多 {limit:,} 个字符")
                    bad = True
                    continue
            cells[name] = value
        if bad:
            return None
        if all(v is None for v in cells.values()):
            return None
        return cells

    def _stripped(self, sheet: str, number: int, column: str, value: str) -> str:
        """The cell without its control characters, with a warning naming where they were."""
        text, removed = strip_text(value)
        self.stripped += 1
        if self.stripped <= MAX_PROBLEMS:
            self.warnings.append(str(CellProblem(self.file, sheet, number, column,
                                                 f"删除了不可见的控制字符 {code_points(removed)}，请核对导入的内容")))
        return text

    # -- the task list ---------------------------------------------------------------

    def _task_rows(self, sheet: str, header: Header, rows: Iterable[tuple[int, Sequence[Any]]]) -> Iterator[RowPlan]:
        ref = self.reference
        if ref is None:
            self.problem(sheet, None, None, "任务清单的完成时间需要参照日期：规则文件中只能有一个专项行动（带 reference），或用 --campaign / --reference 指定")
            return
        above: dict[str, Any] = {}
        current_no: str | None = None
        requirement_index = 0
        pending: list[RowPlan] = []
        for number, cells in self._data_rows(sheet, header, rows):
            list_no = cell_text(cells.get("list_no"))
            if list_no:
                yield from _numbered(pending)
                pending = []
                current_no, requirement_index = list_no, 1
            elif current_no is None:
                self.problem(sheet, number, header.letters["list_no"], "没有序号，上面也没有可以接续的任务")
                continue
            else:
                requirement_index += 1
            for name in TASK_CARRIED:
                if cells.get(name) is None and name in above:
                    cells[name] = above[name]
            above.update({k: v for k, v in cells.items() if k in TASK_CARRIED and v is not None})
            plan = self._task_row(sheet, number, header, cells, current_no, requirement_index, ref)
            if plan is not None:
                pending.append(plan)
        yield from _numbered(pending)

    def _task_row(self, sheet: str, number: int, header: Header, cells: dict[str, Any], list_no: str,
                  index: int, ref: datetime) -> RowPlan | None:
        ok = True
        for name in ("title", "units", "requirement", "deadline"):
            if cells.get(name) is None:
                self.problem(sheet, number, header.letters.get(name, TASK_COLUMNS[name].title),
                             f"“{TASK_COLUMNS[name].title}”为空（上方也没有可沿用的内容）")
                ok = False
        if not ok:
            return None
        units = self._units(sheet, number, header, cells["units"])
        expr = deadline_text(cells["deadline"])
        reading = self._deadline(sheet, number, header, expr, ref)
        if units is None or reading is None:
            return None
        key = f"import:task:{self.sources['task']}:{list_no}" + (f".{index}" if index > 1 else "")
        title = cell_text(cells["title"])
        fields = {"title": title, "unit": units.lead, "co_units": units.co_units or None,
                  "unit_text": cell_text(cells["units"]), "requirement": cell_text(cells["requirement"]),
                  "deadline": expr, "project": cell_text(cells.get("project")) or None,
                  "description": cell_text(cells.get("description")) or None,
                  "list_no": list_no if index == 1 else f"{list_no}.{index}"}
        return RowPlan(sheet, number, "task", key, None, title, fields, ref, units.reading, reading)

    # -- the hazard list -------------------------------------------------------------

    def _hazard_rows(self, sheet: str, header: Header, rows: Iterable[tuple[int, Sequence[Any]]]) -> Iterator[RowPlan]:
        for number, cells in self._data_rows(sheet, header, rows):
            plan = self._hazard_row(sheet, number, header, cells)
            if plan is not None:
                yield plan

    def _hazard_row(self, sheet: str, number: int, header: Header, cells: dict[str, Any]) -> RowPlan | None:
        before = self.problem_count
        where = header.letters

        def bad(name: str, message: str) -> None:
            self.problem(sheet, number, where.get(name, HAZARD_COLUMNS[name].title), message)

        kind = "hazard"
        if cells.get("kind") is not None:
            kind = KIND_WORDS.get(cell_text(cells["kind"]).lower(), "")
            if not kind:
                bad("kind", f"事项类型“{cell_text(cells['kind'])}”应为 隐患 或 整治任务")
        title = cell_text(cells.get("title"))
        if not title:
            bad("title", "标题为空")
        fields: dict[str, Any] = {"title": title}
        for name in TEXT_FIELDS:
            if name in header.positions and name != "title":
                fields[name] = cell_text(cells.get(name)) or None
        if "level" in header.positions:
            level = fields.get("level")
            fields["level"] = LEVEL_WORDS.get(level.lower() if level else "一般")
            if fields["level"] is None:
                bad("level", f"等级“{level}”应为 一般 或 重大")
        category = fields.get("category")
        if kind == "hazard" and category and category not in self.categories:
            bad("category", unknown_category(category, self.policy.categories))
        if "category" in fields:
            fields["category"] = category or ""  # a blank cell clears it; an item's category is never null
        units = self._units(sheet, number, header, cells.get("units"))
        if units is not None:
            fields["unit"] = units.lead
            fields["co_units"] = units.co_units or None
            if "co_units" in header.positions and cells.get("co_units") is not None:
                fields["co_units"] = self._co_units(sheet, number, header, cells["co_units"], units.lead)
        for name in PERSON_FIELDS:
            if name in header.positions:
                who = cell_text(cells.get(name))
                if who and who not in self.org.people:
                    bad(name, f"人员“{who}”不在 org.yaml 中；请先登记，或清空这一格")
                fields[name] = who or None
        found_at = None
        try:
            found_at = parse_instant(cells.get("found_at"), self.tz) if cells.get("found_at") is not None else None
            if found_at is None:
                bad("found_at", "发现时间为空")
        except ValueError as exc:
            bad("found_at", str(exc))
        reading = ""
        if "deadline" in header.positions:
            expr = deadline_text(cells.get("deadline")) or None
            fields["deadline"] = expr
            if expr and found_at is not None:
                reading = self._deadline(sheet, number, header, expr, found_at) or ""
        if self.problem_count > before or found_at is None or units is None:
            return None
        item_id = None
        raw_id = cell_text(cells.get("item_id"))
        if raw_id:
            if not raw_id.isdigit():
                bad("item_id", f"台账编号“{raw_id}”应为数字")
                return None
            item_id = int(raw_id)
            key = f"#{item_id}"
        elif cell_text(cells.get("origin")):
            key = cell_text(cells.get("origin"))
        elif cell_text(cells.get("key")):
            key = f"import:{kind}:{self.sources[kind]}:{cell_text(cells.get('key'))}"
        else:
            basis = "|".join([title, fields.get("unit") or "", fields.get("location") or "", found_at.date().isoformat()])
            key = f"import:{kind}:{hashlib.sha256(basis.encode()).hexdigest()[:16]}"
        return RowPlan(sheet, number, kind, key, item_id, title, fields, found_at, units.reading, reading)

    # -- shared ----------------------------------------------------------------------

    def _units(self, sheet: str, number: int, header: Header, value: Any) -> Units | None:
        try:
            return self.units.read(cell_text(value))
        except NotFound as exc:
            self.problem(sheet, number, header.letters.get("units", "责任单位"), str(exc))
            return None

    def _co_units(self, sheet: str, number: int, header: Header, value: Any, lead: str) -> str | None:
        try:
            read = self.units.read(cell_text(value))
        except NotFound as exc:
            self.problem(sheet, number, header.letters.get("co_units", "配合单位"), str(exc))
            return None
        names = [u for u in (read.lead, *read.others) if u != lead]
        return "、".join(names) or None

    def _deadline(self, sheet: str, number: int, header: Header, expr: str, ref: datetime) -> str | None:
        try:
            return self.check_deadline(expr, ref)
        except DeadlineError as exc:
            self.problem(sheet, number, header.letters.get("deadline", "完成时间"), str(exc))
            return None


def _chain(first: Iterable[Any], rest: Iterator[Any]) -> Iterator[Any]:
    yield from first
    yield from rest


def _numbered(plans: list[RowPlan]) -> Iterator[RowPlan]:
    """A task with several requirements: each item's title says which one it is."""
    if len(plans) > 1:
        for index, plan in enumerate(plans, 1):
            plan.title = plan.fields["title"] = f"{plan.fields['title']}（要求{index}）"
    yield from plans


def _key_title(key: str) -> str:
    return f"台账编号 {key[1:]}" if key.startswith("#") else f"编号 {key.rsplit(':', 1)[-1]}"


# -- comparing and applying ---------------------------------------------------------


class Importer:
    """Plans an import against the store and applies it in one transaction."""

    def __init__(self, engine: Engine, org: Org, policy: Policy) -> None:
        self.engine, self.org, self.policy = engine, org, policy

    def describe_deadline(self, expr: str, ref: datetime) -> str:
        """How a deadline expression reads at `ref` ("2020-12-31", "立即", "长期坚持")."""
        d = read_deadline(expr, ref, self.engine.tz, self.engine.calendar)
        parts = []
        if d.kind.value == "immediate":
            parts.append("立即整改")
        elif d.dues:
            parts.append(d.dues[0].isoformat())
        if d.ongoing:
            parts.append("长期坚持")
        if d.kind.value == "recurring":
            parts.append("（周期性）")
        return "，".join(parts) or d.kind.value

    def reader(self, file: str, *, kind: str | None = None, reference: datetime | None = None,
               sources: dict[str, str], max_rows: int) -> Reader:
        """`sources` names each list kind's key scope: {"task": campaign, "hazard": list name}."""
        return Reader(file, self.org, self.policy, self.engine.tz, kind=kind, reference=reference,
                      sources=sources, check_deadline=self.describe_deadline, max_rows=max_rows)

    def plan(self, reader: Reader, rows: Iterable[RowPlan], actor: str, note: str | None = None) -> ImportPlan:
        """Each row compared with what is stored, a batch at a time as `rows` are read;
        raises SheetError with every problem."""
        check_lengths({"note": note})
        outcomes: list[Outcome] = []
        result = ImportPlan(reader.file, outcomes, reader.warnings)
        at = self.engine.clock.now()
        source = iter(rows)
        while batch := list(itertools.islice(source, PLAN_BATCH)):
            self._plan_batch(reader, batch, actor, note, at, result)
        if reader.problem_count:
            more = reader.problem_count - len(reader.problems)
            summary = f"共 {reader.problem_count} 处问题" + (f"（只列出前 {len(reader.problems)} 处，另有 {more} 处）" if more else "") + "；没有导入任何内容"
            raise SheetError(reader.problems, summary)
        return result

    def _plan_batch(self, reader: Reader, rows: list[RowPlan], actor: str, note: str | None, at: datetime,
                    result: ImportPlan) -> None:
        stored_by_id = self.engine.store.get_many([r.item_id for r in rows if r.item_id is not None])
        stored_by_origin = self.engine.store.by_origins([r.key for r in rows if r.item_id is None])
        outcomes = result.outcomes
        for row in rows:
            if row.item_id is not None:
                stored = stored_by_id.get(row.item_id)
                if stored is None:
                    reader.problem(row.sheet, row.row, "台账编号", f"台账编号 {row.item_id} 的事项不存在（台账编号只能用于本站点导出的台账）")
                    continue
            else:
                stored = stored_by_origin.get(row.key)
            try:
                if stored is None:
                    item, entry = self.engine.prepare(self._report(row, actor, note), at=at, allowed=IMPORT_FIELDS)
                    result.new.append((item, entry))
                    outcomes.append(Outcome(row, "new", note=_plan_note(item)))
                else:
                    outcomes.append(self._compare(row, stored, actor, note, at, result))
            except RectifyError as exc:
                reader.problem(row.sheet, row.row, None, str(exc))

    def _report(self, row: RowPlan, actor: str, note: str | None) -> Report:
        f = dict(row.fields)
        title, unit = f.pop("title"), f.pop("unit")
        level = f.pop("level", None) or "一般"
        category = f.pop("category", None) or ""
        location, deadline = f.pop("location", None), f.pop("deadline", None)
        reporter = f.pop("reporter", None) or actor
        responsible = f.pop("responsible", None)
        if row.kind == "task" and responsible is None:
            responsible = self.org.unit(unit).head
        fields = {k: v for k, v in f.items() if v is not None}
        return Report(title=title, kind=row.kind, category=category, level=level, unit=unit,
                      location=location, reporter=reporter, found_at=row.found_at, responsible=responsible,
                      deadline=deadline, fields=fields, note=note or clean_text(f"导入自 {row.sheet} 第{row.row}行"),
                      origin=None if row.item_id is not None else row.key)

    def _compare(self, row: RowPlan, stored: Item, actor: str, note: str | None, at: datetime,
                 result: ImportPlan) -> Outcome:
        sets = {}
        for name, value in row.fields.items():
            if name == "reporter":
                continue  # who found it does not change
            current = stored.get(name)
            if (current or None) != (value or None):
                sets[name] = value
        if not sets:
            return Outcome(row, "unchanged", stored.id)
        if stored.state in self.engine.final_states(stored.workflow):
            return Outcome(row, "kept", stored.id, note="事项已销号，表中的改动未导入")
        draft, entry = self.engine.revise(stored, sets, actor, "import",
                                         note or f"按 {row.sheet} 第{row.row}行更新", at=at)
        result.changed.append((draft, stored.version, entry))
        return Outcome(row, "changed", stored.id, {k: v for k, v in entry.changes.items()})

    def apply(self, plan: ImportPlan) -> ImportPlan:
        """Write every new and changed item in one transaction."""
        ids = self.engine.store.add_batch(plan.new, plan.changed)
        new_outcomes = (o for o in plan.outcomes if o.action == "new")
        for outcome, item_id in zip(new_outcomes, ids, strict=True):
            outcome.item_id = item_id
        return plan


def _plan_note(item: Item) -> str:
    if item.due:
        return f"期限 {item.due.isoformat()}" + ("（暂定）" if item.provisional else "")
    return item.plan_note or ""

