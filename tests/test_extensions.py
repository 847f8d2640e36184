"""Extension requests (延期申请), through the service and the CLI, on SQLite and PostgreSQL.

The responsible person (or the unit head) asks for a later deadline with a reason; the
approvers the rules name answer; an approval moves the deadline exactly as an authorised
deadline change (`amend`) does, a refusal leaves it; both are in the ledger (which still
audits clean: the `app` fixture checks it), in `rectify show`, and in the digests of
those concerned.
"""

from __future__ import annotations

import json
import threading
from datetime import date, timedelta
from pathlib import Path

import pytest

from adapters.wiring import App, open_app
from engine.clock import FakeClock
from engine.errors import DeadlineError, Refused
from engine.extensions import APPROVED, PENDING, REFUSED
from engine.mail import OutgoingMessage
from engine.service import NewItem
from tests.conftest import Cli
from tests.test_cli_failures import refused

# Reported at START (2021-03-01 09:00, Shanghai) under 一般隐患 (15个工作日内): due 2021-03-22.
DUE = date(2021, 3, 22)


def _hazard(app: App, unit: str = "保卫处", responsible: str | None = "马建军", level: str = "一般") -> int:
    item = app.service.report(NewItem(title="实训楼消防通道堵塞", category="消防", unit=unit, level=level,
                                      reporter="郭晓明"))
    assert item.id is not None
    if responsible:
        app.service.fire(item.id, "assign", "周安宁", {"responsible": responsible})
    return item.id


def _ledger(app: App, item_id: int) -> list[tuple[str, str]]:
    return [(e.event, e.actor) for e in app.store.history(item_id)]


def _with_rules(site: Path, text: str) -> None:
    """Replace the shipped site-wide extension settings with `text` (YAML)."""
    path = site / "rules" / "policy.yaml"
    shipped = 'extension:\n  approvers: ["safety_office"]\n  max_count: 2\n  max_days: 30\n'
    source = path.read_text(encoding="utf-8")
    assert shipped in source
    path.write_text(source.replace(shipped, text), encoding="utf-8")


# -- asking and answering --------------------------------------------------------------


def test_an_approved_request_moves_the_deadline_as_an_amendment_does(app: App, clock: FakeClock) -> None:
    """Approval writes the same deadline, plan basis and schedule as the safety office
    amending the deadline to that day would; both counted afresh from the change."""
    extended, amended = _hazard(app), _hazard(app)
    clock.advance(timedelta(days=2))
    asked = app.service.request_extension(extended, "马建军", "2021年4月2日前", "防火门需定制，厂家供货周期两周")
    assert (asked.status, asked.old_due, asked.new_due) == (PENDING, DUE, date(2021, 4, 2))
    assert app.store.get(extended).due == DUE  # asking changes nothing yet
    clock.advance(timedelta(hours=3))
    answered = app.service.answer_extension(extended, "周安宁", True, "同意")
    app.service.amend(amended, "周安宁", {"deadline": "2021年4月2日前"}, "同意延期")
    a, b = app.store.get(extended), app.store.get(amended)
    assert answered.status == APPROVED and answered.answered_by == "周安宁"
    assert (a.deadline, a.due, a.overdue_at) == ("2021年4月2日前", date(2021, 4, 2), b.overdue_at)
    assert (a.planned_until, a.next_action_at) == (b.planned_until, b.next_action_at)
    assert app.service.plan(a).due == date(2021, 4, 2)
    last = app.store.history(extended)[-1]
    assert (last.event, last.actor) == ("extension_approve", "周安宁")
    assert last.changes["deadline"] == [None, "2021年4月2日前"]
    assert last.changes["due"] == [DUE.isoformat(), "2021-04-02"]
    assert "批准延期至2021年4月2日（原期限2021年3月22日）；同意" == last.note
    request = app.store.history(extended)[-2]
    assert (request.event, request.actor) == ("extension_request", "马建军")
    assert "防火门需定制" in (request.note or "") and request.changes == {}


def test_a_relative_deadline_counts_from_the_request(app: App, clock: FakeClock) -> None:
    """“10个工作日内” is ten working days from when it is asked for, not from the finding."""
    i = _hazard(app)
    clock.advance(timedelta(days=14))  # Monday 2021-03-15
    asked = app.service.request_extension(i, "赵卫东", "10个工作日内", "等待消防检测报告")
    assert asked.new_due == date(2021, 3, 29) and asked.requested_by == "赵卫东"


def test_a_refusal_leaves_the_deadline_and_needs_a_reason(app: App, clock: FakeClock) -> None:
    i = _hazard(app)
    app.service.request_extension(i, "马建军", "2021年4月2日前", "材料未到货")
    before = app.store.get(i)
    with pytest.raises(Refused, match="不予批准须说明理由"):
        app.service.answer_extension(i, "周安宁", False, "  ")
    done = app.service.answer_extension(i, "周安宁", False, "消防通道必须立即清理，不予延期")
    after = app.store.get(i)
    assert done.status == REFUSED and done.answer_note == "消防通道必须立即清理，不予延期"
    assert (after.deadline, after.due, after.overdue_at, after.next_action_at) == (
        before.deadline, before.due, before.overdue_at, before.next_action_at)
    last = app.store.history(i)[-1]
    assert (last.event, last.changes) == ("extension_refuse", {})
    assert last.note == "不批准延期至2021年4月2日，期限仍为2021年3月22日；理由：消防通道必须立即清理，不予延期"
    # Refused, it may be asked for again.
    again = app.service.request_extension(i, "马建军", "2021年3月30日前", "已到一半材料")
    assert again.status == PENDING


# -- refusals --------------------------------------------------------------------------


@pytest.mark.parametrize(("actor", "why"), [
    ("张海峰", "张海峰 无权申请延期：只有本事项的责任人或责任单位负责人可以申请"),  # another unit
    ("郭晓明", "郭晓明 无权申请延期"),  # the reporter, an inspector
    ("周安宁", "周安宁 无权申请延期"),  # the safety office approves, it does not ask
])
def test_only_the_responsible_person_or_the_unit_head_may_ask(app: App, actor: str, why: str) -> None:
    i = _hazard(app)
    with pytest.raises(Refused, match=why):
        app.service.request_extension(i, actor, "2021年4月2日前", "理由")
    assert app.store.extensions(i) == [] and len(app.store.history(i)) == 2


@pytest.mark.parametrize(("deadline", "why"), [
    ("2021年3月20日前", "新期限2021年3月20日不晚于现有期限2021年3月22日，延期的新期限必须晚于现有期限"),
    ("2021年3月22日前", "新期限2021年3月22日不晚于现有期限2021年3月22日"),
    ("2021年5月1日前", "新期限2021年5月1日比现有期限2021年3月22日晚 40 天，超过规则“一般隐患”允许的最长延期 30 天"
                      "（自然日），最晚可申请延期至2021年4月21日"),
    ("长期坚持", "新期限“长期坚持”不是一个确定的日期"),
    ("立整立改", "不是一个确定的日期"),
])
def test_a_deadline_not_later_or_beyond_the_limit_is_refused_naming_it(app: App, deadline: str, why: str) -> None:
    i = _hazard(app)
    with pytest.raises(Refused, match=why):
        app.service.request_extension(i, "马建军", deadline, "理由")
    assert app.store.extensions(i) == []


def test_an_unreadable_deadline_is_the_grammars_own_error(app: App) -> None:
    i = _hazard(app)
    with pytest.raises(DeadlineError):
        app.service.request_extension(i, "马建军", "过几天", "理由")
    with pytest.raises(Refused, match="须说明申请延期的理由"):
        app.service.request_extension(i, "马建军", "2021年4月2日前", " ")


def test_one_request_may_be_pending_and_the_requester_may_not_answer_it(app: App) -> None:
    i = _hazard(app)
    app.service.request_extension(i, "马建军", "2021年4月2日前", "材料未到货")
    with pytest.raises(Refused, match="已有一项待审批的延期申请（马建军申请延期至2021年4月2日），请等待审批结果后再申请"):
        app.service.request_extension(i, "赵卫东", "2021年4月1日前", "另一个理由")
    with pytest.raises(Refused, match="赵卫东 无权审批此延期申请，需要以下角色之一：综治办"):
        app.service.answer_extension(i, "赵卫东", True)
    with pytest.raises(Refused, match="马建军 是此延期申请的申请人，不能审批自己的申请"):
        app.service.answer_extension(i, "马建军", True)
    assert [e.status for e in app.store.extensions(i)] == [PENDING]


def test_a_closed_item_cannot_be_extended(app: App) -> None:
    i = _hazard(app)
    app.service.fire(i, "start", "马建军")
    app.service.fire(i, "submit", "马建军", {"measures": "清理通道", "evidence": "照片"})
    app.service.fire(i, "verify", "郭晓明")
    app.service.fire(i, "close", "周安宁")
    with pytest.raises(Refused, match="事项已销号，不能再延期"):
        app.service.request_extension(i, "马建军", "2021年4月2日前", "理由")


def test_a_request_pending_when_the_item_closes_can_no_longer_be_approved(app: App) -> None:
    i = _hazard(app)
    app.service.request_extension(i, "马建军", "2021年4月2日前", "理由")
    app.service.fire(i, "start", "马建军")
    app.service.fire(i, "submit", "马建军", {"measures": "清理通道", "evidence": "照片"})
    app.service.fire(i, "verify", "郭晓明")
    app.service.fire(i, "close", "周安宁")
    assert app.service.pending_extensions() == []
    with pytest.raises(Refused, match="事项已销号，不能再延期"):
        app.service.answer_extension(i, "周安宁", True)
    assert app.service.answer_extension(i, "周安宁", False, "已销号").status == REFUSED


def test_an_answer_without_a_pending_request_says_what_became_of_the_last_one(app: App) -> None:
    i = _hazard(app)
    with pytest.raises(Refused, match="没有待审批的延期申请$"):
        app.service.answer_extension(i, "周安宁", True)
    app.service.request_extension(i, "马建军", "2021年4月2日前", "理由")
    app.service.answer_extension(i, "周安宁", False, "不行")
    with pytest.raises(Refused, match="已由周安宁于2021年3月1日 09:00审批，结果为不予批准"):
        app.service.answer_extension(i, "郭晓明", True)


def test_two_approvers_at_once_one_wins_and_the_other_is_told(app: App) -> None:
    """周安宁 approves while 郭晓明 (also of the safety office) refuses: exactly one answer
    is written; the other is refused saying who answered first."""
    i = _hazard(app)
    app.service.request_extension(i, "马建军", "2021年4月2日前", "材料未到货")
    start = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def act(who: str, approve: bool) -> None:
        start.wait()
        try:
            outcomes[who] = app.service.answer_extension(i, who, approve, "意见").status
        except Refused as exc:
            outcomes[who] = str(exc)

    threads = [threading.Thread(target=act, args=("周安宁", True)), threading.Thread(target=act, args=("郭晓明", False))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    [request] = app.store.extensions(i)
    winner = request.answered_by
    loser = "郭晓明" if winner == "周安宁" else "周安宁"
    assert outcomes[winner] == request.status
    assert f"已由{winner}于" in outcomes[loser] and "没有待审批的延期申请" in outcomes[loser]
    assert [e for e, _ in _ledger(app, i)].count("extension_request") == 1
    assert len([e for e, _ in _ledger(app, i) if e in ("extension_approve", "extension_refuse")]) == 1


# -- the rules -------------------------------------------------------------------------


def test_rules_name_the_approvers_the_count_and_the_length(site: Path, clock: FakeClock) -> None:
    """A site-wide setting, and a rule's own keys over it (重大隐患 ships max_count 1)."""
    _with_rules(site, 'extension:\n  approvers: ["unit_head", "leader"]\n  max_count: 1\n  max_days: 10\n')
    app = open_app(site, clock)
    try:
        i = _hazard(app)
        with pytest.raises(Refused, match="允许的最长延期 10 天（自然日），最晚可申请延期至2021年4月1日"):
            app.service.request_extension(i, "马建军", "2021年4月2日前", "理由")
        app.service.request_extension(i, "马建军", "2021年4月1日前", "理由")
        assert [p.approvers for p in app.service.pending_extensions()] == [("unit_head", "leader")]
        assert app.service.pending_extensions("周安宁") == []
        with pytest.raises(Refused, match="需要以下角色之一：责任单位负责人、分管校领导"):
            app.service.answer_extension(i, "周安宁", True)
        assert [p.item.id for p in app.service.pending_extensions("陈立德")] == [i]  # 保卫处's 分管校领导
        app.service.answer_extension(i, "陈立德", True)
        with pytest.raises(Refused, match="本事项已延期 1 次，按规则“一般隐患”最多可延期 1 次"):
            app.service.request_extension(i, "马建军", "2021年4月8日前", "理由")
        major = _hazard(app, level="重大")
        rules = app.service.extension_rules(app.store.get(major))
        assert (rules.approvers, rules.max_count, rules.max_days) == (("safety_office",), 1, 10)
    finally:
        app.close()


def test_the_unit_head_as_approver_may_not_answer_their_own_request(site: Path, clock: FakeClock) -> None:
    _with_rules(site, 'extension:\n  approvers: ["unit_head", "safety_office"]\n')
    app = open_app(site, clock)
    try:
        i = _hazard(app)
        app.service.request_extension(i, "赵卫东", "2021年4月2日前", "理由")
        assert app.service.pending_extensions("赵卫东") == []
        with pytest.raises(Refused, match="赵卫东 是此延期申请的申请人，不能审批自己的申请"):
            app.service.answer_extension(i, "赵卫东", True)
        assert app.service.answer_extension(i, "周安宁", True).status == APPROVED
    finally:
        app.close()


def test_max_count_zero_allows_no_extension(site: Path, clock: FakeClock) -> None:
    _with_rules(site, "extension: {max_count: 0}\n")
    app = open_app(site, clock)
    try:
        with pytest.raises(Refused, match="按规则“一般隐患”，此类事项不允许延期"):
            app.service.request_extension(_hazard(app), "马建军", "2021年4月2日前", "理由")
    finally:
        app.close()


def test_check_refuses_bad_extension_settings_with_file_and_line(sqlite_site: Path) -> None:
    cli = Cli(sqlite_site)
    path = sqlite_site / "rules" / "policy.yaml"
    shipped = path.read_text(encoding="utf-8")
    _with_rules(sqlite_site, 'extension:\n  approvers: ["inspector"]\n  max_days: 0\n')
    out = cli("check", code=1)
    assert out.stdout.count("policy.yaml:") + out.stderr.count("policy.yaml:") >= 2, out.stdout + out.stderr
    path.write_text(shipped, encoding="utf-8")
    cli("check")
    (sqlite_site / "rules" / "more.yaml").write_text("extension: {max_days: 7}\n", encoding="utf-8")
    out = cli("check", code=1)
    assert "全校延期规则 extension 重复定义（另见" in out.stdout + out.stderr


# -- who is told -----------------------------------------------------------------------


class _Mailbox:
    def __init__(self) -> None:
        self.sent: list[OutgoingMessage] = []

    def send(self, message: OutgoingMessage) -> None:
        self.sent.append(message)

    def to(self, address: str) -> list[OutgoingMessage]:
        return [m for m in self.sent if any(r.email == address for r in m.to)]


def test_the_approvers_and_then_the_requester_find_it_in_their_digests(app: App, clock: FakeClock) -> None:
    i = _hazard(app)
    mailbox = _Mailbox()
    scheduler = app.scheduler(mailer=mailbox)
    scheduler.tick(clock.now())
    mailbox.sent.clear()
    clock.advance(timedelta(hours=1))
    app.service.request_extension(i, "马建军", "2021年4月2日前", "防火门需定制")
    scheduler.tick(clock.now())
    [asked] = mailbox.to("zongzhiban@example.org")
    assert "【延期申请】实训楼消防通道堵塞" in asked.subject
    assert "马建军申请延期至2021年4月2日：防火门需定制" in asked.text and "请审核该延期申请" in asked.text
    assert asked.html is not None and "延期申请" in asked.html
    assert mailbox.to("ma.jianjun@example.org") == []
    mailbox.sent.clear()
    clock.advance(timedelta(hours=1))
    app.service.answer_extension(i, "周安宁", True, "同意")
    scheduler.tick(clock.now())
    [told] = mailbox.sent
    assert [r.email for r in told.to] == ["ma.jianjun@example.org"]
    assert "【同意延期】" in told.subject and "周安宁同意延期至2021年4月2日：同意" in told.text
    assert "整改期限：2021年4月2日" in told.text and "请在新的期限前完成整改" in told.text


# -- the command line ------------------------------------------------------------------


def _cli_hazard(cli: Cli) -> int:
    out = cli("report", "--title", "实训楼消防通道堵塞", "--category", "消防", "--unit", "保卫处",
              "--reporter", "郭晓明", "--found-at", "2021-03-01T09:00:00+08:00", "--json")
    i = int(json.loads(out.stdout)["id"])
    cli("fire", str(i), "assign", "--actor", "赵卫东", "--set", "responsible=马建军")
    return i


def test_the_command_line_asks_lists_answers_shows_and_audits(site: Path) -> None:
    cli = Cli(site)
    i = _cli_hazard(cli)
    out = cli("extend", "request", str(i), "--actor", "马建军", "--deadline", "2021年4月2日前",
              "--reason", "防火门需定制", "--at", "2021-03-03T10:00:00+08:00")
    assert f"事项 {i} 已申请延期：2021年3月22日 → 2021年4月2日（2021年4月2日前），等待综治办审批" in out.stdout
    listed = json.loads(cli("extend", "list", "--as", "周安宁", "--json").stdout)
    assert [(r["item_id"], r["requested_by"], r["new_due"], r["approvers"]) for r in listed] == [
        (i, "马建军", "2021-04-02", ["safety_office"])]
    assert json.loads(cli("extend", "list", "--as", "赵卫东", "--json").stdout) == []
    assert "共 1 项" in cli("extend", "list").stdout
    out = cli("extend", "approve", str(i), "--actor", "周安宁", "--note", "同意", "--at", "2021-03-03T11:00:00+08:00")
    assert f"事项 {i} 的延期申请已批准：整改期限改为2021年4月2日" in out.stdout
    shown = json.loads(cli("show", str(i), "--json").stdout)
    assert (shown["deadline"], shown["due"]) == ("2021年4月2日前", "2021-04-02")
    assert [h["event"] for h in shown["history"]][-2:] == ["extension_request", "extension_approve"]
    assert [(e["status"], e["answered_by"]) for e in shown["extensions"]] == [("approved", "周安宁")]
    text = cli("show", str(i)).stdout
    assert "延期申请" in text and "已批准" in text
    assert "全部完好" in cli("audit").stdout


@pytest.mark.slow
def test_the_command_line_refuses_in_chinese_and_writes_nothing(site: Path) -> None:
    cli = Cli(site)
    i = _cli_hazard(cli)
    ask = ("extend", "request", str(i), "--deadline", "2021年4月2日前", "--reason", "理由")
    assert "张海峰 无权申请延期" in refused(cli, *ask, "--actor", "张海峰", code=1)
    assert "超过规则“一般隐患”允许的最长延期 30 天" in refused(
        cli, "extend", "request", str(i), "--actor", "马建军", "--deadline", "2021年6月1日前", "--reason", "r", code=1)
    assert "不晚于现有期限" in refused(
        cli, "extend", "request", str(i), "--actor", "马建军", "--deadline", "2021年3月10日前", "--reason", "r", code=1)
    assert "没有待审批的延期申请" in refused(cli, "extend", "approve", str(i), "--actor", "周安宁", code=1)
    cli(*ask, "--actor", "马建军")
    assert "已有一项待审批的延期申请" in refused(cli, *ask, "--actor", "马建军", code=1)
    assert "不能审批自己的申请" in refused(cli, "extend", "approve", str(i), "--actor", "马建军", code=1)
    assert "无权审批此延期申请" in refused(cli, "extend", "refuse", str(i), "--actor", "赵卫东", "--note", "n", code=1)
    assert "找不到" in refused(cli, "extend", "approve", "999", "--actor", "周安宁", code=1)
    usage = cli("extend", "refuse", str(i), "--actor", "周安宁", code=2)
    assert "--note" in usage.stderr
    out = cli("extend", "refuse", str(i), "--actor", "周安宁", "--note", "须立即整改", "--json")
    assert json.loads(out.stdout)["status"] == "refused"
    assert json.loads(cli("show", str(i), "--json").stdout)["due"] == "2021-03-22"
    cli("fire", str(i), "start", "--actor", "马建军")
    cli("fire", str(i), "submit", "--actor", "马建军", "--set", "measures=m", "--set", "evidence=e")
    cli("fire", str(i), "verify", "--actor", "郭晓明")
    cli("fire", str(i), "close", "--actor", "周安宁")
    assert "事项已销号，不能再延期" in refused(cli, *ask, "--actor", "马建军", code=1)
    assert "全部完好" in cli("audit").stdout


def test_what_each_person_may_do_about_an_items_extensions(app: App) -> None:
    """The buttons a page may show: asking for the responsible person and the unit head
    while nothing is pending, answering for the approvers but not the requester."""
    i = _hazard(app)
    item = app.store.get(i)
    acts = app.service.extension_actions
    assert (acts(item, "马建军"), acts(item, "赵卫东")) == ({"request"}, {"request"})
    assert acts(item, "周安宁") == acts(item, "张海峰") == frozenset()
    app.service.request_extension(i, "马建军", "2021年4月2日前", "理由")
    item = app.store.get(i)
    assert acts(item, "马建军") == acts(item, "赵卫东") == frozenset()
    assert acts(item, "周安宁") == acts(item, "郭晓明") == {"approve", "refuse"}
    app.service.answer_extension(i, "周安宁", True)
    app.service.request_extension(i, "马建军", "2021年4月9日前", "理由")
    app.service.answer_extension(i, "周安宁", True)
    assert acts(app.store.get(i), "马建军") == frozenset()  # max_count 2 reached


def test_the_database_itself_keeps_one_pending_request_per_item(app: App) -> None:
    """Behind the store's check, the partial unique index of migration 0009: a second
    pending row for one item is refused by the database; answered rows are not limited."""
    from sqlalchemy import insert
    from sqlalchemy.exc import IntegrityError

    from adapters.schema import extensions

    i = _hazard(app)
    app.service.request_extension(i, "马建军", "2021年4月2日前", "理由")
    row = {"item_id": i, "status": PENDING, "requested_by": "赵卫东", "requested_at": app.service.clock.now(),
           "deadline": "2021年4月1日前", "new_due": date(2021, 4, 1), "old_due": DUE, "reason": "绕过服务"}
    with pytest.raises(IntegrityError), app.database.begin() as conn:
        conn.execute(insert(extensions), row)
    with app.database.begin() as conn:
        conn.execute(insert(extensions), {**row, "status": REFUSED})
        conn.execute(insert(extensions), {**row, "status": APPROVED})
    assert [e.status for e in app.store.extensions(i)] == [PENDING, REFUSED, APPROVED]


def test_migration_0009_adds_the_table_to_a_database_in_use(db_url: str) -> None:
    """A database from before 0009 holding items is upgraded: its items can then be extended."""
    from sqlalchemy import inspect

    from adapters import database
    from adapters.sqlstore import SqlStore
    from tests.contract.test_extension_store import ask
    from tests.oldrows import insert_item

    engine = database.open_engine(db_url, must_exist=False)
    try:
        database.upgrade(engine, "0008")
        assert "extensions" not in inspect(engine).get_table_names()
        insert_item(engine)  # as the code of that revision stored it
        database.upgrade(engine)
        store = SqlStore(engine)
        assert database.current_revision(engine) == database.head_revision()
        indexes = {i["name"]: i["unique"] for i in inspect(engine).get_indexes("extensions")}
        assert indexes["uq_extensions_pending"] and not indexes["ix_extensions_item"]
        _, written = store.extend(1, ask())
        assert store.pending_extensions() == [written]
    finally:
        engine.dispose()
