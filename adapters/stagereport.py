"""The stage report (阶段整治情况) as an email: the chart, the workbook and the texts.

`chart_png` draws 整改率 by unit with matplotlib's Agg canvas on a Figure of its own
(never pyplot's global state) in the Noto Sans CJK SC font shipped by the `mplfonts`
package, loaded from its file: nothing is installed into matplotlib's data directory.
`workbook_bytes` writes the report's tables to an .xlsx (every cell a value, through
adapters.sheetcells), `render_email` puts the texts, the chart and the workbook together.
`periodic` is the daemon's once-per-period work: each report is produced on its own, so
one that fails is logged, told to the site's administrator once and retried at later
ticks, while the other reports and the tick's reminders go on.
"""

from __future__ import annotations

import importlib.util
import io
import threading
from collections.abc import Callable, Sequence
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import structlog
from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.chart.label import DataLabelList
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from adapters.alerts import admin_alert
from adapters.sheetcells import xlsx_row
from adapters.templates import Rendered, Templates
from engine.mail import Attachment, InlineImage
from engine.notices import kind_title
from engine.policy import StageReportSpec
from engine.reports import (
    Count,
    OverdueRow,
    Period,
    StageReport,
    compile_report,
    owed_reports,
    report_recipients,
)
from engine.scheduler import Composed
from engine.text import clean

if TYPE_CHECKING:
    from adapters.wiring import App

log = structlog.get_logger()

CHART_CID = "chart-rate@rectify"
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

_FONT_FILE = "NotoSansCJKsc-Regular.otf"
_BAR_COLOR = "#2f6db5"
_LOW_COLOR = "#c0392b"  # units below 60%
_DPI = 100
_WIDTH = 8.0  # inches

# matplotlib keeps caches (fonts, text layout) that are not meant to be shared by
# threads drawing at the same time; a report is drawn rarely, so draw one at a time.
_DRAW_LOCK = threading.Lock()


# -- the chart -----------------------------------------------------------------------


@lru_cache(maxsize=1)
def _font_path() -> Path:
    """The Noto Sans CJK SC file inside the installed mplfonts package (not imported:
    importing it would pull in its font-management helpers)."""
    spec = importlib.util.find_spec("mplfonts")
    locations = list(spec.submodule_search_locations or []) if spec else []
    for location in locations:
        path = Path(location) / "fonts" / _FONT_FILE
        if path.is_file():
            return path
    raise RuntimeError(f"找不到中文字体 {_FONT_FILE}：请安装 mplfonts 包（pip install mplfonts）")


def chart_png(report: StageReport) -> bytes:
    """A horizontal bar chart of 整改率 by unit (units with nothing found left out),
    as PNG; a small image saying so when no unit has any hazard."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.font_manager import FontProperties
    from matplotlib.ticker import PercentFormatter

    units = [(name, count) for name, count in report.by_unit if count.found > 0]
    title = f"{report.period.title}各单位隐患整改率"
    with _DRAW_LOCK:
        font = FontProperties(fname=str(_font_path()), size=10)
        title_font = FontProperties(fname=str(_font_path()), size=13)
        if not units:
            fig = Figure(figsize=(_WIDTH, 2.0), dpi=_DPI)
            FigureCanvasAgg(fig)
            fig.text(0.5, 0.68, title, ha="center", va="center", fontproperties=title_font)
            fig.text(0.5, 0.35, "本期无隐患数据", ha="center", va="center",
                     fontproperties=font, color="#666666")
        else:
            height = min(2.0 + 0.45 * len(units), 60.0)
            fig = Figure(figsize=(_WIDTH, height), dpi=_DPI, layout="constrained")
            FigureCanvasAgg(fig)
            ax = fig.add_subplot()
            rates = [(count.rate or 0.0) * 100 for _, count in units]
            positions = list(range(len(units)))
            colors = [_LOW_COLOR if rate < 60 else _BAR_COLOR for rate in rates]
            ax.barh(positions, rates, color=colors, height=0.6)
            ax.set_yticks(positions, [name for name, _ in units], fontproperties=font)
            ax.invert_yaxis()  # the first unit on top, as in the tables
            ax.set_xlim(0, 100)
            ax.xaxis.set_major_formatter(PercentFormatter(100, decimals=0))
            ax.grid(axis="x", color="#dddddd", linewidth=0.8)
            ax.set_axisbelow(True)
            for side in ("top", "right"):
                ax.spines[side].set_visible(False)
            for y, rate, (_, count) in zip(positions, rates, units, strict=True):
                label = f"{count.rate_text}（{count.closed}/{count.found}）"
                if rate > 70:
                    ax.text(rate - 1, y, label, va="center", ha="right", color="white",
                            fontproperties=font)
                else:
                    ax.text(rate + 1, y, label, va="center", ha="left", color="#222222",
                            fontproperties=font)
            ax.set_title(title, fontproperties=title_font)
        out = io.BytesIO()
        # No "Software" text chunk: the same report gives the same bytes across versions.
        fig.savefig(out, format="png", dpi=_DPI, metadata={"Software": None})
    return out.getvalue()


# -- the workbook --------------------------------------------------------------------

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
        ("统计周期", f"{period.title}（{_cn(period.start)}至{_cn(period.end)}）"),
        ("生成时间", f"{_cn(produced.date())} {produced:%H:%M}"),
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


def _cn(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


# -- the email -----------------------------------------------------------------------


def render_email(
    templates: Templates, report: StageReport, tz: ZoneInfo
) -> tuple[Rendered, InlineImage, Attachment]:
    """The texts (showing the chart by `cid:`), the chart and the workbook of one report."""
    rendered = templates.stage_report(report, tz, chart_cid=CHART_CID)
    chart = InlineImage(CHART_CID, chart_png(report), "image/png", f"整改率-{report.period.key}.png")
    workbook = Attachment(
        f"阶段整治情况-{report.period.key}.xlsx", workbook_bytes(report, tz), XLSX_MIME
    )
    return rendered, chart, workbook


# -- producing and sending -------------------------------------------------------------


def produce(app: App, period: Period, at: datetime) -> StageReport:
    """The period's report from the site's ledger."""
    org = app.site.org
    return compile_report(app.service, period, organisation=org.name or app.config.name,
                          unit_order=list(org.units), produced_at=at)


def compose(templates: Templates, report: StageReport, tz: ZoneInfo,
            recipients: Sequence[tuple[str, str, str]]) -> list[Composed]:
    """One message per recipient, each carrying the chart and the workbook."""
    rendered, chart, workbook = render_email(templates, report, tz)
    return [Composed(name, email, rendered.subject, rendered.text, rendered.html, (),
                     attachments=(workbook,), inline_images=(chart,))
            for _role, name, email in recipients]


def queue(app: App, templates: Templates, spec: StageReportSpec, period: Period, at: datetime) -> int:
    """Produce and queue `spec`'s report for `period` unless it was sent already; the
    number of messages queued (0 when another daemon, or an earlier tick, sent it)."""
    outbox = app.outbox
    if outbox.stage_report_sent(spec.name, period.key) is not None:
        return 0
    recipients = report_recipients(spec, app.site.org)
    if not recipients:
        log.warning("stage_report_without_recipients", report=spec.name, period=period.key)
    report = produce(app, period, at)
    composed = compose(templates, report, app.config.timezone, recipients)
    if not outbox.add_stage_report(spec.name, period.key, at, [r[2] for r in recipients], composed):
        return 0
    log.info("stage_report_queued", report=spec.name, period=period.key, recipients=len(composed))
    return len(composed)


def periodic(app: App) -> Callable[[datetime], int]:
    """The scheduler's once-per-period work: each report of the rules whose period ended.

    Each report is produced on its own: one that fails (whatever raises) is logged with
    its name and period and left unsent, so the next tick tries it again; the site's
    administrator is told once per report and period, and its recovery is logged."""
    # (report, period) failing since an earlier tick -> whether the administrator was told
    failing: dict[tuple[str, str], bool] = {}

    def run(at: datetime) -> int:
        queued = 0
        owed: set[tuple[str, str]] = set()
        for spec, period in owed_reports(app.service.policies.current, at, app.config.timezone):
            key = (spec.name, period.key)
            owed.add(key)
            try:
                queued += queue(app, app.templates, spec, period, at)
            except Exception as exc:  # noqa: BLE001 - one report must not stop the tick
                error = clean(f"{type(exc).__name__}: {exc}")[:500]
                log.error("stage_report_failed", report=spec.name, period=period.key, error=error, exc_info=True)
                if not failing.get(key):
                    failing[key] = _alert(app, spec, period, error, at)
                continue
            if failing.pop(key, None) is not None:
                log.info("stage_report_recovered", report=spec.name, period=period.key)
        for key in failing.keys() - owed:  # a period no longer owed (the next one began)
            del failing[key]
        return queued

    return run


def _alert(app: App, spec: StageReportSpec, period: Period, error: str, at: datetime) -> bool:
    """Queue the administrator's alert about a failing report (the tick delivers it);
    whether that is done (False: try again at the next failure)."""
    message = admin_alert(
        app.config, f"阶段报告“{spec.name}”（{period.title}）未能生成，将自动重试", (error,), at,
        happened="未能生成阶段报告",
        advice=("提醒和督办邮件照常发送，不受影响。系统会在之后每一轮自动重试，问题排除后报告即生成并发送；\n"
                f"也可运行 rectify stage-report --period {period.key} 查看。"))
    if message is None:
        return True
    try:
        app.outbox.add_message(message, at)
    except Exception as exc:  # noqa: BLE001 - e.g. the database is unreachable
        log.error("admin_alert_failed", error=str(exc))
        return False
    return True
