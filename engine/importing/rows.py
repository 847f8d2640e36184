"""Reading tables into RowPlans: each sheet's header found, every row's cells checked
(formulas, lengths, control characters), a task list's carried cells and numbered
requirements, a hazard row read field by field; every problem collected."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from engine.errors import CellProblem, DeadlineError, NotFound, quoted, unknown_category
from engine.importing.cells import Formula, cell_limit, cell_text, deadline_text, parse_instant
from engine.importing.formats import (
    HAZARD_COLUMNS,
    HEADER_SCAN,
    KIND_WORDS,
    LEVEL_WORDS,
    PERSON_FIELDS,
    TASK_CARRIED,
    TASK_COLUMNS,
    TEXT_FIELDS,
    Header,
    Table,
    find_header,
)
from engine.importing.units import UnitReader, Units
from engine.org import Org
from engine.policy import Policy
from engine.text import FORBIDDEN, code_points
from engine.text import strip as strip_text

# How many problems are listed before the rest are only counted.
MAX_PROBLEMS = 200
# A row that is a note under the table, not data: one cell of text saying 注：, 备注：,
# 说明： (注1、, 附注:, 填表说明：…). A title such as “注水管破裂” is not one.
NOTE = re.compile(r"^\s*(?:注|备注|附注|说明|填表说明)\s*[0-9一二三四五六七八九十]*\s*[：:、.．)）]")
# The most rows one import reads, by default (`rectify import --max-rows`): the plan holds
# every row until it is written, about 6 KB a row (README "Input limits").
MAX_ROWS = 100_000


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
    # The row's own number as the list writes it (编号, 序号, 台账编号 #id, 来源编号); ""
    # when the row has none and is known by its content (messages then name its row).
    label: str = ""


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
            header, body = self._header(table, only_sheet, skipped)
            if header is None:
                continue
            read_rows = self._task_rows if header.kind == "task" else self._hazard_rows
            for plan in read_rows(table.name, header, body):
                taken = seen.get(plan.key)
                if taken is not None:
                    same = (f"编号 {plan.label}" if plan.label else "没有编号，标题、责任单位、位置和发现时间都相同")
                    self.problem(plan.sheet, plan.row, None,
                                 f"与工作表“{taken[0]}”第{taken[1]}行是同一事项（{same}），同一文件中不能出现两次")
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

    def _header(self, table: Table, only_sheet: str | None, skipped: list[tuple[str, str]]
                ) -> tuple[Header | None, Iterator[tuple[int, Sequence[Any]]]]:
        """The sheet's header and the rows below it; (None, …) for a sheet without one,
        reported (the sheet asked for) or added to `skipped` with the reason."""
        rows = iter(table.rows)
        head = []
        for pair in rows:
            head.append(pair)
            if len(head) >= HEADER_SCAN:
                break
        header, why = find_header(head, self.kind)
        if header is None:
            if only_sheet is not None:
                self.problem(table.name, None, None, why)
            else:
                skipped.append((table.name, why))
            return None, rows
        if header.unused:
            self.warnings.append(f"工作表“{table.name}”中这些列不导入：{'、'.join(header.unused)}")
        return header, _chain((p for p in head if p[0] > header.row), rows)

    def _count_row(self, sheet: str, number: int) -> bool:
        self.rows_read += 1
        if self.rows_read > self.max_rows:
            if self.rows_read == self.max_rows + 1:
                self.problem(sheet, number, None, f"超过单次导入的上限 {self.max_rows} 行，请分批导入（或用 --max-rows 调高上限）")
            return False
        return True

    def _data_rows(self, sheet: str, header: Header,
                   rows: Iterable[tuple[int, Sequence[Any]]]) -> Iterator[tuple[int, dict[str, Any]]]:
        """(row number, cells by column) for every non-empty row that is not a note under
        the table (skipped with a warning), up to the row limit."""
        notes = False
        for number, values in rows:
            if not self._count_row(sheet, number):
                return
            text = _only_text(values)
            if text is not None and (notes or NOTE.match(text)):
                notes = True  # the lines after a note's first line belong to it
                self.warnings.append(f"工作表“{sheet}”第{number}行是表格下方的注释（“{quoted(text)}”），未导入")
                continue
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
                  "list_no": list_no if index == 1 else f"{list_no}.{index}",
                  "remarks": cell_text(cells.get("remarks")) or None}
        return RowPlan(sheet, number, "task", key, None, title, fields, ref, units.reading, reading,
                       str(fields["list_no"]))

    # -- the hazard list -------------------------------------------------------------

    def _hazard_rows(self, sheet: str, header: Header, rows: Iterable[tuple[int, Sequence[Any]]]) -> Iterator[RowPlan]:
        layout = _HazardSheet.of(sheet, header)
        for number, cells in self._data_rows(sheet, header, rows):
            plan = self._hazard_row(layout, number, cells)
            if plan is not None:
                yield plan

    def _hazard_row(self, layout: _HazardSheet, number: int, cells: dict[str, Any]) -> RowPlan | None:
        """The row read by each field reader in turn; None when any of them found a problem."""
        before = self.problem_count
        row = _HazardRow(layout, number, cells, {})
        for read in layout.readers:
            read(self, row)
        if self.problem_count > before or row.found_at is None or row.units is None:
            return None
        keyed = self._hazard_key(row, row.found_at)
        if keyed is None:
            return None
        key, item_id = keyed
        label = (f"#{item_id}" if item_id is not None
                 else cell_text(row.cells.get("origin")) or cell_text(row.cells.get("key")))
        return RowPlan(layout.name, number, row.kind, key, item_id, row.title, row.fields, row.found_at,
                       row.units.reading, row.reading, label)

    def _hazard_key(self, row: _HazardRow, found_at: datetime) -> tuple[str, int | None] | None:
        """The row's key: "#<id>" for a 台账编号, else its 来源编号, else its 编号 in this list,
        else a hash of what it says; None (a problem) for a 台账编号 that is no number."""
        cells, kind = row.cells, row.kind
        raw_id = cell_text(cells.get("item_id"))
        if raw_id:
            if not raw_id.isdigit():
                self._bad(row, "item_id", f"台账编号“{raw_id}”应为数字")
                return None
            return f"#{int(raw_id)}", int(raw_id)
        if cell_text(cells.get("origin")):
            return cell_text(cells.get("origin")), None
        if cell_text(cells.get("key")):
            return f"import:{kind}:{self.sources[kind]}:{cell_text(cells.get('key'))}", None
        fields = row.fields
        basis = "|".join([row.title, fields.get("unit") or "", fields.get("location") or "", found_at.date().isoformat()])
        return f"import:{kind}:{hashlib.sha256(basis.encode()).hexdigest()[:16]}", None

    def _bad(self, row: _HazardRow, name: str, message: str) -> None:
        """A problem in the hazard row's `name` column."""
        self.problem(row.layout.name, row.number, row.layout.header.letters.get(name, HAZARD_COLUMNS[name].title),
                     message)

    # -- shared ----------------------------------------------------------------------

    def _units(self, sheet: str, number: int, header: Header, value: Any) -> Units | None:
        try:
            return self.units.read(cell_text(value))
        except NotFound as exc:
            self.problem(sheet, number, header.letters.get("units", "责任单位"), str(exc))
            return None

    def _co_units(self, sheet: str, number: int, header: Header, value: Any, lead: str) -> str | None:
        try:
            return self.units.co_units(cell_text(value), lead)
        except NotFound as exc:
            self.problem(sheet, number, header.letters.get("co_units", "配合单位"), str(exc))
            return None

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


def _only_text(values: Sequence[Any]) -> str | None:
    """The text of a row's only non-empty cell (a merged cell reads as one), else None."""
    filled = [v for v in values if v is not None and not (isinstance(v, str) and not v.strip())]
    return filled[0].strip() if len(filled) == 1 and isinstance(filled[0], str) else None


# -- a hazard row, field by field ---------------------------------------------------


@dataclass(slots=True)
class _HazardRow:
    """One hazard row while its fields are read: its cells, the fields set so far and what
    later readers need of earlier ones."""

    layout: _HazardSheet
    number: int
    cells: dict[str, Any]
    fields: dict[str, Any]
    kind: str = "hazard"
    title: str = ""
    units: Units | None = None
    found_at: datetime | None = None
    reading: str = ""  # the deadline as read at found_at


FieldReader = Callable[[Reader, _HazardRow], None]


def _read_kind(reader: Reader, row: _HazardRow) -> None:
    value = row.cells.get("kind")
    if value is not None:
        row.kind = KIND_WORDS.get(cell_text(value).lower(), "")
        if not row.kind:
            reader._bad(row, "kind", f"事项类型“{cell_text(value)}”应为 隐患 或 整治任务")


def _read_title(reader: Reader, row: _HazardRow) -> None:
    row.title = cell_text(row.cells.get("title"))
    if not row.title:
        reader._bad(row, "title", "标题为空")
    row.fields["title"] = row.title


def _read_texts(reader: Reader, row: _HazardRow) -> None:
    cells, fields = row.cells, row.fields
    for name in row.layout.texts:
        fields[name] = cell_text(cells.get(name)) or None


def _read_level(reader: Reader, row: _HazardRow) -> None:
    level = row.fields.get("level")
    row.fields["level"] = LEVEL_WORDS.get(level.lower() if level else "一般")
    if row.fields["level"] is None:
        reader._bad(row, "level", f"等级“{level}”应为 一般 或 重大")


def _read_category(reader: Reader, row: _HazardRow) -> None:
    category = row.fields.get("category")
    if row.kind == "hazard" and category and category not in reader.categories:
        reader._bad(row, "category", unknown_category(category, reader.policy.categories))
    row.fields["category"] = category or ""  # a blank cell clears it; an item's category is never null


def _read_units(reader: Reader, row: _HazardRow) -> None:
    units = row.units = reader._units(row.layout.name, row.number, row.layout.header, row.cells.get("units"))
    if units is not None:
        row.fields["unit"] = units.lead
        row.fields["co_units"] = units.co_units or None


def _read_co_units(reader: Reader, row: _HazardRow) -> None:
    value = row.cells.get("co_units")
    if row.units is not None and value is not None:
        row.fields["co_units"] = reader._co_units(row.layout.name, row.number, row.layout.header, value,
                                                  row.units.lead)


def _read_people(reader: Reader, row: _HazardRow) -> None:
    for name in row.layout.people:
        who = cell_text(row.cells.get(name))
        if who and who not in reader.org.people:
            reader._bad(row, name, f"人员“{who}”不在 org.yaml 中；请先登记，或清空这一格")
        row.fields[name] = who or None


def _read_found_at(reader: Reader, row: _HazardRow) -> None:
    value = row.cells.get("found_at")
    try:
        row.found_at = parse_instant(value, reader.tz) if value is not None else None
        if row.found_at is None:
            reader._bad(row, "found_at", "发现时间为空")
    except ValueError as exc:
        reader._bad(row, "found_at", str(exc))


def _read_deadline(reader: Reader, row: _HazardRow) -> None:
    expr = deadline_text(row.cells.get("deadline")) or None
    row.fields["deadline"] = expr
    if expr and row.found_at is not None:
        row.reading = reader._deadline(row.layout.name, row.number, row.layout.header, expr, row.found_at) or ""


# The field readers in the order they run, which is the order of the row's problems and
# of its fields; each with the column it needs (None: it always runs).
_HAZARD_READERS: tuple[tuple[str | None, FieldReader], ...] = (
    ("kind", _read_kind),
    (None, _read_title),
    (None, _read_texts),
    ("level", _read_level),
    ("category", _read_category),
    (None, _read_units),
    ("co_units", _read_co_units),
    (None, _read_people),
    (None, _read_found_at),
    ("deadline", _read_deadline),
)


@dataclass(frozen=True, slots=True)
class _HazardSheet:
    """A hazard sheet's columns worked out once: the field readers that apply and the
    text and person columns present."""

    name: str
    header: Header
    readers: tuple[FieldReader, ...]
    texts: tuple[str, ...]  # besides the title
    people: tuple[str, ...]

    @classmethod
    def of(cls, name: str, header: Header) -> _HazardSheet:
        present = header.positions
        return cls(name, header,
                   tuple(read for column, read in _HAZARD_READERS if column is None or column in present),
                   tuple(n for n in TEXT_FIELDS if n in present and n != "title"),
                   tuple(n for n in PERSON_FIELDS if n in present))
