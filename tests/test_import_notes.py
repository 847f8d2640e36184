"""Real lists as offices fill them in (issue 19 point 14): a footnote under the table is
skipped with a warning, the 备注 column is kept as the item's 备注, and rows without
编号 are named by their row number."""

from __future__ import annotations

import json
from pathlib import Path

from openpyxl import Workbook, load_workbook

from adapters.demo import HEADER, TASK_ROWS
from tests.conftest import Cli
from tests.sheetdata import one_sheet

HEADER_WITH_REMARKS = ["隐患名称", "类别", "等级", "责任单位", "位置", "发现时间", "整改时限", "备注"]
ROWS = [
    ["灭火器过期", "消防", "一般", "保卫处", "图书馆二楼", "2021-03-01", "10日内", "已通知厂家更换"],
    ["配电箱未上锁", "消防", "一般", "总务处", "食堂后厨", "2021-03-02", "5日内", None],
]


def _hazards_with_footnote(path: Path, merged: bool) -> Path:
    wb = Workbook()
    ws = wb.active
    ws.title = "隐患清单"
    ws.append(HEADER_WITH_REMARKS)
    for row in ROWS:
        ws.append(row)
    ws.append([])
    ws.append(["注：整改完成后请将佐证材料报综治办。"])
    ws.append(["2. 逾期未整改的，按规定督办。"])
    if merged:
        ws.merge_cells("A5:H5")
        ws.merge_cells("A6:H6")
    wb.save(path)
    return path


def test_a_footnote_under_the_table_is_skipped_with_a_warning(run: Cli, tmp_path: Path) -> None:
    for merged in (True, False):
        path = _hazards_with_footnote(tmp_path / f"隐患清单{merged}.xlsx", merged)
        said = "".join(run("import", str(path), "--dry-run").stdout.split())  # as read, not as wrapped
        assert "第5行是表格下方的注释（“注：整改完成后请将佐证材料报综治办。”），未导入" in said
        assert "第6行是表格下方的注释" in said
        assert "预检：新增2项" in said


def test_a_task_list_footnote_is_skipped_too(run: Cli, tmp_path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    ws.append(HEADER)
    for row in TASK_ROWS:
        ws.append(list(row))
    ws.append(["说明：完成时间以综治办通知为准。"])
    ws.merge_cells(start_row=ws.max_row, start_column=1, end_row=ws.max_row, end_column=7)
    path = tmp_path / "任务清单.xlsx"
    wb.save(path)
    out = json.loads(run("import", str(path), "--json").stdout)
    assert out["summary"]["new"] == 9
    assert any("表格下方的注释（“说明：完成时间以综治办通知为准。”）" in w for w in out["warnings"])


def test_a_row_that_only_looks_like_a_note_is_still_data(run: Cli, tmp_path: Path) -> None:
    """“注水管破裂” is a hazard's title, not a note: alone in its row it is refused for what
    it lacks."""
    path = one_sheet(tmp_path / "l.xlsx", [HEADER_WITH_REMARKS, ROWS[0], ["注水管破裂"]], "隐患清单")
    said = run("import", str(path), code=2).stderr
    assert "第3行 “责任单位”列" in said and "没有导入任何内容" in said


def test_the_remarks_column_is_kept_as_the_items_remarks(run: Cli, tmp_path: Path) -> None:
    path = one_sheet(tmp_path / "l.xlsx", [HEADER_WITH_REMARKS, *ROWS], "隐患清单")
    out = json.loads(run("import", str(path), "--json").stdout)
    assert not any("备注" in w for w in out["warnings"])  # the column is not "not imported"
    first = json.loads(run("show", str(out["rows"][0]["item_id"]), "--json").stdout)
    assert first["remarks"] == "已通知厂家更换"
    # The 台账 carries it, and a changed 备注 updates the item on the next import.
    ledger = tmp_path / "台账.xlsx"
    run("export", str(ledger))
    sheet = load_workbook(ledger)["台账"]
    header = [c.value for c in sheet[1]]
    assert sheet.cell(2, header.index("备注") + 1).value == "已通知厂家更换"
    changed = [[*ROWS[0][:7], "厂家已更换"], ROWS[1]]
    path = one_sheet(tmp_path / "l.xlsx", [HEADER_WITH_REMARKS, *changed], "隐患清单")
    again = json.loads(run("import", str(path), "--json").stdout)
    assert again["summary"]["changed"] == 1
    assert again["rows"][0]["changes"]["remarks"] == ["已通知厂家更换", "厂家已更换"]


def test_rows_without_a_number_are_named_by_row_not_by_a_hash(run: Cli, tmp_path: Path) -> None:
    path = one_sheet(tmp_path / "l.xlsx", [HEADER_WITH_REMARKS, ROWS[0], ROWS[1], ROWS[0]], "隐患清单")
    said = run("import", str(path), code=2).stderr
    assert "第4行：与工作表“隐患清单”第2行是同一事项（没有编号，标题、责任单位、位置和发现时间都相同）" in said
    path = one_sheet(tmp_path / "l.xlsx", [HEADER_WITH_REMARKS, *ROWS], "隐患清单")
    shown = run("import", str(path), "--dry-run").stdout
    assert "（无）" in shown
    for line in shown.splitlines():
        assert not any(len(word) == 16 and all(c in "0123456789abcdef" for c in word) for word in line.split()), line
