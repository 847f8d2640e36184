"""Issue 19's "things that are not true or not sent", through the CLI as a clerk types it
and through the daemon mailing a real SMTP server on loopback: a new site sends nothing,
a period not yet ended is counted as of now, an item without a unit reaches the safety
office, a paused item says so, a site still holding the demo's org.yaml is told and
mails nobody outside the school; and the emails' wording (issue 19 point 15).

Every name and place is invented; units and people are the demo org.yaml's."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from adapters.clock import SystemClock
from adapters.daemon import Daemon
from adapters.demo import SEED_YEAR, dated_rows, shifted, year_shift
from engine.clock import FakeClock
from engine.notices import Notice, measure
from engine.scheduler import overdue_days
from engine.service import NewItem
from tests.conftest import Cli, copy_site
from tests.daemonharness import deliver_around_the_clock
from tests.orgfiles import CONFIGURED_NAME, address, configure_org
from tests.smtpserver import Server, use_smtp

TZ = ZoneInfo("Asia/Shanghai")


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=TZ)


class Mailbox:
    """A daemon on a fake clock, mailing a recording SMTP server."""

    def __init__(self, site: Path, server: Server, start: str) -> None:
        self.site, self.server = site, server
        self.clock = FakeClock(local(start))
        self.daemon = Daemon(site, self.clock)
        self.app = self.daemon.app
        self.run = Cli(site)

    def tick(self, when: str) -> list[EmailMessage]:
        """Every message the tick (as of `when`, site time) delivered."""
        self.clock.set(local(when))
        before = len(self.server.handler.received)
        assert self.daemon.tick(self.clock.now()) is not None
        return [r.message for r in self.server.handler.received[before:]]

    def queued(self) -> int:
        status = self.app.outbox.status(self.clock.now())
        return int(status["pending"] + status["sent"] + status["dead"])


def body(message: EmailMessage) -> str:
    return message.get_body(("plain",)).get_content().replace("\r\n", "\n")  # type: ignore[union-attr]


def to(message: EmailMessage) -> str:
    return str(message["To"])


@pytest.fixture
def mailbox(sqlite_site: Path, serve: Callable[..., Server]) -> Iterator[Callable[..., Mailbox]]:
    made: list[Mailbox] = []

    def make(start: str = "2021-03-01T09:00", site: Path | None = None) -> Mailbox:
        where = site or sqlite_site
        server = serve()
        use_smtp(where, server)
        # The campaign's report obligations would add filing tasks and their mail; they
        # have their own tests (the stage report stays).
        campaign = where / "rules" / "campaign.yaml"
        text = campaign.read_text(encoding="utf-8")
        campaign.write_text(text[:text.index("obligations:")] + text[text.index("# 阶段报告"):], encoding="utf-8")
        box = Mailbox(where, server, start)
        made.append(box)
        return box

    yield make
    for box in made:
        box.daemon.close()


# -- 1. a new site sends nothing ----------------------------------------------------------

# Instants across the seed campaign's years and around them: quarter and month ends,
# inside its phases (where its obligations open filing tasks), and today.
INSTANTS = ["2019-01-01T00:00", "2020-10-01T00:01", "2021-01-01T09:00", "2021-04-01T00:00",
            "2021-06-30T23:59", "2021-07-01T09:00", "2022-12-31T17:00", "2023-01-02T09:00", "2030-04-01T08:00"]


@pytest.mark.slow  # several daemons, or a stage report with its chart, or a whole demo site
def test_a_fresh_site_ticked_at_any_instant_sends_nothing_to_anyone(
        site_template: Path, tmp_path: Path, serve: Callable[..., Server]) -> None:
    """`rectify init` without --demo, ticked once at each of many instants (and now):
    no stage report for a quarter before the site existed, no mail to the higher
    authority, nothing queued at all (a tick inside the campaign may open filing tasks;
    none of them is mailed in that tick)."""
    server = serve()
    now = SystemClock().now().astimezone(TZ).isoformat()[:16]
    for n, when in enumerate([*INSTANTS, now]):
        site = copy_site(site_template, tmp_path / f"site{n}")
        use_smtp(site, server)
        box = Mailbox(site, server, when)
        try:
            assert box.tick(when) == [], when
            assert box.queued() == 0, when
        finally:
            box.daemon.close()
    assert server.handler.received == []


@pytest.mark.slow  # several daemons, or a stage report with its chart, or a whole demo site
def test_the_stage_report_of_a_period_before_the_first_record_is_not_owed(mailbox: Callable[..., Mailbox]) -> None:
    """The site's first hazard is reported in February 2021: the first tick of April
    sends the 2021Q1 report (to the safety office and the principal), the first ticks of
    2021 no 2020Q4 report; `stage-report --send` of 2020Q4 by hand says why it sends nothing."""
    box = mailbox("2021-01-04T09:00")
    assert [m for m in box.tick("2021-01-04T09:05") if "阶段整治情况" in str(m["Subject"])] == []
    box.clock.set(local("2021-02-01T09:00"))
    box.app.service.report(NewItem(title="消防通道堵塞", category="消防", unit="保卫处", reporter="郭晓明"))
    assert [m for m in box.tick("2021-02-01T09:05") if "阶段整治情况" in str(m["Subject"])] == []
    reports = [m for m in box.tick("2021-04-01T08:00") if "阶段整治情况" in str(m["Subject"])]
    assert sorted(to(m) for m in reports) == ["林正道 <lin.zhengdao@example.org>", "综治办 <zongzhiban@example.org>"]
    out = box.run("stage-report", "--period", "2020Q4", "--send", "--out", str(box.site / "r")).stdout
    assert "2020年第四季度结束前站点尚未登记任何事项，不发送本期报告" in out.replace("\n", "")


# -- 5. a site still holding the demo's org.yaml --------------------------------------------


def test_check_warns_of_the_demo_org_and_a_configured_site_passes(sqlite_site: Path) -> None:
    run = Cli(sqlite_site)
    result = run("check")
    assert "站点文件校验通过，但站点仍是演示数据" in result.stdout
    assert "organisation 仍是演示用的“演示职业技术学院”" in result.stderr
    assert "people 中仍有 24 名演示用的虚构人员（林正道、陈立德、李明华、刘思远、周安宁等）" in result.stderr
    assert "higher_authority 仍是演示用的“省教育厅学校安全稳定工作处”" in result.stderr
    assert "个邮箱是示例地址" in result.stderr and "admin_email 仍是示例地址 admin@example.org" in result.stderr
    configure_org(sqlite_site)
    result = run("check")
    assert result.stdout.strip() == "站点文件校验通过"
    assert "演示" not in result.stderr  # the example.org addresses are still named: mail there reaches nobody
    assert "个邮箱是示例地址" in result.stderr


def _major_under_supervision(box: Mailbox) -> int:
    """A 重大 hazard found on 1 March 2021, due 3 months later and left: its ladder reaches
    挂牌督办 (to the principal, the safety office and the higher authority) in June."""
    item = box.app.service.report(NewItem(title="配电房线路老化", category="建筑与施工", level="重大",
                                          unit="基建办", reporter="郭晓明"))
    assert item.id is not None
    return item.id


@pytest.mark.slow
@pytest.mark.parametrize("configured", [False, True])
def test_the_higher_authority_is_mailed_only_by_a_configured_site(
        mailbox: Callable[..., Mailbox], sqlite_site: Path, configured: bool) -> None:
    """挂牌督办 and the quarter's stage report go to the higher authority from a site with
    its own org.yaml; from one still holding the demo's they go to everyone else only
    (the demo's mail keeps flowing to its own people)."""
    if configured:
        configure_org(sqlite_site)
    box = mailbox()
    _major_under_supervision(box)
    mails = box.tick("2021-07-01T09:00")  # 2021Q2 ended; the hazard is weeks overdue
    authority = address("anquan-chu") if configured else "anquan-chu@example.org"
    got = [m for m in mails if authority in to(m)]
    assert any("挂牌督办" in body(m) for m in mails), [str(m["Subject"]) for m in mails]
    assert any("阶段整治情况" in str(m["Subject"]) for m in mails)  # to the safety office and principal at least
    if configured:
        assert any("阶段整治情况" in str(m["Subject"]) for m in got)
        assert any("挂牌督办" in body(m) for m in got if "阶段整治情况" not in str(m["Subject"]))
    else:
        assert got == []


# -- 2. a period not yet ended --------------------------------------------------------------


def test_a_stage_report_of_a_period_not_ended_is_counted_as_of_now(sqlite_site: Path, tmp_path: Path) -> None:
    """This quarter's report, asked for today: counted to today, saying so; no day of the
    future, and days overdue counted to today; `--send` refused until the quarter ends."""
    run = Cli(sqlite_site)
    today = SystemClock().now().astimezone(TZ)
    found = (today - timedelta(days=40)).strftime("%Y-%m-%d 09:00")
    run("report", "--title", "消防通道堵塞", "--category", "消防", "--unit", "保卫处", "--reporter", "郭晓明",
        "--found-at", found, "--at", found, "--deadline", "3日内")
    quarter = f"{today.year}Q{(today.month - 1) // 3 + 1}"
    out = json.loads(run("stage-report", "--period", quarter, "--out", str(tmp_path), "--json").stdout)
    assert out["partial"] is True and out["counted_to"] == today.date().isoformat()
    eml = next(Path(f) for f in out["files"] if f.endswith(".eml"))
    from email import message_from_bytes, policy
    message = message_from_bytes(eml.read_bytes(), policy=policy.default)
    text = body(message)  # type: ignore[arg-type]
    day = f"{today.year}年{today.month}月{today.day}日"
    assert f"截至{day}，累计排查隐患1项" in text
    assert "本期尚未结束，统计至" in text and "尚未结束，以上数字统计至" in text
    assert str(message["Subject"]).endswith(f"隐患整改情况报告（截至{day}）")
    due = (today - timedelta(days=40)).date() + timedelta(days=3)
    assert f"已逾期{(today.date() - due).days}天" in text  # counted to today, as the 台账 counts
    span = re.search(r"（\d{4}年\d{1,2}月\d{1,2}日至\d{4}年\d{1,2}月\d{1,2}日，", text)
    assert span is not None  # the quarter named by its span, then counted to today
    rest = text.replace(span[0], "")
    assert [d for d in re.findall(r"(\d{4})年(\d{1,2})月(\d{1,2})日", rest) if date(*map(int, d)) > today.date()] == []
    refused = run("stage-report", "--period", quarter, "--send", code=1).stderr
    assert "尚未结束，不能发送阶段报告" in refused


# -- 3. an item without a unit --------------------------------------------------------------


def test_a_hazard_reported_without_a_unit_reaches_the_safety_office(mailbox: Callable[..., Mailbox]) -> None:
    """The office is told at once (its mailbox and its head); its reminders and its first
    escalations go to the office as the one to assign it (待分派), and the office's leader."""
    box = mailbox()
    out = box.run("report", "--title", "操场围栏破损", "--category", "其他", "--reporter", "郭晓明",
                  "--found-at", "2021-03-01 09:00", "--at", "2021-03-01 09:00").stdout
    assert "未指定责任单位：由综治办交办（待分派）" in out and "已通知综治办（2 封邮件" in out
    first = box.tick("2021-03-01T09:01")
    assert sorted(to(m) for m in first) == ["周安宁 <zhou.anning@example.org>", "综治办 <zongzhiban@example.org>"]
    assert all(str(m["Subject"]) == "【待分派】操场围栏破损（尚未确定责任单位，请交办）" for m in first)
    assert "没有指定责任单位（待分派）" in body(first[0]) and "——\n演示职业技术学院" in body(first[0])
    # 15 working days from 1 March 2021: due 22 March; reminded at 50%, 3 working days before.
    reminded = box.tick("2021-03-12T09:00")
    assert [to(m) for m in reminded] == ["综治办 <zongzhiban@example.org>"]
    text = body(reminded[0])
    assert "您的身份：综治办（事项尚未确定责任单位，由您交办）" in text
    assert "请尽快确定责任单位和责任人并交办" in text and "督办措施：期限过半提醒" in text
    escalated = box.tick("2021-03-26T09:00")  # overdue since 23 March: 提醒, then 通报 to the leader
    assert sorted(to(m) for m in escalated) == ["综治办 <zongzhiban@example.org>", "陈立德 <chen.lide@example.org>"]
    # Assigned, it goes to its unit and responsible person as any other item.
    box.run("fire", "1", "assign", "--actor", "周安宁", "--set", "unit=保卫处", "--set", "responsible=马建军",
            "--at", "2021-03-26 10:00")
    later = [m for m in box.tick("2021-03-31T09:00") if "操场围栏破损" in body(m)]  # 通报 again, 每3个工作日
    assert sorted(to(m) for m in later) == ["赵卫东 <zhao.weidong@example.org>", "陈立德 <chen.lide@example.org>"]


# -- 4. a paused item -----------------------------------------------------------------------


def test_explain_of_a_paused_item_says_it_is_paused_and_since_when(sqlite_site: Path) -> None:
    run = Cli(sqlite_site)
    out = run("report", "--title", "围墙开裂", "--level", "重大", "--category", "建筑与施工", "--unit", "总务处",
              "--reporter", "郭晓明", "--found-at", "2021-03-01 09:00", "--at", "2021-03-01 09:00", "--json").stdout
    item = str(json.loads(out)["id"])
    run("fire", item, "assign", "--actor", "周安宁", "--set", "responsible=张海峰", "--at", "2021-03-02 09:00")
    run("fire", item, "request_funds", "--actor", "张海峰", "--at", "2021-03-03 10:30")
    text = run("explain", item, "--at", "2021-04-01 09:00").stdout
    assert "None" not in text
    assert "原定最后期限 2021-06-01；自 2021-03-03 10:30 起处于“待资金审批”，暂停计时" in text
    data = json.loads(run("explain", item, "--json").stdout)
    assert data["paused"] is True and data["paused_since"].startswith("2021-03-03T10:30")
    assert data["paused_state"] == "待资金审批"


# -- 12. amending without an event: a note --------------------------------------------------


def _reported(run: Cli) -> str:
    out = run("report", "--title", "消防通道堵塞", "--category", "消防", "--unit", "保卫处", "--reporter", "郭晓明",
              "--location", "实训楼一层", "--json").stdout
    return str(json.loads(out)["id"])


def test_a_note_is_added_and_ledgered_without_changing_the_item(run: Cli) -> None:
    item = _reported(run)
    before = json.loads(run("show", item, "--json").stdout)
    out = run("amend", item, "--actor", "郭晓明", "--note", "已电话督促保卫处").stdout
    assert out.strip() == f"事项 {item} 已添加备注（状态仍为已上报，已记入台账）"
    after = json.loads(run("show", item, "--json").stdout)
    last = after["history"][-1]
    assert (last["event"], last["actor"], last["note"], last["changes"]) == ("note", "郭晓明", "已电话督促保卫处", {})
    assert {k: v for k, v in after.items() if k not in ("history", "version")} == \
        {k: v for k, v in before.items() if k not in ("history", "version")}
    run("audit")  # the chain holds the note row


def test_edit_is_amend_and_fire_edit_points_to_it(run: Cli) -> None:
    item = _reported(run)
    out = run("edit", item, "--actor", "郭晓明", "--set", "location=实训楼二层东侧", "--note", "位置写错").stdout
    assert "已修改：位置" in out
    assert json.loads(run("show", item, "--json").stdout)["location"] == "实训楼二层东侧"
    for word in ("edit", "修改", "备注"):
        err = run("fire", item, word, "--actor", "郭晓明", code=1).stderr
        assert f"rectify amend {item} --actor 姓名 --set 字段=值" in err and "只加备注" in err, err
    assert "请用 --set 字段=值 指定要修改的字段，或用 --note 添加备注" in run("amend", item, "--actor", "郭晓明", code=2).stderr


def test_a_note_needs_the_item_in_scope_and_an_open_item(run: Cli) -> None:
    item = _reported(run)
    err = run("amend", item, "--actor", "黄丽萍", "--note", "与我无关", code=1).stderr  # 教务处, not 保卫处's item
    assert "黄丽萍" in err and "不能执行" in err
    run("fire", item, "fix_on_spot", "--actor", "郭晓明", "--set", "measures=当场清理")
    run("fire", item, "close", "--actor", "周安宁")
    assert "不能再添加备注" in run("amend", item, "--actor", "周安宁", "--note", "复查", code=1).stderr


# -- 13. report --found-at and --at; names suggested -----------------------------------------


@pytest.mark.parametrize("typed", ["2021年3月1日", "2021/3/1", "2021.3.1 9:30", "2021-03-01 09:30"])
def test_report_found_at_reads_the_date_forms_of_an_import(run: Cli, typed: str) -> None:
    out = run("report", "--title", "灭火器过期", "--category", "消防", "--unit", "保卫处", "--found-at", typed,
              "--json").stdout
    assert json.loads(out)["found_at"].startswith("2021-03-01T")


def test_report_at_records_the_report_time_and_the_found_time_may_not_follow_it(run: Cli) -> None:
    out = run("report", "--title", "灭火器过期", "--category", "消防", "--unit", "保卫处",
              "--found-at", "2021年3月1日", "--at", "2021年3月2日 10:00", "--json").stdout
    item = json.loads(out)
    history = json.loads(run("show", str(item["id"]), "--json").stdout)["history"]
    assert history[0]["at"].startswith("2021-03-02T10:00")
    err = run("report", "--title", "灭火器过期", "--category", "消防", "--unit", "保卫处",
              "--found-at", "2021-03-03", "--at", "2021-03-02 10:00", code=2).stderr
    assert "发现时间不能晚于上报时间（2021-03-02 10:00）" in err
    tomorrow = (SystemClock().now().astimezone(TZ) + timedelta(days=1)).strftime("%Y年%m月%d日")
    err = run("report", "--title", "灭火器过期", "--unit", "保卫处", "--found-at", tomorrow, code=2).stderr
    assert "发现时间不能晚于上报时间" in err
    assert run("list", "--json").stdout.count('"id"') == 1  # nothing of the refused reports stored


def test_units_and_people_typed_on_the_command_line_get_suggestions(run: Cli) -> None:
    err = run("report", "--title", "灭火器过期", "--unit", "保位处", code=1).stderr
    assert err.strip() == "错误：找不到单位：保位处（是否指：保卫处、安全保卫处？）"
    item = _reported(run)
    err = run("fire", item, "assign", "--actor", "周安安", "--set", "responsible=马建军", code=1).stderr
    assert "找不到人员：周安安（是否指：周安宁？）" in err
    assert "是否指：马建军？" in run("fire", item, "assign", "--actor", "周安宁", "--set", "responsible=马建君",
                                    code=1).stderr
    assert "是否指：郭晓明？" in run("list", "--as", "郭小明", code=1).stderr
    assert "已知单位：综治办、总务处" in run("list", "--unit", "图书馆", code=1).stderr  # nothing close: all units


# -- 15. the emails' wording -----------------------------------------------------------------


def test_measures_read_as_words() -> None:
    def label(kind: str, action: str, text: str) -> str:
        return measure(Notice(1, "t", "hazard", "", "一般", None, None, "", None, None, kind, action, text,
                              local("2021-03-01T09:00"), 0, False, "responsible", ()))

    assert label("remind", "提醒", "50%") == "期限过半提醒"
    assert label("remind", "提醒", "75%") == "期限已过四分之三提醒"
    assert label("remind", "提醒", "60%") == "期限已用60%提醒"
    assert label("remind", "提醒", "3个工作日前") == "到期前3个工作日提醒"
    assert label("escalate", "通报", "逾期即") == "逾期即通报"
    assert label("escalate", "约谈", "逾期10个工作日") == "约谈（逾期10个工作日）"
    assert label("escalate", "通报", "每3个工作日") == "通报（逾期后每3个工作日一次，直至整改）"


def test_days_overdue_count_as_the_ledger_does_and_today_is_today() -> None:
    overdue = local("2021-03-23T00:00")  # due 22 March
    assert overdue_days(overdue, date(2021, 3, 22), local("2021-03-23T09:00"), TZ) == 0
    assert overdue_days(overdue, date(2021, 3, 22), local("2021-03-24T09:00"), TZ) == 2
    evening = local("2021-03-22T17:30")  # due 22 March 下班前
    assert overdue_days(evening, date(2021, 3, 22), local("2021-03-22T18:00"), TZ) == 0
    assert overdue_days(evening, date(2021, 3, 22), local("2021-03-23T09:00"), TZ) == 1


def test_a_digest_leaves_out_empty_parts_and_names_the_office_as_org_yaml_does(
        mailbox: Callable[..., Mailbox], sqlite_site: Path) -> None:
    """A task without a category, overdue since this morning, to a safety office called
    安全稳定办 in org.yaml: “类别等级：任务 · 一般”, “逾期天数：今日逾期”, the office's own
    name as the recipient's role and where to report, the organisation in the signature."""
    org = sqlite_site / "org.yaml"
    org.write_text(org.read_text(encoding="utf-8").replace("综治办", "安全稳定办"), encoding="utf-8")
    box = mailbox()
    box.run("report", "--kind", "task", "--title", "消防演练方案报送", "--unit", "安全稳定办", "--deadline", "3日内",
            "--at", "2021-03-01 09:00")
    mails = box.tick("2021-03-05T08:00")  # due 4 March, overdue since 00:00 today: to its unit head
    head = next(m for m in mails if to(m).startswith("周安宁"))
    text = body(head)
    assert "类别等级：任务 · 一般" in text and " ·  · " not in text
    assert "逾期天数：今日逾期" in text and "0天" not in text
    assert "（安全稳定办，今日逾期）" in str(head["Subject"]) or "您有1项事项" in str(head["Subject"])
    assert "位　　置" not in text  # a task has no place
    assert "安全办" not in text and "将整改进展报告安全稳定办。" in text
    assert text.rstrip().splitlines()[-2] == "演示职业技术学院"
    assert str(head["From"]).startswith("演示职业技术学院 <")
    later = box.tick("2021-03-12T08:00")  # 逾期5个工作日: 通报 to the unit head, its leader and the office
    office = next(m for m in later if to(m) == "安全稳定办 <zongzhiban@example.org>")
    assert "您的身份：安全稳定办\n" in body(office) and "逾期天数：8天" in body(office)
    assert "您的身份：安全稳定办负责人" in body(next(m for m in later if to(m).startswith("周安宁")))


def test_one_organisation_name_signs_every_message(mailbox: Callable[..., Mailbox], sqlite_site: Path) -> None:
    """rectify.yaml's site_name (演示学校) and org.yaml's organisation differ: digests and
    stage reports are signed, and sent, with the organisation."""
    configure_org(sqlite_site)
    box = mailbox("2021-03-01T09:00")
    box.app.service.report(NewItem(title="消防通道堵塞", category="消防", unit="保卫处", reporter="郭晓明"))
    mails = box.tick("2021-04-01T09:00")
    assert mails
    for m in mails:
        assert str(m["From"]).startswith(f"{CONFIGURED_NAME} <"), m["From"]
        assert "演示学校" not in body(m)
        assert CONFIGURED_NAME in body(m).rstrip().splitlines()[-2]


@pytest.mark.slow  # several daemons, or a stage report with its chart, or a whole demo site
def test_the_demo_is_dated_so_that_its_story_is_current(tmp_path: Path, serve: Callable[..., Server]) -> None:
    """`rectify init --demo` moves the seed campaign to the current school year: its
    first mails list no 2020 task and nothing years overdue."""
    today = SystemClock().now().astimezone(TZ).date()
    site = tmp_path / "demo"
    Cli(tmp_path)("init", str(site), "--demo")
    campaign = (site / "rules" / "campaign.yaml").read_text(encoding="utf-8")
    start = SEED_YEAR + year_shift(today)
    assert f'window: "{start}年9月至{start}年12月"' in campaign and f'window: "{start + 2}年"' in campaign
    server = serve()
    use_smtp(site, server)
    deliver_around_the_clock(site)  # the real clock may be at night or on a weekend
    daemon = Daemon(site)
    try:
        daemon.tick()
    finally:
        daemon.close()
    texts = [body(r.message) for r in server.handler.received]
    assert texts
    days = [int(d) for t in texts for d in re.findall(r"逾期天数：(\d+)天", t)]
    assert days and max(days) <= 60, days
    assert not any("2020年" in t for t in texts)
    tasks = [i for i in Cli(site)("list", "--kind", "task", "--json").stdout.split("\n") if '"deadline"' in i]
    assert not any("2020" in line for line in tasks)


def test_the_demo_shift_moves_only_the_campaign_years() -> None:
    assert year_shift(date(2026, 12, 1)) == 6 and year_shift(date(2027, 3, 1)) == 6
    assert year_shift(date(2027, 8, 1)) == 7
    assert shifted("2020年底前；2022年底前；2020-08-01；rectify stage-report --period 2021Q1", 6) == \
        "2026年底前；2028年底前；2026-08-01；rectify stage-report --period 2021Q1"
    assert {row[6] for row in dated_rows(6)} == {"立整立改\n长期坚持", "2026年底前", "2028年底前"}
