"""Office hours: the instant a step falls due stays as computed, its delivery waits for
the site's office hours (working days of the site calendar, 08:00–18:00 by default)
unless the rule says urgent. A daemon on a fake clock mails a real SMTP server.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from pathlib import Path
from unittest.mock import patch
from zoneinfo import ZoneInfo

import pytest
from alembic import command
from sqlalchemy import text

from adapters import database
from adapters.outbox import SqlOutbox
from adapters.sqlstore import SqlStore
from engine.clock import FakeClock
from engine.officehours import ALWAYS, OfficeHours
from engine.service import NewItem
from engine.workcal import WorkCalendar
from tests.conftest import Cli
from tests.daemonharness import DaemonHarness
from tests.smtpserver import Server, use_smtp

TZ = ZoneInfo("Asia/Shanghai")


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=TZ)


# 国庆 2021: 1–7 October off, Saturday 9 October a make-up working day (调休上班).
CALENDAR = WorkCalendar()


def test_default_office_hours_follow_the_statutory_calendar_with_its_make_up_saturday() -> None:
    hours = OfficeHours()
    assert hours.describe() == "工作日 08:00–18:00"
    assert CALENDAR.is_workday(date(2021, 10, 9)) and not CALENDAR.is_workday(date(2021, 10, 10))
    # Friday evening, the 调休 Saturday, Sunday, Monday.
    assert hours.is_open(local("2021-10-08T17:59"), TZ, CALENDAR)
    assert not hours.is_open(local("2021-10-08T18:00"), TZ, CALENDAR)
    assert hours.opens_at(local("2021-10-08T18:00"), TZ, CALENDAR) == local("2021-10-09T08:00")
    assert not hours.is_open(local("2021-10-09T07:59"), TZ, CALENDAR)
    assert hours.is_open(local("2021-10-09T08:00"), TZ, CALENDAR)
    assert hours.opens_at(local("2021-10-09T19:00"), TZ, CALENDAR) == local("2021-10-11T08:00")
    assert not hours.is_open(local("2021-10-10T10:00"), TZ, CALENDAR)
    # An ordinary Saturday is off: from Friday night to Monday 08:00.
    assert hours.opens_at(local("2021-10-16T00:00"), TZ, CALENDAR) == local("2021-10-18T08:00")
    # The week of 国庆 itself: closed from 30 September 18:00 to 8 October 08:00.
    assert hours.opens_at(local("2021-09-30T18:00"), TZ, CALENDAR) == local("2021-10-08T08:00")
    # The school's own day off counts like a holiday; every day, all day, is always open.
    school = WorkCalendar(holidays={date(2021, 10, 13): "运动会"})
    assert hours.opens_at(local("2021-10-13T09:00"), TZ, school) == local("2021-10-14T08:00")
    assert ALWAYS.is_open(local("2021-10-10T03:00"), TZ, CALENDAR) and ALWAYS.describe() == "全天"
    every_day = OfficeHours(7 * 60 + 30, 24 * 60, "all")
    assert every_day.opens_at(local("2021-10-10T03:00"), TZ, CALENDAR) == local("2021-10-10T07:30")
    assert every_day.is_open(local("2021-10-10T23:59"), TZ, CALENDAR)


@pytest.mark.parametrize(("setting", "says"), [
    # Named at `end`, the second key.
    ('start: "18:00"\n    end: "08:00"', "rectify.yaml:{next}: delivery.office_hours 的开始时间 start（18:00）应早于结束时间 end（08:00）"),
    ('start: "8:00"', "rectify.yaml:{line}: delivery.office_hours.start“8:00”应写成 24 小时制的“HH:MM”"),
    ('end: "25:00"', "rectify.yaml:{line}: delivery.office_hours.end“25:00”应写成 24 小时制的“HH:MM”"),
    ('days: "weekdays"', "rectify.yaml:{line}: “delivery/office_hours/days”的值“weekdays”不在允许范围内（可选：working、all）"),
    ('start: 8', "rectify.yaml:{line}: “delivery/office_hours/start”应为文字"),
])
def test_check_refuses_bad_office_hours_with_file_and_line(run: Cli, setting: str, says: str) -> None:
    config = run.site / "rectify.yaml"
    text = config.read_text(encoding="utf-8")
    line = text.count("\n") + 4  # the first key under office_hours
    config.write_text(text + "\ndelivery:\n  office_hours:\n    " + setting + "\n", encoding="utf-8")
    err = run("check", code=1).stderr
    assert says.format(line=line, next=line + 1) in err, err


def test_check_refuses_an_urgent_flag_that_is_not_true_or_false(run: Cli) -> None:
    rules = run.site / "rules" / "policy.yaml"
    text = rules.read_text(encoding="utf-8")
    rules.write_text(text.replace('    escalate: "重大隐患督办"\n', '    escalate: "重大隐患督办"\n    urgent: "是"\n', 1),
                     encoding="utf-8")
    line = text.split('    escalate: "重大隐患督办"\n')[0].count("\n") + 2
    err = run("check", code=1).stderr
    assert f"policy.yaml:{line}: “rules/1/urgent”应为true/false" in err, err


# -- a fresh site, default settings --------------------------------------------------

MA = "ma.jianjun@example.org"  # 马建军, responsible
HEAD = "zhao.weidong@example.org"  # 赵卫东, head of 保卫处


@contextmanager
def cli_at(clock: FakeClock) -> Iterator[None]:
    """Commands read the harness's fake clock (as `rectify status` at that instant)."""
    with patch("adapters.cli.base.SystemClock", lambda: clock):
        yield


def _ticks(h: DaemonHarness, start: datetime, end: datetime, every: timedelta) -> list[tuple[datetime, str, str]]:
    """Tick from `start` to `end`; (tick instant, recipient, subject) of each arrival."""
    arrived = []
    at = start
    while at <= end:
        arrived += [(at, to, subject) for to, subject in h.tick_at(at)]
        at += every
    return arrived


def test_a_fresh_site_delivers_a_saturday_midnight_step_on_the_next_working_day_at_8(
        tmp_path: Path, serve: Callable[..., Server]) -> None:
    """`rectify init` with default settings (the store in memory, for speed: the SQL
    outbox keeps the same promises, tests/contract/): a hazard overdue from Saturday 16 October 2021
    00:00 (its 逾期即 step falls due then, as computed) is delivered at 08:00 on Monday the
    18th, by the first tick after; nothing goes out at night or over the weekend.
    Meanwhile `status` and `outbox` say what waits and until when."""
    site = tmp_path / "site"
    Cli(tmp_path)("init", str(site))
    server = serve()
    use_smtp(site, server)
    h = DaemonHarness(site, server, local("2021-10-15T09:00"), memory=True)
    try:
        item = h.service.report(NewItem(title="消防通道堆放杂物", category="消防", unit="保卫处",
                                        reporter="郭晓明", deadline="2021年10月15日前"))
        assert item.id is not None
        h.service.fire(item.id, "assign", "赵卫东", {"responsible": "马建军"}, at=local("2021-10-15T09:10"))
        # Hourly on Friday, then every two hours to Monday 06:00, then 07:59 and 08:00.
        arrived = _ticks(h, local("2021-10-15T10:00"), local("2021-10-15T23:00"), timedelta(hours=1))
        arrived += _ticks(h, local("2021-10-16T00:00"), local("2021-10-18T06:00"), timedelta(hours=2))
        arrived += _ticks(h, local("2021-10-18T07:59"), local("2021-10-18T08:00"), timedelta(minutes=1))
        # Nothing at night or at the weekend: every arrival (the shipped stage report and
        # the hazard's mail alike) came with a tick in office hours.
        office = {local("2021-10-15T10:00") + timedelta(hours=i) for i in range(8)} | {local("2021-10-18T08:00")}
        assert arrived and {at for at, _, _ in arrived} <= office
        hazard = [(at, to, subject) for at, to, subject in arrived if "消防通道堆放杂物" in subject]
        # The 50% reminder fell due on Friday at 16:30, in office hours: sent by the next tick.
        assert [(at, to) for at, to, _ in hazard if at < local("2021-10-18T00:00")] == [(local("2021-10-15T17:00"), MA)]
        monday = [(to, subject) for at, to, subject in hazard if at >= local("2021-10-18T00:00")]
        assert [at for at, _, _ in hazard if at >= local("2021-10-18T00:00")] == [local("2021-10-18T08:00")] * 2
        assert sorted(to for to, _ in monday) == [MA, HEAD]  # one digest per recipient
        assert all(subject == "【逾期督办】消防通道堆放杂物（保卫处，逾期3天）" for _, subject in monday)
        # The instant stays as computed: the step is queued at Saturday 00:00.
        assert [(key, at) for _, key, at in h.queued()] == [
            ("remind0.0", local("2021-10-15T16:30")), ("escalate0.0", local("2021-10-16T00:00"))]
        body = h.mail()[-1][2]
        assert "到期时间：2021年10月16日 00:00" in body and "补发" not in body
    finally:
        h.daemon.close()


def test_status_and_outbox_say_what_waits_for_office_hours_and_until_when(
        tmp_path: Path, serve: Callable[..., Server]) -> None:
    site = tmp_path / "site"
    Cli(tmp_path)("init", str(site))
    server = serve()
    use_smtp(site, server)
    h = DaemonHarness(site, server, local("2021-10-15T09:00"), memory=True)
    run = h.run
    try:
        item = h.service.report(NewItem(title="消防通道堆放杂物", category="消防", unit="保卫处",
                                        reporter="郭晓明", deadline="2021年10月15日前"))
        assert item.id is not None
        h.service.fire(item.id, "assign", "赵卫东", {"responsible": "马建军"}, at=local("2021-10-15T09:10"))
        assert h.tick_at(local("2021-10-16T10:00")) == []  # Saturday: queued, not sent
        with cli_at(h.clock):
            status = json.loads(run("status", "--json").stdout)
            text = run("status").stdout
            outbox = run("outbox").stdout
        office = status["office_hours"]
        assert office["open"] is False and office["opens_at"] == "2021-10-18T08:00:00+08:00"
        # The Friday reminder (16:30: no tick ran until Saturday) and the Saturday step,
        # for the responsible person and the unit head (no stage report of 2021Q3: the site
        # recorded nothing before it ended).
        assert (office["waiting_notifications"], office["waiting_recipients"], office["waiting_messages"]) == (2, 2, 0)
        line = "等待办公时间（工作日 08:00–18:00）：通知 2 条（将合成发给 2 位收件人的汇总邮件），将于 2021年10月18日 08:00 起发送；标为紧急（urgent）的事项仍立即发送"
        assert line in text and line in outbox
        arrived = h.tick_at(local("2021-10-18T08:00"))
        assert sorted(to for to, subject in arrived if "消防通道堆放杂物" in subject) == [MA, HEAD]
        assert len(arrived) == 2
        with cli_at(h.clock):
            assert "现在是办公时间" in run("status").stdout
            assert json.loads(run("status", "--json").stdout)["office_hours"]["waiting_notifications"] == 0
    finally:
        h.daemon.close()


# -- a whole week: 国庆's make-up Saturday, a Sunday, the school's own day off ---------

WORKING = {date(2021, 10, 8), date(2021, 10, 9), date(2021, 10, 11), date(2021, 10, 12), date(2021, 10, 14)}
OWN_RULE = (
    'rules:\n'
    '  - name: "党政办一般隐患"\n'
    '    match: {kind: "hazard", level: "一般", unit: "党政办"}\n'
    '    priority: 1\n'
    '    remind: ["1日前"]\n'
)
TITLES = {"A": "保卫处消防通道堵塞", "B": "总务处配电箱未上锁", "C": "教务处实验室危化品超量",
          "D": "学工处宿舍私拉电线", "E": "人事处档案室灭火器过期", "F": "党政办会议室插座松动",
          "G": "保卫处监控探头损坏"}


def _week_site(site: Path, server: Server) -> None:
    use_smtp(site, server)
    # Report tasks and stage reports have their own tests.
    campaign = site / "rules" / "campaign.yaml"
    campaign.write_text(campaign.read_text(encoding="utf-8").split("obligations:")[0], encoding="utf-8")
    calendar = site / "calendar.yaml"
    calendar.write_text(calendar.read_text(encoding="utf-8").replace(
        "local:\n", 'local:\n  - {days: "2021-10-13", off: "校运动会"}\n', 1), encoding="utf-8")
    # The shipped rule file's own example: 重大隐患 urgent, by removing the line's "#".
    policy = site / "rules" / "policy.yaml"
    text = policy.read_text(encoding="utf-8")
    assert text.count("    # urgent: true\n") == 1
    policy.write_text(text.replace("    # urgent: true\n", "    urgent: true\n"), encoding="utf-8")
    (site / "rules" / "own.yaml").write_text(OWN_RULE, encoding="utf-8")


def _report(h: DaemonHarness, key: str, unit: str, deadline: str, level: str = "一般") -> None:
    h.service.report(NewItem(title=TITLES[key], category="消防", unit=unit, level=level, reporter="郭晓明",
                             deadline=deadline))


def _entries(body: str) -> list[str]:
    """The entries of a digest's text: its numbered headings."""
    return [line for line in body.splitlines() if line[:1].isdigit() and ". 【" in line]


@pytest.mark.slow
def test_a_week_across_the_make_up_saturday_a_sunday_and_a_school_day_off(
        memory_site: Path, serve: Callable[..., Server]) -> None:
    """Friday 8 to Friday 15 October 2021, a tick every 30 minutes. Saturday the 9th is a
    调休 working day, Sunday the 10th is off, Wednesday the 13th is the school's own day
    off (calendar.yaml). The 重大隐患 rule says urgent: its steps go out when they fall
    due, at night and on Sunday; every other message arrives inside office hours, by the
    first tick after the step fell due (or after office hours began). Each digest has one
    entry per item, and its subject counts entries."""
    server = serve()
    _week_site(memory_site, server)
    h = DaemonHarness(memory_site, server, local("2021-10-08T09:00"), memory=True)
    try:
        _report(h, "A", "保卫处", "2021年10月8日前")  # overdue Saturday 00:00
        _report(h, "B", "总务处", "2021年10月9日前")  # overdue Sunday 00:00
        _report(h, "C", "教务处", "2021年10月9日前", level="重大")  # urgent
        _report(h, "D", "学工处", "2021年10月12日前")  # overdue Wednesday 00:00, a day off
        _report(h, "F", "党政办", "2021年10月10日前")  # no ladder: only a reminder
        _report(h, "G", "保卫处", "2021年10月12日前")
        arrived = _ticks(h, local("2021-10-08T09:30"), local("2021-10-08T17:00"), timedelta(minutes=30))
        h.clock.set(local("2021-10-08T17:00"))
        _report(h, "E", "人事处", "2021年10月8日前")  # its 50% reminder falls at 20:30
        arrived += _ticks(h, local("2021-10-08T17:30"), local("2021-10-15T00:00"), timedelta(minutes=30))
        mail = {(r.rcpt_tos[0], str(r.message["Subject"])): r.message.get_body(("plain",)).get_content()
                for r in server.handler.received}

        def when(key: str) -> list[tuple[datetime, str, str]]:
            return [(at, to, subject) for at, to, subject in arrived if TITLES[key] in subject]

        for at, _, subject in arrived:
            if TITLES["C"] not in subject:  # not urgent: inside office hours
                assert at.date() in WORKING and 8 <= at.hour < 18, (at, subject)
        # 保卫处's head: A's reminder Friday 16:30; on the 调休 Saturday at 08:00 A's 逾期即
        # (Saturday 00:00) and G's 3个工作日前 (also Saturday 00:00) in one digest; on Monday
        # G's 50% (Sunday 16:30); A's 通报 and G's 逾期即 fell due on Wednesday 00:00, the
        # school's day off: Thursday 08:00, again one digest of two entries.
        head = [(at, subject) for at, to, subject in arrived if to == "zhao.weidong@example.org"]
        assert head == [
            (local("2021-10-08T16:30"), f"【整改提醒】{TITLES['A']}（保卫处，2021年10月8日前完成）"),
            (local("2021-10-09T08:00"), "【安全隐患督办】您有2项事项需要处理（其中1项逾期）"),
            (local("2021-10-11T08:00"), f"【整改提醒】{TITLES['G']}（保卫处，2021年10月12日前完成）"),
            (local("2021-10-14T08:00"), "【安全隐患督办】您有2项事项需要处理（其中2项逾期）")]
        saturday = mail[("zhao.weidong@example.org", head[1][1])]
        assert [e.split("】")[0] for e in _entries(saturday)] == ["1. 【逾期督办", "2. 【整改提醒"]
        assert (local("2021-10-14T08:00"), "chen.lide@example.org",
                f"【逾期督办·通报】{TITLES['A']}（保卫处，逾期6天）") in arrived
        # B: its 50% reminder fell on Saturday 04:30, before the deadline: a reminder at
        # 08:00; 逾期即 on Sunday 00:00: Monday 08:00.
        assert [(at, s.split("】")[0]) for at, _, s in when("B")] == [
            (local("2021-10-09T08:00"), "【整改提醒"), (local("2021-10-11T08:00"), "【逾期督办")]
        # C (urgent): when each step falls due, at night and on Sunday included.
        c = {(at, s.split("】")[0]) for at, _, s in when("C")}
        assert {(local("2021-10-09T04:30"), "【整改提醒"), (local("2021-10-10T00:00"), "【逾期督办·通报"),
                (local("2021-10-15T00:00"), "【逾期督办·约谈")} <= c
        assert {at for at, _ in c} == {local("2021-10-09T04:30"), local("2021-10-10T00:00"), local("2021-10-15T00:00")}
        # D: overdue on the school's day off: Thursday 08:00.
        assert (local("2021-10-14T08:00"), "qian.xiaoyan@example.org", f"【逾期督办】{TITLES['D']}（学工处，逾期2天）") in when("D")
        # E: its reminder (Friday 20:30) and 逾期即 (Saturday 00:00) waited: ONE entry at
        # 08:00, headed by the escalation; the reminder is not sent as a reminder.
        [(at, to, subject)] = [e for e in when("E") if e[0] < local("2021-10-10T00:00")]
        assert (at, to, subject) == (local("2021-10-09T08:00"), "wu.zhiqiang@example.org",
                                     f"【逾期督办】{TITLES['E']}（人事处，今日逾期）")
        body = mail[(to, subject)]
        assert len(_entries(body)) == 1 and body.count(TITLES["E"]) == 1
        assert "本次通知（自上次通知以来到期的 2 项）" in body
        assert "【整改提醒】（50%）2021年10月8日 20:30 到期——送达时已过整改期限，不再作为提醒发送" in body
        assert "请在期限前完成整改" not in body
        # F: a reminder (Sunday 00:00) delivered Monday 08:00, after its deadline, and no
        # rung of a ladder: the entry says the item is overdue, and claims no escalation.
        [(at, to, subject)] = when("F")
        assert (at, subject) == (local("2021-10-11T08:00"), f"【已逾期】{TITLES['F']}（党政办，今日逾期）")
        body = mail[(to, subject)]
        assert "该事项已于 2021年10月11日 00:00 超过整改期限" in body and "请在期限前完成整改" not in body
        assert "您需要做的：该事项已过整改期限，请立即整改" in body and "通报" not in body
        # Every digest: one entry per item, and a summary subject counting the entries.
        for (to, subject), body in mail.items():
            headings = _entries(body)
            assert len(headings) == len({h.split("】", 1)[1] for h in headings}), (to, subject)
            if subject.startswith("【安全隐患督办】"):
                assert f"您有{len(headings)}项事项需要处理" in subject
            else:
                assert len(headings) == 1, (to, subject)
    finally:
        h.daemon.close()


def test_migration_0012_leaves_stored_messages_waiting_for_office_hours(tmp_path: Path) -> None:
    """A message stored before office hours existed is not urgent: it goes out in office
    hours only. The migration goes back down cleanly."""
    engine = database.open_engine(f"sqlite:///{tmp_path / 'old.db'}", must_exist=False)
    database.upgrade(engine, "0010")
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO messages (created_at, recipient_name, recipient_email, subject, body_text, notifications,"
            " status, attempts, next_attempt_at) VALUES ('2021-03-01 01:00:00.000000', '马建军',"
            " 'ma.jianjun@example.org', '【整改提醒】', '正文', '[]', 'pending', 0, '2021-03-01 01:00:00.000000')"))
    database.upgrade(engine)
    outbox = SqlOutbox(SqlStore(engine))
    at = local("2021-03-06T10:00")
    assert outbox.claim_messages(at, 10, at + timedelta(minutes=5), only_urgent=True) == []
    assert outbox.status(at)["held_messages"] == 1
    [claimed] = outbox.claim_messages(at + timedelta(minutes=5), 10, at + timedelta(minutes=10))
    assert (claimed.subject, claimed.urgent) == ("【整改提醒】", False)
    with engine.execution_options(**{database.WRITE: True}).begin() as conn:
        command.downgrade(database._alembic_config(conn), "0010")
    assert database.current_revision(engine) == "0010"
    with engine.connect() as conn:
        assert "urgent" not in {r[1] for r in conn.execute(text("PRAGMA table_info('messages')"))}
    engine.dispose()
