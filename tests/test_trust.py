"""Separation of duties, scoped roles and the ledger, tried as an attacker types them.

Every test here is an attack that used to work: it runs through the CLI on SQLite and
PostgreSQL and checks that the attack is refused with a Chinese reason and that
nothing was written.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from adapters.sitefiles import load_config
from adapters.sqlstore import SqlStore
from engine.model import LedgerEntry
from tests.conftest import Cli


@pytest.fixture
def cli(site: Path) -> Cli:
    """The CLI on a fresh site, once on SQLite and once on PostgreSQL."""
    return Cli(site)


def _report(cli: Cli, unit: str = "保卫处", *extra: str) -> int:
    out = cli("report", "--title", "实训楼消防通道堵塞", "--category", "消防", "--unit", unit,
              "--reporter", "郭晓明", "--json", *extra)
    return int(json.loads(out.stdout)["id"])


def _show(cli: Cli, item_id: int) -> dict:  # type: ignore[type-arg]
    return json.loads(cli("show", str(item_id), "--json").stdout)


def _rectifying(cli: Cli, responsible: str = "马建军") -> int:
    """An item of 保卫处 assigned to `responsible` and under rectification by them."""
    i = _report(cli)
    cli("fire", str(i), "assign", "--actor", "赵卫东", "--set", f"responsible={responsible}")
    cli("fire", str(i), "start", "--actor", responsible)
    return i


# --- 1. decided on the item as it was; fields per event ---------------------------------

def test_the_responsible_person_cannot_verify_by_repointing_responsible(cli: Cli) -> None:
    """`verify --set responsible=someone-else` by the responsible person is refused: the
    event may not set `responsible`, and the check reads the item as stored."""
    i = _report(cli, "综治办")
    cli("fire", str(i), "assign", "--actor", "周安宁", "--set", "responsible=郭晓明")
    cli("fire", str(i), "start", "--actor", "郭晓明")
    cli("fire", str(i), "submit", "--actor", "郭晓明", "--set", "measures=m", "--set", "evidence=e")
    out = cli("fire", str(i), "verify", "--actor", "郭晓明", "--set", "evidence=e", "--set", "responsible=罗静",
              code=1)
    assert "不能同时修改“责任人”" in out.stderr
    out = cli("fire", str(i), "verify", "--actor", "郭晓明", code=1)
    assert "不能是整改责任人本人" in out.stderr
    item = _show(cli, i)
    assert item["state"] == "submitted" and item["responsible"] == "郭晓明" and "verifier" not in item


def test_naming_oneself_responsible_gives_no_right_to_start(cli: Cli) -> None:
    """杨晨 (学工处, no role on a 保卫处 item) cannot start it by naming himself responsible."""
    i = _report(cli)
    cli("fire", str(i), "assign", "--actor", "赵卫东", "--set", "responsible=马建军")
    out = cli("fire", str(i), "start", "--actor", "杨晨", "--set", "responsible=杨晨", code=1)
    assert "杨晨 与此事项无关" in out.stderr
    assert _show(cli, i)["state"] == "assigned" and _show(cli, i)["responsible"] == "马建军"


def test_another_unit_cannot_take_an_item_over_while_starting_it(cli: Cli) -> None:
    """黄丽萍 (教务处) cannot move a 保卫处 item to her unit in the same command as `start`."""
    i = _report(cli)
    cli("fire", str(i), "assign", "--actor", "赵卫东", "--set", "responsible=马建军")
    out = cli("fire", str(i), "start", "--actor", "黄丽萍", "--set", "unit=教务处", code=1)
    assert "黄丽萍 与此事项无关" in out.stderr
    assert _show(cli, i)["unit"] == "保卫处"


def test_the_responsible_person_cannot_move_their_own_deadline_while_starting(cli: Cli) -> None:
    """Pushing the deadline to 2099 and retitling with `start` is refused; the item stays
    overdue in `list --overdue`."""
    i = _report(cli, "保卫处", "--found-at", "2021-03-01T09:00", "--deadline", "3日内")
    cli("fire", str(i), "assign", "--actor", "赵卫东", "--set", "responsible=马建军")
    out = cli("fire", str(i), "start", "--actor", "马建军", "--set", "deadline=2099年底前",
              "--set", "title=已整改", code=1)
    assert "不能同时修改" in out.stderr and "rectify amend" in out.stderr
    overdue = json.loads(cli("list", "--overdue", "--json").stdout)
    assert [r["id"] for r in overdue] == [i] and overdue[0]["title"] == "实训楼消防通道堵塞"


def test_a_deadline_changes_only_by_the_safety_office_with_a_reason(cli: Cli) -> None:
    """`amend` is the one way to move a deadline after assignment: the responsible
    person is refused, the safety office must give a reason, and the ledger records it."""
    i = _rectifying(cli)
    out = cli("amend", str(i), "--actor", "马建军", "--set", "deadline=2099年底前", "--note", "太忙", code=1)
    assert "马建军 无权修改“整改时限”" in out.stderr
    out = cli("amend", str(i), "--actor", "周安宁", "--set", "deadline=30日内", code=1)
    assert "须说明理由" in out.stderr
    cli("amend", str(i), "--actor", "周安宁", "--set", "deadline=30日内", "--note", "需采购防火门，同意延期")
    item = _show(cli, i)
    last = item["history"][-1]
    assert item["deadline"] == "30日内" and item["state"] == "rectifying"
    assert (last["event"], last["actor"], last["note"]) == ("amend", "周安宁", "需采购防火门，同意延期")
    assert last["changes"]["deadline"] == [None, "30日内"] and "due" in last["changes"]


def test_amend_cannot_make_the_verifier_responsible(cli: Cli) -> None:
    """After 郭晓明 verified an item, making him its responsible person is refused."""
    i = _rectifying(cli)
    cli("fire", str(i), "submit", "--actor", "马建军", "--set", "measures=m", "--set", "evidence=e")
    cli("fire", str(i), "verify", "--actor", "郭晓明")
    out = cli("amend", str(i), "--actor", "周安宁", "--set", "responsible=郭晓明", "--note", "调整", code=1)
    assert "已是本事项的验收人" in out.stderr
    assert _show(cli, i)["responsible"] == "马建军"


def test_a_closed_item_cannot_be_amended(cli: Cli) -> None:
    i = _rectifying(cli)
    cli("fire", str(i), "submit", "--actor", "马建军", "--set", "measures=m", "--set", "evidence=e")
    cli("fire", str(i), "verify", "--actor", "郭晓明")
    cli("fire", str(i), "close", "--actor", "周安宁")
    out = cli("amend", str(i), "--actor", "周安宁", "--set", "location=实训楼", code=1)
    assert "已销号，不能再修改" in out.stderr


# --- 2. roles scoped to their units -----------------------------------------------------

def test_a_unit_head_acts_only_on_the_items_of_the_unit_they_head(cli: Cli) -> None:
    """孙文博 heads 教务处: he cannot start (and become rectifier of) a 学工处 item;
    钱晓燕, head of 学工处, can."""
    i = _report(cli, "学工处")
    cli("fire", str(i), "assign", "--actor", "周安宁", "--set", "responsible=杨晨")
    out = cli("fire", str(i), "start", "--actor", "孙文博", code=1)
    assert "孙文博 与此事项无关" in out.stderr
    assert "rectifier" not in _show(cli, i)
    cli("fire", str(i), "start", "--actor", "钱晓燕")
    assert _show(cli, i)["state"] == "rectifying"


def test_a_leader_acts_only_on_the_units_they_supervise(cli: Cli) -> None:
    """李明华 supervises 总务处, not 学工处 (刘思远's): he cannot assign a 学工处 item."""
    i = _report(cli, "学工处")
    out = cli("fire", str(i), "assign", "--actor", "李明华", "--set", "responsible=杨晨", code=1)
    assert "李明华 与此事项无关" in out.stderr
    cli("fire", str(i), "assign", "--actor", "刘思远", "--set", "responsible=杨晨")


@pytest.mark.slow
def test_the_org_role_responsible_counts_only_in_ones_own_unit(cli: Cli) -> None:
    """张海峰 is an 整改责任人 of 总务处: that role gives him nothing on a 保卫处 item."""
    i = _report(cli)
    cli("fire", str(i), "assign", "--actor", "赵卫东", "--set", "responsible=马建军")
    out = cli("fire", str(i), "start", "--actor", "张海峰", code=1)
    assert "张海峰 与此事项无关" in out.stderr


def test_fix_on_spot_is_not_open_to_everyone(cli: Cli) -> None:
    """立查立改 by someone with nothing to do with the item or its unit is refused."""
    i = _report(cli)
    out = cli("fire", str(i), "fix_on_spot", "--actor", "杨晨", "--set", "measures=清理", code=1)
    assert "杨晨 与此事项无关" in out.stderr
    cli("fire", str(i), "fix_on_spot", "--actor", "郭晓明", "--set", "measures=清理")  # its reporter


# --- 3. report takes only what a reporter may give ---------------------------------------

@pytest.mark.parametrize("field", ["verifier=周安宁", "rectifier=马建军", "approver=周安宁",
                                   "closed_at=2021-03-01", "measures=已清理", "evidence=照片"])
def test_report_refuses_fields_the_workflow_records_later(cli: Cli, field: str) -> None:
    """A new item cannot arrive with a 验收人, a 销号时间 or evidence already filled in."""
    before = cli("list", "--json").stdout
    out = cli("report", "--title", "配电房门锁损坏", "--unit", "总务处", "--set", field, code=2)
    assert "不能" in out.stderr and "Traceback" not in out.stderr
    assert cli("list", "--json").stdout == before


# --- 4. look-alike people ------------------------------------------------------------------

def test_an_actor_typed_with_a_full_width_space_is_the_same_person(cli: Cli) -> None:
    """`--actor $'郭晓明\\u3000'` is 郭晓明: still refused as the item's responsible person."""
    i = _report(cli, "综治办")
    cli("fire", str(i), "assign", "--actor", "周安宁", "--set", "responsible=郭晓明")
    cli("fire", str(i), "start", "--actor", "罗静")
    cli("fire", str(i), "submit", "--actor", "罗静", "--set", "measures=m", "--set", "evidence=e")
    out = cli("fire", str(i), "verify", "--actor", "郭晓明\u3000", code=1)
    assert "不能是整改责任人本人（郭晓明）" in out.stderr
    out = cli("fire", str(i), "verify", "--actor", "郭\u200b晓明", code=1)
    assert "不能是整改责任人本人（郭晓明）" in out.stderr


def test_a_trailing_space_in_an_actor_is_trimmed_not_a_crash(cli: Cli) -> None:
    i = _report(cli)
    out = cli("fire", str(i), "assign", "--actor", "赵卫东 ", "--set", "responsible= 马建军")
    assert "Traceback" not in out.stderr
    item = _show(cli, i)
    assert item["history"][-1]["actor"] == "赵卫东" and item["responsible"] == "马建军"


def test_an_unknown_actor_is_refused_with_the_closest_names(cli: Cli) -> None:
    i = _report(cli)
    out = cli("fire", str(i), "assign", "--actor", "周安安", "--set", "responsible=马建军", code=1)
    assert "找不到人员：周安安" in out.stderr and "是否指：周安宁" in out.stderr


def _org_with(site: Path, extra_person: str) -> None:
    org = site / "org.yaml"
    org.write_text(org.read_text(encoding="utf-8").rstrip("\n") + "\n" + extra_person + "\n", encoding="utf-8")


@pytest.mark.parametrize("twin", ["郭晓明\u3000", "郭\u200b晓明", "\ufeff郭晓明", "郭晓明 "])
def test_org_yaml_refuses_two_people_who_look_the_same(sqlite_site: Path, twin: str) -> None:
    """A second 郭晓明 told apart only by an invisible character is an error with the line."""
    _org_with(sqlite_site, f'  - {{name: "{twin}", unit: "综治办", email: "twin@example.org"}}')
    lines = (sqlite_site / "org.yaml").read_text(encoding="utf-8").splitlines()
    first = next(n for n, line in enumerate(lines, 1) if '"郭晓明"' in line)
    out = Cli(sqlite_site)("check", code=1)
    assert f"org.yaml:{len(lines)}: 人员“郭晓明”重复登记" in out.stderr + out.stdout
    assert f"第{first}行已登记" in out.stderr + out.stdout


# --- 5. audit: deletions and edits outside the ledger ---------------------------------------

def _db(site: Path, cli: Cli):  # type: ignore[no-untyped-def]
    """A raw connection to the site's database with the ledger's append-only triggers
    dropped: what an attacker with the database password can do."""
    engine = create_engine(load_config(site).database_url)
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            conn.execute(text("DROP TRIGGER IF EXISTS ledger_no_update"))
            conn.execute(text("DROP TRIGGER IF EXISTS ledger_no_delete"))
        else:
            conn.execute(text("DROP TRIGGER IF EXISTS ledger_no_change ON ledger"))
    return engine


def _delete_item(site: Path, cli: Cli, item_id: int) -> None:
    """The item with its ledger and notifications deleted behind rectify's back."""
    engine = _db(site, cli)
    with engine.begin() as conn:
        for table in ("notifications", "ledger"):
            conn.execute(text(f"DELETE FROM {table} WHERE item_id = :i"), {"i": item_id})
        conn.execute(text("DELETE FROM items WHERE id = :i"), {"i": item_id})
    engine.dispose()


def _three_items(cli: Cli) -> list[int]:
    ids = [_rectifying(cli) for _ in range(3)]
    assert "全部完好" in cli("audit").stdout
    return ids


@pytest.mark.parametrize("attack, expected", [
    ("DELETE FROM ledger WHERE item_id = :i AND seq = 3", "其后的记录被删除"),
    ("DELETE FROM ledger WHERE item_id = :i", "没有任何历史记录"),
    ("UPDATE items SET state = 'closed' WHERE id = :i", "状态未经流程被改动"),
    ("UPDATE items SET deadline = '2099年底前' WHERE id = :i", "“整改时限”为“2099年底前”"),
    ("UPDATE items SET overdue_at = due WHERE id = :i", "“逾期时刻”"),
])
def test_audit_notices_edits_behind_the_ledgers_back(site: Path, cli: Cli, attack: str, expected: str) -> None:
    ids = _three_items(cli)
    engine = _db(site, cli)
    with engine.begin() as conn:
        conn.execute(text(attack), {"i": ids[1]})
    engine.dispose()
    out = cli("audit", code=1)
    assert f"事项 {ids[1]}" in out.stderr and expected in out.stderr, out.stderr
    assert f"事项 {ids[0]}" not in out.stderr


def test_audit_notices_a_forged_verifier(site: Path, cli: Cli) -> None:
    ids = _three_items(cli)
    engine = _db(site, cli)
    with engine.begin() as conn:
        fields = conn.execute(text("SELECT fields FROM items WHERE id = :i"), {"i": ids[0]}).scalar_one()
        fields = json.loads(fields) if isinstance(fields, str) else fields
        fields["verifier"] = "周安宁"
        conn.execute(text("UPDATE items SET fields = :f WHERE id = :i"),
                     {"f": json.dumps(fields, ensure_ascii=False), "i": ids[0]})
    engine.dispose()
    out = cli("audit", code=1)
    assert "“验收人”为“周安宁”，而台账记录的是“（空）”" in out.stderr


def test_audit_notices_an_item_deleted_with_its_ledger(site: Path, cli: Cli) -> None:
    ids = _three_items(cli)
    _delete_item(site, cli, ids[1])
    out = cli("audit", code=1)
    assert f"事项 {ids[1]}：编号缺失" in out.stderr


def test_ids_stay_without_gaps_after_a_refused_report(cli: Cli) -> None:
    """A report that fails after its id was drawn leaves no gap that audit would call a
    deleted item (PostgreSQL sequences skip numbers on rollback)."""
    first = _report(cli)
    cli("report", "--title", "x", "--unit", "总务处", "--set", "verifier=周安宁", code=2)
    assert _report(cli) == first + 1
    assert "全部完好" in cli("audit").stdout


def _rechain(engine, item_id: int, tamper) -> None:  # type: ignore[no-untyped-def]
    """Rewrite an item's whole ledger with valid hashes after `tamper` changed a row: what
    an attacker who knows the hashing does. The chain alone cannot tell."""
    entries = SqlStore(engine).history(item_id)
    prev = ""
    with engine.begin() as conn:
        for entry in entries:
            sealed = tamper(entry).sealed(item_id, entry.seq, prev)
            conn.execute(text("UPDATE ledger SET actor = :a, hash = :h, prev_hash = :p WHERE item_id = :i AND seq = :s"),
                         {"a": sealed.actor, "h": sealed.hash, "p": prev, "i": item_id, "s": entry.seq})
            prev = sealed.hash
        conn.execute(text("UPDATE items SET ledger_head = :h WHERE id = :i"), {"h": prev, "i": item_id})


@pytest.mark.slow
def test_heads_kept_elsewhere_prove_a_rechained_history_was_rewritten(site: Path, cli: Cli, tmp_path: Path) -> None:
    """The README's promise: a chain re-hashed by someone who can write the database
    passes the plain audit, but not `audit --against` heads exported before."""
    ids = _three_items(cli)
    heads = tmp_path / "heads.txt"
    out = cli("audit", "--export-head", str(heads))
    digest = out.stdout.split("链尾校验码：")[1][:64]
    assert digest in heads.read_text(encoding="utf-8")
    engine = _db(site, cli)

    def forge(e: LedgerEntry) -> LedgerEntry:
        return LedgerEntry(e.item_id, e.seq, e.event, e.from_state, e.to_state,
                           "罗静" if e.event == "start" else e.actor, e.at, e.note, e.changes)

    _rechain(engine, ids[2], forge)
    engine.dispose()
    assert "全部完好" in cli("audit").stdout  # what the chain alone cannot prove
    out = cli("audit", "--against", str(heads), code=1)
    assert f"事项 {ids[2]} 第3条记录" in out.stderr and "此前的记录被改写" in out.stderr


def test_a_heads_file_changed_by_hand_is_refused(cli: Cli, tmp_path: Path) -> None:
    _three_items(cli)
    heads = tmp_path / "heads.txt"
    cli("audit", "--export-head", str(heads))
    lines = heads.read_text(encoding="utf-8").splitlines()
    lines[-1] = lines[-1][:-1] + ("0" if lines[-1][-1] != "0" else "1")
    heads.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = cli("audit", "--against", str(heads), code=2)
    assert "文件内容与其校验码不符" in out.stderr


def test_an_anchor_notices_items_deleted_after_it(site: Path, cli: Cli, tmp_path: Path) -> None:
    """Deleting the newest item leaves no gap; heads exported before still notice it."""
    ids = _three_items(cli)
    heads = tmp_path / "heads.txt"
    cli("audit", "--export-head", str(heads))
    _delete_item(site, cli, ids[2])
    out = cli("audit", "--against", str(heads), code=1)
    assert f"事项 {ids[2]}：记录链尾时" in out.stderr and "事项被删除" in out.stderr


# --- 6. one UTC instant, hashed as it is read back -----------------------------------------

@pytest.mark.parametrize("at", ["2026-12-01T10:00", "2026-12-01T10:00:00+08:00", "2026-12-01T02:00:00Z",
                                "2026-11-30T21:00:00-05:00"])
def test_a_time_given_in_any_zone_round_trips_through_audit(cli: Cli, at: str) -> None:
    """`fire --at` without an offset (the site's zone) or with any offset is stored and
    hashed as one UTC instant: audit reports nothing."""
    i = _report(cli)
    cli("fire", str(i), "assign", "--actor", "赵卫东", "--set", "responsible=马建军", "--at", at)
    assert "全部完好" in cli("audit").stdout
    assert _show(cli, i)["history"][-1]["at"] == "2026-12-01T10:00:00+08:00"


# --- commands that change many items at once are the safety office's ---------------------

def test_policy_apply_is_refused_to_a_unit_head(cli: Cli) -> None:
    """Rebinding every item in flight to new rules is not a unit head's decision."""
    out = cli("policy", "apply", "--actor", "赵卫东", code=1)
    assert "赵卫东 无权迁移在办事项的规则版本" in out.stderr


def test_an_import_as_someone_outside_the_safety_office_is_refused(cli: Cli, tmp_path: Path) -> None:
    """An import may reset deadlines and people of many items: only the safety office
    (or the administrator) may run it as themselves."""
    sheet = tmp_path / "隐患清单.csv"
    sheet.write_text("隐患名称,责任单位,发现时间\n配电房门锁损坏,总务处,2021-03-01\n", encoding="utf-8")
    out = cli("import", str(sheet), "--actor", "马建军", code=1)
    assert "马建军 无权导入清单" in out.stderr
    assert json.loads(cli("list", "--json").stdout) == []
    cli("import", str(sheet), "--actor", "罗静")  # 综治办 and admin
    assert len(json.loads(cli("list", "--json").stdout)) == 1


# --- the same scope decides who may see an item ------------------------------------------

def test_a_person_sees_only_the_items_their_scope_reaches(cli: Cli) -> None:
    """孙文博 (head of 教务处) sees 教务处's item, not 学工处's; 刘思远 (leader of both)
    sees both; the safety office sees everything; 杨晨 sees the 学工处 item of his unit."""
    jiaowu, xuegong = _report(cli, "教务处"), _report(cli, "学工处")
    _report(cli, "总务处")

    def seen(name: str) -> list[int]:
        return [r["id"] for r in json.loads(cli("list", "--as", name, "--json").stdout)]

    assert seen("孙文博") == [jiaowu]
    assert seen("刘思远") == [jiaowu, xuegong]
    assert seen("杨晨") == [xuegong]
    assert len(seen("周安宁")) == 3 and len(seen("林正道")) == 3
    out = cli("show", str(xuegong), "--as", "孙文博", code=1)
    assert "找不到事项" in out.stderr and "实训楼" not in out.stderr  # no title leaked
    cli("show", str(jiaowu), "--as", "孙文博")


def test_being_named_on_an_item_lets_one_see_it(cli: Cli) -> None:
    """钱晓燕 of 学工处 sees the 保卫处 major hazard she is named watcher (专人盯防) of."""
    i = _report(cli, "保卫处", "--level", "重大")

    def seen() -> list[int]:
        return [r["id"] for r in json.loads(cli("list", "--as", "钱晓燕", "--json").stdout)]

    assert i not in seen()
    cli("fire", str(i), "assign", "--actor", "陈立德", "--set", "responsible=马建军")
    cli("fire", str(i), "plan", "--actor", "马建军", "--set", "measures=m", "--set", "funds=1万元",
        "--set", "contingency_plan=值守")
    cli("fire", str(i), "start", "--actor", "马建军", "--set", "interim_controls=围挡", "--set", "watcher=钱晓燕")
    assert i in seen()
