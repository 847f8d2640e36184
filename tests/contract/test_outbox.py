"""The outbox ports' promises (notification queue, message outbox, heartbeats, stage-report
log, rewriter), the same on every backend: MemoryOutbox over a MemoryStore, SqlOutbox
over SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Protocol

import pytest

from engine.errors import NotFound
from engine.mail import Attachment, InlineImage
from engine.model import Item, LedgerEntry, verify_chain
from engine.plan import Step
from engine.ports import ItemStore, SiteOutbox
from engine.provisional import Rewrite
from engine.recipients import Addressee
from engine.scheduler import Composed, Decision, Pending, Queued

T0 = datetime(2021, 3, 1, 1, 0, tzinfo=UTC)
SHANGHAI = timezone(timedelta(hours=8))
MA = Addressee("responsible", "马建军", "ma.jianjun@example.org")
HEAD = Addressee("unit_head", "赵卫东", "zhao.weidong@example.org")


class Outbox(SiteOutbox, Protocol):
    """The site outbox as both implementations give it, with what was queued readable."""

    def queued(self) -> list[tuple[int, str, datetime]]: ...


def _add(store: ItemStore, title: str = "消防通道堆放杂物", next_action_at: datetime | None = T0) -> int:
    item = Item(None, "hazard", "hazard", "reported", title, T0, category="消防", unit="保卫处",
                policy_version="v1", next_action_at=next_action_at)
    added = store.add(item, LedgerEntry(None, 0, "report", None, "reported", "郭晓明", T0))
    assert added.id is not None
    return added.id


def _step(at: datetime, key: int = 0, kind: str = "remind") -> Step:
    return Step(at, kind, key, 0, "提醒", ("responsible",), "3日前")


def _decide(steps: dict[int, list[Step]], until: datetime, next_at: datetime | None,
            seen: list[Item] | None = None, version: str = "v1"):  # type: ignore[no-untyped-def]
    """A scheduler's decision for each claimed item: queue its steps, move its cursor."""
    def decide(item: Item) -> Decision:
        assert item.id is not None
        if seen is not None:
            seen.append(item)
        queued = [Queued(item.id, version, s, (MA,), False) for s in steps.get(item.id, [])]
        return Decision(queued, until, next_at)
    return decide


def _message(name: str = "马建军", ids: tuple[int, ...] = (), **kw: object) -> Composed:
    return Composed(name, f"{name}@example.org", f"【督办】{name}", "正文", "<p>正文</p>", ids, **kw)  # type: ignore[arg-type]


def _queue_one(store: ItemStore, outbox: Outbox) -> int:
    """One item with one step queued; its id."""
    i = _add(store)
    outbox.schedule_due(T0, 10, _decide({i: [_step(T0)]}, T0, None))
    return i


# -- schedule_due ----------------------------------------------------------------------


def test_schedule_due_claims_the_due_items_in_order_of_their_time_up_to_the_limit(
        store: ItemStore, outbox: Outbox) -> None:
    """Items whose next action time has come, earliest first; not the later ones, not
    those without one; each claimed item's cursor moves, without a version or ledger row."""
    late = _add(store, "甲", T0 + timedelta(hours=2))
    early = _add(store, "乙", T0)
    _add(store, "丙", T0 + timedelta(days=1))
    _add(store, "丁", None)
    seen: list[Item] = []
    until, next_at = T0 + timedelta(hours=3), T0 + timedelta(days=2)
    assert outbox.schedule_due(T0 + timedelta(hours=3), 1, _decide({}, until, next_at, seen)) == (1, 0)
    assert [i.id for i in seen] == [early]
    assert outbox.schedule_due(T0 + timedelta(hours=3), 10, _decide({}, until, next_at, seen)) == (1, 0)
    assert [i.id for i in seen] == [early, late]
    for i in (early, late):
        item = store.get(i)
        assert (item.planned_until, item.next_action_at, item.version) == (until, next_at, 1)
        assert len(store.history(i)) == 1
    assert outbox.schedule_due(T0 + timedelta(hours=3), 10, _decide({}, until, next_at, seen)) == (0, 0)


def test_a_cursor_of_none_leaves_the_item_unclaimed(store: ItemStore, outbox: Outbox) -> None:
    """An item with nothing more to do (next action None) is never claimed again."""
    i = _add(store)
    assert outbox.schedule_due(T0, 10, _decide({}, T0, None)) == (1, 0)
    assert store.get(i).next_action_at is None
    assert outbox.schedule_due(T0 + timedelta(days=365), 10, _decide({}, T0, None)) == (0, 0)


def test_a_step_is_queued_once_whoever_queues_it_again(store: ItemStore, outbox: Outbox) -> None:
    """(item, policy version, step key, instant) is unique: the same step again (a lost
    cursor, twice in one batch, given in another zone) adds nothing; another instant,
    key or version is a step of its own."""
    i = _add(store)
    steps = {i: [_step(T0), _step(T0.astimezone(SHANGHAI))]}
    assert outbox.schedule_due(T0, 10, _decide(steps, T0, T0)) == (1, 1)
    assert outbox.schedule_due(T0, 10, _decide(steps, T0, T0)) == (1, 0)
    again = {i: [_step(T0), _step(T0 + timedelta(hours=1)), _step(T0, key=1)]}
    assert outbox.schedule_due(T0, 10, _decide(again, T0, T0)) == (1, 2)
    assert outbox.schedule_due(T0, 10, _decide({i: [_step(T0)]}, T0, None, version="v2")) == (1, 1)
    assert outbox.queued() == [(i, "remind0.0", T0), (i, "remind0.0", T0 + timedelta(hours=1)),
                               (i, "remind1.0", T0), (i, "remind0.0", T0)]
    assert all(at.utcoffset() == timedelta(0) for _, _, at in outbox.queued())


def test_a_decision_that_fails_queues_nothing_and_moves_no_cursor(store: ItemStore, outbox: Outbox) -> None:
    """One item's decision raising rolls back the whole batch."""
    first, second = _add(store, "甲"), _add(store, "乙", T0 + timedelta(minutes=1))

    def decide(item: Item) -> Decision:
        if item.id == second:
            raise RuntimeError("计划无法计算")
        return _decide({first: [_step(T0)]}, T0, None)(item)

    with pytest.raises(RuntimeError):
        outbox.schedule_due(T0 + timedelta(hours=1), 10, decide)
    assert outbox.queued() == [] and store.get(first).next_action_at == T0
    assert outbox.status(T0 + timedelta(hours=1))["items_due"] == 2


# -- compose ---------------------------------------------------------------------------


def test_compose_gives_the_pending_notifications_with_their_items_as_they_are_now(
        store: ItemStore, outbox: Outbox) -> None:
    """In order of queuing, with recipients and the item read at compose time; the
    messages built are stored pending; every notification taken is composed, also those
    that made no message; the next compose finds nothing."""
    i = _add(store)
    steps = {i: [_step(T0, 0), _step(T0 + timedelta(hours=1), 0, "escalate")]}
    outbox.schedule_due(T0 + timedelta(hours=1), 10, _decide(steps, T0, None))
    given: list[Pending] = []

    def build(pending: list[Pending]) -> list[Composed]:
        given.extend(pending)
        return [_message(ids=(pending[0].id,))]

    assert outbox.compose(T0, 1, build) == (1, 1)
    assert outbox.compose(T0, 10, lambda p: given.extend(p) or []) == (1, 0)
    assert outbox.compose(T0, 10, build) == (0, 0)
    assert [(p.step_key, p.step_at, p.kind, p.action, p.label, p.late) for p in given] == [
        ("remind0.0", T0, "remind", "提醒", "3日前", False),
        ("escalate0.0", T0 + timedelta(hours=1), "escalate", "提醒", "3日前", False)]
    assert given[0].id < given[1].id and given[0].item.id == i and given[0].policy_version == "v1"
    assert given[0].recipients == [{"role": "responsible", "name": "马建军", "email": "ma.jianjun@example.org"}]
    assert given[0].item.next_action_at is None  # the cursor as the schedule left it
    status = outbox.status(T0)
    assert (status["pending"], status["unsent_notifications"]) == (1, 0)


def test_a_compose_that_fails_leaves_its_notifications_pending(store: ItemStore, outbox: Outbox) -> None:
    _queue_one(store, outbox)

    def broken(pending: list[Pending]) -> list[Composed]:
        raise RuntimeError("模板出错")

    with pytest.raises(RuntimeError):
        outbox.compose(T0, 10, broken)
    status = outbox.status(T0)
    assert (status["unsent_notifications"], status["pending"]) == (1, 0)
    assert outbox.compose(T0, 10, lambda p: [_message(ids=tuple(n.id for n in p))]) == (1, 1)


def test_outside_office_hours_only_urgent_notifications_are_composed(store: ItemStore, outbox: Outbox) -> None:
    """`only_urgent` takes the urgent notifications alone and leaves the others pending
    (counted as held for office hours, with the addresses they are for); the next
    compose in office hours takes them, carrying their flag."""
    i = _add(store)
    ordinary, urgent = _step(T0, 0), _step(T0, 1, "escalate")

    def decide(item: Item) -> Decision:
        assert item.id is not None
        return Decision([Queued(item.id, "v1", ordinary, (MA, HEAD), False),
                         Queued(item.id, "v1", urgent, (MA,), False, urgent=True)], T0, None)

    outbox.schedule_due(T0, 10, decide)
    status = outbox.status(T0)
    assert (status["unsent_notifications"], status["held_notifications"], status["held_recipients"]) == (2, 1, 2)
    given: list[Pending] = []

    def build(pending: list[Pending]) -> list[Composed]:
        given.extend(pending)
        return [_message(ids=tuple(p.id for p in pending), urgent=any(p.urgent for p in pending))]

    assert outbox.compose(T0, 10, build, only_urgent=True) == (1, 1)
    assert [(p.step_key, p.urgent) for p in given] == [("escalate1.0", True)]
    assert outbox.compose(T0, 10, build, only_urgent=True) == (0, 0)
    assert outbox.status(T0)["held_messages"] == 0  # the urgent digest is not held
    assert outbox.compose(T0, 10, build) == (1, 1)
    assert [(p.step_key, p.urgent) for p in given[1:]] == [("remind0.0", False)] and given[1].item.id == i
    status = outbox.status(T0)
    assert (status["unsent_notifications"], status["held_notifications"], status["held_messages"]) == (0, 0, 1)


def test_outside_office_hours_only_urgent_messages_are_claimed(outbox: Outbox) -> None:
    ordinary = outbox.add_message(_message("马建军"), T0)
    urgent = outbox.add_message(_message("赵卫东", urgent=True), T0)
    lease = T0 + timedelta(minutes=5)
    [claimed] = outbox.claim_messages(T0, 10, lease, only_urgent=True)
    assert (claimed.id, claimed.urgent) == (urgent, True)
    assert outbox.claim_messages(T0, 10, lease, only_urgent=True) == []
    [later] = outbox.claim_messages(T0, 10, lease)
    assert (later.id, later.urgent) == (ordinary, False)


# -- deliver ---------------------------------------------------------------------------


def test_claimed_messages_are_leased_and_carry_their_parts(outbox: Outbox) -> None:
    """Pending messages due by `at`, in order, up to the limit; leased until lease_until
    (nobody claims them before); with their attachments and images (one without a file
    name is named by its cid)."""
    image = InlineImage("chart1", b"\x89PNG", "image/png")
    sheet = Attachment("报告.xlsx", b"PK\x03\x04", "application/vnd.ms-excel")
    first = outbox.add_message(_message("马建军", (1, 2), attachments=(sheet,), inline_images=(image,)), T0)
    second = outbox.add_message(_message("赵卫东"), T0)
    later = outbox.add_message(_message("陈立德"), T0 + timedelta(hours=1))
    assert first < second < later
    lease = T0 + timedelta(minutes=5)
    [claimed] = outbox.claim_messages(T0, 1, lease)
    assert (claimed.id, claimed.recipient_name, claimed.recipient_email, claimed.subject) == (
        first, "马建军", "马建军@example.org", "【督办】马建军")
    assert (claimed.text, claimed.html, claimed.attempts, claimed.key) == ("正文", "<p>正文</p>", 0, f"notice-{first}")
    assert claimed.attachments == (sheet,)
    assert claimed.inline_images == (InlineImage("chart1", b"\x89PNG", "image/png", "chart1"),)
    assert [m.id for m in outbox.claim_messages(T0, 10, lease)] == [second]
    assert outbox.claim_messages(T0 + timedelta(minutes=4), 10, lease) == []
    assert [m.id for m in outbox.claim_messages(lease, 10, lease + timedelta(hours=2))] == [first, second]
    assert [m.id for m in outbox.claim_messages(T0 + timedelta(hours=1), 10, lease)] == [later]


def test_sent_retried_dead_and_released_messages(outbox: Outbox) -> None:
    """Sent: one more attempt, never claimed again. Retry: the attempts and error given,
    claimable from the time given. Dead: never claimed. Released: claimable at once."""
    sent, retried, dead, released = (outbox.add_message(_message(n), T0) for n in ("甲", "乙", "丙", "丁"))
    outbox.claim_messages(T0, 10, T0 + timedelta(minutes=5))
    outbox.mark_sent(sent, T0 + timedelta(minutes=1))
    outbox.mark_retry(retried, 2, T0 + timedelta(minutes=30), "451 稍后再试")
    outbox.mark_dead(dead, 3, "550 拒收")
    outbox.release([released], T0 + timedelta(minutes=1))
    assert [m.id for m in outbox.claim_messages(T0 + timedelta(minutes=1), 10, T0 + timedelta(hours=1))] == [released]
    [again] = outbox.claim_messages(T0 + timedelta(minutes=30), 10, T0 + timedelta(hours=2))
    assert (again.id, again.attempts) == (retried, 2)
    rows = {m.id: m for m in outbox.list_messages(("pending", "sent", "dead"))}
    assert (rows[sent].status, rows[sent].attempts, rows[sent].sent_at, rows[sent].last_error) == (
        "sent", 1, T0 + timedelta(minutes=1), None)
    assert (rows[retried].status, rows[retried].attempts, rows[retried].last_error) == ("pending", 2, "451 稍后再试")
    assert (rows[dead].status, rows[dead].attempts, rows[dead].last_error) == ("dead", 3, "550 拒收")
    status = outbox.status(T0)
    assert (status["pending"], status["sent"], status["dead"]) == (2, 1, 1)
    assert outbox.claim_messages(T0 + timedelta(days=30), 10, T0 + timedelta(days=31)) != []
    assert dead not in [m.id for m in outbox.claim_messages(T0 + timedelta(days=60), 10, T0 + timedelta(days=61))]


def test_retry_dead_puts_dead_letters_back_with_a_fresh_count(outbox: Outbox) -> None:
    """All of them, or those named; due at once (at their creation time); others untouched;
    a number no row could have retries nothing."""
    ids = [outbox.add_message(_message(n), T0) for n in ("甲", "乙", "丙")]
    for i in ids:
        outbox.mark_dead(i, 5, "550 拒收")
    kept = outbox.add_message(_message("丁"), T0)
    assert outbox.retry_dead([ids[0], 99999999999999999999], T0 + timedelta(days=1)) == 1
    assert outbox.retry_dead([10**20], T0 + timedelta(days=1)) == 0
    assert [m.id for m in outbox.claim_messages(T0, 10, T0 + timedelta(minutes=5))] == [ids[0], kept]
    assert outbox.retry_dead(None, T0 + timedelta(days=1)) == 2
    assert outbox.retry_dead(None, T0 + timedelta(days=1)) == 0
    rows = {m.id: m for m in outbox.list_messages(("pending",))}
    assert sorted(rows) == sorted(ids + [kept]) and rows[ids[1]].attempts == 0
    assert rows[ids[1]].next_attempt_at == T0 and rows[ids[1]].last_error == "550 拒收"


def test_list_messages_newest_first_of_the_statuses_asked_for(outbox: Outbox) -> None:
    ids = [outbox.add_message(_message(n, (7,)), T0) for n in ("甲", "乙", "丙")]
    outbox.mark_sent(ids[1], T0)
    assert [m.id for m in outbox.list_messages(("pending", "dead"))] == [ids[2], ids[0]]
    assert [m.id for m in outbox.list_messages(("pending", "sent"), limit=2)] == [ids[2], ids[1]]
    row = outbox.list_messages(("sent",))[0]
    assert (row.recipient_name, row.recipient_email, row.subject, row.status, row.attempts) == (
        "乙", "乙@example.org", "【督办】乙", "sent", 1)
    assert (row.created_at, row.next_attempt_at, row.sent_at, row.notifications) == (T0, T0, T0, [7])
    assert outbox.list_messages(("dead",)) == []


# -- heartbeats ------------------------------------------------------------------------


def test_heartbeats_keep_each_daemons_last_tick(store: ItemStore, outbox: Outbox) -> None:
    """previous_tick is the latest tick of any daemon; record_tick replaces a daemon's
    row; status counts due items, messages by status and unsent notifications and
    lists the daemons, the one that ticked last first."""
    assert outbox.previous_tick() is None
    outbox.record_tick("a:1", T0, T0, T0, 0.5, "v1", None)
    outbox.record_tick("b:2", T0, T0 + timedelta(minutes=1), T0 - timedelta(days=1), None, "v1", "Boom: 失败")
    assert outbox.previous_tick() == T0
    outbox.record_tick("a:1", T0, T0 + timedelta(minutes=2), T0 + timedelta(minutes=2), 0.25, "v2", None)
    assert outbox.previous_tick() == T0 + timedelta(minutes=2)
    _queue_one(store, outbox)
    _add(store, "配电箱未上锁", T0 + timedelta(hours=1))
    status = outbox.status(T0 + timedelta(hours=1))
    assert (status["items_due"], status["unsent_notifications"], status["pending"]) == (1, 1, 0)
    assert [(d["name"], d["last_tick_seconds"], d["policy_version"], d["last_error"]) for d in status["daemons"]] == [
        ("a:1", 0.25, "v2", None), ("b:2", None, "v1", "Boom: 失败")]
    first = status["daemons"][0]
    assert (first["started_at"], first["last_tick_at"], first["last_tick_as_of"]) == (
        T0, T0 + timedelta(minutes=2), T0 + timedelta(minutes=2))


# -- stage reports ---------------------------------------------------------------------


def test_a_stage_report_is_recorded_once_per_period_with_its_messages(outbox: Outbox) -> None:
    sheet = Attachment("季度报告.xlsx", b"PK", "application/vnd.ms-excel")
    assert outbox.stage_report_sent("季度报告", "2021Q1") is None
    assert outbox.add_stage_report("季度报告", "2021Q1", T0, ["周安宁"],
                                   [_message("周安宁", attachments=(sheet,)), _message("陈立德")]) is True
    assert outbox.add_stage_report("季度报告", "2021Q1", T0 + timedelta(hours=1), ["周安宁"], [_message("周安宁")]) is False
    assert outbox.stage_report_sent("季度报告", "2021Q1") == T0
    assert outbox.stage_report_sent("季度报告", "2021Q2") is None
    claimed = outbox.claim_messages(T0 + timedelta(hours=2), 10, T0 + timedelta(hours=3))
    assert [m.recipient_name for m in claimed] == ["周安宁", "陈立德"] and claimed[0].attachments == (sheet,)
    assert outbox.add_stage_report("季度报告", "2021Q2", T0, [], []) is True


# -- rewrite ---------------------------------------------------------------------------


def _recount(deadline: str, messages: tuple[Composed, ...] = ()):  # type: ignore[no-untyped-def]
    def decide(item: Item) -> Rewrite:
        after = item.copy()
        after.deadline = deadline
        entry = LedgerEntry(item.id, 0, "calendar_update", item.state, item.state, "系统", T0 + timedelta(days=1),
                            changes={"deadline": [item.deadline, deadline]})
        return Rewrite(after, entry, messages)
    return decide


def test_a_rewrite_writes_the_item_its_ledger_row_and_its_messages_together(
        store: ItemStore, outbox: Outbox) -> None:
    i = _add(store)
    written = outbox.rewrite(i, _recount("10日内", (_message("马建军"),)))
    assert written is not None and written.version == 2 and written.deadline == "10日内"
    assert store.get(i).deadline == "10日内"
    history = store.history(i)
    assert [e.event for e in history] == ["report", "calendar_update"] and verify_chain(history) is None
    [message] = outbox.claim_messages(T0 + timedelta(days=1), 10, T0 + timedelta(days=2))
    assert message.recipient_name == "马建军"
    assert outbox.list_messages(("pending",))[0].created_at == T0 + timedelta(days=1)


def test_a_rewrite_decided_against_or_failing_writes_nothing(store: ItemStore, outbox: Outbox) -> None:
    i = _add(store)
    assert outbox.rewrite(i, lambda item: None) is None

    def broken(item: Item) -> Rewrite:
        raise RuntimeError("日历出错")

    with pytest.raises(RuntimeError):
        outbox.rewrite(i, broken)
    assert store.get(i).version == 1 and len(store.history(i)) == 1
    assert outbox.list_messages(("pending",)) == []
    with pytest.raises(NotFound):
        outbox.rewrite(999, _recount("10日内"))


# -- extension requests --------------------------------------------------------------


def test_an_extension_requests_notices_are_composed_like_queued_steps(store: ItemStore, outbox: Outbox) -> None:
    """The notices the store queues with a request (ExtensionStore.extend) are pending
    notifications of kind "extension", composed with the item as it is now."""
    from tests.contract.test_extension_store import ask

    i = _add(store)
    _, written = store.extend(i, ask(T0))  # type: ignore[attr-defined]
    assert outbox.status(T0)["unsent_notifications"] == 1
    assert outbox.queued() == [(i, f"ext{written.id}:pending", T0)]
    given: list[Pending] = []
    assert outbox.compose(T0, 10, lambda p: given.extend(p) or []) == (1, 0)
    [pending] = given
    assert (pending.kind, pending.action, pending.policy_version, pending.late) == ("extension", "延期申请", "v1", False)
    assert pending.recipients == [{"role": "safety_office", "name": "综治办", "email": "z@x.org"}]
    assert pending.item.version == 2 and outbox.status(T0)["unsent_notifications"] == 0
