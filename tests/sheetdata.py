"""Spreadsheets as the safety office receives them, built with openpyxl.

`task_list` (in adapters/demo.py) is the appendix of seed 000 (安全专项整治问题清单、任务清单、责任清单) laid
out as the document does: a title row above the header, 整治项目 and 责任单位 cells
merged down over the tasks they cover (so the cells below are blank), and task 3's
second requirement on a row of its own, its 序号 cell merged with the one above.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from openpyxl import Workbook

from adapters.demo import HEADER, MERGES, TASK_ROWS, task_list  # noqa: F401  (the task list lives with the demo)

HAZARD_HEADER = ["编号", "隐患名称", "类别", "等级", "责任单位", "位置", "发现时间", "整改时限", "整改措施"]


def hazard_list(path: Path, rows: list[list[Any]], header: list[str] | None = None, title: str = "隐患清单") -> Path:
    wb = Workbook()
    ws = wb.active
    ws.title = title
    ws.append(header or HAZARD_HEADER)
    for row in rows:
        ws.append(row)
    wb.save(path)
    return path


def one_sheet(path: Path, rows: list[list[Any]], title: str) -> Path:
    """A one-sheet workbook holding exactly `rows` (header included, if any)."""
    wb = Workbook()
    ws = wb.active
    ws.title = title
    for row in rows:
        ws.append(row)
    wb.save(path)
    return path
