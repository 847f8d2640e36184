"""The dashboard's SVG chart (parses as XML, escapes, scales, links) and `rectify dashboard`
(Chinese text, --json, --as, --svg)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from adapters.charts import unit_chart
from adapters.wiring import open_app
from engine.clock import FakeClock
from engine.dashboard import Figure, PeriodView, Selection, UnitRate
from engine.reports import Count, parse_period
from engine.service import NewItem
from tests.conftest import Cli

SVG = "{http://www.w3.org/2000/svg}"
SH = ZoneInfo("Asia/Shanghai")


def _unit(name: str, found: int, closed: int, open_: int | None = None, overdue: int | None = None) -> UnitRate:
    base = Selection(kind="hazard", unit=name)
    return UnitRate(name, name, Count(found=found, closed=closed), Figure(found, base),
                    Figure(closed, Selection(kind="hazard", unit=name, closed_until=date(2021, 5, 10))),
                    Figure(0, base), Figure(0, base),
                    None if open_ is None else Figure(open_, Selection(unit=name, status="open")),
                    None if overdue is None else Figure(overdue, Selection(unit=name, status="open", overdue=True)),
                    None)


def _view(*units: UnitRate, counted: bool = True) -> PeriodView:
    return PeriodView(parse_period("2021Q2"), "2021年第二季度（截至5月10日）", False, counted, list(units), None)


def test_chart_parses_scales_and_labels_in_chinese() -> None:
    svg = unit_chart(_view(_unit("保卫处", 3, 1, 2, 1), _unit("总务处", 2, 0, 2, 2), _unit("空单位", 0, 0, 0, 0)))
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    assert root.get("viewBox", "").startswith("0 0 390 ") and root.get("width") == "100%"
    assert "sans-serif" in root.get("font-family", "") and "url(" not in svg and "@font-face" not in svg
    texts = "".join(root.itertext())
    assert "2021年第二季度（截至5月10日）各单位隐患整改情况" in texts
    assert "33.3%（1/3）" in texts and "50.0%（1/2）" in texts and "100.0%（2/2）" in texts
    assert "空单位" not in texts  # nothing found: left out
    assert not list(root.iter(f"{SVG}script"))


def test_chart_escapes_names_and_links() -> None:
    name = '<script>alert("x")</script>&'
    svg = unit_chart(_view(_unit(name, 1, 1, 1, 0)), link=lambda s: "/items?" + "&".join(
        f"{k}={v}" for k, v in s.to_params().items()) + '"><script>')
    root = ET.fromstring(svg)  # raises if anything broke out of its text or attribute
    assert not list(root.iter(f"{SVG}script")) and not list(root.iter("script"))
    assert name in "".join(root.itertext())
    hrefs = [a.get("href") for a in root.iter(f"{SVG}a")]
    assert hrefs and all(h and h.endswith('"><script>') for h in hrefs)
    assert any("closed_until=2021-05-10" in (h or "") for h in hrefs)


def test_chart_of_a_period_without_items_says_so() -> None:
    assert "该期间尚无事项记录" in "".join(ET.fromstring(unit_chart(_view(counted=False))).itertext())
    assert "本期无隐患数据" in "".join(ET.fromstring(unit_chart(_view())).itertext())


@pytest.fixture
def filled(sqlite_site: Path) -> Path:
    found = datetime(2021, 3, 1, 9, 0, tzinfo=SH)
    clock = FakeClock(found)
    app = open_app(sqlite_site, clock)
    try:
        for title, unit in (("消防通道堵塞", "保卫处"), ("灭火器过期", "总务处"), ("配电箱门未锁", "总务处")):
            app.service.report(NewItem(title=title, unit=unit, category="消防", found_at=found, reporter="郭晓明"))
        closed = app.service.report(NewItem(title="楼道照明损坏", unit="保卫处", category="消防", found_at=found,
                                            reporter="郭晓明"))
        assert closed.id is not None
        for hours, event, actor, sets in ((1, "assign", "赵卫东", {"responsible": "马建军"}), (2, "start", "马建军", None),
                                          (3, "submit", "马建军", {"measures": "更换灯具", "evidence": "照片"}),
                                          (3.5, "verify", "郭晓明", None), (4, "close", "周安宁", None)):
            app.service.fire(closed.id, event, actor, sets, at=found + timedelta(days=1, hours=hours))
    finally:
        app.close()
    return sqlite_site


def test_cli_prints_the_numbers_in_chinese(filled: Path) -> None:
    out = Cli(filled)("dashboard", "--at", "2021-05-10T10:00").stdout
    assert "综合看板（全校）：截至2021年5月10日 10:00" in out
    assert "在办隐患 3 项，其中逾期 3 项、挂牌督办 3 项" in out
    assert "  总务处：2 / 2 / 2" in out and "  保卫处：1 / 1 / 1" in out
    assert "2021年第二季度（截至5月10日）：" in out and "2021年第一季度：" in out
    assert "  保卫处：累计发现 2，累计整改 1，整改率 50.0%；本期新增 2，本期整改 1，平均整改用时 1.0个工作日" in out
    assert "逾期率 100.0%" in out


def test_cli_json_carries_each_number_with_its_selection(filled: Path) -> None:
    data = json.loads(Cli(filled)("dashboard", "--at", "2021-05-10T10:00", "--json").stdout)
    assert data["open"] == {"value": 3, "selection": {"kind": "hazard", "status": "open"}}
    assert data["previous"]["label"] == "2021年第一季度" and data["previous"]["counted"]
    assert data["current"]["total"]["overdue_ratio"] == 1.0
    assert [r["unit"] for r in data["overdue"]["rows"]] == ["保卫处", "总务处", "总务处"]


def test_cli_as_a_unit_head_and_the_svg(filled: Path, tmp_path: Path) -> None:
    target = tmp_path / "看板.svg"
    out = Cli(filled)("dashboard", "--at", "2021-05-10T10:00", "--as", "王建国", "--svg", str(target)).stdout
    assert "综合看板（王建国可查看的范围）" in out and "在办隐患 2 项" in out and "保卫处" not in out
    assert "总务处" in "".join(ET.fromstring(target.read_text(encoding="utf-8")).itertext())


def test_cli_refuses_an_unknown_person(filled: Path) -> None:
    result = Cli(filled)("dashboard", "--as", "无此人", code=None)
    assert result.exit_code != 0 and "无此人" in result.stderr and "Traceback" not in result.stderr
