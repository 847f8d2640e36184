"""Demo data for `rectify init --demo`: the campaign's task list and invented hazards.

The hazards are recorded as if the site had been running for the past weeks (each
report and transition at its own past instant), so the daemon's first tick already has
reminders and escalations to send; the campaign and its task list are moved from the
seed's 2020 to the current school year (`date_campaign`), so that the story is current.
People, places and addresses are invented.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from openpyxl import Workbook

from adapters.gcpause import gc_paused
from adapters.sheets import open_tables
from engine.clock import FakeClock
from engine.importing import Importer
from engine.service import NewItem

if TYPE_CHECKING:
    from adapters.wiring import App

# The campaign's task list (问题清单、任务清单、责任清单) laid out as the campaign plan's
# appendix does: a title row above the header, 整治项目 and 责任单位 cells merged down over
# the tasks they cover (so the cells below are blank), and task 3's second requirement on
# a row of its own, its 序号 cell merged with the one above. `rectify init --demo` writes it
# into the site as 示例-任务清单.xlsx and imports it, as an office would.
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






SAMPLE_TASK_LIST = "示例-任务清单.xlsx"

# The demo's group robot: 保卫处's DingTalk group, on the local sink `make run` starts
# (`rectify robot-sink`), with a 加签 secret in a file of the site.
DEMO_ROBOT_PORT = 8090
DEMO_SECRET_FILE = "robot-secret"
DEMO_MOBILES = {"周安宁": "13800000001", "赵卫东": "13800000002", "马建军": "13800000003"}


def add_demo_robot(root: Path) -> None:
    """Give the demo's 保卫处 a DingTalk group robot pointing at the local sink, and its
    people (invented) mobile numbers to be @-mentioned by."""
    import secrets

    secret_path = root / DEMO_SECRET_FILE
    secret_path.write_text("SEC" + secrets.token_hex(32) + "\n", encoding="utf-8")
    secret_path.chmod(0o600)
    org = root / "org.yaml"
    text = org.read_text(encoding="utf-8")
    marker = '  - name: "保卫处"\n'
    robot = ("    # 演示：保卫处的钉钉群机器人，发往本机的模拟服务（make run 启动 rectify robot-sink）\n"
             "    robots:\n"
             f'      - {{kind: "dingtalk", webhook: "http://127.0.0.1:{DEMO_ROBOT_PORT}/robot/send?access_token=demo-baoweichu", '
             f'secret_file: "{DEMO_SECRET_FILE}"}}\n')
    text = text.replace(marker, marker + robot, 1)
    for name, mobile in DEMO_MOBILES.items():
        text = text.replace(f'{{name: "{name}", ', f'{{name: "{name}", mobile: "{mobile}", ', 1)
    org.write_text(text, encoding="utf-8")


# The seed campaign's years (2020 to 2022: 动员部署 in August 2020, 排查整治 to December,
# 集中攻坚 2021, 巩固提升 2022), moved so that the demo's campaign runs now.
SEED_YEAR = 2020
_CAMPAIGN_YEARS = re.compile(r"(?<!\d)(2020|2021|2022)(?=年|-\d{2}-\d{2})")


def year_shift(today: date) -> int:
    """How many years the demo moves the seed campaign: it starts on the latest
    1 August, so `today` falls in its 排查整治 (September to December) or 集中攻坚 phase."""
    start = today.year if today.month >= 8 else today.year - 1
    return start - SEED_YEAR


def shifted(text: str, shift: int) -> str:
    """`text` with the seed campaign's years moved by `shift`: 2020年底前 → 2026年底前."""
    return _CAMPAIGN_YEARS.sub(lambda m: str(int(m[1]) + shift), text)


# How long before `rectify init --demo` the demo's campaign plan was issued: its
# reference date, which the task list's 立整立改 tasks were due by.
ISSUED_DAYS_AGO = 21


def date_campaign(root: Path, today: date) -> int:
    """Move the campaign of the demo site's rules/campaign.yaml to the current school
    year (the shipped file keeps the seed's dates), issued three weeks ago (its
    `reference`, not before the campaign's first day); the shift in years."""
    shift = year_shift(today)
    path = root / "rules" / "campaign.yaml"
    issued = max(date(SEED_YEAR + shift, 8, 1), today - timedelta(days=ISSUED_DAYS_AGO))
    text = _REFERENCE.sub(f'reference: "{issued.isoformat()}"', shifted(path.read_text(encoding="utf-8"), shift), 1)
    path.write_text(text, encoding="utf-8")
    return shift


_REFERENCE = re.compile(r'reference: "\d{4}-\d{2}-\d{2}"')


def dated_rows(shift: int) -> list[tuple[Any, ...]]:
    """The task list with its 完成时间 in the demo's campaign years."""
    return [(*row[:6], shifted(row[6], shift) if isinstance(row[6], str) else row[6]) for row in TASK_ROWS]


def import_task_list(app: App, path: Path) -> int:
    """Import a task list as `rectify import` does; returns how many items it created."""
    rules = app.service.policies.current
    campaign = rules.campaign()
    ref = datetime.combine(campaign.reference, time(), app.config.timezone) if campaign and campaign.reference else None
    importer = Importer(app.service, app.site.org, rules)
    reader = importer.reader(str(path), kind="task", reference=ref, max_rows=1000,
                             sources={"task": campaign.name if campaign else path.stem, "hazard": path.stem})
    actor = app.site.org.unit(app.site.org.safety_office).head
    with gc_paused(), open_tables(path) as tables:
        plan = importer.plan(reader, reader.rows(tables), actor)
    with gc_paused():
        return importer.apply(plan).count("new")


# The demo's walks: a hazard closed (assigned, started, reported done, verified, 销号), and
# one waiting for its verification (reported done).
CLOSED: list[tuple[str, str, float, dict[str, str] | None]] = [
    ("assign", "周安宁", 19.5, {"responsible": "沈玉兰"}), ("start", "沈玉兰", 19, None),
    ("submit", "沈玉兰", 17.5, {"measures": "清理杂物并张贴禁放标识", "evidence": "整改前后照片"}),
    ("verify", "郭晓明", 17, None), ("close", "周安宁", 16.8, None)]
WAITING: list[tuple[str, str, float, dict[str, str] | None]] = [
    ("assign", "赵卫东", 8.8, {"responsible": "马建军"}), ("start", "马建军", 8, None),
    ("submit", "马建军", 1, {"measures": "更换应急照明灯 4 盏并逐一测试", "evidence": "更换后测试记录"})]


def populate(app: App, shift: int | None = None) -> int:
    """Record the campaign tasks (their 完成时间 moved by `shift` years, as date_campaign
    moved the campaign: by default to the current school year) and a handful of hazards
    walked to different stages."""
    eng = app.service
    real_clock = eng.clock
    now = real_clock.now()
    shift = year_shift(now.astimezone(app.config.timezone).date()) if shift is None else shift
    clock = eng.clock = FakeClock(now)
    count = 0

    def at(days_ago: float) -> datetime:
        clock.set(now - timedelta(days=days_ago))
        return clock.now()

    def hazard(title: str, category: str, unit: str, days_ago: float, level: str = "一般", **kw: Any) -> int:
        nonlocal count
        count += 1
        found = at(days_ago)
        item = eng.report(NewItem(title=title, category=category, level=level, unit=unit,
                                 reporter="郭晓明", found_at=found, **kw))
        assert item.id is not None  # a stored item has its id
        return item.id

    def fire(item_id: int, event: str, actor: str, days_ago: float, sets: dict[str, str] | None = None) -> None:
        eng.fire(item_id, event, actor, sets, at=at(days_ago))

    try:
        # The task list is imported today, long after its campaign began: only each task's
        # latest escalation is owed now, not six years of repeats.
        clock.set(now)
        count += import_task_list(app, task_list(app.config.root / SAMPLE_TASK_LIST, dated_rows(shift)))
        _hazards(hazard, fire)
    finally:
        eng.clock = real_clock
    return count


def _hazards(hazard: Callable[..., int], fire: Callable[..., None]) -> None:
    """The demo's hazards, each walked to its stage (days_ago: how long before now)."""
    hazard("第二教学楼三楼灭火器压力不足", "消防", "保卫处", 11, location="第二教学楼三楼东侧")
    a = hazard("学生食堂后厨燃气软管老化", "燃气", "总务处", 4.5, location="第一食堂后厨")
    fire(a, "assign", "周安宁", 4.4, {"responsible": "徐丽"})
    b = hazard("化学实验室危化品台账不全", "实验室及危化品", "教务处", 30, location="实训楼B201")
    fire(b, "assign", "周安宁", 29, {"responsible": "黄丽萍"})
    fire(b, "start", "黄丽萍", 27)
    c = hazard("学生宿舍5号楼疏散通道堆放杂物", "消防", "宿管办", 20, location="5号宿舍楼一层")
    for event, actor, days_ago, sets in CLOSED:
        fire(c, event, actor, days_ago, sets)
    d = hazard("校门口一键式报警装置未与公安联网", "治安防控", "保卫处", 45, level="重大",
               location="南校门")
    fire(d, "assign", "陈立德", 44, {"responsible": "马建军"})
    hazard("游泳池周边防溺水警示标识缺失", "防溺水", "学工处", 2, location="体育馆游泳池")
    # Reported done and waiting for its verification (待验收): in the unit head's 我的待办.
    e = hazard("图书馆二楼应急照明灯不亮", "消防", "保卫处", 9, location="图书馆二楼走廊")
    for event, actor, days_ago, sets in WAITING:
        fire(e, event, actor, days_ago, sets)
