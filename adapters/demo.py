"""Demo data for `rectify init --demo`: seed 000's campaign task list and invented hazards.

The hazards are recorded as if the site had been running for the past weeks (each
report and transition at its own past instant), so the daemon's first tick already has
reminders and escalations to send. People, places and addresses are invented.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from engine.clock import FakeClock
from engine.service import Report

# Seed 000 (安全专项整治三年行动任务清单): 整治内容, 责任单位 (the lead one), 整治要求, 完成时间.
CAMPAIGN_TASKS = [
    ("学校安全工作责任落实", "综治办",
     "建立“人人有责、层层负责、各负其责”的全员安全责任体系，健全安全责任运行机制", "立整立改"),
    ("校园安防“三个百分之百”建设", "保卫处",
     "学校100%封闭化管理、100%配备专职保安、100%安装一键式报警装置和视频监控系统并与公安部门联网", "2020年底前"),
    ("学校安全监控平台建设", "学校网络中心",
     "依托教育城域网络，推动学校安全监控平台、智慧消防（用电）平台建设", "2022年底前"),
    ("校园火灾防控隐患整治", "综治办",
     "集中开展消防安全隐患排查整治，对老旧建筑进行消防改造升级", "2022年底前"),
    ("学校食堂规范管理", "总务处",
     "建立食品安全追溯体系，落实食品原料进货查验制度，提高“互联网+明厨亮灶”覆盖率", "2022年底前"),
    ("危险化学品使用管理", "教务处",
     "健全实验室、危化品仓库安全分级管理责任体系，落实化学品存放、管理措施", "2020年底前"),
    ("校车安全监管", "车管组",
     "健全和落实校车安全管理制度，清理不达标载客汽车、非专用校车", "2020年底前"),
    ("防溺水宣传教育", "学工处",
     "落实《防溺水任务清单》，加强防溺水集中宣传教育和家校合作", "2020年底前"),
]
CAMPAIGN_START = datetime.fromisoformat("2020-09-01T09:00:00+08:00")  # 排查整治 phase


def populate(app: Any) -> int:
    """Record the campaign tasks and a handful of hazards walked to different stages."""
    eng = app.engine
    real_clock = eng.clock
    now = real_clock.now()
    clock = eng.clock = FakeClock(now)
    count = 0

    def at(days_ago: float) -> datetime:
        clock.set(now - timedelta(days=days_ago))
        return clock.now()

    def hazard(title: str, category: str, unit: str, days_ago: float, level: str = "一般", **kw: Any) -> int:
        nonlocal count
        count += 1
        found = at(days_ago)
        item = eng.report(Report(title=title, category=category, level=level, unit=unit,
                                 reporter="郭晓明", found_at=found, **kw))
        return int(item.id)

    def fire(item_id: int, event: str, actor: str, days_ago: float, sets: dict[str, str] | None = None) -> None:
        eng.fire(item_id, event, actor, sets, at=at(days_ago))

    try:
        # The task list is recorded today, long after its campaign began: only each task's
        # latest escalation is owed now, not six years of repeats.
        clock.set(now)
        for title, unit, requirement, due in CAMPAIGN_TASKS:
            head = app.policy.org.unit(unit).head
            eng.report(Report(title=title, kind="task", unit=unit, responsible=head, deadline=due,
                              found_at=CAMPAIGN_START, fields={"requirement": requirement}))
            count += 1
        hazard("第二教学楼三楼灭火器压力不足", "消防", "保卫处", 11, location="第二教学楼三楼东侧")
        a = hazard("学生食堂后厨燃气软管老化", "燃气", "总务处", 4.5, location="第一食堂后厨")
        fire(a, "assign", "周安宁", 4.4, {"responsible": "徐丽"})
        b = hazard("化学实验室危化品台账不全", "实验室及危化品", "教务处", 30, location="实训楼B201")
        fire(b, "assign", "周安宁", 29, {"responsible": "黄丽萍"})
        fire(b, "start", "黄丽萍", 27)
        c = hazard("学生宿舍5号楼疏散通道堆放杂物", "消防", "宿管办", 20, location="5号宿舍楼一层")
        fire(c, "assign", "周安宁", 19.5, {"responsible": "沈玉兰"})
        fire(c, "start", "沈玉兰", 19)
        fire(c, "verify", "郭晓明", 17, {"measures": "清理杂物并张贴禁放标识", "evidence": "整改前后照片"})
        fire(c, "close", "周安宁", 16.8)
        d = hazard("校门口一键式报警装置未与公安联网", "治安防控", "保卫处", 45, level="重大",
                   location="南校门")
        fire(d, "assign", "陈立德", 44, {"responsible": "马建军"})
        hazard("游泳池周边防溺水警示标识缺失", "防溺水", "学工处", 2, location="体育馆游泳池")
    finally:
        eng.clock = real_clock
    return count
