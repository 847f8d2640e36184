"""Large invented ledgers for the plan and tick benchmarks (issue 4 and 5 sizes).

A site is created the way `rectify init` creates one, plus a generated rule file that
brings the policy to 50 rules (distinct (category, level, unit) triples, one rule per
unit for tasks and three campaign-phase rules, so no two rules tie). A few hundred
item *templates* are reported and moved through their workflows by the real Service
(FakeClock, scratch site), so every plan column (rule, policy version, started_at,
due, overdue_at, assigned/entered/paused time, cursor) is what the engine itself
records. The large databases are then filled with copies of those rows (new id and
title) by plain executemany of the stored column values, in big transactions with
`synchronous=OFF`; the policy version is saved in each database with
`SqlStore.save_policy`, so Service.plan uses the very version the items are bound to.

Every name, unit and address is invented (the shipped demo org.yaml).
"""

from __future__ import annotations

import os
import random
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Dialect

from adapters import logs
from adapters.schema import items
from adapters.sitefiles import load_config, load_site_files
from adapters.sitesetup import create_site
from adapters.wiring import App, open_app
from engine.clock import FakeClock
from engine.model import Item
from engine.plan import Plan
from engine.ports import Query
from engine.service import NewItem

SHANGHAI = ZoneInfo("Asia/Shanghai")
RULES_FILE = "bench_rules.yaml"
RULE_COUNT = 50

CATEGORIES = ("消防", "食品安全", "实验室及危化品", "治安防控", "校车及交通", "传染病防控", "建筑与施工",
              "实习实训", "燃气", "特种设备", "防溺水", "心理健康", "安全教育", "其他")
# Unit → who is responsible for its items (a `responsible` person, else the head).
UNITS = {
    "综治办": "周安宁", "总务处": "张海峰", "保卫处": "马建军", "教务处": "黄丽萍", "学工处": "杨晨",
    "人事处": "吴志强", "学校网络中心": "郑海涛", "党政办": "冯建华", "车管组": "何家明", "基建办": "许国栋",
    "宿管办": "沈玉兰", "机电工程学院": "韩振宇", "信息工程学院": "曹雅琴",
}
HEAD = "周安宁"  # head of 综治办: assigns
INSPECTORS = ("郭晓明", "罗静")
FOOD_GAS = ("燃气", "食品安全")  # the shipped rule "燃气与食品安全一般隐患" matches these
PHASE_CATEGORIES = ("消防", "实验室及危化品", "校车及交通")
LOCATIONS = ("第一教学楼 2 楼走廊", "第二教学楼 3 楼配电间", "学生食堂后厨", "化学实验室 203", "图书馆地下车库",
             "3 号学生宿舍楼", "体育馆看台", "实训楼 1 楼钳工车间", "校门口接送区", "锅炉房", "游泳馆", "校医院")
PROBLEMS = ("灭火器过期未更换", "疏散通道堆放杂物", "配电箱线路老化", "燃气管道软管老化", "危化品台账不全",
            "监控探头损坏", "校车安全带缺失", "脚手架未设防护网", "消防栓水压不足", "安全出口指示灯不亮",
            "食品留样记录缺失", "池边警示标识缺失", "宿舍违规使用大功率电器", "特种设备检验过期")
HAZARD_DEADLINES = ("7天内", "10个工作日内", "1个月内", "立整立改", "20日内")

# Rule generation: (deadline, from) choices, reminders and ladders for the generated rules.
_GENERAL_DEADLINES = ("10个工作日内", "5个工作日内", "7日内", "20个工作日内", "1个月内", "15日内", "30日内")
_MAJOR_DEADLINES = ("2个月内", "45日内", "3个月内", "60个工作日内")
_REMINDS = (("50%", "3日前"), ("1个工作日前",), ("75%", "2日前"), ("50%", "2个工作日前", "1日前"), ("3日前",))
_INLINE_LADDER = (
    '\n      - {after: "逾期即", action: "提醒", notify: ["responsible", "unit_head"]}'
    '\n      - {after: "逾期2个工作日", action: "通报", notify: ["unit_head", "leader"], repeat: "每2个工作日"}'
    '\n      - {after: "逾期8个工作日", action: "约谈", notify: ["unit_head", "leader", "safety_office"]}'
)


@dataclass(frozen=True)
class Triple:
    category: str
    level: str
    unit: str


def rule_triples() -> list[Triple]:
    """The (category, level, unit) of each generated hazard rule: 30 distinct triples."""
    rng = random.Random(4)
    pairs = [(c, u) for c in CATEGORIES for u in UNITS]
    rng.shuffle(pairs)
    return [Triple(c, "重大" if i % 4 == 3 else "一般", u) for i, (c, u) in enumerate(pairs[:30])]


def extra_rules() -> str:
    """46 rules on top of the shipped 4: hazard triples, one per unit for tasks, campaign phases."""
    out = ["# 基准测试生成的规则（虚构）：按类别、等级、责任单位细分的期限与升级。", "rules:"]
    for i, t in enumerate(rule_triples()):
        major = t.level == "重大"
        deadline = (_MAJOR_DEADLINES if major else _GENERAL_DEADLINES)[i % (4 if major else 7)]
        base = "assigned" if i % 5 == 1 else "found"
        remind = ", ".join(f'"{r}"' for r in _REMINDS[i % len(_REMINDS)])
        if major:
            escalate = ' "重大隐患督办"'
        elif i % 3 == 2:
            escalate = _INLINE_LADDER
        else:
            escalate = ' "一般隐患督办"'
        out += [
            f'  - name: "细分规则{i + 1:02d} {t.category}·{t.level}·{t.unit}"',
            f'    match: {{kind: "hazard", category: "{t.category}", level: "{t.level}", unit: "{t.unit}"}}',
            f'    deadline: {{expr: "{deadline}", from: "{base}"}}',
            f"    remind: [{remind}]",
            f"    escalate:{escalate}",
        ]
        if major:
            out.append('    pause_in: ["awaiting_funds"]')
    for i, unit in enumerate(UNITS):
        out += [
            f'  - name: "整治任务·{unit}"',
            f'    match: {{kind: "task", unit: "{unit}"}}',
            f'    deadline: {{expr: "{("30日内", "1个月内", "20个工作日内")[i % 3]}"}}',
            '    remind: ["7日前", "1日前"]',
            '    escalate: "任务督办"',
        ]
    for category in PHASE_CATEGORIES:
        out += [
            f'  - name: "集中攻坚·{category}"',
            f'    match: {{kind: "hazard", level: "一般", category: "{category}", phase: "集中攻坚"}}',
            "    priority: 1",
            '    deadline: {expr: "5个工作日内"}',
            '    remind: ["50%"]',
            '    escalate: "一般隐患督办"',
        ]
    return "\n".join(out) + "\n"


@contextmanager
def clean_environment() -> Iterator[None]:
    """No RECTIFY_* overrides: always the site's own SQLite file and settings."""
    saved = {k: os.environ.pop(k) for k in list(os.environ) if k.startswith("RECTIFY_")}
    try:
        yield
    finally:
        os.environ.update(saved)


AROUND_THE_CLOCK = '\ndelivery:\n  office_hours: {days: "all", start: "00:00", end: "24:00"}\n'


def make_site(directory: Path) -> Path:
    """A site as `rectify init` makes it, with the generated rules; checked like `rectify check`."""
    create_site(directory)
    (directory / "rules" / RULES_FILE).write_text(extra_rules(), encoding="utf-8")
    # Office hours around the clock: a tick measured at night or on a weekend does the
    # same work (compose and send its digests) as one in office hours.
    config = directory / "rectify.yaml"
    config.write_text(config.read_text(encoding="utf-8") + AROUND_THE_CLOCK, encoding="utf-8")
    root = directory.resolve()
    files = load_site_files(load_config(root))  # raises ConfigError with file:line on any problem
    assert len(files.rules.rules) == RULE_COUNT, len(files.rules.rules)
    return root


# -- templates: real items, reported and moved by the engine -------------------------


def _fire(app: App, item_id: int, event: str, actor: str, at: datetime, **sets: str) -> None:
    app.service.fire(item_id, event, actor, sets=sets or None, at=at)


def report_templates(app: App, clock: FakeClock, ref: datetime, count: int, seed: int) -> list[Item]:
    """`count` items found in the 100 days before `ref`, in every workflow and most states."""
    rng = random.Random(seed)
    triples = rule_triples()
    for _ in range(count):
        found = ref - timedelta(days=rng.uniform(1, 100))
        found = found.replace(second=0, microsecond=0)
        life = ref - found
        roll = rng.random()
        if roll < 0.15:
            kind, level, category = "task", "一般", "其他"
            unit = rng.choice(list(UNITS))
        elif roll < 0.6:
            t = rng.choice(triples)
            kind, level, category, unit = "hazard", t.level, t.category, t.unit
        else:
            kind = "hazard"
            level = "重大" if rng.random() < 0.1 else "一般"
            category, unit = rng.choice(CATEGORIES), rng.choice(list(UNITS))
        deadline = None
        if kind == "task" and rng.random() < 0.5:
            deadline = (found.astimezone(SHANGHAI).date() + timedelta(days=rng.randint(20, 90))).isoformat()
        elif kind == "hazard" and rng.random() < 0.15:
            deadline = rng.choice(HAZARD_DEADLINES)
        problem = rng.choice(PROBLEMS)
        title = f"整治任务：{category}专项排查（{unit}）" if kind == "task" else f"{category}：{problem}"
        clock.set(found + timedelta(minutes=rng.randint(5, 90)))
        item = app.service.report(NewItem(
            title=title, kind=kind, category=category, level=level, unit=unit,
            location=rng.choice(LOCATIONS), reporter=rng.choice(INSPECTORS), responsible=UNITS[unit],
            found_at=found, deadline=deadline))
        assert item.id is not None
        at = found + life * rng.uniform(0.05, 0.3)
        stage = rng.random()
        if kind == "task":
            if stage < 0.5:
                _fire(app, item.id, "start", UNITS[unit], at)
        elif stage < 0.25:
            continue  # stays reported
        else:
            _fire(app, item.id, "assign", HEAD, at)
            later = at + (ref - at) * rng.uniform(0.1, 0.5)
            if level == "重大" and stage > 0.6:
                _fire(app, item.id, "request_funds", UNITS[unit], later)
            elif level == "一般" and stage > 0.5:
                _fire(app, item.id, "start", UNITS[unit], later)
    return app.store.query(Query())


@dataclass
class Templates:
    """The template items, their stored column values, and the site they were made in."""

    items: list[Item]
    columns: list[str]
    raw: list[tuple[Any, ...]]  # stored values, in `columns` order, same order as items
    policy_version: str
    app: App  # the scratch site's app (closed by the caller)

    def plan(self, index: int) -> Plan:
        return self.app.service.plan(self.items[index])


def make_templates(root: Path, ref: datetime, count: int, seed: int = 7) -> Templates:
    """Report `count` template items in a scratch site under `root` (FakeClock at `ref`)."""
    clock = FakeClock(ref)
    app = open_app(root, clock)
    found = report_templates(app, clock, ref, count, seed)
    columns = [c.name for c in items.c]
    with app.store.read() as conn:
        rows = conn.exec_driver_sql(f"SELECT {', '.join(columns)} FROM items ORDER BY id").all()
    raw = [tuple(r) for r in rows]
    versions = {i.policy_version for i in found}
    assert len(versions) == 1, versions
    return Templates(found, columns, raw, versions.pop(), app)


# -- bulk copies ---------------------------------------------------------------------


def stored(dialect: Dialect, column: str, value: Any) -> Any:
    """`value` as the store writes it into `column` (the column type's own bind processing)."""
    processor = items.c[column].type.bind_processor(dialect)
    return processor(value) if processor else value


def bulk_fill(app: App, templates: Templates, count: int, choose: Callable[[int], int],
              row: Callable[[int, int, tuple[Any, ...]], tuple[Any, ...]] | None = None,
              batch: int = 50_000, label: str = "") -> float:
    """Insert `count` items, id 1..count, item i a copy of template choose(i) (new title);
    `row` may rewrite a copy's values. Returns seconds taken."""
    started = time.perf_counter()
    cols = templates.columns
    at_title = cols.index("title")
    at_id = cols.index("id")
    assert at_id == 0
    sql = f"INSERT INTO items ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
    # save_policy: the version the copies are bound to is stored in this database too.
    policy = templates.app.service.policies.get(templates.policy_version)
    app.store.save_policy(policy.version, policy.loaded_at, policy.sources)
    with app.store.db.connect() as conn:
        pragma = conn.connection.driver_connection.execute  # outside any transaction
        pragma("PRAGMA synchronous=OFF")
        pragma("PRAGMA cache_size=-262144")  # 256 MiB: the five indexes are built as rows arrive
        raw = templates.raw
        for start in range(1, count + 1, batch):
            rows = []
            for i in range(start, min(count, start + batch - 1) + 1):
                t = choose(i)
                values = raw[t]
                copy = (i, *values[1:at_title], f"{values[at_title]}（第{i}号）", *values[at_title + 1:])
                rows.append(row(i, t, copy) if row else copy)
            with conn.begin():
                conn.exec_driver_sql(sql, rows)  # type: ignore[arg-type]
        pragma("PRAGMA synchronous=NORMAL")
        pragma("PRAGMA cache_size=-2000")
    seconds = time.perf_counter() - started
    print(f"  {label}{count:,} items inserted in {seconds:.1f} s", file=sys.stderr, flush=True)
    return seconds


@contextmanager
def workdir(prefix: str) -> Iterator[Path]:
    with clean_environment(), tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        logs.configure(level="WARNING")
        yield Path(tmp)


def spread(count: int, among: int) -> Sequence[int]:
    """`count` ids spread evenly over 1..among (not clustered at one end of the table)."""
    step = among / count
    return [1 + int(k * step) for k in range(count)]
