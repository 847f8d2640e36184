"""The stage report's workbook: its tables as an .xlsx, every cell a value (through
adapters.sheetcells), with a native bar chart of 整改率 beside the units' table."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.chart.label import DataLabelList
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from adapters.sheetcells import xlsx_row
from engine.deadline.dates import cn_date
from engine.notices import kind_title
from engine.reports import Count, OverdueRow, StageReport
from engine.text import clean

_BOLD = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="F2F2F2")
_PERCENT = "0.0%"
_DATE = "yyyy-mm-dd"

_GROUP_HEADERS = ("名称", "累计发现", "累计整改", "未整改", "本期新增", "本期整改", "逾期", "整改率")
_OVERDUE_HEADERS = (
    "编号", "类型", "标题", "责任单位", "等级", "类别", "状态", "整改期限", "逾期天数", "督办情况",
)
_OVERDUE_WIDTHS = (8, 8, 40, 16, 8, 14, 12, 12, 10, 12)


def workbook_bytes(report: StageReport, tz: ZoneInfo) -> bytes:
    """The report as an .xlsx: 汇总, 按类别, 按等级, 按单位 (with a chart), 逾期事项, 挂牌督办."""
    wb = Workbook()
    produced = report.produced_at.astimezone(tz).replace(tzinfo=None)
    wb.properties.creator = "rectify"
    wb.properties.title = clean(f"{report.organisation}{report.period.title}隐患整改情况")
    wb.properties.created = wb.properties.modified = produced

    summary = wb.active
    assert summary is not None
    summary.title = "汇总"
    _summary_sheet(summary, report, tz)
    _group_sheet(wb.create_sheet("按类别"), report.by_category, report.total)
    _group_sheet(wb.create_sheet("按等级"), report.by_level, report.total)
    units = wb.create_sheet("按单位")
    _group_sheet(units, report.by_unit, report.total)
    _rate_chart(units, len(report.by_unit), report.period.title)
    _overdue_sheet(wb.create_sheet("逾期事项"), report.overdue)
    _overdue_sheet(wb.create_sheet("挂牌督办"), report.supervised)

    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _summary_sheet(ws: Worksheet, report: StageReport, tz: ZoneInfo) -> None:
    produced = report.produced_at.astimezone(tz)
    period = report.period
    ws.append(xlsx_row(ws, [f"{report.organisation}{period.title}安全隐患整改情况汇总"]))
    ws["A1"].font = Font(bold=True, size=14)
    for label, value in (
        ("单位", report.organisation),
        ("统计周期", f"{period.title}（{cn_date(period.start)}至{cn_date(period.end)}）"),
        ("生成时间", f"{cn_date(produced.date())} {produced:%H:%M}"),
    ):
        ws.append(xlsx_row(ws, [label, value]))
        ws.cell(ws.max_row, 1).font = _BOLD
    ws.append([])
    ws.append(xlsx_row(ws, ["指标", "隐患", "任务"]))
    header_row = ws.max_row
    _style_header(ws, header_row, 3)
    total, tasks = report.total, report.tasks
    for label, attr in (
        ("累计发现", "found"),
        ("累计整改", "closed"),
        ("未整改", "open"),
        ("整改率", "rate"),
        ("本期新增", "new"),
        ("本期整改", "closed_in_period"),
        ("逾期未改", "overdue"),
    ):
        ws.append(xlsx_row(ws, [label, getattr(total, attr), getattr(tasks, attr)]))
        ws.cell(ws.max_row, 1).font = _BOLD
        if attr == "rate":
            for column in (2, 3):
                ws.cell(ws.max_row, column).number_format = _PERCENT
    ws.append(xlsx_row(ws, ["挂牌督办重大隐患", len(report.supervised), None]))
    ws.cell(ws.max_row, 1).font = _BOLD
    for note in report.notes:
        ws.append(xlsx_row(ws, ["说明", note]))
    _widths(ws, (18, 40, 12))


def _group_sheet(ws: Worksheet, groups: Sequence[tuple[str, Count]], total: Count) -> None:
    ws.append(xlsx_row(ws, list(_GROUP_HEADERS)))
    _style_header(ws, 1, len(_GROUP_HEADERS))
    for name, count in groups:
        ws.append(xlsx_row(ws, [name, *_count_cells(count)]))
        ws.cell(ws.max_row, 8).number_format = _PERCENT
    if groups:
        ws.append(xlsx_row(ws, ["合计", *_count_cells(total)]))
        ws.cell(ws.max_row, 8).number_format = _PERCENT
        for column in range(1, len(_GROUP_HEADERS) + 1):
            ws.cell(ws.max_row, column).font = _BOLD
    ws.freeze_panes = "A2"
    _widths(ws, (20, *([10] * 7)))


def _count_cells(count: Count) -> list[Any]:
    return [count.found, count.closed, count.open, count.new, count.closed_in_period,
            count.overdue, count.rate]


def _rate_chart(ws: Worksheet, rows: int, period_title: str) -> None:
    """A native bar chart of the 整改率 column, beside the table."""
    if rows == 0:
        return
    chart = BarChart()
    chart.type = "bar"  # horizontal
    chart.style = 10
    chart.title = f"{period_title}各单位隐患整改率"
    chart.y_axis.title = "整改率"
    chart.y_axis.numFmt = "0%"
    chart.y_axis.scaling.min = 0
    chart.y_axis.scaling.max = 1
    chart.x_axis.scaling.orientation = "maxMin"  # the first unit on top, as in the table
    chart.legend = None
    data = Reference(ws, min_col=8, min_row=1, max_row=rows + 1)
    categories = Reference(ws, min_col=1, min_row=2, max_row=rows + 1)
    chart.add_data(data, titles_from_data=True)
    chart.set_categories(categories)
    chart.dataLabels = DataLabelList()
    chart.dataLabels.showVal = True
    chart.dataLabels.numFmt = "0.0%"
    chart.width = 18
    chart.height = max(7.5, 1.0 + 0.8 * rows)
    ws.add_chart(chart, "J2")


def _overdue_sheet(ws: Worksheet, rows: Sequence[OverdueRow]) -> None:
    ws.append(xlsx_row(ws, list(_OVERDUE_HEADERS)))
    _style_header(ws, 1, len(_OVERDUE_HEADERS))
    for row in rows:
        ws.append(xlsx_row(ws, [
            row.item_id, kind_title(row.kind), row.title, row.unit or "未指定", row.level,
            row.category, row.state_title, row.due if row.due else "未设定", row.days_overdue,
            row.escalation or "尚未升级督办",
        ]))
        if row.due:
            ws.cell(ws.max_row, 8).number_format = _DATE
    ws.freeze_panes = "A2"
    _widths(ws, _OVERDUE_WIDTHS)


def _style_header(ws: Worksheet, row: int, columns: int) -> None:
    for column in range(1, columns + 1):
        cell = ws.cell(row, column)
        cell.font = _BOLD
        cell.fill = _HEADER_FILL
        cell.alignment = Alignment(horizontal="center", vertical="center")


def _widths(ws: Worksheet, widths: Sequence[float]) -> None:
    for index, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(index)].width = width
