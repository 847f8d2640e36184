"""What a reminder or escalation email says, as data: no I/O, no templates.

The scheduler turns plan steps into `Notice`s and groups them per recipient into a
`Digest` (one email per recipient per tick); `adapters/templates.py` renders them.
`AdminAlert` tells the site's administrator that a rule edit was refused (or that a
stage report could not be produced);
`DeadlineChange` tells the person responsible for an item that its provisional deadline
was counted again once the year's holiday arrangement became known.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from engine.workcal import WorkCalendar


@dataclass(frozen=True)
class StepLine:
    """One step an entry of a digest lists: a reminder or a rung that fell due since the
    last digest (repetitions of a rung merged into one line)."""

    kind: str  # remind | escalate | extension
    action: str
    label: str
    at: datetime  # aware; when it fell due (the latest repetition)
    late: bool  # fell due while no daemon ran (补发)
    repeats: int = 1
    first_at: datetime | None = None  # the first repetition, when repeats > 1
    # A reminder whose deadline had passed by the time it was delivered: not sent as a
    # reminder (the entry says the item is overdue instead).
    expired: bool = False


@dataclass(frozen=True)
class Notice:
    """One reminder or escalation step for one item, as its recipient reads it."""

    item_id: int
    title: str
    kind: str  # "hazard" | "task"
    category: str
    level: str  # "一般" | "重大"
    unit: str | None
    location: str | None
    state_title: str  # the item's current state in Chinese, e.g. "整改中"
    due: date | None  # last allowed day
    overdue_at: datetime | None  # aware
    # "remind" | "escalate" | "extension" (a request for a later deadline, or its answer) |
    # "overdue" (reminders delivered after the deadline, with no escalation to say so)
    step_kind: str
    action: str  # 提醒 | 通报 | 约谈 | 挂牌督办 | 问责 | 延期申请 | 同意延期 | 不同意延期
    # The rule text that produced it, e.g. "3日前", "逾期3个工作日", "每3个工作日"; for an
    # extension, who asked for (or answered) what, e.g. "马建军申请延期至2021年4月2日：…"
    step_label: str
    at: datetime  # aware; when the step fell due
    # Days past the due day when the mail is composed, as the 台账 counts them (at least 1);
    # 0 for reminders and for an item that fell overdue today (the mail says 今日逾期).
    days_overdue: int
    late: bool  # queued well after `at` (the daemon was down): the mail must say 补发
    # Why this recipient gets it:
    # responsible | unit_head | leader | principal | safety_office | higher_authority | watcher
    role: str
    others: tuple[str, ...]  # names of the other people/units told of this same step
    # The deadline was counted into a year whose holiday arrangement is not published yet:
    # the mail says 暂定 and why (`provisional_note`).
    provisional: bool = False
    provisional_note: str = ""
    # How many repetitions of this rung the notice stands for: after downtime a repeating
    # step (通报 每3个工作日) may have fallen due several times; the mail says so once,
    # from the first of them (`first_at`), instead of listing each.
    repeats: int = 1
    first_at: datetime | None = None
    # Every step of the item this digest carries, in time order (the one above among
    # them): a digest has one entry per item (`engine.digests.entries`).
    steps: tuple[StepLine, ...] = ()


@dataclass(frozen=True)
class Digest:
    """Everything one recipient is told in one tick: one email."""

    site_name: str
    recipient_name: str
    recipient_email: str
    notices: tuple[Notice, ...]  # one entry per item, at least one, in time order
    generated_at: datetime  # aware
    timezone: ZoneInfo
    # The safety office's name in org.yaml (综治办, 安全保卫处 …): who the mail says to
    # report to, and the recipient's role when it is the office.
    office: str = ""

    def __post_init__(self) -> None:
        if not self.notices:
            raise ValueError(f"发给 {self.recipient_name} 的汇总邮件没有任何事项")


@dataclass(frozen=True)
class DeadlineChange:
    """An item's deadline counted again with a changed calendar (a year's holiday
    arrangement learnt, for a provisional deadline; the school terms changed, for one
    read against them): the old and the new deadline, to its responsible person (else
    the unit head)."""

    site_name: str
    recipient_name: str
    recipient_email: str
    role: str  # responsible | unit_head (see ROLE_TITLES)
    item_id: int
    title: str
    kind: str
    category: str
    level: str
    unit: str | None
    location: str | None
    state_title: str
    old_due: date | None
    new_due: date | None
    old_overdue_at: datetime | None  # aware
    new_overdue_at: datetime | None  # aware
    provisional: bool  # still provisional: a later year's arrangement is still unknown
    reason: str  # why it changed, as in the ledger
    provisional_note: str  # why it is still provisional ("" when it is not)
    at: datetime  # aware
    timezone: ZoneInfo
    was_provisional: bool = True  # the old deadline was provisional (else: the terms changed)


@dataclass(frozen=True)
class AdminAlert:
    """Something the site's administrator must fix: by default a rule edit was refused
    and the daemon keeps running on the old policy version."""

    site_name: str
    recipient_email: str
    title: str  # e.g. "规则修改未生效，继续按版本 3f2a9c1b7d04 运行"
    problems: tuple[str, ...]  # each "file:line: message"
    at: datetime  # aware
    timezone: ZoneInfo
    happened: str = "拒绝了一次规则文件修改"  # "{site}的督办系统{happened}："
    advice: str = ("系统继续按原有规则运行，提醒和督办不受影响。请修正上述文件后重新保存，\n"
                   "保存后系统会自动重新加载；也可先运行 rectify check 检查。")


ROLE_TITLES = {
    "responsible": "责任人",
    "unit_head": "单位负责人",
    "leader": "分管校领导",
    "principal": "校长",
    "safety_office": "安全办",
    "higher_authority": "上级主管部门",
    "watcher": "专人盯防",
    "requester": "延期申请人",
    "unassigned": "待分派事项的交办人",
}

KIND_TITLES = {"hazard": "隐患", "task": "任务"}

_ANY = "*"

# (step_kind, action, role) -> what the recipient must do. Looked up from the most
# specific key to the least: (action, role), (any action, role), (action, any role),
# (any, any). A role with an (any action) entry does the same whatever the rung says
# (the responsible person always has to rectify); the others act by the rung's action.
_DUTIES: dict[tuple[str, str, str], str] = {
    ("remind", _ANY, "responsible"): "请在期限前完成整改，并在系统中提交整改佐证",
    ("remind", _ANY, "unit_head"): "请督促责任人在期限前完成整改",
    ("remind", _ANY, "watcher"): "请跟进现场整改进度，发现问题及时向安全办报告",
    ("remind", _ANY, _ANY): "请关注整改进度，督促按期完成",
    ("escalate", _ANY, "responsible"): "该事项已逾期，请立即整改，并在系统中提交整改佐证和逾期说明",
    ("escalate", _ANY, "watcher"): "请到现场核实整改进度，并及时向安全办报告",
    # An item reported without a unit (待分派): the safety office assigns it.
    ("remind", _ANY, "unassigned"): "该事项尚未确定责任单位，请尽快确定责任单位和责任人并交办",
    ("escalate", _ANY, "unassigned"): "该事项已逾期且尚未确定责任单位，请立即确定责任单位和责任人并交办",
    ("escalate", "通报", "unit_head"): "请督促责任人立即整改，并于1个工作日内说明逾期原因",
    ("escalate", "约谈", "unit_head"): "请按通知接受约谈，说明逾期原因并提出整改措施",
    ("escalate", "问责", "unit_head"): "该事项已进入问责程序，请督促立即整改并配合调查",
    ("escalate", _ANY, "unit_head"): "请督促责任人立即整改，并向分管校领导说明逾期原因",
    ("escalate", "约谈", "leader"): "请约谈责任单位负责人，督促限期整改",
    ("escalate", "挂牌督办", "safety_office"): "请对该隐患挂牌督办，跟踪整改直至销号",
    ("escalate", "挂牌督办", _ANY): "该隐患已挂牌督办，请督促责任单位限期整改",
    ("escalate", "问责", _ANY): "请按规定启动问责程序",
    ("escalate", _ANY, _ANY): "请督促责任单位立即整改",
    # A reminder delivered after the deadline it reminded of (it waited for office hours, or
    # no daemon ran), with no escalation in the same digest: the entry says it is overdue.
    ("overdue", _ANY, "responsible"): "该事项已过整改期限，请立即整改，并在系统中提交整改佐证和逾期说明",
    ("overdue", _ANY, "watcher"): "该事项已过整改期限，请到现场核实整改进度，并及时向安全办报告",
    ("overdue", _ANY, _ANY): "该事项已过整改期限，请督促责任人立即整改",
    # Extension requests (engine.extensions): the approvers are asked, the requester told.
    ("extension", "延期申请", _ANY): "请审核该延期申请，批准或不予批准（rectify extend approve / refuse）",
    ("extension", "同意延期", _ANY): "延期申请已批准，请在新的期限前完成整改",
    ("extension", "不同意延期", _ANY): "延期申请未获批准，请在原期限前完成整改",
    ("extension", _ANY, _ANY): "请查看该事项的延期申请",
}


def unknown_years(started_at: datetime | None, due: date | None, calendar: WorkCalendar,
                  timezone: ZoneInfo) -> list[int]:
    """The years a deadline counted from `started_at` to `due` crosses whose holiday
    arrangement `calendar` does not know: what makes it provisional."""
    if started_at is None or due is None:
        return []
    first = started_at.astimezone(timezone).year
    return [y for y in range(first, due.year + 1) if not calendar.knows(y)]


def provisional_note(years: Iterable[int]) -> str:
    """Why a deadline is provisional, for the person who has to meet it."""
    shown = years_text(years)
    which = f"{shown}年的" if shown else "期限所跨年份的"
    return (f"{which}法定节假日安排尚未公布，工作日暂按周末和元旦、劳动节、国庆节计算，期限为暂定；"
            "安排公布并写入日历后将自动重新计算，期限如有变化会另行通知")


def years_text(years: Iterable[int]) -> str:
    """2027 → "2027"; 2027, 2028 → "2027、2028"."""
    return "、".join(str(y) for y in sorted(set(years)))


def role_title(role: str, unit: str | None = None, office: str | None = None) -> str:
    """The role in Chinese with the names org.yaml gives: the safety office by its own
    name (`office`: 综治办 …), a unit head as “保卫处负责人”; else "unit_head" → "单位负责人";
    an unknown role as it is."""
    if role == "safety_office" and office:
        return office
    if role == "unassigned":
        return f"{office or ROLE_TITLES['safety_office']}（事项尚未确定责任单位，由您交办）"
    if role == "unit_head" and unit:
        return f"{unit}负责人"
    return ROLE_TITLES.get(role, role)


def kind_title(kind: str) -> str:
    """"hazard" → "隐患", "task" → "任务"; an unknown kind as it is."""
    return KIND_TITLES.get(kind, kind)


def duty(notice: Notice, office: str | None = None) -> str:
    """What the recipient of this notice must do, in Chinese; the safety office named as
    org.yaml names it (`office`)."""
    found = _duty(notice)
    return found.replace("安全办", office) if office else found


def _duty(notice: Notice) -> str:
    kind = notice.step_kind if notice.step_kind in ("remind", "extension", "overdue") else "escalate"
    for action, role in (
        (notice.action, notice.role),
        (_ANY, notice.role),
        (notice.action, _ANY),
        (_ANY, _ANY),
    ):
        found = _DUTIES.get((kind, action, role))
        if found is not None:
            return found
    raise AssertionError("unreachable: the table has a default for every step kind")


# Shares of the allowed time a reminder may be set at, as people say them.
_SHARES = {25: "期限已过四分之一", 50: "期限过半", 75: "期限已过四分之三"}
_PERCENT = re.compile(r"(\d+(?:\.\d+)?)\s*[%％]")


def measure(notice: Notice) -> str:
    """The step as a measure in words: "50%" → 期限过半提醒, "3日前" → 到期前3日提醒,
    "逾期即" → 逾期即通报, "每3个工作日" → 通报（逾期后每3个工作日一次，直至整改）."""
    label = notice.step_label.strip()
    action = notice.action
    if notice.step_kind == "remind":
        share = _PERCENT.fullmatch(label)
        if share:
            value = float(share[1])
            words = _SHARES.get(int(value)) if value.is_integer() else None
            return f"{words or f'期限已用{share[1]}%'}{action}"
        if label.endswith("前"):
            return f"到期前{label[:-1]}{action}"
    elif notice.step_kind == "escalate":
        if label == "逾期即":
            return f"逾期即{action}"
        if label.startswith("每"):
            return f"{action}（逾期后{label}一次，直至整改）"
    return f"{action}（{label}）" if label else action
