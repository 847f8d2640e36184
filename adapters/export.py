"""Writing the 台账: .xlsx (sheets 台账, 历史记录, 按单位汇总) or .csv (the same three
tables as three files). Written in openpyxl's write-only mode, so memory does not grow
with the number of rows beyond the items themselves. Every cell is a value, never a
formula, through adapters.sheetcells (text cells in .xlsx, the neutralising `'` in .csv).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from adapters.sheetcells import csv_cell, xlsx_cell, xlsx_row
from adapters.sheets import csv_writer
from engine.ledgerview import (
    HISTORY_COLUMNS,
    LEDGER_COLUMNS,
    SUMMARY_COLUMNS,
    days_overdue,
    history,
    ledger_row,
    unit_totals,
)
from engine.model import Item, LedgerEntry
from engine.reports import Count
from engine.service import BadValue
from engine.workflow import Workflows

if TYPE_CHECKING:
    from adapters.wiring import App

_BOLD = Font(bold=True)
_WIDTHS = {"标题": 36, "整改措施": 30, "整治要求": 40, "描述": 30, "配合单位": 24, "变更内容": 60,
           "发现时间": 18, "销号时间": 18, "时间": 18, "来源编号": 24}


@dataclass
class LedgerExport:
    """What the export writes; rows come lazily so a large ledger streams out."""

    rows: Iterator[list[Any]]
    histories: Callable[[], Iterator[tuple[Item, list[LedgerEntry]]]]
    totals: Callable[[], list[tuple[str, Count]]]
    tz: Any
    workflows: Workflows


def ledger_export(app: App, found: Sequence[Item], now: datetime) -> LedgerExport:
    """The 台账 of `found` as of `now`: what `rectify export` and the web's download write."""
    eng = app.service
    workflows = app.site.workflows
    flags: list[tuple[Item, bool, bool]] = []

    def rows() -> Iterator[list[Any]]:
        for item in found:
            plan = eng.plan(item)
            finals = eng.final_states(item.workflow)
            flags.append((item, item.state in finals, days_overdue(plan, now) > 0))
            yield ledger_row(item, plan, workflows, now, finals)

    def histories() -> Iterator[tuple[Item, list[LedgerEntry]]]:
        for start in range(0, len(found), 500):
            chunk = found[start:start + 500]
            ledgers: dict[Any, list[LedgerEntry]] = app.store.histories([cast(int, i.id) for i in chunk])
            for item in chunk:
                yield item, ledgers[item.id]

    return LedgerExport(rows(), histories, lambda: unit_totals(flags, app.site.org.units), app.config.timezone,
                        workflows)


def write(path: Path, export: LedgerExport, progress: Callable[[], None] | None = None) -> None:
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        _write_xlsx(path, export, progress)
    elif suffix == ".csv":
        _write_csv(path, export, progress)
    else:
        raise BadValue("FILE", str(path), "导出文件的扩展名应为 .xlsx 或 .csv")


def _header(ws: Worksheet, columns: Sequence[str]) -> None:
    cells = []
    for title in columns:
        cell = xlsx_cell(ws, title)
        cell.font = _BOLD
        cells.append(cell)
    for index, title in enumerate(columns, 1):
        ws.column_dimensions[get_column_letter(index)].width = _WIDTHS.get(title, max(10, len(title) * 2 + 2))
    ws.freeze_panes = "A2"
    ws.append(cells)


def _history_rows(export: LedgerExport) -> Iterator[list[Any]]:
    """One row per ledger row: the event's and states' titles, the changes in words, one
    change a line (engine.ledgerview.history, as `rectify show` gives them)."""
    for item, entries in export.histories():
        for e, shown in zip(entries, history(entries, export.workflows, item.workflow, export.tz), strict=True):
            yield [item.id, item.title, e.seq, shown.title, shown.from_title, shown.to_title, e.actor,
                   e.at.astimezone(export.tz).replace(tzinfo=None, microsecond=0), e.note or "",
                   "\n".join(shown.change_lines())]


def _summary_rows(export: LedgerExport) -> list[list[Any]]:
    totals = export.totals()
    total = Count(found=sum(c.found for _, c in totals), closed=sum(c.closed for _, c in totals),
                  overdue=sum(c.overdue for _, c in totals))
    return [[name, c.found, c.closed, c.open, c.overdue, c.rate] for name, c in [*totals, ("合计", total)]]


def _write_xlsx(path: Path, export: LedgerExport, progress: Callable[[], None] | None) -> None:
    wb = Workbook(write_only=True)
    ledger = wb.create_sheet("台账")
    _header(ledger, LEDGER_COLUMNS)
    for row in export.rows:
        ledger.append(xlsx_row(ledger, row))
        if progress:
            progress()
    history = wb.create_sheet("历史记录")
    _header(history, HISTORY_COLUMNS)
    for row in _history_rows(export):
        history.append(xlsx_row(history, row))
    summary = wb.create_sheet("按单位汇总")
    _header(summary, SUMMARY_COLUMNS)
    for row in _summary_rows(export):
        summary.append([*xlsx_row(summary, row[:-1]), xlsx_cell(summary, row[-1], "0.0%")])
    tmp = path.with_name(path.name + ".part")
    wb.save(tmp)
    tmp.replace(path)


def _csv_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if value is None:
        return ""
    return csv_cell(value)


def _write_csv(path: Path, export: LedgerExport, progress: Callable[[], None] | None) -> None:
    parts = [(path, LEDGER_COLUMNS, export.rows),
             (path.with_name(f"{path.stem}-历史记录.csv"), HISTORY_COLUMNS, _history_rows(export))]
    for target, columns, rows in parts:
        f, out = csv_writer(target)
        with f:
            out.writerow(columns)
            for row in rows:
                out.writerow([_csv_value(v) for v in row])
                if progress and target == path:
                    progress()
    f, out = csv_writer(path.with_name(f"{path.stem}-按单位汇总.csv"))
    with f:
        out.writerow(SUMMARY_COLUMNS)
        for row in _summary_rows(export):
            rate = row[-1]
            out.writerow([*(_csv_value(v) for v in row[:-1]), "" if rate is None else f"{rate * 100:.1f}%"])
