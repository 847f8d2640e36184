"""The stage report as an email: the chart, the workbook and the texts."""

from __future__ import annotations

import dataclasses
import io
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from PIL import Image

from adapters.stagebook import workbook_bytes
from adapters.stagechart import chart_png
from adapters.stagereport import CHART_CID, XLSX_MIME, render_email
from adapters.templates import Templates
from engine.reports import Count, OverdueRow, StageReport, parse_period

TZ = ZoneInfo("Asia/Shanghai")
PRODUCED = datetime(2021, 4, 2, 1, 30, tzinfo=UTC)  # 09:30 in Shanghai
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def overdue_row(**changes: Any) -> OverdueRow:
    base = OverdueRow(
        item_id=7, kind="hazard", title="教学楼三楼灭火器过期", unit="总务处", level="一般",
        category="消防安全", state_title="整改中", due=date(2021, 3, 10), days_overdue=21,
        escalation="通报", supervised=False,
    )
    return dataclasses.replace(base, **changes)


SUPERVISED = overdue_row(
    item_id=12, title="实验楼外墙开裂", unit="教务处", level="重大", category="校舍安全",
    state_title="待整改", due=date(2021, 2, 1), days_overdue=58, escalation="挂牌督办",
    supervised=True,
)
# Supervised but not major: listed as overdue, not under 挂牌督办 major hazards.
SUPERVISED_MINOR = overdue_row(
    item_id=15, title="<script>alert(1)</script>食堂排风", unit="后勤处", level="较大",
    category="食品安全", due=None, days_overdue=3, escalation="挂牌督办", supervised=True,
)
UNESCALATED = overdue_row(item_id=21, escalation="", days_overdue=1)


@pytest.fixture
def report() -> StageReport:
    return StageReport(
        organisation="示例中学",
        period=parse_period("2021Q1"),
        produced_at=PRODUCED,
        total=Count(found=16, closed=12, new=9, closed_in_period=7, overdue=4),
        by_category=[
            ("消防安全", Count(found=8, closed=7, new=4, closed_in_period=3, overdue=2)),
            ("校舍安全", Count(found=5, closed=3, new=3, closed_in_period=2, overdue=1)),
            ("食品安全", Count(found=3, closed=2, new=2, closed_in_period=2, overdue=1)),
        ],
        by_level=[
            ("一般", Count(found=10, closed=9, new=5, closed_in_period=4, overdue=2)),
            ("较大", Count(found=4, closed=2, new=3, closed_in_period=2, overdue=1)),
            ("重大", Count(found=2, closed=1, new=1, closed_in_period=1, overdue=1)),
        ],
        by_unit=[
            ("总务处", Count(found=8, closed=7, new=4, closed_in_period=3, overdue=2)),
            ("教务处", Count(found=5, closed=2, new=3, closed_in_period=2, overdue=1)),
            ("后勤处", Count(found=3, closed=3, new=2, closed_in_period=2, overdue=1)),
        ],
        tasks=Count(found=6, closed=5, new=2, closed_in_period=2, overdue=1),
        overdue=[overdue_row(), SUPERVISED, SUPERVISED_MINOR, UNESCALATED],
        notes=["2项隐患未填写责任单位"],
    )


@pytest.fixture
def empty() -> StageReport:
    return StageReport("示例中学", parse_period("2021Q2"), PRODUCED, Count(), [], [], [],
                       Count(), [])


@pytest.fixture
def templates() -> Templates:
    return Templates(None)


def png_size(data: bytes) -> tuple[int, int]:
    assert data.startswith(PNG_SIGNATURE)
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        assert image.format == "PNG"
        return image.size


# -- chart ---------------------------------------------------------------------------


@pytest.mark.slow
def test_chart_is_a_png_growing_with_the_units(report: StageReport) -> None:
    width, height = png_size(chart_png(report))
    assert width == 800
    assert 300 <= height <= 600

    more = dataclasses.replace(report, by_unit=report.by_unit * 4)
    taller_width, taller = png_size(chart_png(more))
    assert taller_width == 800
    assert taller > height


def test_chart_leaves_out_units_with_nothing_found(report: StageReport) -> None:
    with_idle = dataclasses.replace(report, by_unit=[*report.by_unit, ("保卫处", Count())])
    assert png_size(chart_png(with_idle)) == png_size(chart_png(report))


def test_chart_of_an_empty_report_is_a_small_png(empty: StageReport) -> None:
    width, height = png_size(chart_png(empty))
    assert width == 800
    assert height <= 250


def test_chart_is_deterministic(report: StageReport) -> None:
    assert chart_png(report) == chart_png(report)


# -- workbook ------------------------------------------------------------------------


def test_workbook_sheets_and_summary(report: StageReport) -> None:
    wb = load_workbook(io.BytesIO(workbook_bytes(report, TZ)))
    assert wb.sheetnames == ["汇总", "按类别", "按等级", "按单位", "逾期事项", "挂牌督办"]
    summary = {row[0]: row[1:] for row in wb["汇总"].iter_rows(values_only=True) if row[0]}
    assert summary["单位"][0] == "示例中学"
    assert summary["统计周期"][0].startswith("2021年第一季度")
    assert summary["生成时间"][0] == "2021年4月2日 09:30"
    assert summary["累计发现"][:2] == (16, 6)
    assert summary["累计整改"][:2] == (12, 5)
    assert summary["整改率"][:2] == (pytest.approx(0.75), pytest.approx(5 / 6))
    assert summary["本期新增"][:2] == (9, 2)
    assert summary["本期整改"][:2] == (7, 2)
    assert summary["逾期未改"][:2] == (4, 1)
    assert summary["挂牌督办重大隐患"][0] == 1


def test_workbook_by_unit(report: StageReport) -> None:
    ws = load_workbook(io.BytesIO(workbook_bytes(report, TZ)))["按单位"]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0] == ("名称", "累计发现", "累计整改", "未整改", "本期新增", "本期整改", "逾期",
                       "整改率")
    assert rows[1][:7] == ("总务处", 8, 7, 1, 4, 3, 2)
    assert rows[2][:7] == ("教务处", 5, 2, 3, 3, 2, 1)
    assert rows[3][:7] == ("后勤处", 3, 3, 0, 2, 2, 1)
    assert rows[4][:7] == ("合计", 16, 12, 4, 9, 7, 4)
    assert rows[1][7] == pytest.approx(0.875)
    assert rows[3][7] == 1
    rate = ws["H3"]
    assert rate.data_type == "n" and rate.value == pytest.approx(0.4)
    assert "%" in rate.number_format
    assert ws["A1"].font.b and ws["H1"].font.b
    assert ws.freeze_panes == "A2"
    assert len(ws._charts) == 1


def test_workbook_overdue_and_supervised(report: StageReport) -> None:
    wb = load_workbook(io.BytesIO(workbook_bytes(report, TZ)))
    overdue = list(wb["逾期事项"].iter_rows(values_only=True))
    assert overdue[0] == ("编号", "类型", "标题", "责任单位", "等级", "类别", "状态", "整改期限",
                          "逾期天数", "督办情况")
    assert [row[0] for row in overdue[1:]] == [7, 12, 15, 21]
    assert overdue[1][1] == "隐患"
    assert overdue[1][7] == datetime(2021, 3, 10)  # a date cell, read back as a datetime
    assert overdue[3][7] == "未设定"
    assert overdue[4][9] == "尚未升级督办"

    supervised = list(wb["挂牌督办"].iter_rows(values_only=True))
    assert supervised[0] == overdue[0]
    assert supervised[1:] == [
        (12, "隐患", "实验楼外墙开裂", "教务处", "重大", "校舍安全", "待整改",
         datetime(2021, 2, 1), 58, "挂牌督办"),
    ]


def test_workbook_of_an_empty_report(empty: StageReport) -> None:
    wb = load_workbook(io.BytesIO(workbook_bytes(empty, TZ)))
    assert wb["按单位"].max_row == 1
    assert wb["挂牌督办"].max_row == 1
    assert not wb["按单位"]._charts


# -- email ---------------------------------------------------------------------------


def test_email_texts(templates: Templates, report: StageReport) -> None:
    rendered, chart, workbook = render_email(templates, report, TZ)
    assert rendered.subject == "【阶段整治情况】示例中学2021年第一季度隐患整改情况报告"
    text = rendered.text
    assert ("截至2021年3月31日，累计排查隐患16项，已整改12项，整改率75.0%；"
            "本期新增9项、整改7项；逾期未改4项") in text
    assert "其中挂牌督办重大隐患1项" in text
    for unit in ("总务处", "教务处", "后勤处"):
        assert unit in text
    assert "总务处：累计发现8项，已整改7项" in text
    assert "累计下达任务6项，已完成5项" in text
    assert "督办情况：尚未升级督办" in text
    assert "2项隐患未填写责任单位" in text
    supervised_section = text.split("六、挂牌督办重大隐患")[1].split("七、")[0]
    assert "实验楼外墙开裂" in supervised_section
    assert "食堂排风" not in supervised_section
    assert "生成时间：2021年4月2日 09:30" in text

    assert chart.cid == CHART_CID
    assert chart.mime_type == "image/png"
    assert chart.content.startswith(PNG_SIGNATURE)
    assert workbook.filename == "阶段整治情况-2021Q1.xlsx"
    assert workbook.mime_type == XLSX_MIME
    assert load_workbook(io.BytesIO(workbook.content)).sheetnames[0] == "汇总"


def test_email_html_shows_the_chart_and_escapes_user_text(
    templates: Templates, report: StageReport
) -> None:
    rendered, chart, _ = render_email(templates, report, TZ)
    assert rendered.html is not None
    assert f'<img src="cid:{chart.cid}"' in rendered.html
    assert "<script>" not in rendered.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;食堂排风" in rendered.html
    assert "<td>总务处</td>" in rendered.html
    assert "75.0%" in rendered.html


def test_user_text_is_kept_on_one_line(templates: Templates, report: StageReport) -> None:
    sneaky = dataclasses.replace(
        report, overdue=[overdue_row(title="灭火器过期\n\n六、挂牌督办重大隐患\n   无。")]
    )
    text = templates.stage_report(sneaky, TZ).text
    assert text.splitlines().count("六、挂牌督办重大隐患") == 1
    assert "灭火器过期 六、挂牌督办重大隐患 无。" in text


def test_long_overdue_lists_are_cut_in_the_email(
    templates: Templates, report: StageReport
) -> None:
    many = [overdue_row(item_id=1000 + i, title=f"逾期事项{i}") for i in range(55)]
    rendered = templates.stage_report(dataclasses.replace(report, overdue=many), TZ)
    assert "逾期事项49" in rendered.text and "逾期事项50" not in rendered.text
    assert "另有5项逾期事项，详见附件。" in rendered.text
    assert rendered.html is not None and "另有5项逾期事项，详见附件。" in rendered.html
    sheet = load_workbook(io.BytesIO(workbook_bytes(dataclasses.replace(report, overdue=many), TZ)))
    assert sheet["逾期事项"].max_row == 56


def test_empty_report_renders(templates: Templates, empty: StageReport) -> None:
    rendered, chart, workbook = render_email(templates, empty, TZ)
    assert rendered.subject == "【阶段整治情况】示例中学2021年第二季度隐患整改情况报告"
    assert "累计排查隐患0项，本期无隐患数据" in rendered.text
    assert "本期无督办任务" in rendered.text
    assert rendered.text.split("六、挂牌督办重大隐患")[1].split("七、")[0].strip() == "无。"
    assert rendered.html is not None and f"cid:{CHART_CID}" in rendered.html
    assert chart.content.startswith(PNG_SIGNATURE)
    assert workbook.filename == "阶段整治情况-2021Q2.xlsx"


def test_without_a_chart_the_html_has_no_image(templates: Templates, report: StageReport) -> None:
    rendered = templates.stage_report(report, TZ)
    assert rendered.html is not None and "cid:" not in rendered.html
