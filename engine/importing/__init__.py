"""Importing the campaign's lists: a task list (问题清单、任务清单、责任清单) or a hazard
list, read row by row into items, all or nothing.

This package knows the formats and their habits, not the file types: adapters/sheets.py
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

Modules: formats (columns, header detection), cells (a cell's text, dates, limits),
units (责任单位 cells), rows (the Reader: rows into RowPlans), importer (planning and
applying). The names below are the package's public ones.
"""

from engine.importing.cells import Formula, cell_limit, cell_text, deadline_text, parse_instant
from engine.importing.formats import (
    FORMATS,
    HAZARD_COLUMNS,
    TASK_COLUMNS,
    Column,
    Header,
    Table,
    find_header,
    normalise_header,
)
from engine.importing.importer import ACTIONS, PLAN_BATCH, Importer, ImportPlan, Outcome
from engine.importing.rows import MAX_PROBLEMS, MAX_ROWS, Reader, RowPlan
from engine.importing.units import UnitReader, Units

__all__ = [
    "ACTIONS",
    "FORMATS",
    "HAZARD_COLUMNS",
    "MAX_PROBLEMS",
    "MAX_ROWS",
    "PLAN_BATCH",
    "TASK_COLUMNS",
    "Column",
    "Formula",
    "Header",
    "ImportPlan",
    "Importer",
    "Outcome",
    "Reader",
    "RowPlan",
    "Table",
    "UnitReader",
    "Units",
    "cell_limit",
    "cell_text",
    "deadline_text",
    "find_header",
    "normalise_header",
    "parse_instant",
]
