"""Demo data for `rectify init --demo`: invented hazards at different stages."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from engine.service import Report


def populate(app: Any) -> int:
    """Record a handful of invented hazards and walk each to a different stage."""
    eng = app.engine
    now = eng.clock.now()
    count = 0

    def hazard(title: str, category: str, unit: str, days_ago: int, level: str = "一般", **kw: Any) -> int:
        nonlocal count
        count += 1
        item = eng.report(Report(title=title, category=category, level=level, unit=unit,
                                 reporter="郭晓明", found_at=now - timedelta(days=days_ago), **kw))
        return item.id

    hazard("第二教学楼三楼灭火器压力不足", "消防", "保卫处", 1, location="第二教学楼三楼东侧")
    a = hazard("学生食堂后厨燃气软管老化", "燃气", "总务处", 5, location="第一食堂后厨")
    eng.fire(a, "assign", "周安宁", {"responsible": "徐丽"})
    b = hazard("化学实验室危化品台账不全", "实验室及危化品", "教务处", 12, location="实训楼B201")
    eng.fire(b, "assign", "周安宁", {"responsible": "黄丽萍"})
    eng.fire(b, "start", "黄丽萍")
    c = hazard("学生宿舍5号楼疏散通道堆放杂物", "消防", "宿管办", 20, location="5号宿舍楼一层")
    eng.fire(c, "assign", "周安宁", {"responsible": "沈玉兰"})
    eng.fire(c, "start", "沈玉兰")
    eng.fire(c, "verify", "郭晓明", {"measures": "清理杂物并张贴禁放标识", "evidence": "整改前后照片"})
    eng.fire(c, "close", "周安宁")
    d = hazard("校门口一键式报警装置未与公安联网", "治安防控", "保卫处", 30, level="重大",
               location="南校门")
    eng.fire(d, "assign", "陈立德", {"responsible": "马建军"})
    hazard("游泳池周边防溺水警示标识缺失", "防溺水", "学工处", 2, location="体育馆游泳池")
    return count
