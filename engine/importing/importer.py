"""Planning an import against the store (each row new, changed, unchanged or kept, by its
key) and applying the plan in one transaction."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from engine.errors import RectifyError, SheetError
from engine.importing.rows import Reader, RowPlan
from engine.model import IMPORT_FIELDS, Item, LedgerEntry, check_lengths
from engine.org import Org
from engine.plan import read_deadline
from engine.policy import Policy
from engine.service import NewItem, Service
from engine.text import clean as clean_text

# Rows planned together: one store lookup each, and few enough that a row's deadline,
# read when the row is read, is still memoised (plan.read_deadline) when it is planned.
PLAN_BATCH = 1000


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


class Importer:
    """Plans an import against the store and applies it in one transaction."""

    def __init__(self, service: Service, org: Org, policy: Policy) -> None:
        self.service, self.org, self.policy = service, org, policy

    def describe_deadline(self, expr: str, ref: datetime) -> str:
        """How a deadline expression reads at `ref` ("2020-12-31", "立即", "长期坚持")."""
        d = read_deadline(expr, ref, self.service.tz, self.service.calendar)
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
        return Reader(file, self.org, self.policy, self.service.tz, kind=kind, reference=reference,
                      sources=sources, check_deadline=self.describe_deadline, max_rows=max_rows)

    def plan(self, reader: Reader, rows: Iterable[RowPlan], actor: str, note: str | None = None) -> ImportPlan:
        """Each row compared with what is stored, a batch at a time as `rows` are read;
        raises SheetError with every problem."""
        check_lengths({"note": note})
        outcomes: list[Outcome] = []
        result = ImportPlan(reader.file, outcomes, reader.warnings)
        at = self.service.clock.now()
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
        stored_by_id = self.service.store.get_many([r.item_id for r in rows if r.item_id is not None])
        stored_by_origin = self.service.store.by_origins([r.key for r in rows if r.item_id is None])
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
                    item, entry = self.service.prepare(self._report(row, actor, note), at=at, allowed=IMPORT_FIELDS)
                    result.new.append((item, entry))
                    outcomes.append(Outcome(row, "new", note=_plan_note(item)))
                else:
                    outcomes.append(self._compare(row, stored, actor, note, at, result))
            except RectifyError as exc:
                reader.problem(row.sheet, row.row, None, str(exc))

    def _report(self, row: RowPlan, actor: str, note: str | None) -> NewItem:
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
        return NewItem(title=title, kind=row.kind, category=category, level=level, unit=unit,
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
        if stored.state in self.service.final_states(stored.workflow):
            return Outcome(row, "kept", stored.id, note="事项已销号，表中的改动未导入")
        draft, entry = self.service.revise(stored, sets, actor, "import",
                                         note or f"按 {row.sheet} 第{row.row}行更新", at=at)
        result.changed.append((draft, stored.version, entry))
        return Outcome(row, "changed", stored.id, {k: v for k, v in entry.changes.items()})

    def apply(self, plan: ImportPlan) -> ImportPlan:
        """Write every new and changed item in one transaction."""
        ids = self.service.write_batch(plan.new, plan.changed)
        new_outcomes = (o for o in plan.outcomes if o.action == "new")
        for outcome, item_id in zip(new_outcomes, ids, strict=True):
            outcome.item_id = item_id
        return plan


def _plan_note(item: Item) -> str:
    if item.due:
        return f"期限 {item.due.isoformat()}" + ("（暂定）" if item.provisional else "")
    return item.plan_note or ""

