"""Spreadsheets as the safety office receives them, built with openpyxl.

`task_list` is the appendix of seed 000 (安全专项整治问题清单、任务清单、责任清单) laid
out as the document does: a title row above the header, 整治项目 and 责任单位 cells
merged down over the tasks they cover (so the cells below are blank), and task 3's
second requirement on a row of its own, its 序号 cell merged with the one above.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from openpyxl import Workbook

HEADER = ["序号", "整治项目", "整治内容", "突出问题", "责任单位", "整治要求", "完成时间"]

# (序号, 整治项目, 整治内容, 突出问题, 责任单位, 整治要求, 完成时间); None where the document's
# cell is blank or covered by a merged cell above.
TASK_ROWS: list[tuple[Any, ...]] = [
    (1, "学习宣传贯彻习近平总书记重要论述", "政治站位不高，安全发展理念不到位",
     "学习重要论述不深不透，对健全落实学校安全工作责任制的重要性认识不足。",
     "学校各相关处室、二级学院按职责分工负责",
     "召开党组会议专题学习，开设专题专栏，开展重要论述宣讲工作。", "立整立改\n长期坚持"),
    (2, None, "学校安全工作责任落实不到位", "学校安全责任制不健全，分工不明，责任不清。", None,
     "严格“党政同责、一岗双责”，建立全员安全责任体系。", "立整立改\n长期坚持"),
    (3, "学校安全风险防控能力建设", "校园安全管理能力薄弱",
     "校园安防“三个百分之百”建设滞后，专职保安员配备不齐。", "人事处、保卫处、学校网络中心",
     "学校100%封闭化管理、100%配备专职保安、100%安装一键式报警装置和视频监控系统。", "2020年底前"),
    (None, None, None, None, None,
     "依托教育城域网络，推动“全省学校安全监控平台”建设。", "2022年底前"),
    (4, "重点领域安全专项治理", "校园火灾防控安全隐患", "安全投入少，师生消防安全意识薄弱。",
     "综治办、学工处、总务处、基建办、宿管办、二级学院及相关协调部门",
     "集中开展消防安全隐患排查整治，对老旧建筑进行消防改造升级。", "2022年底前"),
    (5, None, "学校食堂管理不正规", "食品安全主体责任不落实，食堂设施设备不全。", "总务处",
     "建立食品安全追溯体系，落实食品原料进货查验制度。", "2022年底前"),
    (6, None, "危险化学品使用管理不规范", "实验室安全管理责任制不健全。", "教务处、综治办及相关部门",
     "健全实验室、危化品仓库安全分级管理责任体系。", "2020年底前"),
    (7, "重点领域安全专项治理", "校车安全监管不到位", "违规使用非专用校车接送学生上、下学。",
     "党政办、车管组", "健全和落实校车安全管理制度，规范发展专用校车。", "2020年底前"),
    (8, None, "溺水事故易发多发", "学生安全意识入脑入心不够。", "学工处",
     "落实《防溺水任务清单》，加强学校防溺水集中宣传教育。", "2020年底前"),
]
# Merged ranges as the document shows them (1-based sheet rows; the header is row 2).
MERGES = ["A5:A6", "B5:B6", "C5:C6", "D5:D6", "E5:E6", "B3:B4", "E3:E4", "B7:B9"]


def task_list(path: Path, rows: list[tuple[Any, ...]] | None = None, *, merges: bool = True) -> Path:
    wb = Workbook()
    ws = wb.active
    ws.title = "任务清单"
    ws.append(["安全专项整治问题清单、任务清单、责任清单"])
    ws.merge_cells("A1:G1")
    ws.append(HEADER)
    for row in rows if rows is not None else TASK_ROWS:
        ws.append(list(row))
    if merges:
        for cells in MERGES:
            ws.merge_cells(cells)
    wb.save(path)
    return path


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
